// A Relais entry point (src/worker.ts, src/api/main.ts) run as its own process through tsx, as
// production runs it, configured only through its environment; its output is kept for the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from '../../scripts/lib/processes';

export interface RelaisProcess {
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr interleaved. */
  output(): string;
  /** Its JSON log lines, parsed. */
  lines(): any[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

export function spawnRelais(
  entry: 'src/worker.ts' | 'src/api/main.ts',
  env: Record<string, string>,
  options: { quiet?: boolean } = {},
): RelaisProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', options.quiet ? 'ignore' : 'pipe', options.quiet ? 'ignore' : 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      running.delete(child);
      r(code);
    }),
  );
  return {
    child,
    exited,
    output: () => out,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
  };
}

/** For afterAll: whatever a failed test left running. */
export function killAllRelais(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
