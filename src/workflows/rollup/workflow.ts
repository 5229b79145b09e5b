// One per tenant, `rollups/<tenant>`: the only writer of the tenant's dashboard rollups
// (src/db/rollups.ts explains why one). The dispatch and order projections signal what changed
// (ids only); a second later the workflow folds it, at most FOLD_BATCH things per fold, one fold
// at a time. Idle for ten minutes it ends; the next signal (signalWithStart) starts it again.
import { condition, continueAsNew, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { FOLD_BATCH, rollupChangedSignal, type RollupChange, type RollupInput } from './contract';

type Activities = ReturnType<typeof createActivities>;

const { foldRollups } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** A burst of changes (a dispatch's events arrive within a second) becomes one fold. */
const GATHER = '1 second';
const IDLE = '10 minutes';
/** Signals taken before continuing as new (each is an event in the history). */
const SIGNALS_PER_RUN = 2000;

/** What is waiting to be folded: per dispatch the documents of recipients, per order the exceptions. */
class Pending {
  readonly dispatches = new Map<string, Set<number>>();
  readonly orders = new Map<string, Set<number>>();
  constructor(change?: RollupChange) {
    if (change) this.add(change);
  }
  add(change: RollupChange) {
    for (const d of change.dispatches ?? [])
      this.dispatches.set(d.dispatchId, new Set([...(this.dispatches.get(d.dispatchId) ?? []), ...d.parts]));
    for (const o of change.orders ?? [])
      this.orders.set(o.orderId, new Set([...(this.orders.get(o.orderId) ?? []), ...o.exceptions]));
  }
  get size() {
    return this.dispatches.size + this.orders.size;
  }
  /** Takes up to `limit` things out, oldest first. */
  take(limit: number) {
    const dispatches = [...this.dispatches]
      .slice(0, limit)
      .map(([dispatchId, parts]) => ({ dispatchId, parts: [...parts] }));
    for (const d of dispatches) this.dispatches.delete(d.dispatchId);
    const orders = [...this.orders]
      .slice(0, limit - dispatches.length)
      .map(([orderId, exceptions]) => ({ orderId, exceptions: [...exceptions] }));
    for (const o of orders) this.orders.delete(o.orderId);
    return { dispatches, orders };
  }
  toChange(): RollupChange {
    return {
      dispatches: [...this.dispatches].map(([dispatchId, parts]) => ({ dispatchId, parts: [...parts] })),
      orders: [...this.orders].map(([orderId, exceptions]) => ({ orderId, exceptions: [...exceptions] })),
    };
  }
}

export async function dashboardRollup(input: RollupInput): Promise<void> {
  const pending = new Pending(input.pending);
  let signals = 0;
  setHandler(rollupChangedSignal, (change) => {
    pending.add(change);
    signals += 1;
  });
  let lastSeq = input.lastSeq ?? 0;
  for (;;) {
    if (!(await condition(() => pending.size > 0, IDLE))) return;
    await sleep(GATHER);
    while (pending.size > 0) {
      // Workflow time, so a later run's folds still come after this one's.
      lastSeq = Math.max(lastSeq + 1, Date.now());
      await foldRollups({ tenantId: input.tenantId, seq: lastSeq, batch: pending.take(FOLD_BATCH) });
    }
    if (signals >= SIGNALS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof dashboardRollup>({ tenantId: input.tenantId, pending: pending.toChange(), lastSeq });
    }
  }
}
