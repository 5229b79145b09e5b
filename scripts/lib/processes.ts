// Local servers shared by the dev stack and the test set-up.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import {
  chownSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');

export interface ToolPaths {
  temporal: string;
  ferretdb?: string;
  temporalTestServer: string;
  postgresBin?: string;
}

/** Paths written by scripts/tools.mjs. */
export function toolPaths(): ToolPaths {
  try {
    return JSON.parse(readFileSync(join(ROOT, '.tools', 'paths.json'), 'utf8')) as ToolPaths;
  } catch {
    throw new Error('.tools/paths.json is missing: run `node scripts/tools.mjs` first (npm start and npm test do).');
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((r) => {
    const socket = createConnection({ host, port }, () => {
      socket.destroy();
      r(true);
    });
    socket.on('error', () => r(false));
  });
}

export async function waitForPort(port: number, what: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (child && child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode} before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on port ${port} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Debian's PostgreSQL server binaries (initdb, postgres, psql): where the tools script found them,
 * or the newest version under /usr/lib/postgresql.
 */
export function postgresBin(): string {
  const recorded = toolPaths().postgresBin;
  if (recorded) return recorded;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length)
    throw new Error(
      "PostgreSQL is not installed: run `node scripts/tools.mjs` (it installs Debian's postgresql package).",
    );
  return join(root, versions[0], 'bin');
}

/** What FerretDB's PostgreSQL backend needs besides a database: the GIN twins of its indexes (ferretdb-postgresql.sql). */
function prepareForFerretDb(postgres: { url: string; bin: string }): void {
  runTool(
    join(postgres.bin, 'psql'),
    [
      postgres.url,
      '-v',
      'ON_ERROR_STOP=1',
      '-q',
      '-c',
      'SET client_min_messages = warning',
      '-f',
      join(ROOT, 'scripts', 'lib', 'ferretdb-postgresql.sql'),
    ],
    'installing the index trigger for FerretDB',
  );
}

/**
 * FerretDB v1: a real MongoDB wire-protocol server, on a PostgreSQL database (`postgresql`, the
 * embedded default: docs/architecture.md, "The embedded store") or on SQLite files under `dir`.
 */
export async function startFerretDb(options: {
  bin: string;
  port: number;
  dir: string;
  host?: string;
  log?: 'inherit' | 'ignore';
  postgresql?: { url: string; bin: string };
}): Promise<ChildProcess> {
  mkdirSync(options.dir, { recursive: true });
  if (options.postgresql) prepareForFerretDb(options.postgresql);
  const backend = options.postgresql
    ? ['--handler=pg', `--postgresql-url=${options.postgresql.url}`]
    : ['--handler=sqlite', `--sqlite-url=file:${options.dir}/`];
  const child = spawn(
    options.bin,
    [
      ...backend,
      `--listen-addr=${options.host ?? '127.0.0.1'}:${options.port}`,
      '--telemetry=disable',
      '--debug-addr=-',
      '--log-level=error',
      `--state-dir=${options.dir}`,
    ],
    { stdio: ['ignore', options.log ?? 'ignore', options.log ?? 'ignore'] },
  );
  await waitForPort(options.port, 'FerretDB', 30_000, child);
  return child;
}

/**
 * The Temporal CLI's dev server as a process of our own (the SDK's test environment owns the
 * one it starts), on a SQLite file: stopped and started again on the same file and port, it
 * comes back with every workflow it had (the fault suite restarts it; npm start supervises its own).
 * `log`: where its output goes, 'ignore' by default; a number is an open file descriptor.
 */
export async function startTemporalDevServer(options: {
  bin: string;
  port: number;
  dbFilename: string;
  namespace?: string;
  log?: 'inherit' | 'ignore' | number;
  logLevel?: 'warn' | 'error';
}): Promise<ChildProcess> {
  const child = spawn(
    options.bin,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--headless',
      '--db-filename',
      options.dbFilename,
      '--namespace',
      options.namespace ?? 'default',
      '--log-level',
      options.logLevel ?? 'error',
    ],
    { stdio: ['ignore', options.log ?? 'ignore', options.log ?? 'ignore'] },
  );
  await waitForPort(options.port, 'Temporal dev server', 60_000, child);
  return child;
}

/** The superuser of the private PostgreSQL clusters below (trust auth on loopback; the password is for tools that insist). */
export const PG_USER = 'temporal';
export const PG_PASSWORD = 'temporal';

/**
 * PostgreSQL refuses to run as root: when we are root, the data directory is handed to the
 * `postgres` account that Debian's package creates and the server runs as that account.
 */
function postgresAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0)
    throw new Error(
      'running as root and there is no `postgres` account to run PostgreSQL as (apt-get install postgresql creates it)',
    );
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export function runTool(bin: string, args: string[], what: string, options: { uid?: number; gid?: number } = {}): void {
  const result = spawnSync(bin, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
}

export interface PostgresServer {
  port: number;
  child: ChildProcess;
  dir: string;
  url: string;
  bin: string;
}

/**
 * A private PostgreSQL cluster on loopback (`bin`: Debian's server binaries). By default a
 * throw-away one in a temporary directory, without fsync; given `dir`, a lasting one there
 * (created on first use, found again by the next start: `npm start`'s store under .data/).
 */
export async function startPostgres(
  bin: string,
  options: { dir?: string; log?: (msg: string) => void } = {},
): Promise<PostgresServer> {
  const account = postgresAccount();
  const lasting = options.dir !== undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'relais-postgres-'));
  mkdirSync(dir, { recursive: true });
  if (account) chownSync(dir, account.uid, account.gid);
  const data = join(dir, 'data');
  if (!existsSync(join(data, 'PG_VERSION'))) {
    options.log?.(`creating a PostgreSQL cluster in ${data}`);
    runTool(
      join(bin, 'initdb'),
      ['-D', data, '-U', PG_USER, '--auth=trust', ...(lasting ? [] : ['--no-sync']), '-E', 'UTF8', '--locale=C'],
      'initdb',
      account ?? {},
    );
  }
  const port = await freePort();
  // Loopback only, no Unix socket (a deep checkout's path can be too long for one); a throw-away
  // cluster skips fsync.
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...(lasting ? [] : ['-c', 'fsync=off']),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], ...(account ?? {}) },
  );
  const out = createWriteStream(join(dir, 'postgres.log'), { flags: 'a' });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  await waitForPort(port, `PostgreSQL (log: ${dir}/postgres.log)`, 60_000, child);
  // The port opens before recovery ends: ready when it accepts a connection.
  for (
    let i = 0;
    spawnSync(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]).status !== 0;
    i += 1
  ) {
    if (i > 600 || child.exitCode !== null)
      throw new Error(`PostgreSQL did not accept connections (log: ${dir}/postgres.log)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child, dir, bin, url: `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/postgres` };
}

/** Stops a cluster from `startPostgres` and, when it was a throw-away one, removes its directory. */
export async function stopPostgres(
  postgres: PostgresServer | undefined,
  options: { keep?: boolean } = {},
): Promise<void> {
  if (!postgres) return;
  await stopProcess(postgres.child, 30_000);
  if (!options.keep) rmSync(postgres.dir, { recursive: true, force: true });
}

export function stopProcess(child: ChildProcess | undefined, timeoutMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      r();
    });
    child.kill('SIGTERM');
  });
}
