// The dashboard's rollups (src/db/rollups.ts): the fold, run by the tenant's rollup workflow, and
// the note the dispatch and order projections send it when something it counts may have changed.
import type { Client } from '@temporalio/client';
import type { Db } from '../db/models';
import { foldRollups, type FoldBatch } from '../db/rollups';
import { ROLLUP_WORKFLOW, rollupChangedSignal, rollupWorkflowId, type RollupChange, type RollupInput } from '../workflows/rollup-contract';

/** Where the rollup workflows run: a client of the worker's namespace and its task queue. Without it nothing is counted. */
export interface RollupDeps { client: Client; taskQueue: string }

/**
 * Tells the tenant's rollup workflow what changed, starting it when it is not running. A failure
 * fails the calling activity, which Temporal retries: the projection it follows is idempotent,
 * and the fold counts by difference, so a repeated note counts nothing twice.
 */
export async function noteRollupChange(rollups: RollupDeps | undefined, tenantId: string, change: RollupChange): Promise<void> {
  if (!rollups) return;
  await rollups.client.workflow.signalWithStart<(input: RollupInput) => Promise<void>, [RollupChange]>(ROLLUP_WORKFLOW, {
    workflowId: rollupWorkflowId(tenantId), taskQueue: rollups.taskQueue, args: [{ tenantId }], signal: rollupChangedSignal, signalArgs: [change],
  });
}

export function createRollupActivities({ db }: { db: Db }) {
  return {
    /** One fold of the tenant's rollups (only its rollup workflow calls this, one at a time). */
    async foldRollups(request: { tenantId: string; seq: number; batch: FoldBatch }): Promise<{ changes: number }> {
      return foldRollups(db, request.tenantId, request.seq, request.batch);
    },
  };
}
