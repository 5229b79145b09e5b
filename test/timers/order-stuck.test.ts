// O7 with the real default (48 hours) on the time-skipping test server: 47 h 59 min after the
// last tracking update nothing; at 48 h the stuck alert; an update at 50 h clears it.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { newOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { orderEventUpdate, orderStateQuery } from '../../src/workflows/order';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ env, stack, close } = await startTimeSkippingStack({}));
});
afterAll(async () => { await close?.(); });

test('O7: stuck at 48 hours without a tracking update, cleared by the next one', async () => {
  const handle = env.client.workflow.getHandle(`order/${stack.tenantId}/stuck-1`);
  expect((await stack.request('POST', '/v1/orders', newOrder('stuck-1'))).status).toBe(202);
  await stack.waitFor('assessed', async () => (await handle.query(orderStateQuery)).risk !== null);
  for (const event of [{ type: 'allocated' }, { type: 'packed' }, { type: 'handed_over' }] as const) {
    await handle.executeUpdate(orderEventUpdate, { args: [event] });
  }
  await handle.executeUpdate(orderEventUpdate, { args: [{ type: 'tracking_update', status: 'in transit', location: 'Lyon', at: new Date().toISOString() }] });
  const alerts = () => stack.sandbox.messages({ to: 'sam.seller@bistro.test' }).filter((m) => m.text?.includes('stuck-1'));

  await env.sleep('2879 minutes');
  expect((await handle.query(orderStateQuery)).stuck).toBe(false);
  expect(alerts()).toHaveLength(0);

  await env.sleep('1 minute');
  await stack.waitFor('stuck', async () => (await handle.query(orderStateQuery)).stuck);
  const alert = await stack.waitFor('the stuck alert', async () => alerts()[0]);
  expect(alert.subject).toMatch(/stuck|bloquée/i);

  await env.sleep('2 hours');
  expect(alerts()).toHaveLength(1); // alerted once
  const view = await handle.executeUpdate(orderEventUpdate, { args: [{ type: 'tracking_update', status: 'in transit', location: 'Paris', at: new Date().toISOString() }] });
  expect(view.stuck).toBe(false);
  const order = (await stack.request('GET', '/v1/orders/stuck-1')).body;
  expect(order.exceptions.find((e: { type: string }) => e.type === 'stuck_in_transit')?.resolvedAt).toBeTruthy();
});
