// Issue 20 on Temporal's time-skipping test server, at the example policy (acknowledgeWithin PT24H):
// the recipient acknowledges through the link of the email it received, at 23 hours; nobody is
// told anything, then or later. Everything but the clock is the real stack.
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

test('issue 20: acknowledged at 23 h: the sender is never told, nothing is escalated', async () => {
  expect(
    (
      await stack.request(
        'POST',
        '/v1/dispatches',
        purchaseOrder('t-ack-ok', ['orders@supplier-a.test'], { acknowledge: true }),
      )
    ).status,
  ).toBe(202);
  await stack.waitFor('delivered', async () => (await state('t-ack-ok')).recipients[0].status === 'delivered');
  const email = mailTo('orders@supplier-a.test')[0];
  const link = /(http:\/\/\S+\/a\/[A-Za-z0-9_.-]+)/.exec(email.text!)![1];

  await env.sleep('23 hours');
  const answered = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'note=Thanks',
  });
  expect(answered.status).toBe(200);
  expect((await state('t-ack-ok')).recipients[0].acknowledgedAt).toBeDefined();

  await env.sleep('2 days');
  expect(mailTo('bruno.buyer@bistro.test')).toHaveLength(0);
  expect(mailTo('paula.pm@bistro.test')).toHaveLength(0);
  expect(mailTo('+33612345678')).toHaveLength(0);
});
