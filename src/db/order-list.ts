// The orders list (issue 18): one small document per order in `order_list`, written by the order's
// own projection write (one writer per document), read by `GET /v1/orders` and the orders page.
// Every filter is an equality on an indexed field (the embedded store serves those from an index;
// ranges and sorts it applies in memory to what the equality found), so the default listing —
// orders with an open exception — reads only those, never the tenant's finished orders.
import type { Db } from './models';
import type { ExceptionType, OrderState } from '../domain/order';
import { isFinished } from '../domain/order';
import type { OpenException } from '../workflows/order-contract';
import type { LegacyOrderView } from '../workflows/legacy/order-v1';

export interface ListEntryWrite {
  tenantId: string;
  orderId: string;
  /** The projection write's version: an older write never overwrites a newer one. */
  version: number;
  state: string;
  stuck: boolean;
  ended: boolean;
  open: ReadonlyArray<Pick<OpenException, 'n' | 'type' | 'reason' | 'openedAt'> & { cause?: string | null }>;
  customerName: string | null;
  /** Known on the first write; later writes keep the one recorded. */
  placedAt?: Date;
}

const entryId = (tenantId: string, orderId: string) => `${tenantId}/${orderId}`;

/** Sets the order's whole list entry (a few fields), unless a newer write got there first. */
export async function writeListEntry(db: Db, w: ListEntryWrite): Promise<void> {
  await db.OrderListEntry.updateOne(
    { _id: entryId(w.tenantId, w.orderId), stateVersion: { $lt: w.version } },
    {
      $set: {
        state: w.state, stuck: w.stuck, ended: w.ended, open: w.open.length > 0, types: [...new Set(w.open.map((e) => e.type))],
        exceptions: w.open.map((e) => ({ n: e.n, type: e.type, reason: e.reason, cause: e.cause ?? null, openedAt: new Date(e.openedAt) })),
        customerName: w.customerName, stateVersion: w.version,
      },
      $setOnInsert: { tenantId: w.tenantId, orderId: w.orderId, placedAt: w.placedAt ?? new Date() },
    },
    { upsert: true },
  ).catch((err: { code?: number }) => { if (err.code !== 11000) throw err; }); // an older write lost the race: fine
}

/** The open exceptions of an order started before issue 15 (its whole view in one field), numbered in order. */
export function legacyOpenExceptions(view: Pick<LegacyOrderView, 'exceptions'>): ListEntryWrite['open'] {
  return view.exceptions.map((e, i) => ({ n: i + 1, type: e.type, reason: e.reason, openedAt: e.openedAt, resolvedAt: e.resolvedAt }))
    .filter((e) => !e.resolvedAt).map(({ resolvedAt: _r, ...e }) => e);
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
  /** The last row of the previous page (when it was placed, its order id). */
  after?: { placedAt: Date; orderId: string };
  limit: number;
}

export interface ListRow {
  orderId: string;
  state: string;
  stuck: boolean;
  ended: boolean;
  customerName: string | null;
  placedAt: Date;
  exceptions: Array<{ type: string; reason: string; cause: string | null; openedAt: Date }>;
}

/**
 * One page of the tenant's orders, oldest placed first, and whether more follow. Equalities first
 * (what an index serves), then the created range and the cursor (applied to what they found).
 */
export async function listOrders(db: Db, tenantId: string, q: ListQuery): Promise<{ rows: ListRow[]; more: boolean }> {
  const filter: Record<string, unknown> = { tenantId };
  if (q.exception === 'open') filter.open = true;
  else if (q.exception !== 'all') filter.types = q.exception;
  if (q.state) filter.state = q.state;
  if (q.stuck !== undefined) filter.stuck = q.stuck;
  // A held order is one on hold; `held=false` leaves them out.
  if (q.held === true && !q.state) filter.state = 'on_hold';
  if (q.held === true && q.state && q.state !== 'on_hold') return { rows: [], more: false };
  if (q.held === false) filter.$and = [{ state: { $ne: 'on_hold' } }];
  if (q.from || q.to) filter.placedAt = { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lte: q.to } : {}) };
  if (q.after) {
    filter.$or = [{ placedAt: { $gt: q.after.placedAt } }, { placedAt: q.after.placedAt, orderId: { $gt: q.after.orderId } }];
  }
  const docs = await db.OrderListEntry.find(filter, { orderId: 1, state: 1, stuck: 1, ended: 1, customerName: 1, placedAt: 1, exceptions: 1 })
    .sort({ placedAt: 1, orderId: 1 }).limit(q.limit + 1).lean();
  const rows = docs.slice(0, q.limit).map((d) => ({
    orderId: d.orderId, state: d.state, stuck: d.stuck, ended: d.ended, customerName: d.customerName ?? null, placedAt: d.placedAt,
    exceptions: (d.exceptions ?? []).map((e) => ({ type: e.type!, reason: e.reason!, cause: e.cause ?? null, openedAt: e.openedAt! })),
  }));
  return { rows, more: docs.length > q.limit };
}

