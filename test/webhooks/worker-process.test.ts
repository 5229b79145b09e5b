// Outbound webhooks through the worker as production runs it (src/worker.ts in its own process,
// configured only by its environment: WEBHOOK_ALLOW_PRIVATE_NETWORKS, LINK_SECRET): a delivery
// and a replay reach the receiver signed, and the worker still stops cleanly on SIGTERM.
import { Webhook } from 'standardwebhooks';
import { killAllRelais, spawnRelais } from '../support/relais-process';
import { startStack, type Stack } from '../support/stack';
import { webhookActivities } from '../support/tenant-events';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let stack: Stack;
let receiver: WebhookReceiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack({ worker: false }), startWebhookReceiver()]);
});
afterAll(async () => {
  killAllRelais();
  await receiver?.close();
  await stack?.close();
});

test('the worker process delivers and replays, signed with the secret shown at creation', async () => {
  const worker = spawnRelais('src/worker.ts', { ...stack.workerEnv, LOG_LEVEL: 'info' });
  const endpoint = (
    await stack.request('POST', '/v1/webhook-endpoints', { url: receiver.url('/process'), events: ['order.cancelled'] })
  ).body;
  const {
    deliveries: [id],
  } = await webhookActivities(stack).publishTenantEvent({
    tenantId: stack.tenantId,
    type: 'order.cancelled',
    eventId: 'cancel-1',
    occurredAt: new Date().toISOString(),
    data: { orderId: 'o-p', previousState: 'on_hold', actor: null, reason: 'customer asked' },
  });
  // A worker process bundles its workflows first.
  await stack.waitFor(
    'delivered by the worker process',
    async () => (await stack.request('GET', `/v1/webhook-deliveries/${id}`)).body.status === 'delivered',
    120_000,
  );
  expect((await stack.request('POST', `/v1/webhook-deliveries/${id}/replay`, {})).status).toBe(202);
  await stack.waitFor('the replay', async () => receiver.received('/process').length === 2);
  // The worker logs an attempt once the receiver has answered: wait for the line, not only the request.
  const attempts = () =>
    worker
      .lines()
      .filter((l) => l.msg === 'webhook attempt')
      .map((l) => l.statusCode);
  await stack.waitFor('the replay logged', async () => attempts().length === 2);
  for (const r of receiver.received('/process'))
    expect(new Webhook(endpoint.secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({
      data: { orderId: 'o-p' },
    });
  expect(attempts()).toEqual([200, 200]);
  expect(worker.output()).not.toContain(endpoint.secret.slice('whsec_'.length));

  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
}, 300_000);
