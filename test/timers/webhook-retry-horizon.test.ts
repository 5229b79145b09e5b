// Outbound webhooks against a receiver that is down for good, on the time-skipping test server
// (docs/webhooks.md, "Retries"): at 24 hours the delivery is still being retried (7 attempts so
// far); the 8th and last attempt comes at 31 h 35 min on the schedule 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h, 14 h (each wait stretched by at most 10 %); then the delivery is failed. Everything
// but the clock is real: the receiver gets every attempt, signed.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_RETRY_DELAYS_MS } from '../../src/domain/webhook-retry';
import { webhookDeliveryWorkflowId } from '../../src/workflows/webhook-delivery/contract';
import type { Stack } from '../support/stack';
import { publishHeld } from '../support/tenant-events';
import { startTimeSkippingStack } from '../support/time-skipping';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { timestampMs } from '../support/timestamps';

let env: TestWorkflowEnvironment;
let stack: Stack;
let receiver: WebhookReceiver;
let close: () => Promise<void>;
beforeAll(async () => {
  [{ env, stack, close }, receiver] = await Promise.all([startTimeSkippingStack({}), startWebhookReceiver()]);
});
afterAll(async () => {
  await close?.();
  await receiver?.close();
});

test('a receiver down for good: still retried at 24 h, the 8th attempt at 31 h 35 min, then failed', async () => {
  receiver.script('/down', Array(20).fill({ status: 503, body: 'maintenance' }));
  const endpoint = (
    await stack.request('POST', '/v1/webhook-endpoints', { url: receiver.url('/down'), events: ['order.held'] })
  ).body;
  const {
    deliveries: [id],
  } = await publishHeld(stack, 'o-1', { client: env.client });
  const handle = env.client.workflow.getHandle(webhookDeliveryWorkflowId(stack.tenantId, id));
  const delivery = async () => (await stack.request('GET', `/v1/webhook-deliveries/${id}`)).body;
  await stack.waitFor('the first attempt', async () => (await delivery()).status === 'retrying');

  await env.sleep('24 hours');
  const at24h = await stack.waitFor('the 7th attempt', async () => {
    const d = await delivery();
    return d.attempts.length === 7 && d;
  });
  expect(at24h).toMatchObject({ status: 'retrying', reason: null });
  expect(Date.parse(at24h.nextAttemptAt)).toBeGreaterThan(Date.parse(at24h.createdAt));

  expect(await handle.result()).toEqual({ status: 'failed', attempts: 8 });
  const failed = await delivery();
  expect(failed).toMatchObject({ status: 'failed', reason: 'gave_up', nextAttemptAt: null });
  expect(failed.attempts.map((a: { statusCode: number; response: string }) => [a.statusCode, a.response])).toEqual(
    Array(8).fill([503, 'maintenance']),
  );

  // The waits, from the workflow's history: the schedule, each stretched by at most 10 %.
  const history = await handle.fetchHistory();
  const timers = history
    .events!.filter((e) => e.timerStartedEventAttributes)
    .map((e) => timestampMs(e.timerStartedEventAttributes!.startToFireTimeout)!); // a protobuf Duration: seconds and nanos, as a timestamp
  expect(timers).toHaveLength(WEBHOOK_RETRY_DELAYS_MS.length);
  timers.forEach((ms, i) => {
    expect({
      wait: i + 1,
      ms,
      atLeast: ms >= WEBHOOK_RETRY_DELAYS_MS[i],
      atMost: ms <= WEBHOOK_RETRY_DELAYS_MS[i] * 1.1,
    }).toEqual({ wait: i + 1, ms, atLeast: true, atMost: true });
  });
  const [first, last] = [history.events![0], history.events![history.events!.length - 1]];
  const lasted = timestampMs(last.eventTime)! - timestampMs(first.eventTime)!;
  expect(lasted).toBeGreaterThan(31 * 3_600_000);

  // The receiver saw all eight, each signed with the endpoint's secret, one webhook-id.
  const received = receiver.received('/down');
  expect(received).toHaveLength(8);
  for (const r of received)
    expect(new Webhook(endpoint.secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({
      type: 'order.held',
    });
  expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(1);
});
