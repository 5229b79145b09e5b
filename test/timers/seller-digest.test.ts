// Issue 20, item 4: seller alerts as a digest, on the time-skipping test server (minutes pass in
// seconds; MongoDB, HTTP, the sandbox and the SDKs are real). The first alert after a quiet spell
// goes at once; those within the next 15 minutes wait and go as one message at the window's end;
// a quiet window ends the digest, and the next alert goes at once again.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { newOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { orderStateQuery, orderWorkflowId } from '../../src/workflows/order/contract';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ env, stack, close } = await startTimeSkippingStack({}));
});
afterAll(async () => {
  await close?.();
});

const SELLER = 'sam.seller@bistro.test';
const alerts = () => stack.sandbox.messages({ to: SELLER });
const unfulfillable = async (orderId: string) => {
  expect((await stack.request('POST', '/v1/orders', newOrder(orderId))).status).toBe(202);
  const handle = env.client.workflow.getHandle(orderWorkflowId(stack.tenantId, orderId));
  await stack.waitFor(`${orderId} assessed`, async () => (await handle.query(orderStateQuery)).risk !== null);
  const res = await stack.request('POST', `/v1/orders/${orderId}/events`, {
    type: 'allocation_failed',
    sku: 'TSHIRT-M',
    reason: 'out_of_stock',
  });
  expect(res.body.state).toBe('unfulfillable');
};

test('O9 + issue 20: at most one alert message per 15 minutes per channel, listing everything that happened', async () => {
  const put = await stack.request('PUT', '/v1/preferences', { sellerDigestMinutes: 15 });
  expect(put.status).toBe(200);
  expect(put.body.sellerDigestMinutes).toBe(15);

  // The first alert after a quiet spell goes at once, as the alert itself.
  await unfulfillable('dg-1');
  const first = await stack.waitFor('the first alert', async () => alerts()[0]);
  expect(first.subject).toBe('Action needed – order dg-1: Order unfulfillable');

  // Two more within the window wait; the orders say where their alerts are.
  await unfulfillable('dg-2');
  await unfulfillable('dg-3');
  await stack.waitFor('dg-3 queued in the digest', async () =>
    (await stack.request('GET', '/v1/orders/dg-3')).body.notifications.find((n: any) => n.digest),
  );
  expect((await stack.request('GET', '/v1/orders/dg-2')).body.notifications).toContainEqual(
    expect.objectContaining({ audience: 'seller', channel: 'email', dispatchId: null, digest: true, status: 'digest' }),
  );
  await env.sleep('14 minutes');
  expect(alerts()).toHaveLength(1);

  // At the window's end: one message listing both.
  await env.sleep('1 minute');
  const digest = await stack.waitFor('the digest', async () => alerts()[1]);
  expect(digest.subject).toBe('2 alerts on your orders: dg-2, dg-3');
  expect(digest.text).toContain('Order dg-2: Order unfulfillable');
  expect(digest.text).toContain('Order dg-3: Order unfulfillable');
  expect(digest.text).toMatch(/\/ui\/orders\n/);
  expect(digest.text).not.toContain('dg-1');

  // A quiet window ends the digest; the next alert goes at once, alone.
  await env.sleep('16 minutes');
  await unfulfillable('dg-4');
  const next = await stack.waitFor('the next alert', async () => alerts()[2]);
  expect(next.subject).toBe('Action needed – order dg-4: Order unfulfillable');
  await env.sleep('20 minutes');
  expect(alerts()).toHaveLength(3);
});

test('bad input: a digest period out of bounds is a 400 naming the field, and changes nothing', async () => {
  for (const value of [4, 1441, 7.5, '15']) {
    const res = await stack.request('PUT', '/v1/preferences', { sellerDigestMinutes: value });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toContain('sellerDigestMinutes');
  }
  expect((await stack.request('GET', '/v1/preferences')).body.sellerDigestMinutes).toBe(15);
  expect(
    (await stack.request('PUT', '/v1/preferences', { sellerDigestMinutes: null })).body.sellerDigestMinutes,
  ).toBeNull();
});
