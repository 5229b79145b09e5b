import { rmSync } from 'node:fs';
import { stopPostgres, stopProcess } from '../scripts/lib/processes';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__relaisTest;
  if (!state) return;
  globalThis.__relaisTest = undefined; // the cluster project's teardown may call this too
  await state.env.teardown();
  await stopProcess(state.ferret);
  await stopPostgres(state.postgres);
  rmSync(state.dir, { recursive: true, force: true });
}