/** The workspace's counts: orders with an open exception, by type, and how many are stuck (one read of the open entries). */
export async function countOpen(db: Db, tenantId: string): Promise<{ open: number; stuck: number; byType: Record<string, number> }> {
  const [byType, totals] = await Promise.all([
    db.OrderListEntry.aggregate<{ _id: string; n: number }>([
      { $match: { tenantId, open: true } }, { $project: { types: 1 } }, { $unwind: '$types' }, { $group: { _id: '$types', n: { $sum: 1 } } },
    ]),
    db.OrderListEntry.aggregate<{ _id: boolean; n: number }>([
      { $match: { tenantId, open: true } }, { $group: { _id: '$stuck', n: { $sum: 1 } } },
    ]),
  ]);
  return {
    open: totals.reduce((sum, t) => sum + t.n, 0),
    stuck: totals.find((t) => t._id === true)?.n ?? 0,
    byType: Object.fromEntries(byType.map((t) => [t._id, t.n])),
  };
}

/** The marker of the one-time backfill below, in `counters`. */
const BACKFILL_MARK = 'migration/order-list-v1';

/**
 * Gives every order recorded before the list existed its list entry (issue 18), once: orders that
 * wait (held, stuck) write nothing until something happens to them, yet belong in the workspace.
 * An entry an order's own write already made is left alone (insert only), so a concurrent write
 * wins. Closes the exceptions left open on orders that had ended (a customer's cancellation under
 * lifecycle 2). Marked done in `counters`, so later starts skip it.
 */
export async function backfillOrderList(db: Db, log?: { info(details: object, message: string): void }): Promise<number> {
  if (await db.Counter.exists({ _id: BACKFILL_MARK })) return 0;
  let written = 0;
  for await (const order of db.Order.find({}, { tenantId: 1, orderId: 1, state: 1, stuck: 1, customer: 1, view: 1, ended: 1, createdAt: 1, placedAt: 1 }).lean().cursor()) {
    const { tenantId, orderId } = order;
    const legacy = order.view as LegacyOrderView | undefined;
    const state = (legacy?.state ?? order.state) as OrderState;
    const ended = order.ended ?? isFinished(state);
    let open: ListEntryWrite['open'];
    if (legacy) {
      open = legacyOpenExceptions(legacy);
    } else {
      const docs = await db.OrderException.find({ tenantId, orderId }).lean();
      if (ended) {
        for (const e of docs.filter((x) => !x.resolvedAt)) await db.OrderException.updateOne({ _id: e._id }, { $set: { resolvedAt: new Date(), resolution: 'order_ended', open: false } });
      }
      open = docs.filter((e) => !e.resolvedAt).map((e) => ({ n: e.n, type: e.type as ExceptionType, reason: e.reason, cause: e.cause ?? null, openedAt: e.openedAt.toISOString() }));
    }
    const inserted = await db.OrderListEntry.updateOne({ _id: entryId(tenantId, orderId) }, {
      $setOnInsert: {
        tenantId, orderId, state, stuck: legacy?.stuck ?? order.stuck ?? false, ended, open: !ended && open.length > 0, types: ended ? [] : [...new Set(open.map((e) => e.type))],
        exceptions: ended ? [] : open.map((e) => ({ n: e.n, type: e.type, reason: e.reason, cause: e.cause ?? null, openedAt: new Date(e.openedAt) })),
        customerName: (order.customer as { name?: string } | undefined)?.name ?? null, placedAt: order.placedAt ?? order.createdAt ?? new Date(), stateVersion: 0,
      },
    }, { upsert: true }).catch((err: { code?: number }) => { if (err.code !== 11000) throw err; return undefined; });
    if (inserted?.upsertedCount) written += 1;
  }
  await db.Counter.updateOne({ _id: BACKFILL_MARK }, { $setOnInsert: { seq: 1 } }, { upsert: true });
  log?.info({ written }, 'orders list: entries written for orders recorded before it');
  return written;
}
