// The embedded store, measured: what a read by key, a projection write and the delivery log's
// first page cost on FerretDB's two backends (SQLite files, PostgreSQL) as the collection grows,
// each query in the shapes Relais can use (fields it filters on, or the document's _id).
import { randomBytes } from 'node:crypto';
import { connectDb, type Db } from '../src/db/models';
import { logPageOf } from '../src/db/dispatch-log';
import { listDispatches } from '../src/app/dispatches';
import { startFerretStore, type StoreKind } from '../test/support/servers';
import { dispatchWorkflowId } from '../src/workflows/dispatch/contract';
import { orderWorkflowId } from '../src/workflows/order/contract';

export interface StoreRow {
  store: string;
  stored: number;
  measure: string;
  ms: number;
  reps: number;
  load: string;
}

/**
 * Median of repeated runs of `op`: at least 3, at most 15, stopping after about 3 s; an
 * operation that takes seconds is run once after its warm-up (its figure says enough).
 */
export async function timeIt(op: (i: number) => Promise<unknown>): Promise<{ ms: number; reps: number }> {
  const run = async (i: number) => {
    const t0 = process.hrtime.bigint();
    await op(i);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const warm = await run(-1); // connection, plan, caches
  if (warm > 5000) return { ms: await run(0), reps: 1 };
  const times: number[] = [];
  const started = Date.now();
  for (let i = 0; times.length < 15 && (times.length < 3 || Date.now() - started < 3000); i += 1)
    times.push(await run(i));
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], reps: times.length };
}

/** An operation slower than this at one size is not run at the larger ones (it would take minutes). */
const TOO_SLOW_MS = 10_000;

const RESULTS = [
  'delivered',
  'delivered',
  'delivered',
  'delivered',
  'delivered',
  'delivered',
  'delivered',
  'delivered',
  'alert',
  'error',
];

/** A delivery-log document as the dispatch projection writes it: three recipients with their histories, the copy sent. */
function dispatchDoc(tenantId: string, n: number) {
  const dispatchId = `po-${n}`;
  const at = new Date(Date.UTC(2026, 10, 1) + n * 60_000);
  const result = RESULTS[n % RESULTS.length];
  const recipients = [0, 1, 2].map((r) => ({
    recipientId: `r${r + 1}`,
    address: `buyer${r}.${n}@supplier${n % 500}.test`,
    name: `Supplier contact ${r}`,
    status: result === 'delivered' || r > 0 ? 'delivered' : 'bounced',
    opened: false,
    attempt: 1,
    replacedBy: null,
    reasonCode: null,
    plainReason: null,
    rawReason: null,
    providerMessageId: `msg-${n}.${r}`,
    history: ['processed', 'delivered'].map((event, i) => ({
      status: event,
      event,
      at: new Date(at.getTime() + i * 1000),
      eventId: `ev-${n}-${r}-${i}`,
      reason: null,
      response: i ? '250 2.0.0 OK' : null,
      reasonCode: null,
      plainReason: null,
    })),
  }));
  return {
    _id: `${tenantId}/${dispatchId}`,
    tenantId,
    dispatchId,
    workflowId: dispatchWorkflowId(tenantId, dispatchId),
    number: n,
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: 'purchase_order',
    locale: 'fr',
    document: { type: 'purchase_order', number: `PO-${n}` },
    sender: { name: 'Bruno Buyer', email: 'bruno@bistro.test', outletId: 'paris-11' },
    requestedBy: 'key-1',
    subject: `Bon de commande PO-${n}`,
    html: `<p>${'Bonjour, veuillez trouver notre commande. '.repeat(30)}</p>`,
    text: 'Bonjour',
    attachments: [],
    templateData: null,
    recipients,
    recipientAddresses: recipients.map((r) => r.address),
    result,
    providerError: null,
    sentAt: at,
    completedAt: null,
    resentVia: [],
    sendLog: [],
    parent: null,
    stateVersion: 3,
    createdAt: at,
    updatedAt: at,
    // The log's pages (src/db/dispatch-log.ts): failures numbered in the order they happened.
    logPage: logPageOf(n),
    ...(failedSeqOf(n) ? { failedSeq: failedSeqOf(n), failedPage: logPageOf(failedSeqOf(n)!) } : {}),
  };
}

