// The orders list (issue 18): one small document per order in `order_list`, written by the order's
// own projection write (one writer per document), read by `GET /v1/orders` and the orders page.
//
// Read by keys, never by a sort over everything that matches: the embedded store (FerretDB)
// pushes equalities down to an index, but sorts and limits in its own memory after reading every
// document the equalities found (measured: a sorted first page over 10,000 open orders took 9 s,
// the counts 40 s). So each entry carries its number in the tenant's placing order (`seq`) and the
// block (`block`: 2,000 numbers) and section (`section`: 100 numbers) it falls in; a page walks the
// blocks oldest first, asks each only whether it holds a match (one row read), and reads the
// matching rows of a section at a time. What one page reads is bounded: one probe per block of
// the tenant's history, at most 20 section probes per block it enters, and the rows of the
// sections it needs (about a page, never more than a section beyond it). On MongoDB the same
// equalities are served by the declared indexes. docs/architecture.md, "The orders list".
import type { Db } from './models';
import { lastNumber, nextNumber } from './models';
import type { ExceptionType, OrderState } from '../domain/order';
import { isFinished } from '../domain/order';
import type { LegacyOrderView, OpenException } from '../workflows/order/contract';

/** Numbers per section (read whole) and per block (asked first whether it holds a match). */
export const SECTION = 100;
export const BLOCK = 2000;
/**
 * On the embedded store each count reads the rows it counts (FerretDB counts in its own memory):
 * counts stop at this many there, and the workspace says "100+" (measured: 0.6 s for the eight
 * counts at 10,000 open orders under load, against 5.4 s with a cap of 1,000). MongoDB counts from
 * its indexes, exactly.
 */
export const COUNT_CAP = 100;

export interface ListEntryWrite {
  tenantId: string;
  orderId: string;
  /** The projection write's version: an older write never overwrites a newer one. */
  version: number;
  state: string;
  stuck: boolean;
  ended: boolean;
  open: ReadonlyArray<Pick<OpenException, 'n' | 'type' | 'reason' | 'openedAt'> & { cause?: string | null }>;
  /** Known on the first write (and when the worker backfills); later writes keep the one recorded. */
  customerName: string | null;
  placedAt?: Date;
  /** Its number in the placing order, when the API gave one (otherwise the next one when the entry is made). */
  number?: number;
}

const entryId = (tenantId: string, orderId: string) => `${tenantId}/${orderId}`;
const sequenceOf = (tenantId: string) => `order-list:${tenantId}`;
/** The next number in a tenant's placing order (the API gives one to each order it starts). */
export const nextOrderNumber = (db: Db, tenantId: string) => nextNumber(db, sequenceOf(tenantId));

/** Where an entry numbered `seq` is read from. */
const keys = (seq: number) => ({ seq, section: Math.floor(seq / SECTION), block: Math.floor(seq / BLOCK) });

/**
 * Sets the order's whole list entry (a few fields), unless a newer write got there first. The
 * entry's number in the placing order is the one the API gave the order when it started it (an
 * order started before has the next one when its entry is made); numbers come from `counters` (a
 * repeated number only ties two orders, which the order id then orders).
 */
export async function writeListEntry(db: Db, w: ListEntryWrite): Promise<void> {
  const _id = entryId(w.tenantId, w.orderId);
  const set = {
    state: w.state,
    stuck: w.stuck,
    ended: w.ended,
    open: w.open.length > 0,
    types: [...new Set(w.open.map((e) => e.type))],
    exceptions: w.open.map((e) => ({
      n: e.n,
      type: e.type,
      reason: e.reason,
      cause: e.cause ?? null,
      openedAt: new Date(e.openedAt),
    })),
    stateVersion: w.version,
  };
  const updated = await db.OrderListEntry.updateOne({ _id, stateVersion: { $lt: w.version } }, { $set: set });
  if (updated.matchedCount === 1 || (await db.OrderListEntry.exists({ _id }))) return; // written, or a newer write was there
  await db.OrderListEntry.updateOne(
    { _id, stateVersion: { $lt: w.version } },
    {
      $set: set,
      $setOnInsert: {
        tenantId: w.tenantId,
        orderId: w.orderId,
        customerName: w.customerName,
        placedAt: w.placedAt ?? new Date(),
        ...keys(w.number ?? (await nextOrderNumber(db, w.tenantId))),
      },
    },
    { upsert: true },
  ).catch((err: { code?: number }) => {
    if (err.code !== 11000) throw err;
  }); // another write inserted it first: fine
}

/** The open exceptions of an order started before issue 15 (its whole view in one field), numbered in order. */
export function legacyOpenExceptions(view: Pick<LegacyOrderView, 'exceptions'>): ListEntryWrite['open'] {
  return view.exceptions
    .map((e, i) => ({ n: i + 1, type: e.type, reason: e.reason, openedAt: e.openedAt, resolvedAt: e.resolvedAt }))
    .filter((e) => !e.resolvedAt)
    .map(({ resolvedAt: _r, ...e }) => e);
}

