// Relais's counters at /metrics move with the rules they count: a D4 escalation, the D3
// 30-minute rule (policy shortened), the O5 and O7 timers, and dispatch results (D9). The
// worker runs in this process, so the API's /metrics (its operations port) shows the counters it increments.
import { newOrder, purchaseOrder, startStack, type Stack } from '../support/stack';
import { orderWorkflowId } from '../../src/workflows/order/contract';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    policies: { unknownAfter: 'PT2S', listenFor: 'PT4S', stuckAfter: 'PT2S', readyToShipWithin: 'PT2S' },
    eventDelayMs: 50,
  });
});
afterAll(async () => {
  await stack?.close();
});

/** The value of one counter series at /metrics (0 when the series does not exist yet). */
async function counter(series: string): Promise<number> {
  const text = await (await fetch(`${stack.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

test('D4: an escalation by email (and SMS to the opted-in manager) is counted per channel; the dispatch result is counted when it completes', async () => {
  const [email, sms, errors] = await Promise.all([
    counter('relais_escalations_total{channel="email"}'),
    counter('relais_escalations_total{channel="sms"}'),
    counter('relais_dispatches_total{result="error"}'),
  ]);
  const res = await stack.request(
    'POST',
    '/v1/dispatches',
    purchaseOrder('po-metrics-bounce', ['nobody+bounce@acme.test']),
  );
  expect(res.status).toBe(202);
  const outcome = await stack.client.workflow.getHandle(res.body.workflowId).result();
  expect(outcome.result).toBe('error');
  // The buyer and the outlet's purchasing manager by email; the manager (opted in) by SMS too.
  await stack.waitFor(
    'escalations counted',
    async () => (await counter('relais_escalations_total{channel="email"}')) === email + 2,
  );
  expect(await counter('relais_escalations_total{channel="sms"}')).toBe(sms + 1);
  expect(await counter('relais_dispatches_total{result="error"}')).toBe(errors + 1);
});

test('D3: the 30-minute rule firing is counted once', async () => {
  const before = await counter('relais_timer_rule_firings_total{rule="D3"}');
  const res = await stack.request(
    'POST',
    '/v1/dispatches',
    purchaseOrder('po-metrics-silent', ['quiet+silent@acme.test']),
  );
  expect(res.status).toBe(202);
  await stack.client.workflow.getHandle(res.body.workflowId).result();
  await stack.waitFor(
    'D3 counted',
    async () => (await counter('relais_timer_rule_firings_total{rule="D3"}')) === before + 1,
  );
});

test('O5 and O7: the ready-to-ship deadline and the stuck-in-transit rule are counted once each', async () => {
  const [o5, o7] = await Promise.all([
    counter('relais_timer_rule_firings_total{rule="O5"}'),
    counter('relais_timer_rule_firings_total{rule="O7"}'),
  ]);
  const get = async (id: string) => (await stack.request('GET', `/v1/orders/${id}`)).body;
  const tracking = () => ({
    type: 'tracking_update',
    status: 'in transit',
    location: 'hub',
    at: new Date().toISOString(),
  });
  const orders: Array<[string, string, Array<Record<string, string>>]> = [
    ['ord-metrics-rts', '+33612340001', [{ type: 'allocated' }]],
    [
      'ord-metrics-stuck',
      '+33612340002',
      [{ type: 'allocated' }, { type: 'packed' }, { type: 'handed_over' }, tracking()],
    ],
  ];
  for (const [id, phone, events] of orders) {
    expect(
      (await stack.request('POST', '/v1/orders', newOrder(id, { email: `${id}@example.test`, phone }))).status,
    ).toBe(202);
    await stack.waitFor(`${id} assessed`, async () => (await get(id))?.risk);
    for (const event of events)
      expect((await stack.request('POST', `/v1/orders/${id}/events`, event)).status).toBe(200);
  }
  await stack.waitFor('O5 fired', async () => (await get('ord-metrics-rts')).state === 'rts_failed');
  await stack.waitFor('O7 fired', async () => (await get('ord-metrics-stuck')).stuck === true);
  await stack.waitFor(
    'both counted',
    async () =>
      (await counter('relais_timer_rule_firings_total{rule="O5"}')) === o5 + 1 &&
      (await counter('relais_timer_rule_firings_total{rule="O7"}')) === o7 + 1,
  );
  // Later writes of the same orders (delivered: the stuck exception resolved, no timer left) do not count them again.
  expect((await stack.request('POST', '/v1/orders/ord-metrics-stuck/events', { type: 'delivered' })).status).toBe(200);
  await stack.client.workflow.getHandle(orderWorkflowId(stack.tenantId, 'ord-metrics-stuck')).result();
  expect(await counter('relais_timer_rule_firings_total{rule="O7"}')).toBe(o7 + 1);
  expect(await counter('relais_timer_rule_firings_total{rule="O5"}')).toBe(o5 + 1);
});
