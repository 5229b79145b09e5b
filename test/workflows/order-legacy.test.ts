// Issue 15, rule 5: a run of the earlier order workflow that continued as new carries its whole
// view; the new code must keep such a run on the earlier version to its end (legacy/order-v1.ts),
// and the API and pages must read what it writes. (Runs it started are covered by
// order-replay.test.ts, which replays histories it recorded.)
import { newOrder, startStack, type Stack } from '../support/stack';
import { orderWorkflowId, type LegacyOrderView, type OrderInput } from '../../src/workflows/order/contract';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

test('a legacy run continued as new stays legacy to its end; GET /v1/orders/:id reads its view', async () => {
  const orderId = 'legacy-1';
  const body = newOrder(orderId);
  const input: OrderInput = {
    tenantId: stack.tenantId,
    orderId,
    order: {
      items: body.items,
      customer: body.customer as OrderInput['order']['customer'],
      payment: body.payment as OrderInput['order']['payment'],
      salesChannel: body.salesChannel,
      carrier: body.carrier,
    },
    locale: 'en',
    timeZone: 'Europe/Paris',
    tenantName: 'Bistro Demo',
    seller: { name: 'Sam Seller', email: 'sam.seller@bistro.test', phone: null, smsOptIn: false, whatsappOptIn: false },
    policy: {
      stuckAfterMs: 172_800_000,
      linkTtlMs: 172_800_000,
      readyToShipWithinMs: 86_400_000,
      unknownAfterMs: 1_800_000,
      listenForMs: 259_200_000,
    },
    orderUrl: `${stack.apiUrl}/v1/orders/${orderId}`,
  };
  const at = '2026-11-20T08:00:00.000Z';
  const carried: LegacyOrderView = {
    state: 'in_transit',
    address: input.order.customer.address,
    risk: { level: 'low', score: 0, reasons: [] },
    hold: null,
    stuck: false,
    lastTrackingAt: at,
    exceptions: [],
    notifications: [],
    confirmation: null,
    restocked: false,
    version: 7,
    history: ['placed', 'allocated', 'packed', 'handed_over', 'tracking_update'].map((event) => ({
      event,
      at,
      by: null,
      reason: null,
      details: null,
    })),
  };
  const handle = await stack.client.workflow.start('order', {
    taskQueue: stack.taskQueue,
    workflowId: orderWorkflowId(stack.tenantId, orderId),
    args: [input, carried],
  });

  const res = await stack.request('POST', `/v1/orders/${orderId}/events`, { type: 'delivered' });
  expect(res.status).toBe(200);
  expect(res.body.state).toBe('delivered');
  await handle.result();

  const order = (await stack.request('GET', `/v1/orders/${orderId}`)).body;
  expect(order.state).toBe('delivered');
  expect(order.history.map((h: { event: string }) => h.event)).toEqual([
    'placed',
    'allocated',
    'packed',
    'handed_over',
    'tracking_update',
    'delivered',
  ]);
  // The legacy version wrote its whole view; the bounded version's activity never ran.
  expect(await stack.db.Order.exists({ tenantId: stack.tenantId, orderId, view: { $exists: true } })).toBeTruthy();
  const activities = ((await handle.fetchHistory()).events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter(Boolean);
  expect(activities).toContain('saveOrderState');
  expect(activities).not.toContain('recordOrder');
});

test('a new run takes the bounded version: no view, an appended timeline, a paginated history', async () => {
  const orderId = 'bounded-1';
  expect(
    (await stack.request('POST', '/v1/orders', newOrder(orderId, { email: 'b1@example.test', phone: '+33612349991' })))
      .status,
  ).toBe(202);
  await stack.waitFor('assessed', async () => (await stack.request('GET', `/v1/orders/${orderId}`)).body?.risk);
  for (const type of ['allocated', 'packed', 'handed_over'])
    expect((await stack.request('POST', `/v1/orders/${orderId}/events`, { type })).status).toBe(200);
  for (let i = 0; i < 6; i += 1) {
    expect(
      (
        await stack.request('POST', `/v1/orders/${orderId}/events`, {
          type: 'tracking_update',
          status: 'in transit',
          location: `hub ${i}`,
          at: new Date().toISOString(),
        })
      ).status,
    ).toBe(200);
  }
  expect(await stack.db.Order.exists({ tenantId: stack.tenantId, orderId, view: { $exists: true } })).toBeNull();
  expect(await stack.db.OrderTimeline.countDocuments({ tenantId: stack.tenantId, orderId, kind: 'event' })).toBe(10);
  const first = (await stack.request('GET', `/v1/orders/${orderId}?historyLimit=4`)).body;
  expect(first.history.map((h: { details: { location?: string } | null }) => h.details?.location)).toEqual([
    'hub 2',
    'hub 3',
    'hub 4',
    'hub 5',
  ]);
  const second = (
    await stack.request('GET', `/v1/orders/${orderId}?historyLimit=4&historyCursor=${first.historyCursor}`)
  ).body;
  expect(second.history.map((h: { event: string }) => h.event)).toEqual([
    'packed',
    'handed_over',
    'tracking_update',
    'tracking_update',
  ]);
  const last = (
    await stack.request('GET', `/v1/orders/${orderId}?historyLimit=4&historyCursor=${second.historyCursor}`)
  ).body;
  expect(last.history.map((h: { event: string }) => h.event)).toEqual(['placed', 'allocated']);
  expect(last.historyCursor).toBeNull();
  expect(first.confirmation).toBeNull();
});
