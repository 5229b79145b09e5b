// The real Temporal cluster for test/cluster/: PostgreSQL, schema migrated by temporal-sql-tool,
// the server with deploy/temporal/relais.yaml. FerretDB and the workflow bundle come from the
// run's ordinary set-up, started here when no file of the dev project is selected.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../scripts/lib/cluster';
import { toolPaths } from '../../scripts/lib/processes';
import baseSetup from '../global-setup';
import baseTeardown from '../global-teardown';

declare global {
  var __relaisCluster: { cluster: Cluster; dir: string } | undefined;
}

export default async function clusterSetup(): Promise<void> {
  await baseSetup();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'relais-cluster-'));
  let cluster: Cluster;
  try {
    cluster = await startCluster({ dir, temporalCli: toolPaths().temporal });
  } catch (err) {
    // Jest runs no teardown after a failed set-up. The server's log stays for the reader.
    await baseTeardown();
    console.error(`[test set-up] the cluster did not start; server log kept in ${dir}`);
    throw err;
  }
  process.env.RELAIS_TEST_CLUSTER = JSON.stringify({ address: cluster.address, namespace: cluster.namespace });
  globalThis.__relaisCluster = { cluster, dir };
  console.log(
    `[test set-up] Temporal cluster (server v1.29.1 on PostgreSQL) on ${cluster.address}, namespace ${cluster.namespace}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}
