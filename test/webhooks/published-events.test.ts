// Outbound webhooks raised by the real workflows (issue 21 item 4, docs/webhooks.md): a dispatch
// whose two recipients fail tells the tenant's endpoint of each result it goes through and of its
// escalation (rule D4); an order held for its address and released by ops tells it of the hold,
// the exception and the release (rules O2, O4). Each body is verified by an independent Standard
// Webhooks implementation, and each event arrives once.
import { Webhook } from 'standardwebhooks';
import { newOrder, purchaseOrder, startStack, type Stack } from '../support/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let stack: Stack;
let receiver: WebhookReceiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startStack({ policies: { unknownAfter: 'PT5M', listenFor: 'PT1H' }, eventDelayMs: 50 }),
    startWebhookReceiver(),
  ]);
});
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

async function endpoint(path: string, events: string[]) {
  const res = await stack.request('POST', '/v1/webhook-endpoints', { url: receiver.url(path), events }, stack.key);
  expect(res.status).toBe(201);
  const hook = new Webhook(res.body.secret);
  /** The events received so far, each verified; by type. */
  return () =>
    receiver
      .received(path)
      .map((r) => hook.verify(r.body, r.headers as Record<string, string>) as { type: string; data: any });
}

test('D4: a dispatch whose recipients all fail tells the endpoint its results as they change and its escalation, once each', async () => {
  const events = await endpoint('/dispatches', ['dispatch.result_changed', 'dispatch.escalated']);
  expect(
    (await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-d4', ['a+bounce@acme.test', 'b+drop@acme.test'])))
      .status,
  ).toBe(202);
  await stack.waitFor('escalated event', async () => events().some((e) => e.type === 'dispatch.escalated'));
  await stack.waitFor('result error', async () =>
    events().some((e) => e.type === 'dispatch.result_changed' && e.data.result === 'error'),
  );

  const results = events().filter((e) => e.type === 'dispatch.result_changed');
  // A chain from queued to error, each step told once.
  expect(results[0].data.previousResult).toBe('queued');
  for (let i = 1; i < results.length; i += 1) expect(results[i].data.previousResult).toBe(results[i - 1].data.result);
  expect(new Set(results.map((e) => e.data.result)).size).toBe(results.length);
  expect(results.at(-1)!.data).toMatchObject({
    dispatchId: 'wh-d4',
    kind: 'document',
    document: { number: 'PO-wh-d4' },
    result: 'error',
    recipients: { bounced: 1, dropped: 1 },
  });

  const escalated = events().filter((e) => e.type === 'dispatch.escalated');
  expect(escalated).toHaveLength(1);
  expect(escalated[0].data.failedRecipients).toBe(2);
  expect(escalated[0].data.reasonCodes.length).toBeGreaterThan(0);
  expect(escalated[0].data.notified.map((p: any) => p.name).sort()).toEqual(
    expect.arrayContaining([expect.any(String)]),
  );
  expect(escalated[0].data.notified.flatMap((p: any) => p.channels)).toEqual(expect.arrayContaining(['email', 'sms']));
  // The recipients' addresses stay out of the event (a receiver reads them from the API).
  expect(JSON.stringify(escalated)).not.toContain('a+bounce@acme.test');
});

test('O2/O4: an order held for its address and released by ops tells the endpoint: held, exception opened, released, exception resolved', async () => {
  const events = await endpoint('/orders', [
    'order.held',
    'order.released',
    'order.cancelled',
    'order.exception_opened',
    'order.exception_resolved',
  ]);
  const ops = await stack.keyWithRoles(['ops']);
  const id = 'wh-o4';
  expect(
    (
      await stack.request(
        'POST',
        '/v1/orders',
        newOrder(id, { address: { line1: 'rue', line2: null, city: 'Paris', postalCode: '1', country: 'FR' } }),
      )
    ).status,
  ).toBe(202);
  await stack.waitFor('held event', async () => events().some((e) => e.type === 'order.held'));
  expect((await stack.request('POST', `/v1/orders/${id}/release`, { reason: 'checked by phone' }, ops)).status).toBe(
    200,
  );
  await stack.waitFor('released event', async () => events().some((e) => e.type === 'order.released'));
  await stack.waitFor('resolved event', async () => events().some((e) => e.type === 'order.exception_resolved'));

  const types = events().map((e) => e.type);
  expect(types.filter((t) => t === 'order.held')).toHaveLength(1);
  expect(types.filter((t) => t === 'order.released')).toHaveLength(1);
  expect(types).not.toContain('order.cancelled');
  expect(events().find((e) => e.type === 'order.held')!.data).toMatchObject({
    orderId: id,
    reason: 'address_or_contact',
    risk: 'high',
  });
  expect(events().find((e) => e.type === 'order.exception_opened')!.data).toMatchObject({
    orderId: id,
    exception: { type: 'on_hold' },
  });
  expect(events().find((e) => e.type === 'order.released')!.data).toMatchObject({
    orderId: id,
    by: 'ops',
    reason: 'checked by phone',
  });
  expect(events().find((e) => e.type === 'order.exception_resolved')!.data).toMatchObject({
    orderId: id,
    exception: { type: 'on_hold', resolution: expect.stringContaining('released') },
  });
});
