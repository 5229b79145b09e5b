// Provider events of current dispatches, as the webhook handler takes them in (issue 15): each is
// stored once in `dispatch_events` under its provider's own id (storing it is the deduplication,
// so the workflow keeps no seen-set), then signalled to its dispatch's workflow in a compact form,
// at most MAX_EVENTS_PER_SIGNAL per signal. A request is applied from the webhook inbox
// (webhook-inbox.ts), possibly more than once (a retry after a failure, a sweep racing a slow
// process): every step is harmless the second time. An event stored already is kept as first
// stored and signalled again; its history batch has the same key (derived from the request), so
// it is not written twice; applying an event twice changes nothing in the workflow.
import type { Client } from '@temporalio/client';
import { workflowNotFound } from '../app/workflow-errors';
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/models';
import { isDuplicateKey } from '../db/dispatch-records';
import { writeEventBatch, type StoredEvent } from '../db/dispatch-events';
import { MAX_EVENTS_PER_SIGNAL, type RecipientEvent } from '../domain/dispatch';
import { statusForEvent } from '../domain/dispatch-status';
import { isFailure } from '../domain/dispatch-status';
import { reasonCode, type ReasonCode } from '../domain/reasons';
import type { RoutedEvent } from '../providers/webhook-events';
import { dispatchWorkflowId, recipientEventsSignal } from '../workflows/dispatch/contract';
import { COPY_INDEX, recordCopyEvents } from '../db/dispatch-copy';

export type IndexedEvent = RoutedEvent & { recipient: { index: number; attempt: number } };

/** The `_id` of a provider's event: its own id, which the provider repeats when it retries. */
export const providerEventKey = (event: RoutedEvent['event']) => `${event.provider}:${event.eventId}`;

/** A provider's event as `dispatch_events` keeps it, about a recipient's attempt (or the sender's copy). */
function storedEvent(
  _id: string,
  { tenantId, dispatchId, event }: RoutedEvent,
  about: { index: number; attempt: number },
  raw: unknown,
  position: number,
  receivedAt: Date,
): StoredEvent {
  const status = statusForEvent(event.type);
  return {
    _id,
    tenantId,
    dispatchId,
    index: about.index,
    attempt: about.attempt,
    source: event.provider,
    event: event.type,
    status: status ?? null,
    at: new Date(event.at),
    receivedAt,
    position,
    reason: event.reason ?? null,
    response: event.response ?? null,
    // A failure's reason classified; a deferral's is "refused for now" (D6), its own words beside it.
    reasonCode: status && isFailure(status) ? reasonCode(event) : status === 'deferred' ? 'temporarily_refused' : null,
    errorCode: event.errorCode ?? null,
    providerMessageId: event.providerMessageId ?? null,
    payload: raw,
  };
}

/**
 * Issue 17: events of the sender's copy (cc/bcc), stored once each like a recipient's and applied
 * to the dispatch's copy (src/db/dispatch-copy.ts); the workflow is not told (the copy moves no
 * rule). Returns the dispatches that have no copy to apply them to.
 */
export async function ingestCopyEvents(
  db: Db,
  items: Array<{ routed: RoutedEvent; raw: unknown }>,
  receivedAt = new Date(),
): Promise<string[]> {
  const byDispatch = new Map<string, StoredEvent[]>();
  items.forEach(({ routed, raw }, position) => {
    const key = dispatchWorkflowId(routed.tenantId, routed.dispatchId);
    byDispatch.set(key, [
      ...(byDispatch.get(key) ?? []),
      storedEvent(providerEventKey(routed.event), routed, { index: COPY_INDEX, attempt: 1 }, raw, position, receivedAt),
    ]);
  });
  const missing: string[] = [];
  for (const [workflowId, events] of byDispatch) {
    if (!(await recordCopyEvents(db, events[0].tenantId, events[0].dispatchId, events))) missing.push(workflowId);
  }
  return missing;
}

/**
 * Stores and signals events; returns, per workflow, whether it took them or no longer runs
 * (`unknown_target`: a finished or unknown dispatch; its events stay stored, unapplied).
 * `requestId` names the request that brought them: applied again, it writes the same batches.
 */
export async function ingestEvents(
  db: Db,
  temporal: Client,
  items: Array<{ routed: IndexedEvent; raw: unknown }>,
  receivedAt = new Date(),
  requestId: string = randomUUID(),
): Promise<Map<string, 'signalled' | 'unknown_target'>> {
  const unique = new Map<string, { routed: IndexedEvent; raw: unknown; position: number }>();
  items.forEach((item, position) => {
    if (!unique.has(providerEventKey(item.routed.event)))
      unique.set(providerEventKey(item.routed.event), { ...item, position });
  });
  const docs: StoredEvent[] = [...unique.entries()].map(([_id, { routed, raw, position }]) =>
    storedEvent(_id, routed, routed.recipient, raw, position, receivedAt),
  );
  let duplicates: Set<string> = new Set();
  try {
    await db.DispatchEvent.insertMany(docs, { ordered: false, lean: true });
  } catch (err) {
    // Already stored: the provider's retry of a request Relais did not answer, or its own duplicate.
    if (!isDuplicateKey(err)) throw err;
    duplicates = new Set((err as { writeErrors: Array<{ index: number }> }).writeErrors.map((e) => docs[e.index]._id));
  }
  // A duplicate keeps the entry it was first stored with (its time of receipt): copied again, it is the same entry.
  const stored = new Map(
    (await Promise.all([...duplicates].map((id) => db.DispatchEvent.findById(id).lean())))
      .filter((d) => d !== null)
      .map((d) => [d._id, d as StoredEvent]),
  );
  const events = docs.map((doc) => stored.get(doc._id) ?? doc);

  const byDispatch = new Map<string, StoredEvent[]>();
  for (const e of events) {
    const id = dispatchWorkflowId(e.tenantId, e.dispatchId);
    byDispatch.set(id, [...(byDispatch.get(id) ?? []), e]);
  }
  const outcomes = new Map<string, 'signalled' | 'unknown_target'>();
  await Promise.all(
    [...byDispatch].map(async ([workflowId, mine]) => {
      try {
        for (let i = 0; i < mine.length; i += MAX_EVENTS_PER_SIGNAL) {
          const part = mine.slice(i, i + MAX_EVENTS_PER_SIGNAL);
          // The part's entries in one document, which the dispatch's projection copies into the histories with one lookup.
          const batch = `${receivedAt.getTime()}-${requestId}-${i / MAX_EVENTS_PER_SIGNAL}`;
          await writeEventBatch(db, part[0].tenantId, part[0].dispatchId, batch, part, receivedAt);
          await temporal.workflow.getHandle(workflowId).signal(recipientEventsSignal, {
            batch,
            events: part.map((e): RecipientEvent => ({
              index: e.index,
              attempt: e.attempt,
              type: e.event as RecipientEvent['type'],
              at: e.at.getTime(),
              ...(e.reasonCode ? { reasonCode: e.reasonCode as ReasonCode } : {}),
            })),
          });
        }
        outcomes.set(workflowId, 'signalled');
      } catch (err) {
        if (!workflowNotFound(err)) throw err;
        outcomes.set(workflowId, 'unknown_target');
      }
    }),
  );
  return outcomes;
}
