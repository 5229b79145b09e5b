// O3 with the real default (48 hours): the address confirmation link works until then, and is
// refused politely after (the workflow decides on its own clock, so no wall clock is trusted).
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { newOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { confirmAddressUpdate, orderStateQuery, orderWorkflowId } from '../../src/workflows/order/contract';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ env, stack, close } = await startTimeSkippingStack({}));
});
afterAll(async () => {
  await close?.();
});

const held = { address: { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '750', country: 'FR' } };

test('O3: the confirmation expires at 48 hours', async () => {
  for (const id of ['exp-before', 'exp-after']) {
    await stack.request('POST', '/v1/orders', newOrder(id, { ...held, email: `${id}@example.test`, phone: null }));
  }
  const handles = ['exp-before', 'exp-after'].map((id) =>
    env.client.workflow.getHandle(orderWorkflowId(stack.tenantId, id)),
  );
  const nonces = await Promise.all(
    handles.map((h) => stack.waitFor('confirmation', async () => (await h.query(orderStateQuery)).confirmation?.nonce)),
  );

  await env.sleep('2879 minutes');
  const confirmed = await handles[0].executeUpdate(confirmAddressUpdate, {
    args: [{ nonce: nonces[0], via: 'link', corrected: null }],
  });
  expect(confirmed.state).toBe('placed');

  await env.sleep('1 minute');
  await expect(
    handles[1].executeUpdate(confirmAddressUpdate, { args: [{ nonce: nonces[1], via: 'link', corrected: null }] }),
  ).rejects.toMatchObject({ cause: { message: 'this confirmation link has expired' } });
  expect((await handles[1].query(orderStateQuery)).state).toBe('on_hold');
});
