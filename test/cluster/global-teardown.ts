import { rmSync } from 'node:fs';
import baseTeardown from '../global-teardown';

export default async function clusterTeardown(): Promise<void> {
  const state = globalThis.__relaisCluster;
  globalThis.__relaisCluster = undefined;
  if (state) {
    await state.cluster.stop();
    rmSync(state.dir, { recursive: true, force: true });
  }
  await baseTeardown();
}
