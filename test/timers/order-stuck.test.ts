// O7 with the real default (48 hours) on the time-skipping test server: 47 h 59 min after the
// last tracking update nothing; at 48 h the stuck alert; an update at 50 h clears it.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { newOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { orderEventUpdate, orderStateQuery, orderWorkflowId } from '../../src/workflows/order/contract';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ env, stack, close } = await startTimeSkippingStack({}));
});
afterAll(async () => {
  await close?.();
});

test('O7: stuck at 48 hours without a tracking update, cleared by the next one', async () => {
  const handle = env.client.workflow.getHandle(orderWorkflowId(stack.tenantId, 'stuck-1'));
  expect((await stack.request('POST', '/v1/orders', newOrder('stuck-1'))).status).toBe(202);
  await stack.waitFor('assessed', async () => (await handle.query(orderStateQuery)).risk !== null);
  for (const event of [{ type: 'allocated' }, { type: 'packed' }, { type: 'handed_over' }] as const) {
    await handle.executeUpdate(orderEventUpdate, { args: [event] });
  }
  await handle.executeUpdate(orderEventUpdate, {
    args: [{ type: 'tracking_update', status: 'in transit', location: 'Lyon', at: new Date().toISOString() }],
  });
  const alerts = () =>
    stack.sandbox.messages({ to: 'sam.seller@bistro.test' }).filter((m) => m.text?.includes('stuck-1'));

  await env.sleep('2879 minutes');
  expect((await handle.query(orderStateQuery)).stuck).toBe(false);
  expect(alerts()).toHaveLength(0);

  await env.sleep('1 minute');
  await stack.waitFor('stuck', async () => (await handle.query(orderStateQuery)).stuck);
  const alert = await stack.waitFor('the stuck alert', async () => alerts()[0]);
  expect(alert.subject).toMatch(/stuck|bloquée/i);

  await env.sleep('2 hours');
  expect(alerts()).toHaveLength(1); // alerted once
  const view = await handle.executeUpdate(orderEventUpdate, {
    args: [{ type: 'tracking_update', status: 'in transit', location: 'Paris', at: new Date().toISOString() }],
  });
  expect(view.stuck).toBe(false);
  const order = (await stack.request('GET', '/v1/orders/stuck-1')).body;
  expect(order.exceptions.find((e: { type: string }) => e.type === 'stuck_in_transit')?.resolvedAt).toBeTruthy();
});

test('O7 after handover (issue 18 item 3): never scanned, stuck at 48 hours; resolved by the seller, the rule counts 48 hours from then; the first scan clears it', async () => {
  const handle = env.client.workflow.getHandle(orderWorkflowId(stack.tenantId, 'stuck-2'));
  expect(
    (
      await stack.request(
        'POST',
        '/v1/orders',
        newOrder('stuck-2', { email: 'stuck2@example.test', phone: '+33612340222' }),
      )
    ).status,
  ).toBe(202);
  await stack.waitFor('assessed', async () => (await handle.query(orderStateQuery)).risk !== null);
  for (const event of [{ type: 'allocated' }, { type: 'packed' }, { type: 'handed_over' }] as const) {
    await handle.executeUpdate(orderEventUpdate, { args: [event] });
  }
  const alerts = () =>
    stack.sandbox
      .messages({ to: 'sam.seller@bistro.test' })
      .filter((m) => m.text?.includes('stuck-2') && /not scanned/.test(m.text ?? ''));

  await env.sleep('2879 minutes');
  expect((await handle.query(orderStateQuery)).stuck).toBe(false);
  await env.sleep('1 minute');
  await stack.waitFor('stuck after handover', async () => (await handle.query(orderStateQuery)).stuck);
  expect((await stack.waitFor('the alert', async () => alerts()[0])).subject).toMatch(/stuck|bloquée/i);

  // The seller checked with the carrier: resolved with a note; the same policy starts again from here.
  const resolved = await stack.request('POST', '/v1/orders/stuck-2/actions', {
    type: 'resolve',
    exception: 'stuck_in_transit',
    note: 'the carrier confirms the pickup; scan to come',
  });
  expect(resolved.body).toMatchObject({ state: 'handed_over', stuck: false });
  await env.sleep('2879 minutes');
  expect((await handle.query(orderStateQuery)).stuck).toBe(false);
  await env.sleep('1 minute');
  await stack.waitFor('stuck again', async () => (await handle.query(orderStateQuery)).stuck);
  await stack.waitFor('a second alert', async () => alerts().length === 2);

  const scanned = await handle.executeUpdate(orderEventUpdate, {
    args: [{ type: 'tracking_update', status: 'picked up', location: 'Roissy', at: new Date().toISOString() }],
  });
  expect(scanned).toMatchObject({ state: 'in_transit', stuck: false });
  const order = (await stack.request('GET', '/v1/orders/stuck-2')).body;
  expect(
    order.exceptions.map((e: { reason: string; resolvedAt: string | null }) => [e.reason, Boolean(e.resolvedAt)]),
  ).toEqual([
    ['not_scanned_since_handover', true],
    ['not_scanned_since_handover', true],
  ]);
});
