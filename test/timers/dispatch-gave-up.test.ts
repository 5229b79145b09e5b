// The real default durations on Temporal's time-skipping test server: a day of provider outage
// passes in seconds, everything else (MongoDB, HTTP, sandbox, SDKs) is real.
// Issue 16 item 2: a dispatch whose sending gave up tells the sender and the purchasing manager.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { purchaseOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { dispatchWorkflowId } from '../../src/workflows/dispatch/contract';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ env, stack, close } = await startTimeSkippingStack());
});
afterAll(async () => {
  await close?.();
});

const faults = (method: 'POST' | 'DELETE', body?: unknown) =>
  fetch(`${stack.sandbox.url}/sandbox/faults`, {
    method,
    ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
const mailTo = (address: string) => stack.sandbox.messages({ to: address });
const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;

test('D9 failed: SendGrid answers 500 for a day → sending gives up; the sender and the purchasing manager are alerted with the reason', async () => {
  await faults('POST', { provider: 'sendgrid', status: 500, count: 1_000_000 });
  await stack.request('POST', '/v1/dispatches', purchaseOrder('t-gave-up', ['orders@acme.test']));
  const handle = env.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, 't-gave-up'));
  await env.sleep('23 hours');
  expect((await get('t-gave-up')).result).toBe('queued'); // still trying
  expect(mailTo('bruno.buyer@bistro.test')).toHaveLength(0);

  await env.sleep('2 hours');
  await stack.waitFor('failed', async () => (await get('t-gave-up'))?.result === 'failed', 60_000);
  await faults('DELETE'); // the provider is back: the alerts themselves go out
  expect((await handle.result()).result).toBe('failed');
  const d = await get('t-gave-up');
  expect(d.providerError).toMatch(/^no answer after a day of trying; last error: .*500/);
  expect(d.recipients[0]).toMatchObject({
    status: 'not_sent',
    reasonCode: 'sending_gave_up',
    plainReason: 'the sending service could not be reached for a day, so Relais stopped trying',
  });

  for (const person of ['bruno.buyer@bistro.test', 'paula.pm@bistro.test']) {
    const alert = await stack.waitFor(`the alert to ${person}`, async () => mailTo(person)[0], 60_000);
    expect(alert.subject).toBe('URGENT: purchase order PO-t-gave-up was not sent to anyone');
    expect(alert.text).toContain('the sending service could not be reached for a day, so Relais stopped trying');
    expect(alert.text).toContain('send the document again once the service answers, or send it another way now');
    expect(alert.text).toContain('Recipient: orders@acme.test');
  }
  expect(mailTo('orders@acme.test')).toHaveLength(0);
});
