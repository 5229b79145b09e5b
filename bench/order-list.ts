// The orders workspace's list (issue 18) on the embedded store: what a page of `GET /v1/orders`
// and the workspace's counts cost as the number of orders with an open exception grows, beside
// the finished orders the default listing must not read, and an order's own list write. Runs the
// product's functions (src/db/order-list.ts) on FerretDB on PostgreSQL (or SQLite), filled directly.
import type { Db } from '../src/db/models';
import { BLOCK, SECTION, countOpen, listOrders, writeListEntry } from '../src/db/order-list';
import { EXCEPTION_TYPES } from '../src/domain/order';
import type { StoreKind } from '../test/support/servers';
import { benchOnStores, type StoreRow } from './store';

/** Finished orders stored beside each open one: the default listing must not read them. */
const ENDED_PER_OPEN = 3;

function entry(tenantId: string, seq: number, open: boolean) {
  const type = EXCEPTION_TYPES[(seq / (ENDED_PER_OPEN + 1)) % EXCEPTION_TYPES.length];
  const at = new Date(Date.UTC(2026, 0, 1) + seq * 60_000);
  return {
    _id: `${tenantId}/order-${seq}`,
    tenantId,
    orderId: `order-${seq}`,
    seq,
    section: Math.floor(seq / SECTION),
    block: Math.floor(seq / BLOCK),
    state: open ? 'in_transit' : 'delivered',
    open,
    types: open ? [type] : [],
    exceptions: open ? [{ n: 1, type, reason: 'no_tracking_update', cause: null, openedAt: at }] : [],
    stuck: open && type === 'stuck_in_transit',
    ended: !open,
    customerName: 'Chloé Client',
    placedAt: at,
    stateVersion: 3,
  };
}

/** Orders numbered in placing order: one with an open exception, then ENDED_PER_OPEN ended ones, and so on. */
async function fill(db: Db, tenantId: string, from: number, to: number, say: (msg: string) => void) {
  const list = db.connection.db!.collection('order_list');
  let lastSaid = Date.now();
  const per = ENDED_PER_OPEN + 1;
  for (let n = from * per; n < to * per; n += 2000) {
    const end = Math.min(to * per, n + 2000);
    await list.insertMany(
      Array.from({ length: end - n }, (_, i) => entry(tenantId, n + i, (n + i) % per === 0)) as never[],
      { ordered: false },
    );
    if (Date.now() - lastSaid > 10_000) {
      say(`  filling: ${Math.floor(end / per)}/${to} open`);
      lastSaid = Date.now();
    }
  }
  await db.Counter.updateOne({ _id: `order-list:${tenantId}` }, { $set: { seq: to * per } }, { upsert: true });
}

export function benchOrderList(options: {
  kinds: StoreKind[];
  sizes: number[];
  dir: string;
  say: (msg: string) => void;
  load: () => string;
}): Promise<StoreRow[]> {
  const tenantId = 'bench';
  let version = 10;
  return benchOnStores({
    ...options,
    section: 'order list',
    unit: `orders with an open exception (and ${ENDED_PER_OPEN} ended beside each)`,
    fill: (db, from, to) => fill(db, tenantId, from, to, options.say),
    operations: (db, size) => ({
      'workspace first page: open exceptions, oldest first (50)': () =>
        listOrders(db, tenantId, { exception: 'open', limit: 50 }),
      'the workspace counts (by type, stuck)': () => countOpen(db, tenantId),
      'one exception type, first page (50)': () =>
        listOrders(db, tenantId, { exception: 'stuck_in_transit', limit: 50 }),
      'a page from the middle, by cursor (50)': () =>
        listOrders(db, tenantId, {
          exception: 'open',
          limit: 50,
          after: { seq: Math.floor(size() / 2) * (ENDED_PER_OPEN + 1), orderId: 'order-' },
        }),
      'every order (exception=all), first page (50)': () => listOrders(db, tenantId, { exception: 'all', limit: 50 }),
      'every order in a state (delivered), first page (50)': () =>
        listOrders(db, tenantId, { exception: 'all', state: 'delivered', limit: 50 }),
      "an order's list write (whole entry, version guard)": () =>
        writeListEntry(db, {
          tenantId,
          orderId: `order-${(ENDED_PER_OPEN + 1) * 7}`,
          version: (version += 1),
          state: 'in_transit',
          stuck: false,
          ended: false,
          open: [{ n: 1, type: 'delivery_failed', reason: 'refused', openedAt: new Date().toISOString() }],
          customerName: 'Chloé Client',
        }),
    }),
  });
}
