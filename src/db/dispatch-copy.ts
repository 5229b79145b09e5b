// Issue 17: the sender's copy (cc or bcc) of a dispatch, tracked from the provider's events like a
// recipient — its own status, reason and history — but kept beside the recipients: it never moves
// the dispatch's result and nobody is told about it (the person it would tell is its addressee).
// Its events are written by the webhook handler and the send activity, not the workflow; its
// status is read from them (readCopy), never written back (FerretDB has no atomic read-modify-write).
import type { Db } from './models';
import { dispatchKey, insertNew } from './dispatch-records';
import type { StoredEvent } from './dispatch-events';
import { isFailure, nextStatus, type RecipientStatus } from '../domain/dispatch-status';

/** The copy's events are stored in `dispatch_events` at this position (no recipient has it). */
export const COPY_INDEX = -1;

export interface CopyState {
  mode: 'cc' | 'bcc';
  address: string;
  status: RecipientStatus | null;
  reasonCode: string | null;
  sentAt: Date | null;
  events: string[];
}

/**
 * Stores events of the copy, once each under their ids; false when the dispatch has no copy. Its
 * status is never written back: FerretDB applies an update as read-modify-write, so two webhook
 * batches writing the copy at once lost one of them (a copy left `processed` after `delivered`
 * came). Inserting each event is atomic (a unique `_id`); readCopy derives the rest.
 */
export async function recordCopyEvents(
  db: Db,
  tenantId: string,
  dispatchId: string,
  events: StoredEvent[],
): Promise<boolean> {
  await insertNew(db.DispatchEvent, events);
  const header = await db.Dispatch.findById(dispatchKey(tenantId, dispatchId), { copy: 1 }).lean();
  return Boolean(header?.copy);
}

/** The copy as its stored events say: its status moved forward through them in the order they happened, a failure's reason, when the provider took it. */
export async function readCopy(
  db: Db,
  tenantId: string,
  dispatchId: string,
  copy: Pick<CopyState, 'mode' | 'address'>,
): Promise<CopyState & { stored: StoredEvent[] }> {
  const stored = (await db.DispatchEvent.find({ tenantId, dispatchId, index: COPY_INDEX }).lean()) as StoredEvent[];
  let status: RecipientStatus | null = null;
  let reasonCode: string | null = null;
  for (const e of [...stored].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (!e.status) continue;
    const next = nextStatus(status ?? 'queued', e.status as RecipientStatus);
    if (next !== status) {
      status = next;
      reasonCode = isFailure(next) ? (e.reasonCode ?? 'unclassified') : null;
    }
  }
  const sent = stored.find((e) => e.source === 'relais' && e.event === 'accepted');
  return {
    mode: copy.mode,
    address: copy.address,
    status,
    reasonCode,
    sentAt: sent?.at ?? null,
    events: stored.map((e) => e._id),
    stored,
  };
}