/** The failure number of dispatch n, in RESULTS' pattern (two failures in ten); undefined when it did not fail. */
function failedSeqOf(n: number): number | undefined {
  const failedBefore = (m: number) =>
    2 * Math.floor(m / RESULTS.length) +
    RESULTS.slice(0, (m % RESULTS.length) + 1).filter((r) => r !== 'delivered').length;
  return RESULTS[n % RESULTS.length] === 'delivered' ? undefined : failedBefore(n);
}

function orderDoc(tenantId: string, n: number) {
  const orderId = `order-${n}`;
  return {
    _id: `${tenantId}/${orderId}`,
    tenantId,
    orderId,
    workflowId: orderWorkflowId(tenantId, orderId),
    state: n % 7 ? 'in_transit' : 'delivered',
    customer: {
      name: 'Chloé Client',
      phone: `+3361${String(n).padStart(7, '0')}`,
      email: `c${n}@example.test`,
      address: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
    },
    address: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
    risk: { level: 'low', score: 0, reasons: [] },
    hold: null,
    stuck: false,
    lastTrackingAt: new Date(),
    restocked: false,
    stateVersion: 6,
  };
}

async function fill(db: Db, tenantId: string, from: number, to: number, progress: (msg: string) => void) {
  const dispatches = db.connection.db!.collection('dispatches');
  const orders = db.connection.db!.collection('orders');
  const batch = 500;
  let lastSaid = Date.now();
  for (let n = from; n < to; n += batch) {
    const end = Math.min(to, n + batch);
    const range = Array.from({ length: end - n }, (_, i) => n + i + 1);
    await dispatches.insertMany(range.map((i) => dispatchDoc(tenantId, i)) as never[], { ordered: false });
    await orders.insertMany(range.map((i) => orderDoc(tenantId, i)) as never[], { ordered: false });
    if (Date.now() - lastSaid > 10_000) {
      progress(`  filling: ${end}/${to}`);
      lastSaid = Date.now();
    }
  }
  // The tenant's counters, as recording the dispatches would have left them.
  await db.Counter.updateOne({ _id: `dispatch:${tenantId}` }, { $set: { seq: to } }, { upsert: true });
  const lastFailure =
    Array.from({ length: RESULTS.length }, (_, i) => failedSeqOf(to - i)).find((seq) => seq !== undefined) ?? 0;
  await db.Counter.updateOne(
    { _id: `dispatch-failures:${tenantId}` },
    { $set: { seq: lastFailure } },
    { upsert: true },
  );
}

/** The operations measured, each on the newest documents (what the pages and workflows touch). */
function operations(db: Db, tenantId: string, size: () => number) {
  const dispatches = db.connection.db!.collection('dispatches');
  const orders = db.connection.db!.collection('orders');
  const some = (i: number) => Math.max(1, size() - (Math.abs(i) % Math.min(10, size())));
  const logPage = (filter: Record<string, unknown>) =>
    dispatches
      .find({ tenantId, kind: 'document', ...filter }, { projection: { html: 0, text: 0, 'recipients.history': 0 } })
      .sort({ number: -1 })
      .limit(51)
      .toArray();
  let version = 10;
  return {
    'dispatch read by tenantId + dispatchId': (i: number) =>
      dispatches.findOne({ tenantId, dispatchId: `po-${some(i)}` }),
    'dispatch read by _id': (i: number) => dispatches.findOne({ _id: `${tenantId}/po-${some(i)}` as never }),
    'dispatch projection write by tenantId + dispatchId (+ version guard)': (i: number) =>
      dispatches.updateOne(
        { tenantId, dispatchId: `po-${some(i)}`, stateVersion: { $lt: (version += 1) } },
        { $set: { stateVersion: version, result: 'delivered', 'recipients.0.status': 'delivered' } },
      ),
    'dispatch projection write by _id': (i: number) =>
      dispatches.updateOne(
        { _id: `${tenantId}/po-${some(i)}` as never },
        { $set: { result: 'delivered', 'recipients.0.status': 'delivered' } },
      ),
    'order read by tenantId + orderId': (i: number) => orders.findOne({ tenantId, orderId: `order-${some(i)}` }),
    'order read by _id': (i: number) => orders.findOne({ _id: `${tenantId}/order-${some(i)}` as never }),
    'order projection write by _id': (i: number) =>
      orders.updateOne(
        { _id: `${tenantId}/order-${some(i)}` as never },
        { $set: { state: 'in_transit', lastTrackingAt: new Date() } },
      ),
    "log's first page, all (pages of numbers: the API's listing, 50)": () =>
      listDispatches(db, tenantId, { result: 'all', kind: 'all', limit: 50 }),
    "log's first page, failed only (the default: the API's listing, 50)": () =>
      listDispatches(db, tenantId, { kind: 'all', limit: 50 }),
    "log's first page, all (sort by number, 50)": () => logPage({}),
    "log's first page, failed only (sort by number, 50)": () =>
      logPage({ result: { $in: ['failed', 'alert', 'error'] } }),
    // The same 50 rows read by key: the newest numbers, each an equality lookup (a listing that stays flat on FerretDB).
    "log's first page by number keys (50 lookups)": () =>
      Promise.all(
        Array.from({ length: 50 }, (_, i) => size() - i)
          .filter((n) => n > 0)
          .map((number) =>
            dispatches.findOne({ tenantId, number }, { projection: { html: 0, text: 0, 'recipients.history': 0 } }),
          ),
      ),
  };
}

