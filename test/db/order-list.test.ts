// Issue 18: the orders list on the real store. Pages are read by keys (blocks and sections of the
// placing order) yet come out oldest first, whole, and once each, across block and section edges,
// with every filter (rules O1–O10: the workspace). Orders recorded before the list existed get
// their entry once, from the worker's start — a held order and a stuck one (they write nothing
// until something happens to them), an order of the legacy shape, one that had ended — and an
// order that ended with an exception left open has it closed (rule O6: no finished order keeps one).
import { randomBytes } from 'node:crypto';
import { connectDb, type Db } from '../../src/db/models';
import { BLOCK, SECTION, backfillOrderList, countOpen, listOrders, type ListQuery } from '../../src/db/order-list';

/** The counts stop at 100 on the embedded store; MongoDB counts exactly. */
const COUNT_CAP_HERE = process.env.MONGODB_URI ? null : 100;

let db: Db;
beforeAll(async () => {
  db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, {
    dbName: `relais_test_${randomBytes(4).toString('hex')}`,
  });
});
afterAll(async () => {
  await db.connection.dropDatabase();
  await db.close();
});

const customer = {
  name: 'Chloé Client',
  email: 'c@example.test',
  phone: '+33612345670',
  address: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
};
const at = (minutes: number) => new Date(Date.UTC(2026, 10, 1, 8) + minutes * 60_000);
const exception = (
  orderId: string,
  n: number,
  type: string,
  reason: string,
  openedAt: Date,
  resolvedAt: Date | null = null,
) => ({
  _id: `t/${orderId}/${n}`,
  tenantId: 't',
  orderId,
  n,
  type,
  reason,
  details: null,
  openedAt,
  resolvedAt,
  resolution: resolvedAt ? 'tracking_update' : null,
});

test("each order recorded before gets its entry once; an ended order's open exception is closed", async () => {
  await db.Order.collection.insertMany([
    {
      tenantId: 't',
      orderId: 'held',
      workflowId: 'order/t/held',
      customer,
      state: 'on_hold',
      stuck: false,
      stateVersion: 3,
      createdAt: at(0),
    },
    {
      tenantId: 't',
      orderId: 'stuck',
      workflowId: 'order/t/stuck',
      customer,
      state: 'in_transit',
      stuck: true,
      stateVersion: 9,
      createdAt: at(1),
    },
    {
      tenantId: 't',
      orderId: 'returned',
      workflowId: 'order/t/returned',
      customer,
      state: 'cancelled',
      stuck: false,
      stateVersion: 5,
      createdAt: at(2),
    },
    {
      tenantId: 't',
      orderId: 'fine',
      workflowId: 'order/t/fine',
      customer,
      state: 'placed',
      stuck: false,
      stateVersion: 2,
      createdAt: at(3),
    },
    {
      tenantId: 't',
      orderId: 'legacy',
      workflowId: 'order/t/legacy',
      customer,
      state: 'delivery_failed',
      stateVersion: 7,
      createdAt: at(4),
      view: {
        state: 'delivery_failed',
        stuck: false,
        exceptions: [
          {
            type: 'stuck_in_transit',
            reason: 'no_tracking_update',
            details: null,
            openedAt: at(10).toISOString(),
            resolvedAt: at(20).toISOString(),
            resolution: 'tracking_update',
          },
          {
            type: 'delivery_failed',
            reason: 'refused',
            details: null,
            openedAt: at(30).toISOString(),
            resolvedAt: null,
            resolution: null,
          },
        ],
      },
    },
  ] as never[]);
  await db.OrderException.collection.insertMany([
    exception('held', 1, 'on_hold', 'address_or_contact', at(0)),
    exception('stuck', 1, 'stuck_in_transit', 'no_tracking_update', at(50), at(60)),
    exception('stuck', 2, 'stuck_in_transit', 'no_tracking_update', at(90)),
    exception('returned', 1, 'handover_failed', 'customer_cancelled', at(5)),
  ] as never[]);
  // An order whose own write already made its entry keeps it as it is.
  await db.OrderListEntry.create({
    _id: 't/fine',
    tenantId: 't',
    orderId: 'fine',
    seq: 4,
    section: 0,
    block: 0,
    state: 'allocated',
    open: false,
    types: [],
    exceptions: [],
    stuck: false,
    ended: false,
    customerName: 'Chloé Client',
    placedAt: at(3),
    stateVersion: 4,
  });

  expect(await backfillOrderList(db)).toBe(4);
  const open = await listOrders(db, 't', { exception: 'open', limit: 50 });
  expect(open.rows.map((r) => [r.orderId, r.state, r.stuck, r.exceptions.map((e) => `${e.type}:${e.reason}`)])).toEqual(
    [
      ['held', 'on_hold', false, ['on_hold:address_or_contact']],
      ['stuck', 'in_transit', true, ['stuck_in_transit:no_tracking_update']],
      ['legacy', 'delivery_failed', false, ['delivery_failed:refused']],
    ],
  );
  expect(await countOpen(db, 't')).toEqual({
    open: 3,
    stuck: 1,
    byType: { on_hold: 1, stuck_in_transit: 1, delivery_failed: 1 },
    cap: COUNT_CAP_HERE,
  });
  // The order that had ended: listed as ended, nothing open, its exception closed in place.
  const all = await listOrders(db, 't', { exception: 'all', limit: 50 });
  expect(all.rows.find((r) => r.orderId === 'returned')).toMatchObject({ ended: true, exceptions: [] });
  expect(await db.OrderException.findById('t/returned/1').lean()).toMatchObject({
    resolution: 'order_ended',
    open: false,
    resolvedAt: expect.any(Date),
  });
  expect(all.rows.find((r) => r.orderId === 'fine')).toMatchObject({ state: 'allocated' });
  expect(all.rows.map((r) => r.orderId)).toEqual(['held', 'stuck', 'returned', 'fine', 'legacy']);

  // Once done, never again: a later start finds the mark and reads nothing.
  await db.OrderListEntry.deleteOne({ _id: 't/held' });
  expect(await backfillOrderList(db)).toBe(0);
  expect(await db.OrderListEntry.exists({ _id: 't/held' })).toBeNull();
});

