// Servers of their own for a script outside jest (the benchmark, the history recorder): a Temporal
// dev server on a SQLite file and a MongoDB-wire server (FerretDB on SQLite files or on a private
// PostgreSQL cluster), with the workflow bundle built once. Sets the RELAIS_TEST_* variables that
// `startStack` (test/support/stack.ts) reads, as the jest set-up does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ChildProcess } from 'node:child_process';
import {
  freePort,
  postgresBin,
  startFerretDb,
  startPostgres,
  stopPostgres,
  stopProcess,
  toolPaths,
} from '../../scripts/lib/processes';
import { buildWorkflowBundle } from '../../src/worker';

export type StoreKind = 'sqlite' | 'postgresql';

export interface LocalServers {
  env: TestWorkflowEnvironment;
  /** What serves MongoDB: 'MONGODB_URI' when the environment names one. */
  store: string;
  mongoUri: string;
  dir: string;
  stop(): Promise<void>;
}

/** A FerretDB of its own on the chosen backend, for side-by-side measurements. */
export async function startFerretStore(
  kind: StoreKind,
  dir: string,
): Promise<{ uri: string; label: string; stop(): Promise<void> }> {
  const tools = toolPaths();
  if (!tools.ferretdb) throw new Error('FerretDB is not built: run `node scripts/tools.mjs`.');
  const postgres = kind === 'postgresql' ? await startPostgres(postgresBin()) : undefined;
  const port = await freePort();
  let ferret: ChildProcess | undefined;
  try {
    ferret = await startFerretDb({
      bin: tools.ferretdb,
      port,
      dir: join(dir, `ferretdb-${kind}`),
      postgresql: postgres,
    });
  } catch (err) {
    await stopPostgres(postgres);
    throw err;
  }
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    label: kind === 'postgresql' ? 'FerretDB 1.24 on PostgreSQL' : 'FerretDB 1.24 on SQLite',
    async stop() {
      await stopProcess(ferret);
      await stopPostgres(postgres);
    },
  };
}

/** `temporalArgs`: more flags for the dev server (e.g. a dynamic config value). */
export async function startLocalServers(options: {
  store: StoreKind;
  say?: (msg: string) => void;
  temporalArgs?: string[];
}): Promise<LocalServers> {
  const say = options.say ?? (() => undefined);
  const tools = toolPaths();
  const dir = mkdtempSync(join(tmpdir(), 'relais-servers-'));
  say('starting a Temporal dev server (file-backed SQLite)');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: tools.temporal },
      ip: '127.0.0.1',
      port: await freePort(),
      ui: false,
      dbFilename: join(dir, 'temporal.sqlite'),
      extraArgs: options.temporalArgs ?? [],
    },
  });
  let ferret: Awaited<ReturnType<typeof startFerretStore>> | undefined;
  try {
    if (!process.env.MONGODB_URI) {
      say(`starting FerretDB on ${options.store === 'postgresql' ? 'a private PostgreSQL cluster' : 'SQLite files'}`);
      ferret = await startFerretStore(options.store, dir);
    }
    say('bundling the workflow code');
    const bundlePath = join(dir, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await buildWorkflowBundle()).code);
    const mongoUri = process.env.MONGODB_URI ?? ferret!.uri;
    process.env.RELAIS_TEST_MONGODB_URI = mongoUri;
    process.env.RELAIS_TEST_TEMPORAL_ADDRESS = env.connection.options.address;
    process.env.RELAIS_TEST_WORKFLOW_BUNDLE = bundlePath;
    return {
      env,
      mongoUri,
      dir,
      store: ferret?.label ?? 'MONGODB_URI',
      async stop() {
        await env.teardown();
        await ferret?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await env.teardown();
    await ferret?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
