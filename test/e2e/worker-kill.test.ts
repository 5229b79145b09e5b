// N4 and "nothing accepted is lost": the worker process is killed with SIGKILL after the send
// is recorded and before the provider's events; a new worker process finishes the dispatch,
// and the supplier received the purchase order exactly once.
import { killAllRelais, spawnRelais } from '../support/relais-process';
import { purchaseOrder, startStack, type Stack } from '../support/stack';

let stack: Stack;
const startWorkerProcess = () => spawnRelais('src/worker.ts', stack.workerEnv, { quiet: true });

beforeAll(async () => {
  stack = await startStack({ worker: false, eventDelayMs: 1500 });
});
afterAll(async () => {
  killAllRelais();
  await stack?.close();
});

test('kill -9 of the worker between send and events: delivered later, sent once', async () => {
  const first = startWorkerProcess();
  expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('po-kill', ['kill@acme.test']))).status).toBe(
    202,
  );
  // Killed once the provider's acceptance is recorded: before that, a kill falls in the
  // documented duplicate window (N4: the provider took it, Relais had not written it down yet).
  await stack.waitFor(
    'the send, recorded',
    async () => (await stack.request('GET', '/v1/dispatches/po-kill')).body?.sentAt,
    120_000,
  ); // a worker process bundles its workflows first
  expect(stack.sandbox.messages({ to: 'kill@acme.test' })).toHaveLength(1);
  first.child.kill('SIGKILL');
  await first.exited;
  // The provider's events come while no worker runs; Temporal keeps the signals.
  await stack.waitFor(
    'events delivered to Relais',
    async () =>
      stack.sandbox.messages({ to: 'kill@acme.test' })[0].events.filter((e) => e.outcome === 'delivered').length === 2,
    30_000,
  );
  const before = (await stack.request('GET', '/v1/dispatches/po-kill')).body;
  expect(before.recipients[0].status).not.toBe('delivered');

  startWorkerProcess();
  await stack.waitFor(
    'delivered',
    async () => (await stack.request('GET', '/v1/dispatches/po-kill')).body?.recipients?.[0]?.status === 'delivered',
    120_000,
  );
  expect(stack.sandbox.messages({ to: 'kill@acme.test' })).toHaveLength(1);
}, 300_000);
