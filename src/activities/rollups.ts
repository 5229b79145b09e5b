// The dashboard's rollups (src/db/rollups.ts): the fold, run by the tenant's rollup workflow, and
// the note the dispatch and order projections send it when something it counts may have changed.
import type { Client } from '@temporalio/client';
import type { Db } from '../db/models';
import { foldRollups, type FoldBatch } from '../db/rollups';
import {
  FOLD_BATCH,
  ROLLUP_WORKFLOW,
  rollupChangedSignal,
  rollupWorkflowId,
  type RollupChange,
  type RollupInput,
} from '../workflows/rollup/contract';
import { RECIPIENTS_PER_DOCUMENT } from '../domain/dispatch';

/** Where the rollup workflows run: a client of the worker's namespace and its task queue. Without it nothing is counted. */
export interface RollupDeps {
  client: Client;
  taskQueue: string;
}

/**
 * Tells the tenant's rollup workflow what changed, starting it when it is not running. A failure
 * fails the calling activity, which Temporal retries: the projection it follows is idempotent,
 * and the fold counts by difference, so a repeated note counts nothing twice.
 */
export async function noteRollupChange(
  rollups: RollupDeps | undefined,
  tenantId: string,
  change: RollupChange,
): Promise<void> {
  if (!rollups) return;
  await rollups.client.workflow.signalWithStart<(input: RollupInput) => Promise<void>, [RollupChange]>(
    ROLLUP_WORKFLOW,
    {
      workflowId: rollupWorkflowId(tenantId),
      taskQueue: rollups.taskQueue,
      args: [{ tenantId }],
      signal: rollupChangedSignal,
      signalArgs: [change],
    },
  );
}

/**
 * Asks the tenant's rollup workflow to count every recorded document dispatch and order exception
 * again (after an upgrade: what was recorded before the dashboard existed). The fold counts by
 * difference, so what is counted already adds nothing: running it twice is harmless. Reads the
 * tenant's records once (a scan, as any listing on the embedded store), sends ids in batches.
 */
export async function recountRollups(
  db: Db,
  rollups: RollupDeps,
  tenantId: string,
  progress?: (counted: { dispatches: number; orders: number }) => void,
) {
  const counted = { dispatches: 0, orders: 0 };
  let batch: NonNullable<RollupChange['dispatches']> = [];
  const flush = async () => {
    if (batch.length) await noteRollupChange(rollups, tenantId, { dispatches: batch });
    counted.dispatches += batch.length;
    batch = [];
    progress?.(counted);
  };
  for await (const d of db.Dispatch.find(
    { tenantId, kind: 'document', format: 2 },
    { dispatchId: 1, recipientCount: 1 },
  )
    .lean()
    .cursor({ batchSize: 500 })) {
    batch.push({
      dispatchId: d.dispatchId,
      parts: Array.from({ length: Math.ceil(d.recipientCount / RECIPIENTS_PER_DOCUMENT) }, (_, n) => n),
    });
    if (batch.length === FOLD_BATCH) await flush();
  }
  await flush();
  const orders = new Map<string, number[]>();
  for await (const e of db.OrderException.find({ tenantId }, { orderId: 1, n: 1 }).lean().cursor({ batchSize: 500 }))
    orders.set(e.orderId, [...(orders.get(e.orderId) ?? []), e.n]);
  const list = [...orders].map(([orderId, exceptions]) => ({ orderId, exceptions }));
  for (let i = 0; i < list.length; i += FOLD_BATCH) {
    await noteRollupChange(rollups, tenantId, { orders: list.slice(i, i + FOLD_BATCH) });
    counted.orders += Math.min(FOLD_BATCH, list.length - i);
    progress?.(counted);
  }
  return counted;
}

export function createRollupActivities({ db }: { db: Db }) {
  return {
    /** One fold of the tenant's rollups (only its rollup workflow calls this, one at a time). */
    async foldRollups(request: { tenantId: string; seq: number; batch: FoldBatch }): Promise<{ changes: number }> {
      return foldRollups(db, request.tenantId, request.seq, request.batch);
    },
  };
}