/**
 * Fills a store of each kind to each size in turn and times each operation there (the shared
 * loop of the store and order-list sections): `fill` adds documents from one size to the next,
 * `operations` are built once and read the current size through `size()`.
 */
export async function benchOnStores(options: {
  kinds: StoreKind[];
  sizes: number[];
  dir: string;
  say: (msg: string) => void;
  load: () => string;
  section: string;
  unit: string;
  fill(db: Db, from: number, to: number): Promise<void>;
  operations(db: Db, size: () => number): Record<string, (i: number) => Promise<unknown>>;
}): Promise<StoreRow[]> {
  const rows: StoreRow[] = [];
  for (const kind of options.kinds) {
    const store = await startFerretStore(kind, options.dir);
    const db = await connectDb(store.uri, { dbName: `relais_bench_${randomBytes(3).toString('hex')}` });
    let stored = 0;
    const tooSlow = new Set<string>();
    try {
      const ops = options.operations(db, () => stored);
      for (const size of options.sizes) {
        options.say(`${options.section} (${store.label}): filling to ${size} ${options.unit}`);
        await options.fill(db, stored, size);
        stored = size;
        for (const [measure, op] of Object.entries(ops)) {
          if (tooSlow.has(measure)) {
            options.say(
              `  ${store.label}, ${size}: ${measure}: skipped (over ${TOO_SLOW_MS / 1000} s at a smaller size)`,
            );
            continue;
          }
          const { ms, reps } = await timeIt(op);
          if (ms > TOO_SLOW_MS) tooSlow.add(measure);
          const row = { store: store.label, stored: size, measure, ms, reps, load: options.load() };
          rows.push(row);
          options.say(
            `  ${store.label}, ${size}: ${measure}: ${ms.toFixed(1)} ms (median of ${reps}; load ${row.load})`,
          );
        }
      }
    } finally {
      await db.connection.dropDatabase().catch(() => undefined);
      await db.close();
      await store.stop();
    }
  }
  return rows;
}

export function benchStore(options: {
  kinds: StoreKind[];
  sizes: number[];
  dir: string;
  say: (msg: string) => void;
  load: () => string;
}): Promise<StoreRow[]> {
  const tenantId = 'bench';
  return benchOnStores({
    ...options,
    section: 'store',
    unit: 'dispatches and as many orders',
    fill: (db, from, to) => fill(db, tenantId, from, to, options.say),
    operations: (db, size) => operations(db, tenantId, size),
  });
}

/** The rows as a table: one line per measure and store, one column per size. */
export function storeTable(rows: StoreRow[], sizes: number[]): string {
  const lines = [
    `| measure | store | ${sizes.map((s) => `${s.toLocaleString('en')} stored`).join(' | ')} |`,
    `|---|---|${sizes.map(() => '---').join('|')}|`,
  ];
  const keys = [...new Set(rows.map((r) => `${r.measure}\u0000${r.store}`))];
  for (const key of keys) {
    const [measure, store] = key.split('\u0000');
    const cells = sizes.map((s) => rows.find((r) => r.measure === measure && r.store === store && r.stored === s));
    lines.push(
      `| ${measure} | ${store} | ${cells.map((c) => (c ? `${c.ms < 10 ? c.ms.toFixed(1) : c.ms.toFixed(0)} ms` : `not run (over ${TOO_SLOW_MS / 1000} s before)`)).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
