// The tenant's rollup workflow (src/workflows/rollup/workflow.ts), as its callers see it: its id, its
// input and the signal that tells it what changed. Activities, scripts and tests import this,
// never the workflow file.
import { defineSignal } from '@temporalio/workflow';
import type { FoldBatch } from '../../db/rollups';

export const ROLLUP_WORKFLOW = 'dashboardRollup';
export const rollupWorkflowId = (tenantId: string) => `rollups/${tenantId}`;

/** Dispatches and orders that changed: only ids and numbers (the fold reads their state from MongoDB). */
export interface RollupChange {
  dispatches?: FoldBatch['dispatches'];
  orders?: FoldBatch['orders'];
}
export const rollupChangedSignal = defineSignal<[RollupChange]>('changed');

export interface RollupInput {
  tenantId: string;
  /** Carried across continue-as-new: what was signalled and not folded yet. */
  pending?: RollupChange;
  /** The last fold's sequence number (each fold's is higher, across runs too). */
  lastSeq?: number;
}

/** Dispatches and orders one fold takes at most (its plan stays well under a megabyte). */
export const FOLD_BATCH = 100;
