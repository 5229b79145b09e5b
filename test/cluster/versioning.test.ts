// Zero-downtime worker upgrades (docs/deploy.md): a run started on version 1 of a workflow is
// finished by workers running version 2, which changed a step behind patched(). New runs take the
// new step. The same change without patched() breaks the old run (non-determinism): the control
// that shows the test can fail. Two (three) real workflow bundles, workers on the real cluster.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { QUIET_BUNDLER_LOGGER } from '../../src/worker';
import * as activities from './versioning/activities';
import { clusterTarget } from './target';

const { address, namespace } = clusterTarget();
let connection: Connection;
let client: Client;
let native: NativeConnection;
const bundles: Record<'v1' | 'v2' | 'v2-unpatched', WorkflowBundle> = {} as never;

beforeAll(async () => {
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address });
  for (const name of ['v1', 'v2', 'v2-unpatched'] as const) {
    bundles[name] = await bundleWorkflowCode({
      workflowsPath: join(__dirname, 'versioning', `${name}.ts`),
      logger: QUIET_BUNDLER_LOGGER,
    });
  }
});
afterAll(async () => {
  await native?.close();
  await connection?.close();
});

/** Runs a worker with one bundle until `body` is done, then drains it (graceful shutdown). */
async function withWorker<T>(taskQueue: string, bundle: WorkflowBundle, body: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: native,
    namespace,
    taskQueue,
    workflowBundle: bundle,
    activities,
    // No sticky cache: every task is replayed from history, as on a freshly upgraded worker.
    maxCachedWorkflows: 0,
  });
  return worker.runUntil(body);
}

const historyOf = async (workflowId: string) =>
  (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
const scheduled = async (workflowId: string) =>
  (await historyOf(workflowId)).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);

test('a run started on v1 finishes on v2 (change behind patched); a new run takes the new step', async () => {
  const taskQueue = `versioning-${randomBytes(4).toString('hex')}`;
  const old = `upgradable-old-${taskQueue}`;
  await withWorker(taskQueue, bundles.v1, async () => {
    const handle = await client.workflow.start('upgradable', { workflowId: old, taskQueue });
    // v1 has rendered and now waits for its event.
    for (;;) {
      if ((await scheduled(handle.workflowId)).includes('render')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  // The upgrade: v1 workers are gone, v2 workers take over the same task queue.
  const [oldResult, newResult] = await withWorker(taskQueue, bundles.v2, async () => {
    const fresh = await client.workflow.start('upgradable', { workflowId: `upgradable-new-${taskQueue}`, taskQueue });
    await client.workflow.getHandle(old).signal('proceed');
    await fresh.signal('proceed');
    return Promise.all([client.workflow.getHandle(old).result(), fresh.result()]);
  });
  expect(oldResult).toEqual(['prepare', 'render', 'finish']);
  expect(newResult).toEqual(['prepare', 'renderWithLinks', 'finish']);
  expect((await historyOf(old)).some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
}, 180_000);

test('control: the same change without patched() cannot replay the v1 run', async () => {
  const taskQueue = `versioning-${randomBytes(4).toString('hex')}`;
  const old = `upgradable-old-${taskQueue}`;
  await withWorker(taskQueue, bundles.v1, async () => {
    await client.workflow.start('upgradable', { workflowId: old, taskQueue });
    for (;;) {
      if ((await scheduled(old)).includes('render')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  const failure = await withWorker(taskQueue, bundles['v2-unpatched'], async () => {
    await client.workflow.getHandle(old).signal('proceed');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const failed = (await historyOf(old)).find(
        (e) => e.workflowTaskFailedEventAttributes,
      )?.workflowTaskFailedEventAttributes;
      if (failed) return failed;
      await new Promise((r) => setTimeout(r, 200));
    }
    return undefined;
  });
  expect(failure?.failure?.message).toMatch(/[Nn]ondeterminism/);
  await client.workflow.getHandle(old).terminate('control run of the versioning test');
}, 180_000);
