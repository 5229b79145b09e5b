// `npm run rollups:recount -- <tenantId>…` (or `--all`): after upgrading to a version with the
// dashboard, count what was recorded before it (docs/deploy.md). Configured like the worker
// (MONGODB_URI, TEMPORAL_*): it asks each tenant's rollup workflow, which the running workers
// execute, to count every recorded dispatch and order exception; counted ones add nothing.
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { connectDb } from '../src/db/models';
import { recountRollups } from '../src/activities/rollups';
import { temporalConnectionOptions } from '../src/temporal-connection';

async function main() {
  const args = process.argv.slice(2);
  if (!args.length) throw new Error('name the tenants to count (their ids), or --all');
  const config = loadConfig();
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is not set');
  const db = await connectDb(config.MONGODB_URI);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const rollups = {
      client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
    };
    const tenants = args.includes('--all') ? (await db.Tenant.find({}, { _id: 1 }).lean()).map((t) => t._id) : args;
    for (const tenantId of tenants) {
      const counted = await recountRollups(db, rollups, tenantId);
      console.log(
        `${tenantId}: ${counted.dispatches} dispatches and the exceptions of ${counted.orders} orders sent to be counted`,
      );
    }
  } finally {
    await connection.close();
    await db.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