/** `open`: orders with an open exception (the default); a type: those with that exception open; `all`: every order. */
export type ListScope = 'open' | ExceptionType | 'all';

export interface ListQuery {
  exception: ListScope;
  state?: OrderState;
  stuck?: boolean;
  held?: boolean;
  from?: Date;
  to?: Date;
  /** The last row of the previous page (its number in the placing order, its order id). */
  after?: { seq: number; orderId: string };
  limit: number;
}

export interface ListRow {
  orderId: string;
  seq: number;
  state: string;
  stuck: boolean;
  ended: boolean;
  customerName: string | null;
  placedAt: Date;
  exceptions: Array<{ type: string; reason: string; cause: string | null; openedAt: Date }>;
}

/** The query's equalities (what an index serves) and the rest (applied to the rows a section gives). */
function filterOf(tenantId: string, q: ListQuery): Record<string, unknown> | null {
  const filter: Record<string, unknown> = { tenantId };
  if (q.exception === 'open') filter.open = true;
  else if (q.exception !== 'all') filter.types = q.exception;
  if (q.state) filter.state = q.state;
  if (q.stuck !== undefined) filter.stuck = q.stuck;
  // A held order is one on hold; `held=false` leaves them out.
  if (q.held === true) {
    if (q.state && q.state !== 'on_hold') return null;
    filter.state = 'on_hold';
  }
  if (q.held === false) filter.$and = [{ state: { $ne: 'on_hold' } }];
  if (q.from || q.to) filter.placedAt = { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lte: q.to } : {}) };
  return filter;
}

const FIELDS = {
  orderId: 1,
  seq: 1,
  state: 1,
  stuck: 1,
  ended: 1,
  customerName: 1,
  placedAt: 1,
  exceptions: 1,
} as const;

/**
 * One page of the tenant's orders, oldest placed first, and whether more follow: the blocks walked
 * in order from the cursor's, each asked first whether it holds a match (skipped when the query
 * is every order: they all do), then its sections read until the page is full.
 */
export async function listOrders(db: Db, tenantId: string, q: ListQuery): Promise<{ rows: ListRow[]; more: boolean }> {
  const filter = filterOf(tenantId, q);
  if (!filter) return { rows: [], more: false };
  const last = await lastNumber(db, sequenceOf(tenantId));
  const start = q.after?.seq ?? 0;
  const dense = q.exception === 'all' && !q.state && q.stuck === undefined && q.held === undefined && !q.from && !q.to;
  const after = (r: { seq: number; orderId: string }) =>
    !q.after || r.seq > q.after.seq || (r.seq === q.after.seq && r.orderId > q.after.orderId);
  const rows: ListRow[] = [];
  for (let block = Math.floor(start / BLOCK); block <= Math.floor(last / BLOCK) && rows.length <= q.limit; block += 1) {
    if (!dense && !(await db.OrderListEntry.exists({ ...filter, block }))) continue;
    const first = Math.max(Math.floor(start / SECTION), block * (BLOCK / SECTION));
    for (let section = first; section < (block + 1) * (BLOCK / SECTION) && rows.length <= q.limit; section += 1) {
      const docs = await db.OrderListEntry.find({ ...filter, section }, FIELDS).lean();
      docs.sort((a, b) => a.seq! - b.seq! || a.orderId.localeCompare(b.orderId));
      for (const d of docs) {
        if (!after({ seq: d.seq!, orderId: d.orderId })) continue;
        rows.push({
          orderId: d.orderId,
          seq: d.seq!,
          state: d.state,
          stuck: d.stuck,
          ended: d.ended,
          customerName: d.customerName ?? null,
          placedAt: d.placedAt,
          exceptions: (d.exceptions ?? []).map((e) => ({
            type: e.type!,
            reason: e.reason!,
            cause: e.cause ?? null,
            openedAt: e.openedAt!,
          })),
        });
      }
    }
  }
  return { rows: rows.slice(0, q.limit), more: rows.length > q.limit };
}

/** Whether the store is FerretDB (it says so in buildInfo), asked once per connection. */
const ferret = new WeakMap<Db, Promise<boolean>>();
const onFerretDb = (db: Db) => {
  if (!ferret.has(db))
    ferret.set(
      db,
      db.connection
        .db!.admin()
        .command({ buildInfo: 1 })
        .then((info) => 'ferretdbVersion' in info),
    );
  return ferret.get(db)!;
};

/**
 * The workspace's counts: orders with an open exception, by type, and the stuck ones. Exact on
 * MongoDB (`cap: null`); on the embedded store each is an equality read of at most COUNT_CAP rows,
 * exact below it (`cap: 100`: a count of 100 means 100 or more).
 */
