// One Temporal dev server and one MongoDB-wire server for the whole run (test files use their
// own task queue and database on them), and the workflow bundle built once.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import {
  freePort,
  postgresBin,
  startFerretDb,
  startPostgres,
  stopPostgres,
  stopProcess,
  toolPaths,
  type PostgresServer,
} from '../scripts/lib/processes';
import { buildWorkflowBundle } from '../src/worker';
import { withSlowStartRetry } from './support/server-start';

declare global {
  var __relaisTest:
    { env: TestWorkflowEnvironment; ferret?: ChildProcess; postgres?: PostgresServer; dir: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (globalThis.__relaisTest) return; // test/cluster/global-setup.ts may have run this already
  const started = Date.now();
  const tools = toolPaths();
  const dir = mkdtempSync(join(tmpdir(), 'relais-test-'));
  const temporalPort = await freePort();
  const [envResult, ferretResult, bundleResult] = await Promise.allSettled([
    withSlowStartRetry('the Temporal dev server', () =>
      TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: tools.temporal },
          ip: '127.0.0.1',
          port: temporalPort,
          ui: false,
        },
      }),
    ),
    (async () => {
      if (process.env.MONGODB_URI) return undefined;
      if (!tools.ferretdb) throw new Error('FerretDB is not built: run `node scripts/tools.mjs`.');
      // The embedded default, as npm start runs it: FerretDB on a throw-away PostgreSQL cluster.
      const postgres = await startPostgres(postgresBin());
      try {
        const port = await freePort();
        const ferret = await startFerretDb({
          bin: tools.ferretdb,
          port,
          dir: join(dir, 'ferretdb'),
          postgresql: postgres,
        });
        process.env.RELAIS_TEST_MONGODB_URI = `mongodb://127.0.0.1:${port}/`;
        return { ferret, postgres };
      } catch (err) {
        await stopPostgres(postgres);
        throw err;
      }
    })(),
    buildWorkflowBundle(),
  ]);
  // Jest runs no teardown after a failed set-up: whatever did start is stopped here.
  if (envResult.status === 'rejected' || ferretResult.status === 'rejected' || bundleResult.status === 'rejected') {
    if (envResult.status === 'fulfilled') await envResult.value.teardown();
    if (ferretResult.status === 'fulfilled') {
      await stopProcess(ferretResult.value?.ferret);
      await stopPostgres(ferretResult.value?.postgres);
    }
    throw [envResult, ferretResult, bundleResult].find((r) => r.status === 'rejected')!.reason;
  }
  const [env, store, bundle] = [envResult.value, ferretResult.value, bundleResult.value];
  if (process.env.MONGODB_URI) process.env.RELAIS_TEST_MONGODB_URI = process.env.MONGODB_URI;
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.RELAIS_TEST_TEMPORAL_ADDRESS = `127.0.0.1:${temporalPort}`;
  process.env.RELAIS_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.RELAIS_TEST_TOOLS = JSON.stringify(tools);
  globalThis.__relaisTest = { env, ferret: store?.ferret, postgres: store?.postgres, dir };
  console.log(
    `\n[test set-up] Temporal dev server on ${process.env.RELAIS_TEST_TEMPORAL_ADDRESS}, MongoDB-wire on ${process.env.RELAIS_TEST_MONGODB_URI}${store ? ' (FerretDB on PostgreSQL)' : ''}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}
