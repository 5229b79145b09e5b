// What the dashboard and the orders export read of orders (issue 21), in one place: the held
// orders waiting, the open exceptions by age (from the rollups' summary), the exceptions opened
// and resolved per day (from the days' counters), and the rows of the orders export.
// Every read here is an equality the embedded store serves from an index (tenant and state,
// tenant and exception type, tenant and order id), never a scan of the tenant's orders.
import type { Db } from './models';
import { readOpenExceptions } from './rollups';
import { holdsByAge, openByAge, type PeriodSummary } from '../domain/dashboard';
import { EXCEPTION_TYPES, type ExceptionType, type OrderState } from '../domain/order';

/** An order started before issue 15 keeps its hold inside `view` (legacy/order-v1.ts). */
const holdOf = (o: { hold?: unknown; view?: unknown }) =>
  (o.hold ?? (o.view as { hold?: unknown } | undefined)?.hold) as { reason: string; since: string } | null | undefined;

/** Held orders waiting (O2, O4): how many, by how long, and the ones waiting longest. */
export async function heldOrders(db: Db, tenantId: string, now: Date, oldest = 5) {
  const held = await db.Order.find(
    { tenantId, state: 'on_hold' },
    { orderId: 1, hold: 1, view: 1, updatedAt: 1 },
  ).lean();
  const waiting = held
    .map((o) => ({
      orderId: o.orderId,
      reason: holdOf(o)?.reason ?? null,
      since: new Date(holdOf(o)?.since ?? (o as { updatedAt: Date }).updatedAt),
    }))
    .sort((a, b) => a.since.getTime() - b.since.getTime());
  return {
    count: waiting.length,
    byAge: holdsByAge(
      waiting.map((w) => w.since),
      now,
    ),
    oldest: waiting.slice(0, oldest),
  };
}

/** Open exceptions by age group and type, on `today` (a calendar day in the tenant's zone). */
export async function openExceptions(db: Db, tenantId: string, today: string) {
  return openByAge(await readOpenExceptions(db, tenantId), today);
}

/** Exceptions opened and resolved per day of the period, by type (from the days' counters). */
export function exceptionsPerDay(summary: PeriodSummary) {
  const byType = (counts: Record<string, number>) =>
    EXCEPTION_TYPES.map((type) => ({ type, count: counts[type] ?? 0 }));
  return {
    days: summary.days.map((d) => ({ day: d.day, opened: byType(d.opened), resolved: byType(d.resolved) })),
    opened: byType(summary.opened),
    resolved: byType(summary.resolved),
  };
}

// ---- the orders export --------------------------------------------------------------------

export interface OrderExportFilters {
  /**
   * `all` (the API's default): every order; `open`: each open exception (one row per exception, as
   * the workspace lists them); an exception type: each open exception of that type.
   */
  exception?: 'all' | 'open' | ExceptionType;
  /** Orders in this state. */
  state?: OrderState;
  /** Only stuck orders (true), or none of them (false). */
  stuck?: boolean;
  /** Only orders on hold (true), or none of them (false). */
  held?: boolean;
  /** Orders placed from / to these instants (ISO 8601). */
  from?: string;
  to?: string;
}

export interface OrderRow {
  orderId: string;
  state: string;
  createdAt: Date | null;
  updatedAt: Date | null;
  customer: {
    name?: string;
    email?: string | null;
    phone?: string | null;
    address?: { city?: string; postalCode?: string; country?: string };
  } | null;
  risk: string | null;
  hold: { reason: string; since: string } | null;
  stuck: boolean;
  lastTrackingAt: string | null;
  /** Its open exception: with the exception filter, the one it is listed for; otherwise its oldest open one. */
  exception: { type: string; reason: string; openedAt: Date } | null;
}

/** The filters on the order's record that MongoDB applies (the stuck flag is read from the row: the first version keeps it in its view). */
function orderFilter(f: OrderExportFilters): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (f.held === true) filter.state = f.state && f.state !== 'on_hold' ? { $in: [] } : 'on_hold';
  else if (f.state) filter.state = f.state;
  if (f.held === false) filter.$and = [{ state: { $ne: 'on_hold' } }];
  if (f.from || f.to)
    filter.createdAt = { ...(f.from ? { $gte: new Date(f.from) } : {}), ...(f.to ? { $lte: new Date(f.to) } : {}) };
  return filter;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a record of either version (the first keeps these fields in `view`), read loosely
function orderRow(o: Record<string, any>, exception: OrderRow['exception']): OrderRow {
  return {
    orderId: o.orderId,
    state: o.state,
    // When it was placed, as the orders list and the API say it (the record may be written a moment later).
    createdAt: o.placedAt ?? o.createdAt ?? null,
    updatedAt: o.updatedAt ?? null,
    customer: o.customer ?? null,
    risk: (o.risk ?? o.view?.risk)?.level ?? null,
    hold: holdOf(o) ?? null,
    stuck: Boolean(o.stuck ?? o.view?.stuck),
    lastTrackingAt: o.lastTrackingAt ?? o.view?.lastTrackingAt ?? null,
    exception,
  };
}

/**
 * The orders the filters select, one row each, streamed from a cursor (no cap): the same filters
 * as the orders workspace (GET /v1/orders). With `open` or an exception type the tenant's
 * exceptions are read (an indexed equality) and each open one's order looked up by id; otherwise
 * the tenant's orders.
 */
export async function* orderRows(db: Db, tenantId: string, f: OrderExportFilters): AsyncGenerator<OrderRow> {
  const keep = (row: OrderRow) => f.stuck === undefined || row.stuck === f.stuck;
  if (f.exception && f.exception !== 'all') {
    const byType = f.exception === 'open' ? {} : { type: f.exception };
    const exceptions = db.OrderException.find(
      { tenantId, ...byType },
      { orderId: 1, type: 1, reason: 1, openedAt: 1, resolvedAt: 1 },
    )
      .lean()
      .cursor({ batchSize: 500 });
    for await (const e of exceptions) {
      if (e.resolvedAt) continue;
      const o = await db.Order.findOne({ tenantId, orderId: e.orderId, ...orderFilter(f) }).lean();
      const row = o && orderRow(o, { type: e.type, reason: e.reason, openedAt: e.openedAt });
      if (row && keep(row)) yield row;
    }
    return;
  }
  // Each order's oldest open exception, read once (the open ones are few beside the orders).
  const open = new Map<string, NonNullable<OrderRow['exception']>>();
  const exceptions = db.OrderException.find(
    { tenantId, resolvedAt: null },
    { orderId: 1, type: 1, reason: 1, openedAt: 1 },
  ).lean();
  for await (const e of exceptions.cursor({ batchSize: 500 })) {
    const known = open.get(e.orderId);
    if (!known || e.openedAt < known.openedAt)
      open.set(e.orderId, { type: e.type, reason: e.reason, openedAt: e.openedAt });
  }
  const orders = db.Order.find({ tenantId, ...orderFilter(f) })
    .lean()
    .cursor({ batchSize: 500 });
  for await (const o of orders) {
    const row = orderRow(o, open.get(o.orderId) ?? null);
    if (keep(row)) yield row;
  }
}
