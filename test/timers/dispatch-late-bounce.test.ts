// The real default durations on Temporal's time-skipping test server: hours pass in seconds,
// everything else (MongoDB, HTTP, sandbox, SDKs) is real. One scenario per file: each gets its
// own test server, so one scenario's timers never move another's clock.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { purchaseOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { dispatchStateQuery, providerEventsSignal } from '../../src/workflows/dispatch';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  // Defaults: PT30M and P3D. The sandbox's own late bounce is pushed beyond the test so the test decides when it comes.
  ({ env, stack, close } = await startTimeSkippingStack({ lateEventMs: 3_600_000 }));
});
afterAll(async () => { await close?.(); });

const handle = (id: string) => env.client.workflow.getHandle(`dispatch/${stack.tenantId}/${id}`);
const state = (id: string) => handle(id).query(dispatchStateQuery);
const mailTo = (address: string) => stack.sandbox.messages({ to: address });

test('D7: a bounce 5 hours after delivered flips the result and escalates; the workflow completes at 72 hours', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('t-late', ['late+latebounce@acme.test']));
  await stack.waitFor('delivered', async () => (await state('t-late')).recipients[0].status === 'delivered');
  expect((await state('t-late')).result).toBe('delivered');

  await env.sleep('5 hours');
  await handle('t-late').signal(providerEventsSignal, [{
    eventId: 'late-bounce-1', provider: 'sendgrid', recipientId: 'r1.1', type: 'bounce', at: new Date().toISOString(),
    reason: '550 5.1.1 mailbox does not exist', bounceType: 'bounce', classification: 'Invalid Address',
  }]);
  await stack.waitFor('error', async () => (await state('t-late')).result === 'error');
  // D4: the buyer and the outlet's purchasing manager, by email; the manager also by SMS (opted in).
  await stack.waitFor('escalations', async () =>
    mailTo('bruno.buyer@bistro.test').length === 1 && mailTo('paula.pm@bistro.test').length === 1 && mailTo('+33612345678').length === 1);
  expect(mailTo('bruno.buyer@bistro.test')[0].subject).toMatch(/URGENT/);

  await env.sleep('66 hours'); // 71 h after the send: still listening
  expect((await handle('t-late').describe()).status.name).toBe('RUNNING');
  const outcome = await handle('t-late').result(); // the test server skips to the 72-hour mark
  expect(outcome.result).toBe('error');
  const final = await state('t-late');
  const listened = Date.parse(final.completedAt!) - Date.parse(final.recipients[0].sentAt!);
  expect(listened).toBeGreaterThanOrEqual(72 * 3_600_000);
  expect(listened).toBeLessThan(72 * 3_600_000 + 60_000);
  expect((await stack.request('GET', '/v1/dispatches/t-late')).body.completedAt).toBe(new Date(final.completedAt!).toISOString());
});
