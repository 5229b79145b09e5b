// Relais unchanged on a real Temporal cluster (server v1.29.1 on PostgreSQL, schema migrated with
// temporal-sql-tool, config deploy/temporal/relais.yaml): the API and worker connect through the
// same settings as for any cluster, and a dispatch (D1) and an order (O1–O10 happy path) run to completion.
import { newOrder, purchaseOrder, startStack, type Stack } from '../support/stack';
import { clusterTarget } from './target';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ cluster: clusterTarget(), policies: { listenFor: 'PT3S' } });
});
afterAll(async () => {
  await stack?.close();
});

test('the frontend is the real server on PostgreSQL, not the dev server', async () => {
  const info = await stack.client.workflowService.getClusterInfo({});
  expect(info.serverVersion).toBe('1.29.1');
  expect(info.persistenceStore).toBe('postgres12');
  expect(info.visibilityStore).toBe('postgres12');
  const namespace = await stack.client.workflowService.describeNamespace({ namespace: clusterTarget().namespace });
  expect(namespace.namespaceInfo?.name).toBe('relais');
});

test('D1 on the cluster: a purchase order is delivered and its dispatch workflow completes', async () => {
  const res = await stack.request('POST', '/v1/dispatches', purchaseOrder('po-cluster', ['supplier@acme.test']));
  expect(res.status).toBe(202);
  const outcome = await stack.client.workflow.getHandle(res.body.workflowId).result();
  // The workflow's outcome counts its recipients by status (their addresses are in MongoDB, not in Temporal).
  expect(outcome).toEqual({ result: 'delivered', counts: { delivered: 1 } });
  expect(stack.sandbox.messages({ to: 'supplier@acme.test' })).toHaveLength(1);
  const visible = await stack.client.workflow.getHandle(res.body.workflowId).describe();
  expect(visible.status.name).toBe('COMPLETED');
});

test('an order on the cluster: placed, allocated, packed, handed over, delivered; the workflow completes', async () => {
  const res = await stack.request('POST', '/v1/orders', newOrder('ord-cluster'));
  expect(res.status).toBe(202);
  await stack.waitFor('risk assessed', async () => (await stack.request('GET', '/v1/orders/ord-cluster')).body?.risk);
  for (const type of ['allocated', 'packed', 'handed_over', 'delivered']) {
    const event = await stack.request('POST', '/v1/orders/ord-cluster/events', { type });
    expect(event.status).toBe(200);
  }
  const final = await stack.client.workflow.getHandle(res.body.workflowId).result();
  expect(final.state).toBe('delivered');
});