describe('pages read by keys, oldest first, across sections and blocks', () => {
  const T = 'walk';
  // 5,000 orders (two and a half blocks); open ones where the sections and blocks turn.
  const OPEN = [0, 1, 99, 100, 101, 1999, 2000, 2001, 2150, 3999, 4000, 4999];
  const STUCK = new Set([99, 2000, 4999]);
  beforeAll(async () => {
    const docs = Array.from({ length: 5000 }, (_, seq) => {
      const open = OPEN.includes(seq);
      const type = STUCK.has(seq) ? 'stuck_in_transit' : 'delivery_failed';
      return {
        _id: `${T}/o-${seq}`,
        tenantId: T,
        orderId: `o-${seq}`,
        seq,
        section: Math.floor(seq / SECTION),
        block: Math.floor(seq / BLOCK),
        state: open ? (STUCK.has(seq) ? 'in_transit' : 'delivery_failed') : 'delivered',
        open,
        types: open ? [type] : [],
        exceptions: open ? [{ n: 1, type, reason: 'r', cause: null, openedAt: at(seq) }] : [],
        stuck: STUCK.has(seq),
        ended: !open,
        customerName: null,
        placedAt: at(seq),
        stateVersion: 1,
      };
    });
    for (let i = 0; i < docs.length; i += 1000)
      await db.OrderListEntry.collection.insertMany(docs.slice(i, i + 1000) as never[]);
    // Two orders given the same number (a counter raced): the order id decides.
    await db.OrderListEntry.collection.insertOne({ ...docs[2001], _id: `${T}/o-2001b`, orderId: 'o-2001b' } as never);
    await db.Counter.updateOne({ _id: `order-list:${T}` }, { $set: { seq: 5000 } }, { upsert: true });
  });

  const walk = async (q: Omit<ListQuery, 'after' | 'limit'>, limit: number) => {
    const seen: string[] = [];
    let after: ListQuery['after'];
    for (let pages = 0; pages < 100; pages += 1) {
      const page = await listOrders(db, T, { ...q, limit, after });
      expect(page.rows.length).toBeLessThanOrEqual(limit);
      seen.push(...page.rows.map((r) => r.orderId));
      if (!page.more) return seen;
      after = { seq: page.rows.at(-1)!.seq, orderId: page.rows.at(-1)!.orderId };
    }
    throw new Error('more than 100 pages');
  };
  const open = [
    'o-0',
    'o-1',
    'o-99',
    'o-100',
    'o-101',
    'o-1999',
    'o-2000',
    'o-2001',
    'o-2001b',
    'o-2150',
    'o-3999',
    'o-4000',
    'o-4999',
  ];

  test.each([1, 5, 50])('open exceptions, %i per page: each once, in placing order', async (limit) => {
    expect(await walk({ exception: 'open' }, limit)).toEqual(open);
  });

  test('filters: a type, stuck, a state, every order; a placed range', async () => {
    expect(await walk({ exception: 'stuck_in_transit' }, 2)).toEqual(['o-99', 'o-2000', 'o-4999']);
    expect(await walk({ exception: 'open', stuck: false }, 50)).toEqual(
      open.filter((id) => !['o-99', 'o-2000', 'o-4999'].includes(id)),
    );
    expect(await walk({ exception: 'all', state: 'in_transit' }, 50)).toEqual(['o-99', 'o-2000', 'o-4999']);
    const all = await walk({ exception: 'all' }, 200);
    expect(all).toHaveLength(5001);
    expect(all.slice(2000, 2004)).toEqual(['o-2000', 'o-2001', 'o-2001b', 'o-2002']);
    expect(await walk({ exception: 'open', from: at(2000), to: at(2999) }, 3)).toEqual([
      'o-2000',
      'o-2001',
      'o-2001b',
      'o-2150',
    ]);
    expect(await walk({ exception: 'open', held: true }, 50)).toEqual([]);
  });

  test('counts are exact below the cap; on the embedded store they stop at it', async () => {
    expect(await countOpen(db, T)).toEqual({
      open: 13,
      stuck: 3,
      byType: { stuck_in_transit: 3, delivery_failed: 10 },
      cap: COUNT_CAP_HERE,
    });
    const many = Array.from({ length: 150 }, (_, i) => ({
      _id: `many/o-${i}`,
      tenantId: 'many',
      orderId: `o-${i}`,
      seq: i,
      section: 0,
      block: 0,
      state: 'in_transit',
      open: true,
      types: ['stuck_in_transit'],
      exceptions: [],
      stuck: true,
      ended: false,
      customerName: null,
      placedAt: at(i),
      stateVersion: 1,
    }));
    await db.OrderListEntry.collection.insertMany(many as never[]);
    const expected = COUNT_CAP_HERE ?? 150;
    expect(await countOpen(db, 'many')).toEqual({
      open: expected,
      stuck: expected,
      byType: { stuck_in_transit: expected },
      cap: COUNT_CAP_HERE,
    });
  });
});
