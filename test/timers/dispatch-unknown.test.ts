// The real default durations on Temporal's time-skipping test server: hours pass in seconds,
// everything else (MongoDB, HTTP, sandbox, SDKs) is real. One scenario per file: each gets its
// own test server, so one scenario's timers never move another's clock.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { purchaseOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { dispatchStateQuery, dispatchWorkflowId } from '../../src/workflows/dispatch/contract';

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

test('D3: at 29 minutes nothing; at 30 minutes the recipient is unknown and the sender is told once', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('t-unknown', ['quiet+silent@acme.test']));
  await stack.waitFor('processed', async () => (await state('t-unknown')).recipients[0].status === 'processed');

  await env.sleep('29 minutes');
  expect((await state('t-unknown')).recipients[0].status).toBe('processed');
  expect(mailTo('bruno.buyer@bistro.test')).toHaveLength(0);

  await env.sleep('1 minute');
  await stack.waitFor('unknown', async () => (await state('t-unknown')).recipients[0].status === 'unknown');
  const notice = await stack.waitFor('the notice to the sender', async () => mailTo('bruno.buyer@bistro.test')[0]);
  expect(notice.text).toContain('quiet+silent@acme.test');
  expect((await state('t-unknown')).result).toBe('unknown');

  await env.sleep('2 hours');
  expect(mailTo('bruno.buyer@bistro.test')).toHaveLength(1);
});
