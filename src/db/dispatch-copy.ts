// Issue 17: the sender's copy (cc or bcc) of a dispatch, tracked from the provider's events like a
// recipient — its own status, reason and history — but kept beside the recipients: it never moves
// the dispatch's result and nobody is told about it (the person it would tell is its addressee).
// Written by the webhook handler and the send activity, not the workflow: a version number makes
// each write apply to what it read (FerretDB has no atomic read-modify-write).
import type { Db } from './models';
import { dispatchKey, insertNew } from './dispatch-records';
import type { StoredEvent } from './dispatch-events';
import { isFailure, nextStatus, type RecipientStatus } from '../domain/dispatch-status';

/** The copy's events are stored in `dispatch_events` at this position (no recipient has it). */
export const COPY_INDEX = -1;

export interface CopyState { mode: 'cc' | 'bcc'; address: string; status: RecipientStatus | null; reasonCode: string | null; sentAt: Date | null; events: string[]; version?: number }

/** Stores events of the copy (once each, under their ids) and moves its status forward; false when the dispatch has no copy. */
export async function recordCopyEvents(db: Db, tenantId: string, dispatchId: string, events: StoredEvent[]): Promise<boolean> {
  await insertNew(db.DispatchEvent, events);
  return changeCopy(db, tenantId, dispatchId, (copy) => {
    let { status, reasonCode } = copy;
    for (const e of [...events].sort((a, b) => a.at.getTime() - b.at.getTime())) {
      if (!e.status) continue;
      const next = nextStatus(status ?? 'queued', e.status as RecipientStatus);
      if (next !== status) {
        status = next;
        reasonCode = isFailure(next) ? e.reasonCode ?? 'unclassified' : null;
      }
    }
    return { status, reasonCode, events: [...new Set([...copy.events, ...events.map((e) => e._id)])] };
  });
}

/** Applies a change to the copy as read, again if another write came in between. */
export async function changeCopy(db: Db, tenantId: string, dispatchId: string, change: (copy: CopyState) => Partial<CopyState>): Promise<boolean> {
  const _id = dispatchKey(tenantId, dispatchId);
  for (let tries = 0; tries < 10; tries += 1) {
    const header = await db.Dispatch.findById(_id, { copy: 1 }).lean();
    const copy = header?.copy as CopyState | null | undefined;
    if (!copy) return false;
    const version = copy.version ?? 0;
    const set = Object.fromEntries(Object.entries(change(copy)).map(([k, v]) => [`copy.${k}`, v]));
    const written = await db.Dispatch.updateOne({ _id, ...(version ? { 'copy.version': version } : { 'copy.version': { $exists: false } }) }, { $set: { ...set, 'copy.version': version + 1 } });
    if (written.modifiedCount === 1) return true;
  }
  throw new Error(`the copy of dispatch ${dispatchId} kept changing under this write`);
}
