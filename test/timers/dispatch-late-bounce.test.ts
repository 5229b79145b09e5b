// The real default durations on Temporal's time-skipping test server: hours pass in seconds,
// everything else (MongoDB, HTTP, sandbox, SDKs) is real. One scenario per file: each gets its
// own test server, so one scenario's timers never move another's clock.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { purchaseOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { dispatchStateQuery, dispatchWorkflowId } from '../../src/workflows/dispatch/contract';
import { postSignedSendGrid } from '../support/sendgrid-webhook';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  // Defaults: PT30M and P3D. The sandbox's own late bounce is pushed beyond the test so the test decides when it comes.
  ({ env, stack, close } = await startTimeSkippingStack({ lateEventMs: 3_600_000 }));
});
afterAll(async () => {
  await close?.();
});

const handle = (id: string) => env.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, id));
const state = (id: string) => handle(id).query(dispatchStateQuery);
const mailTo = (address: string) => stack.sandbox.messages({ to: address });

test('D7: a bounce 5 hours after delivered flips the result and escalates; the workflow completes at 72 hours', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('t-late', ['late+latebounce@acme.test']));
  await stack.waitFor('delivered', async () => (await state('t-late')).recipients[0].status === 'delivered');
  expect((await state('t-late')).result).toBe('delivered');

  await env.sleep('5 hours');
  // The provider's asynchronous bounce, signed as SendGrid signs it, through the API.
  const sent = mailTo('late+latebounce@acme.test')[0];
  expect(
    (
      await postSignedSendGrid(stack, [
        {
          email: sent.to,
          timestamp: Math.floor(Date.now() / 1000),
          event: 'bounce',
          sg_event_id: 'late-bounce-1',
          sg_message_id: `${sent.providerMessageId}.0`,
          reason: '550 5.1.1 mailbox does not exist',
          type: 'bounce',
          bounce_classification: 'Invalid Address',
          ...sent.customArgs,
        },
      ])
    ).status,
  ).toBe(200);
  await stack.waitFor('error', async () => (await state('t-late')).result === 'error');
  // D4: the buyer and the outlet's purchasing manager, by email; the manager also by SMS (opted in).
  await stack.waitFor(
    'escalations',
    async () =>
      mailTo('bruno.buyer@bistro.test').length === 1 &&
      mailTo('paula.pm@bistro.test').length === 1 &&
      mailTo('+33612345678').length === 1,
  );
  expect(mailTo('bruno.buyer@bistro.test')[0].subject).toMatch(/URGENT/);

  await env.sleep('66 hours'); // 71 h after the send: still listening
  expect((await handle('t-late').describe()).status.name).toBe('RUNNING');
  const outcome = await handle('t-late').result(); // the test server skips to the 72-hour mark
  expect(outcome.result).toBe('error');
  const final = await state('t-late');
  const listened = final.completedAt! - final.recipients[0].sentAt!;
  expect(listened).toBeGreaterThanOrEqual(72 * 3_600_000);
  expect(listened).toBeLessThan(72 * 3_600_000 + 60_000);
  const d = (await stack.request('GET', '/v1/dispatches/t-late')).body;
  expect(d.completedAt).toBe(new Date(final.completedAt!).toISOString());
  expect(d.recipients[0].history.map((h: any) => h.event)).toEqual([
    'accepted',
    'processed',
    'delivered',
    'bounce',
    'final',
  ]);
});
