// A real Temporal cluster on this machine: PostgreSQL (Debian's binaries, a private cluster made
// with initdb), the schema created and migrated with temporal-sql-tool, and the Temporal server
// (all four services in one process) started with deploy/temporal/relais.yaml, frontend on loopback.
// Used by the cluster tests (test/cluster/) and `npm run bench -- --target cluster`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PG_PASSWORD, PG_USER, ROOT, runTool, startPostgres, stopProcess, waitForPort } from './processes';

export interface ClusterPaths {
  temporalServer: string;
  temporalSqlTool: string;
  temporalSchema: string;
  postgresBin: string;
}

/** Paths written by `node scripts/tools.mjs --cluster`. */
export function clusterToolPaths(): ClusterPaths {
  try {
    return JSON.parse(readFileSync(join(ROOT, '.tools', 'cluster-paths.json'), 'utf8')) as ClusterPaths;
  } catch {
    throw new Error(
      '.tools/cluster-paths.json is missing: run `node scripts/tools.mjs --cluster` first (npm test does).',
    );
  }
}

export interface Cluster {
  /** Frontend host:port, for TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  /** Where the server writes its log. */
  temporalLog: string;
  stop(): Promise<void>;
}

/** Creates both databases and migrates them to the schema shipped with the server build. */
function migrateSchema(paths: ClusterPaths, pgPort: number): void {
  const common = [
    '--endpoint',
    '127.0.0.1',
    '--port',
    String(pgPort),
    '--user',
    PG_USER,
    '--password',
    PG_PASSWORD,
    '--plugin',
    'postgres12',
  ];
  for (const [db, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    runTool(
      paths.temporalSqlTool,
      [...common, '--database', db, 'create-database', '--defaultdb', 'postgres'],
      `temporal-sql-tool create-database ${db}`,
    );
    runTool(
      paths.temporalSqlTool,
      [...common, '--database', db, 'setup-schema', '-v', '0.0'],
      `temporal-sql-tool setup-schema ${db}`,
    );
    runTool(
      paths.temporalSqlTool,
      [...common, '--database', db, 'update-schema', '-d', join(paths.temporalSchema, schema, 'versioned')],
      `temporal-sql-tool update-schema ${db}`,
    );
  }
}

/**
 * A free port below 32768: the SQL schema stores membership ports as smallint, so the kernel's
 * ephemeral range (which `freePort` draws from) is out.
 */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((r) => {
      const server = createServer();
      server.once('error', () => r(false));
      server.listen(port, '127.0.0.1', () => server.close(() => r(true)));
    });
    if (free) return port;
  }
}

/** The server's ports, all free ones (several clusters may run at once on this machine). */
async function serverEnv(pgPort: number): Promise<Record<string, string>> {
  const names = [
    'FRONTEND',
    'FRONTEND_MEMBERSHIP',
    'FRONTEND_HTTP',
    'MATCHING',
    'MATCHING_MEMBERSHIP',
    'HISTORY',
    'HISTORY_MEMBERSHIP',
    'WORKER',
    'WORKER_MEMBERSHIP',
    'METRICS',
  ];
  const env: Record<string, string> = {
    TEMPORAL_PG_ADDR: `127.0.0.1:${pgPort}`,
    TEMPORAL_PG_USER: PG_USER,
    TEMPORAL_PG_PASSWORD: PG_PASSWORD,
  };
  const taken = new Set<number>();
  for (const name of names) {
    const port = await freeLowPort(taken);
    taken.add(port);
    env[`TEMPORAL_${name}_PORT`] = String(port);
  }
  return env;
}

/** Registers the namespace, retrying while the freshly started frontend is still joining its ring. */
async function createNamespace(cli: string, address: string, namespace: string, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const created = spawnSync(
      cli,
      ['operator', 'namespace', 'create', '--namespace', namespace, '--retention', '24h', '--address', address],
      { encoding: 'utf8' },
    );
    const described = spawnSync(
      cli,
      ['operator', 'namespace', 'describe', '--namespace', namespace, '--address', address],
      { encoding: 'utf8' },
    );
    if (described.status === 0) return;
    if (server.exitCode !== null) throw new Error(`the Temporal server exited with code ${server.exitCode}`);
    if (Date.now() > deadline)
      throw new Error(
        `namespace ${namespace} could not be created on ${address}:\n${created.stderr}${described.stderr}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface StartClusterOptions {
  /** A directory for the server's log (thrown away by the caller). */
  dir: string;
  namespace?: string;
  /** The Temporal CLI (namespace creation); .tools/paths.json's by default. */
  temporalCli: string;
}

export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  const paths = clusterToolPaths();
  mkdirSync(options.dir, { recursive: true });
  const namespace = options.namespace ?? 'relais';
  const pg = await startPostgres(paths.postgresBin);
  const dropPostgres = async () => {
    await stopProcess(pg.child, 30_000);
    rmSync(pg.dir, { recursive: true, force: true });
  };
  let server: ChildProcess | undefined;
  try {
    migrateSchema(paths, pg.port);
    const env = await serverEnv(pg.port);
    const temporalLog = join(options.dir, 'temporal.log');
    server = spawn(
      paths.temporalServer,
      ['--root', ROOT, '--config', 'deploy/temporal', '--env', 'relais', '--allow-no-auth', 'start'],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = createWriteStream(temporalLog);
    server.stdout!.pipe(out);
    server.stderr!.pipe(out);
    const address = `127.0.0.1:${env.TEMPORAL_FRONTEND_PORT}`;
    await waitForPort(Number(env.TEMPORAL_FRONTEND_PORT), `Temporal server (log: ${temporalLog})`, 120_000, server);
    await createNamespace(options.temporalCli, address, namespace, server);
    const started = server;
    return {
      address,
      namespace,
      temporalLog,
      async stop() {
        await stopProcess(started, 30_000);
        await dropPostgres();
      },
    };
  } catch (err) {
    await stopProcess(server);
    await dropPostgres();
    throw err;
  }
}
