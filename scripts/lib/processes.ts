// Local servers shared by the dev stack and the test set-up.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');

export interface ToolPaths { temporal: string; ferretdb?: string; temporalTestServer: string }

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
    const socket = createConnection({ host, port }, () => { socket.destroy(); r(true); });
    socket.on('error', () => r(false));
  });
}

export async function waitForPort(port: number, what: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on port ${port} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** FerretDB v1 on SQLite: a real MongoDB wire-protocol server, files under `dir`. */
export async function startFerretDb(options: { bin: string; port: number; dir: string; host?: string; log?: 'inherit' | 'ignore' }): Promise<ChildProcess> {
  mkdirSync(options.dir, { recursive: true });
  const child = spawn(options.bin, [
    '--handler=sqlite', `--sqlite-url=file:${options.dir}/`, `--listen-addr=${options.host ?? '127.0.0.1'}:${options.port}`,
    '--telemetry=disable', '--debug-addr=-', '--log-level=error', `--state-dir=${options.dir}`,
  ], { stdio: ['ignore', options.log ?? 'ignore', options.log ?? 'ignore'] });
  await waitForPort(options.port, 'FerretDB', 30_000, child);
  return child;
}

export function stopProcess(child: ChildProcess | undefined, timeoutMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => { clearTimeout(timer); r(); });
    child.kill('SIGTERM');
  });
}