export async function countOpen(
  db: Db,
  tenantId: string,
): Promise<{ open: number; stuck: number; byType: Record<string, number>; cap: number | null }> {
  const cap = (await onFerretDb(db)) ? COUNT_CAP : null;
  const count = async (filter: Record<string, unknown>) =>
    cap === null
      ? db.OrderListEntry.countDocuments({ tenantId, ...filter })
      : (
          await db.OrderListEntry.find({ tenantId, ...filter }, { _id: 1 })
            .limit(cap)
            .lean()
        ).length;
  const types: ExceptionType[] = [
    'unfulfillable',
    'on_hold',
    'rts_failed',
    'handover_failed',
    'stuck_in_transit',
    'delivery_failed',
  ];
  const [open, stuck, ...byType] = await Promise.all([
    count({ open: true }),
    count({ stuck: true, open: true }),
    ...types.map((t) => count({ types: t })),
  ]);
  return { open, stuck, byType: Object.fromEntries(types.map((t, i) => [t, byType[i]]).filter(([, n]) => n)), cap };
}

/** The marker of the one-time backfill below, in `counters`. */
const BACKFILL_MARK = 'migration/order-list-v1';

/**
 * Gives every order recorded before the list existed its list entry (issue 18), once, numbered in
 * the order they were placed: orders that wait (held, stuck) write nothing until something
 * happens to them, yet belong in the workspace. An entry an order's own write already made is
 * left alone (insert only). Closes the exceptions left open on orders that had ended (a
 * customer's cancellation under lifecycle 2). Marked done in `counters`, so later starts skip it.
 */
export async function backfillOrderList(
  db: Db,
  log?: { info(details: object, message: string): void },
): Promise<number> {
  if (await db.Counter.exists({ _id: BACKFILL_MARK })) return 0;
  const recorded: Array<{ tenantId: string; orderId: string; at: number }> = [];
  for await (const o of db.Order.find({}, { tenantId: 1, orderId: 1, placedAt: 1, createdAt: 1 }).lean().cursor()) {
    recorded.push({
      tenantId: o.tenantId,
      orderId: o.orderId,
      at: (o.placedAt ?? o.createdAt ?? new Date(0)).getTime(),
    });
  }
  recorded.sort((a, b) => a.at - b.at || a.orderId.localeCompare(b.orderId));
  let written = 0;
  for (const { tenantId, orderId } of recorded) {
    if (await db.OrderListEntry.exists({ _id: entryId(tenantId, orderId) })) continue;
    const order = (await db.Order.findOne(
      { tenantId, orderId },
      { state: 1, stuck: 1, customer: 1, view: 1, ended: 1, createdAt: 1, placedAt: 1 },
    ).lean())!;
    const legacy = order.view as LegacyOrderView | undefined;
    const state = (legacy?.state ?? order.state) as OrderState;
    const ended = order.ended ?? isFinished(state);
    let open: ListEntryWrite['open'];
    if (legacy) {
      open = legacyOpenExceptions(legacy);
    } else {
      const docs = await db.OrderException.find({ tenantId, orderId }).lean();
      if (ended) {
        for (const e of docs.filter((x) => !x.resolvedAt))
          await db.OrderException.updateOne(
            { _id: e._id },
            { $set: { resolvedAt: new Date(), resolution: 'order_ended', open: false } },
          );
      }
      open = docs
        .filter((e) => !e.resolvedAt)
        .map((e) => ({
          n: e.n,
          type: e.type as ExceptionType,
          reason: e.reason,
          cause: e.cause ?? null,
          openedAt: e.openedAt.toISOString(),
        }));
    }
    if (ended) open = [];
    const inserted = await db.OrderListEntry.updateOne(
      { _id: entryId(tenantId, orderId) },
      {
        $setOnInsert: {
          tenantId,
          orderId,
          state,
          stuck: legacy?.stuck ?? order.stuck ?? false,
          ended,
          open: open.length > 0,
          types: [...new Set(open.map((e) => e.type))],
          exceptions: open.map((e) => ({
            n: e.n,
            type: e.type,
            reason: e.reason,
            cause: e.cause ?? null,
            openedAt: new Date(e.openedAt),
          })),
          customerName: (order.customer as { name?: string } | undefined)?.name ?? null,
          placedAt: order.placedAt ?? order.createdAt ?? new Date(),
          stateVersion: 0,
          ...keys(await nextOrderNumber(db, tenantId)),
        },
      },
      { upsert: true },
    ).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
      return undefined;
    });
    if (inserted?.upsertedCount) written += 1;
  }
  await db.Counter.updateOne({ _id: BACKFILL_MARK }, { $setOnInsert: { seq: 1 } }, { upsert: true });
  log?.info({ written }, 'orders list: entries written for orders recorded before it');
  return written;
}
