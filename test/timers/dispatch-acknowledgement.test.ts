// Issue 20 on Temporal's time-skipping test server, at the example policy (acknowledgeWithin PT24H,
// acknowledgeEscalateAfter unset: the same 24 hours) and the default listening window (P3D):
// nobody acknowledged, so the sender is told at 24 h (not at 23 h 59), naming who; still nothing
// 24 h later, it is escalated as D4 (the buyer and the outlet's purchasing manager, by email and by
// SMS to the one who opted in). Everything but the clock is the real stack.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { purchaseOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { dispatchStateQuery, dispatchWorkflowId } from '../../src/workflows/dispatch/contract';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ env, stack, close } = await startTimeSkippingStack({ policies: { acknowledgeWithin: 'PT24H' } }));
});
afterAll(async () => {
  await close?.();
});

const handle = (id: string) => env.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, id));
const state = (id: string) => handle(id).query(dispatchStateQuery);
const mailTo = (address: string) => stack.sandbox.messages({ to: address });

test('issue 20, rule D4: nobody acknowledged: the sender is told at 24 h, not at 23 h 59; escalated to the buyer and purchasing manager 24 h later', async () => {
  const to = ['orders@supplier-a.test', 'sales@supplier-b.test'];
  expect(
    (await stack.request('POST', '/v1/dispatches', purchaseOrder('t-ack', to, { acknowledge: true }))).status,
  ).toBe(202);
  await stack.waitFor('delivered', async () =>
    (await state('t-ack')).recipients.every((r) => r.status === 'delivered'),
  );

  await env.sleep(23 * 3_600_000 + 59 * 60_000);
  expect(mailTo('bruno.buyer@bistro.test')).toHaveLength(0);

  await env.sleep('1 minute');
  const told = await stack.waitFor('the notice to the sender', async () => mailTo('bruno.buyer@bistro.test')[0]);
  expect(told.subject).toBe('Receipt not confirmed yet for purchase order PO-t-ack');
  for (const address of to) expect(told.text).toContain(address);
  expect(told.text).toContain('1 day after you sent your purchase order PO-t-ack');
  // Not an escalation yet: the purchasing manager hears nothing.
  expect(mailTo('paula.pm@bistro.test')).toHaveLength(0);

  await env.sleep(23 * 3_600_000 + 59 * 60_000);
  expect(mailTo('bruno.buyer@bistro.test')).toHaveLength(1);
  expect(mailTo('paula.pm@bistro.test')).toHaveLength(0);

  await env.sleep('1 minute');
  const escalated = await stack.waitFor(
    'the escalation to the purchasing manager',
    async () => mailTo('paula.pm@bistro.test')[0],
  );
  expect(escalated.subject).toBe('URGENT: receipt still not confirmed – purchase order PO-t-ack');
  for (const address of to) expect(escalated.text).toContain(address);
  await stack.waitFor('the escalation to the buyer', async () => mailTo('bruno.buyer@bistro.test').length === 2);
  expect(mailTo('bruno.buyer@bistro.test')[1].subject).toBe(escalated.subject);
  // By SMS too, to the one who opted in (D4).
  const sms = await stack.waitFor('the SMS', async () => mailTo('+33612345678')[0]);
  expect(sms.body).toContain('URGENT Bistro Demo: receipt not confirmed after 1 day');

  // Told once each: the rest of the listening window adds nothing.
  await env.sleep('23 hours');
  expect(mailTo('bruno.buyer@bistro.test')).toHaveLength(2);
  expect(mailTo('paula.pm@bistro.test')).toHaveLength(1);
  // The delivery statuses are untouched by all this.
  expect((await state('t-ack')).recipients.map((r) => r.status)).toEqual(['delivered', 'delivered']);
});
