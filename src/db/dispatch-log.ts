// The delivery log's default listings (all results, failed only), newest first, at a cost that does
// not grow with the store (issue 15 item 3). The embedded store (FerretDB v1 on PostgreSQL) pushes
// only equality filters down to PostgreSQL: a sort, a range or an `$in` is done in FerretDB after
// it has read and decoded every document the equalities let through — the tenant's whole log.
// So every dispatch carries the number of its *page* (`logPage`: 64 consecutive record numbers),
// and a dispatch that is failing carries a number in the tenant's sequence of failures and its
// page (`failedSeq`, `failedPage`); a listing reads pages by equality, newest first, until it has
// enough rows. A page holds at most 64 documents, so the first page of the log costs one or two
// indexed reads at 10 or at 100,000 stored dispatches.
import type { Db } from './models';
import { lastNumber, nextNumber } from './models';
import { FAILED_RESULTS, type DispatchResult } from '../domain/dispatch-status';

export const LOG_PAGE_SIZE = 64;
export const logPageOf = (seq: number) => Math.floor(seq / LOG_PAGE_SIZE);

const failuresCounter = (tenantId: string) => `dispatch-failures:${tenantId}`;
const recordsCounter = (tenantId: string) => `dispatch:${tenantId}`;
export const isFailedResult = (result: string) => FAILED_RESULTS.includes(result as DispatchResult);
/** A stored `markedSent` (D11) that says something: mongoose may leave an empty object. */
const isMarkedSent = (marked: unknown): boolean => Boolean(marked && (marked as { at?: unknown }).at);

/**
 * What a write that sets a dispatch's result must also set or unset so the failed-only listing
 * finds it: a dispatch entering the failures takes the next number of the tenant's failures (the
 * listing shows the newest failures first); one leaving them (resent and delivered, marked sent)
 * drops out; one staying keeps its place.
 */
export async function failedPlacement(
  db: Db,
  tenantId: string,
  state: { result: string; overdueDeferred?: number; markedSent?: unknown },
  current: { failedSeq?: number | null; markedSent?: unknown },
): Promise<{ $set: Record<string, number>; $unset: Record<string, 1> }> {
  // Failed only also lists a dispatch with a recipient still deferred past the delay (D3, its own marker);
  // one recorded as sent by hand (D11) is dealt with: it leaves the failures, its history keeps what failed.
  const failing =
    !isMarkedSent(state.markedSent) &&
    !isMarkedSent(current.markedSent) &&
    (isFailedResult(state.result) || (state.overdueDeferred ?? 0) > 0);
  if (failing && current.failedSeq == null) {
    const failedSeq = await nextNumber(db, failuresCounter(tenantId));
    return { $set: { failedSeq, failedPage: logPageOf(failedSeq) }, $unset: {} };
  }
  if (!failing && current.failedSeq != null) return { $set: {}, $unset: { failedSeq: 1, failedPage: 1 } };
  return { $set: {}, $unset: {} };
}

export type Listing = 'all' | 'failed';
type Row = Record<string, unknown> & { number: number; failedSeq?: number };

/**
 * Rows of one listing, newest first: those whose key (record number, or failure number) is below
 * `before` (the cursor; none: from the newest), at most `limit`, and the cursor of the next page.
 * Reads page after page by equality; a failed listing whose failures were mostly resolved reads
 * the emptied pages too (one indexed read each).
 */
export async function listNewest(
  db: Db,
  tenantId: string,
  request: {
    listing: Listing;
    kind?: 'document' | 'notification';
    before?: number;
    limit: number;
    projection: Record<string, 0>;
  },
): Promise<{ rows: Row[]; nextCursor: number | null }> {
  const key = request.listing === 'all' ? 'number' : 'failedSeq';
  const pageField = request.listing === 'all' ? 'logPage' : 'failedPage';
  // From the newest, or from the cursor; a cursor above the newest number (any integer parses)
  // starts at the newest, never walks down the empty pages above it (the fuzzer's 39465479: 30 s).
  const newest =
    (await lastNumber(db, request.listing === 'all' ? recordsCounter(tenantId) : failuresCounter(tenantId))) + 1;
  const top = Math.min(request.before ?? newest, newest);
  const rows: Row[] = [];
  for (let page = logPageOf(top - 1); page >= 0 && rows.length <= request.limit; page -= 1) {
    const docs = (await db.Dispatch.find(
      { tenantId, [pageField]: page, ...(request.kind ? { kind: request.kind } : {}) },
      request.projection,
    ).lean()) as Row[];
    rows.push(...docs.filter((d) => (d[key] as number) < top).sort((a, b) => (b[key] as number) - (a[key] as number)));
  }
  const shown = rows.slice(0, request.limit);
  return { rows: shown, nextCursor: rows.length > request.limit ? (shown[shown.length - 1][key] as number) : null };
}

/**
 * Gives the page numbers to records written before they existed (by the first version of the
 * dispatch workflow, or before this upgrade): once per store, marked done in `counters`. Reads
 * the whole log once; the listings are correct only after it, so both processes run it at start.
 */
export async function backfillLogPages(db: Db): Promise<number> {
  const marker = 'migration:dispatch-log-pages';
  if (await db.Counter.findById(marker).lean()) return 0;
  let updated = 0;
  for await (const doc of db.Dispatch.find(
    { logPage: { $exists: false } },
    { tenantId: 1, number: 1, result: 1, overdueDeferred: 1, markedSent: 1 },
  )
    .lean()
    .cursor()) {
    const placement = await failedPlacement(
      db,
      doc.tenantId,
      {
        result: doc.result,
        overdueDeferred: (doc as { overdueDeferred?: number }).overdueDeferred,
        markedSent: doc.markedSent,
      },
      {},
    );
    await db.Dispatch.updateOne(
      { _id: doc._id, logPage: { $exists: false } },
      { $set: { logPage: logPageOf(doc.number), ...placement.$set } },
    );
    updated += 1;
  }
  await db.Counter.updateOne({ _id: marker }, { $setOnInsert: { seq: updated } }, { upsert: true });
  return updated;
}
