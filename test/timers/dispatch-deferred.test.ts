// The real default durations on Temporal's time-skipping test server: hours pass in seconds,
// everything else (MongoDB, HTTP, sandbox, SDKs) is real. One scenario per file: each gets its
// own test server, so one scenario's timers never move another's clock.
// Issue 16 item 3: a recipient the provider keeps deferring is not invisible for 72 hours.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { purchaseOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { dispatchStateQuery, dispatchWorkflowId } from '../../src/workflows/dispatch/contract';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  // Defaults: PT30M and P3D.
  ({ env, stack, close } = await startTimeSkippingStack());
});
afterAll(async () => {
  await close?.();
});

const BUYER = 'bruno.buyer@bistro.test';
const handle = (id: string) => env.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, id));
const state = (id: string) => handle(id).query(dispatchStateQuery);
const mailTo = (address: string) => stack.sandbox.messages({ to: address });
const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;

test('D3/D6/D7: deferred at 29 minutes, nothing; at 30 the sender is told with the 451 reply; at 72 hours it is dropped and escalated (rule D4)', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('t-deferred', ['slow+defer@acme.test']));
  await stack.waitFor(
    'five deferrals applied',
    async () =>
      (await get('t-deferred'))?.recipients?.[0]?.history?.filter((h: any) => h.event === 'deferred').length === 5,
  );

  await env.sleep('29 minutes');
  expect(mailTo(BUYER)).toHaveLength(0);

  await env.sleep('1 minute');
  const notice = await stack.waitFor('the deferred notice', async () => mailTo(BUYER)[0]);
  expect(notice.subject).toBe('Not delivered yet: purchase order PO-t-deferred');
  expect(notice.text).toContain('30 minutes after you sent your purchase order PO-t-deferred');
  expect(notice.text).toContain('Latest server reply: 451 4.2.0 mailbox temporarily unavailable, try again later');
  // Until when the provider keeps trying: the send plus the 72-hour window, in the tenant's zone and words.
  const sentAt = (await state('t-deferred')).recipients[0].sentAt!;
  const until = new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'Europe/Paris',
  }).format(new Date(sentAt + 72 * 3_600_000));
  expect(notice.text).toContain(`the provider keeps trying until ${until}`);
  expect((await state('t-deferred')).recipients[0].status).toBe('deferred');
  expect(
    (await stack.request('GET', '/v1/dispatches')).body.dispatches.map((d: any) => [d.dispatchId, d.overdueDeferred]),
  ).toContainEqual(['t-deferred', 1]);

  await env.sleep('2 hours');
  expect(mailTo(BUYER)).toHaveLength(1); // once

  // The window closes (the provider's own retry horizon) without a final status: dropped, and every
  // recipient failed, so rule D4 escalates to the buyer and the outlet's purchasing manager.
  expect((await handle('t-deferred').result()).result).toBe('error');
  const d = await get('t-deferred');
  expect(d.recipients[0]).toMatchObject({
    status: 'dropped',
    reasonCode: 'retries_expired',
    rawReason: expect.stringMatching(/^451 4\.2\.0/),
  });
  expect(d.recipients[0].history.at(-1)).toMatchObject({
    event: 'final',
    status: 'dropped',
    reasonCode: 'retries_expired',
  });
  const escalation = await stack.waitFor('the escalation', async () =>
    mailTo(BUYER).find((m) => /URGENT/.test(m.subject ?? '')),
  );
  expect(escalation.text).toContain(
    "slow+defer@acme.test: the recipient's server kept refusing it for now until the provider stopped trying.",
  );
  await stack.waitFor('the manager too', async () => mailTo('paula.pm@bistro.test').length === 1);
  const listened = d.completedAt && Date.parse(d.completedAt) - sentAt;
  expect(listened).toBeGreaterThanOrEqual(72 * 3_600_000);
});
