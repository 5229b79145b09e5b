// Events of dispatches as they are stored: each once (append-only, `dispatch_events`), and as
// history entries grouped by the request that brought them and the document of recipients they
// belong to (`dispatch_event_batches`); the recipients they are about, read by position.
import type { Db, HistoryEntry, RecipientDoc } from './models';
import { insertNew, recipientsKey } from './dispatch-records';
import { documentOf } from '../domain/dispatch';
import { isFailure, type RecipientStatus } from '../domain/dispatch-status';
import { addressOutcomeOf } from '../domain/address-health';

/** An event as `dispatch_events` keeps it. */
export interface StoredEvent {
  _id: string;
  tenantId: string;
  dispatchId: string;
  index: number;
  attempt: number;
  source: 'sendgrid' | 'twilio' | 'relais';
  event: string;
  status: string | null;
  at: Date;
  receivedAt: Date;
  position: number;
  reason?: string | null;
  response?: string | null;
  reasonCode?: string | null;
  errorCode?: string | null;
  providerMessageId?: string | null;
  payload?: unknown;
}

export type IndexedEntry = HistoryEntry & { index: number };

export const batchKey = (tenantId: string, dispatchId: string, document: number, batch: string) =>
  `${tenantId}/${dispatchId}/${document}/${batch}`;

/** A recipient's history entry for an event: a function of the stored event alone, so a duplicate is the same entry. */
export function historyEntry(e: StoredEvent): IndexedEntry {
  return {
    index: e.index,
    ref: e._id,
    attempt: e.attempt,
    event: e.event,
    status: e.status ?? null,
    at: e.at,
    receivedAt: e.receivedAt,
    position: e.position ?? 0,
    reason: e.reason ?? null,
    response: e.response ?? null,
    reasonCode: e.reasonCode ?? null,
    providerMessageId: e.providerMessageId ?? null,
    addressOutcome: addressOutcomeOf(e),
  };
}

/**
 * Stores the history entries of one request's events for one dispatch: one document per
 * document of recipients they belong to, all in one write. Returns those documents' numbers.
 */
export async function writeEventBatch(
  db: Db,
  tenantId: string,
  dispatchId: string,
  batch: string,
  events: StoredEvent[],
  receivedAt: Date,
): Promise<number[]> {
  const byDocument = new Map<number, IndexedEntry[]>();
  for (const e of events)
    byDocument.set(documentOf(e.index), [...(byDocument.get(documentOf(e.index)) ?? []), historyEntry(e)]);
  await insertNew(
    db.EventBatch,
    [...byDocument].map(([document, entries]) => ({
      _id: batchKey(tenantId, dispatchId, document, batch),
      tenantId,
      dispatchId,
      receivedAt,
      entries,
    })),
  );
  return [...byDocument.keys()];
}

/** Recipients of a dispatch by position, with the batches of their documents (one lookup per 25 recipients). */
async function readDocuments(db: Db, tenantId: string, dispatchId: string, indexes: readonly number[]) {
  const keys = [...new Set(indexes.map((i) => recipientsKey(tenantId, dispatchId, i)))];
  return (await Promise.all(keys.map((key) => db.DispatchRecipients.findById(key).lean()))).filter((d) => d !== null);
}

/** Recipients of a dispatch by position: their current state. */
export async function readRecipients(
  db: Db,
  tenantId: string,
  dispatchId: string,
  indexes: readonly number[],
): Promise<Map<number, RecipientDoc>> {
  const wanted = new Set(indexes);
  const found = new Map<number, RecipientDoc>();
  for (const doc of await readDocuments(db, tenantId, dispatchId, indexes)) {
    for (const r of doc.recipients) if (wanted.has(r.index)) found.set(r.index, r as RecipientDoc);
  }
  return found;
}

/** Recipients of a dispatch by position with their histories (each entry once, in the order Relais received them). */
export async function readRecipientsWithHistory(
  db: Db,
  tenantId: string,
  dispatchId: string,
  indexes: readonly number[],
) {
  const wanted = new Set(indexes);
  const found = new Map<number, { recipient: RecipientDoc; history: HistoryEntry[] }>();
  await Promise.all(
    (await readDocuments(db, tenantId, dispatchId, indexes)).map(async (doc) => {
      const document = documentOf(doc.recipients[0]?.index ?? 0);
      const batches = await Promise.all(
        doc.batches.map((batch) => db.EventBatch.findById(batchKey(tenantId, dispatchId, document, batch)).lean()),
      );
      const entries = new Map<number, Map<string, HistoryEntry>>();
      for (const entry of batches.flatMap((b) => (b?.entries ?? []) as IndexedEntry[])) {
        if (!wanted.has(entry.index)) continue;
        const mine = entries.get(entry.index) ?? new Map<string, HistoryEntry>();
        if (!mine.has(entry.ref)) mine.set(entry.ref, entry); // a re-signalled duplicate: the same entry
        entries.set(entry.index, mine);
      }
      for (const r of doc.recipients) {
        if (!wanted.has(r.index)) continue;
        const history = [...(entries.get(r.index)?.values() ?? [])].sort(
          (a, b) => new Date(a.receivedAt).getTime() - new Date(b.receivedAt).getTime() || a.position - b.position,
        );
        found.set(r.index, { recipient: r as RecipientDoc, history });
      }
    }),
  );
  return found;
}

/**
 * The provider's words on the failure that holds now (D2, L3): those of the last failing entry of
 * the current attempt that has any; without one, those of its last deferral (D6: the 451 reply of
 * a recipient still, or finally, temporarily failed).
 */
export function rawReason(history: readonly HistoryEntry[], attempt: number): string | null {
  const worded = [...history].reverse().filter((h) => h.attempt === attempt && h.status && (h.response || h.reason));
  const cause =
    worded.find((h) => isFailure(h.status as RecipientStatus)) ?? worded.find((h) => h.status === 'deferred');
  return cause ? [cause.response, cause.reason].filter(Boolean).join(' — ') : null;
}
