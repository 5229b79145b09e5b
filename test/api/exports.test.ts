// CSV exports (issue 21): the delivery log with the log's filters and the orders, streamed from a
// cursor with no cap (100,000 rows exported and counted), formulas escaped (CSV injection), the
// log's roles (L4), and each tenant's own rows only.
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { createApiKey } from '../../src/db/api-keys';
import { connectDb } from '../../src/db/models';
import { buildServer } from '../../src/api/server';
import { Templates } from '../../src/templates';
import { DISPATCH_COLUMNS, ORDER_COLUMNS } from '../../src/app/exports';
import { seedDispatches } from '../support/bulk';
import { newOrder, purchaseOrder, startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
// Dropping a database of 100,000 dispatches takes a while on the embedded store.
afterAll(async () => {
  await stack?.close();
}, 10 * 60_000);

/** GET a CSV export: status, headers, and its records parsed (RFC 4180, header row first). */
async function csv(path: string, key = stack.key) {
  const res = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  if (res.status !== 200)
    return { status: res.status, headers: res.headers, rows: [] as string[][], body: await res.json() };
  const rows: string[][] = [];
  for await (const record of Readable.fromWeb(res.body as never).pipe(parse({ bom: true, relax_column_count: false })))
    rows.push(record as string[]);
  return { status: res.status, headers: res.headers, rows, body: null };
}
const asObjects = (rows: string[][]) =>
  rows.slice(1).map((r) => Object.fromEntries(rows[0].map((name, i) => [name, r[i]])));

test(
  'the log exports 100,000 dispatches, streamed (no length known in advance), every one once; a store failing half-way breaks the download',
  async () => {
    const tenantId = `${stack.tenantId}-bulk`;
    await stack.db.Tenant.create({
      _id: tenantId,
      name: 'Bulk',
      timeZone: 'Europe/Paris',
      locale: 'fr',
      emailFrom: { email: 'bulk@bistro.test' },
    });
    const { key } = await createApiKey(stack.db, { tenantId, roles: ['log:read'] });
    const results = await seedDispatches(stack.db, {
      tenantId,
      count: 100_000,
      days: 90,
      lastDay: '2026-12-05',
      timeZone: 'Europe/Paris',
    });

    const res = await fetch(`${stack.apiUrl}/v1/dispatches.csv?result=all`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-length')).toBeNull(); // streamed (chunked), not built whole first
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="relais-dispatches-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    let header: string[] | undefined;
    const numbers = new Set<number>();
    const byResult: Record<string, number> = {};
    for await (const record of Readable.fromWeb(res.body as never).pipe(parse({ bom: true }))) {
      const row = record as string[];
      if (!header) {
        header = row;
        continue;
      }
      numbers.add(Number(row[0]));
      byResult[row[2]] = (byResult[row[2]] ?? 0) + 1;
    }
    expect(header).toEqual([...DISPATCH_COLUMNS]);
    expect(numbers.size).toBe(100_000);
    expect(Math.min(...numbers)).toBe(1);
    expect(Math.max(...numbers)).toBe(100_000);
    expect(byResult).toEqual(results);

    // The store failing half-way breaks the download: the file never looks complete. (An API of its
    // own, on a connection of its own, closed once the first rows have arrived.)
    const db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, { dbName: stack.db.connection.name });
    const api = buildServer({
      db,
      temporal: stack.client,
      templates: new Templates(),
      taskQueue: stack.taskQueue,
      publicBaseUrl: 'http://127.0.0.1',
    });
    try {
      const base = await api.listen({ host: '127.0.0.1', port: 0 });
      const broken = await fetch(`${base}/v1/dispatches.csv?result=all`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(broken.status).toBe(200);
      const reader = broken.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      await db.close();
      const drained = (async () => {
        for (;;) if ((await reader.read()).done) return 'ended';
      })();
      await expect(drained).rejects.toThrow(/terminated/);
    } finally {
      api.server.closeAllConnections();
      await api.close();
      await db.close().catch(() => undefined);
    }
  },
  30 * 60_000,
); // FerretDB reads about a thousand documents a second on 2 cores: minutes, longer on a busy machine

test("the log's filters: failed only by default (L1), or a result, a recipient, a document, a period", async () => {
  const tenantId = `${stack.tenantId}-filters`;
  await stack.db.Tenant.create({
    _id: tenantId,
    name: 'Filters',
    timeZone: 'Europe/Paris',
    locale: 'en',
    emailFrom: { email: 'f@bistro.test' },
  });
  const { key } = await createApiKey(stack.db, { tenantId, roles: ['log:read'] });
  // 40 dispatches over 4 days: numbers 3, 13, 23, 33 alert; 7 error; the rest delivered.
  await seedDispatches(stack.db, { tenantId, count: 40, days: 4, lastDay: '2026-12-05', timeZone: 'Europe/Paris' });
  const numbersOf = async (query: string) =>
    asObjects((await csv(`/v1/dispatches.csv${query}`, key)).rows)
      .map((r) => Number(r.number))
      .sort((a, b) => a - b);

  expect(await numbersOf('')).toEqual([3, 7, 13, 23, 27, 33]);
  expect(await numbersOf('?result=error')).toEqual([7, 27]);
  expect((await numbersOf('?result=all')).length).toBe(40);
  expect(await numbersOf(`?result=all&recipient=${encodeURIComponent('BUYER12@supplier12.test')}`)).toEqual([12]);
  expect(await numbersOf('?result=all&document=PO-31')).toEqual([31]);
  // The second of the four days (2 to 5 December, 10 dispatches a day), in Paris time.
  expect(
    await numbersOf(
      `?result=all&from=${encodeURIComponent('2026-12-03T00:00:00+01:00')}&to=${encodeURIComponent('2026-12-03T23:59:59.999+01:00')}`,
    ),
  ).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);

  const [row] = asObjects((await csv('/v1/dispatches.csv?result=alert&document=PO-13', key)).rows);
  expect(row).toMatchObject({
    number: '13',
    dispatchId: 'po-13',
    result: 'alert',
    resultLabel: 'Alert',
    statuses: 'Bounced (1), Delivered (1)',
    documentNumber: 'PO-13',
    recipientCount: '2',
    recipients: 'buyer13@supplier13.test; orders13@gone13.test',
    failures: "orders13@gone13.test: the address does not exist at the recipient's mail server",
    timeZone: 'Europe/Paris',
  });
  expect(new Date(row.sentAt).toISOString()).toBe(row.sentAt);
  // The same instant in the tenant's zone.
  expect(row.sentAtLocal).toBe(
    new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'medium' }).format(
      new Date(row.sentAt),
    ),
  );

  // A bad filter is a 400 naming it, as on the log.
  const bad = await csv('/v1/dispatches.csv?from=yesterday', key);
  expect(bad.status).toBe(400);
  expect(bad.body.error.details[0]).toMatchObject({ field: 'from', value: 'yesterday' });
});

test('a cell that a spreadsheet would run as a formula is escaped; a real dispatch exports as the log shows it', async () => {
  // What a platform or a recipient controls: the subject, the sender's name, the document number.
  await stack.db.connection.db!.collection('dispatches').insertOne({
    _id: `${stack.tenantId}/formula`,
    format: 2,
    tenantId: stack.tenantId,
    dispatchId: 'formula',
    number: 90_001,
    kind: 'document',
    result: 'error',
    subject: '=HYPERLINK("http://evil.test","click")',
    sender: { name: "+cmd|' /C calc'!A0", email: 'x@bistro.test' },
    document: { type: 'invoice', number: '-2+3' },
    recipientCount: 1,
    recipientAddresses: ['@sum(1+1)@x.test'],
    counts: [{ status: 'bounced', count: 1 }],
    failures: [],
    createdAt: new Date(),
    sentAt: new Date(),
  } as never);
  expect(
    (await stack.request('POST', '/v1/dispatches', purchaseOrder('po-csv', ['ok@acme.test', 'nope+bounce@acme.test'])))
      .status,
  ).toBe(202);
  await stack.waitFor(
    'the bounce recorded',
    async () => (await stack.request('GET', '/v1/dispatches/po-csv')).body?.result === 'alert',
  );

  const res = await fetch(`${stack.apiUrl}/v1/dispatches.csv`, { headers: { authorization: `Bearer ${stack.key}` } });
  const bytes = Buffer.from(await res.arrayBuffer());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // a byte-order mark: spreadsheets read the file as UTF-8
  const text = bytes.toString('utf8');
  const rows: string[][] = [];
  for await (const r of Readable.from([text]).pipe(parse({ bom: true }))) rows.push(r as string[]);
  const byId = new Map(asObjects(rows).map((r) => [r.dispatchId, r]));
  expect(byId.get('formula')).toMatchObject({
    subject: '\'=HYPERLINK("http://evil.test","click")',
    senderName: "'+cmd|' /C calc'!A0",
    documentNumber: "'-2+3",
    recipients: "'@sum(1+1)@x.test",
  });
  expect(byId.get('po-csv')).toMatchObject({
    result: 'alert',
    statuses: 'Bounced (1), Delivered (1)',
    documentNumber: 'PO-po-csv',
    recipients: 'ok@acme.test; nope+bounce@acme.test',
    failures: expect.stringMatching(/^nope\+bounce@acme\.test: /),
  });
  // Numbers stay numbers (a negative number would not be escaped either).
  expect(byId.get('po-csv')!.recipientCount).toBe('2');
});

test("orders export by state, by open exception and by the workspace's filters; the log's roles; another tenant's rows never", async () => {
  expect((await stack.request('POST', '/v1/orders', newOrder('ord-ok'))).status).toBe(202);
  // An incomplete address: held, with an open on_hold exception (O2).
  const held = newOrder('ord-held', {
    address: { line1: 'rue', line2: null, city: 'Paris', postalCode: '750', country: 'FR' },
  });
  expect((await stack.request('POST', '/v1/orders', held)).status).toBe(202);
  await stack.waitFor(
    'both orders recorded',
    async () =>
      (await stack.db.Order.countDocuments({ tenantId: stack.tenantId })) === 2 &&
      (await stack.db.OrderException.countDocuments({ tenantId: stack.tenantId, type: 'on_hold' })) === 1,
  );

  const all = asObjects((await csv('/v1/orders.csv')).rows);
  expect(all.map((o) => o.orderId).sort()).toEqual(['ord-held', 'ord-ok']);
  // Every order names its open exception, not only under the exception filter; placed when the API says.
  expect(Object.fromEntries(all.map((o) => [o.orderId, o.exception]))).toEqual({ 'ord-held': 'on_hold', 'ord-ok': '' });
  for (const o of all)
    expect({ orderId: o.orderId, placedAt: o.placedAt }).toEqual({
      orderId: o.orderId,
      placedAt: (await stack.request('GET', `/v1/orders/${o.orderId}`)).body.placedAt,
    });
  const onHold = await csv('/v1/orders.csv?state=on_hold');
  expect(onHold.rows[0]).toEqual([...ORDER_COLUMNS]);
  expect(asObjects(onHold.rows)).toEqual([
    expect.objectContaining({
      orderId: 'ord-held',
      state: 'on_hold',
      stateLabel: 'On hold',
      customerName: 'Chloé Client',
      customerPhone: "'+33612345670",
      city: 'Paris',
      postalCode: '750',
      risk: 'high',
    }),
  ]);
  expect(asObjects((await csv('/v1/orders.csv?exception=on_hold')).rows)).toEqual([
    expect.objectContaining({ orderId: 'ord-held', exception: 'on_hold', exceptionLabel: expect.any(String) }),
  ]);
  expect(asObjects((await csv('/v1/orders.csv?exception=delivery_failed')).rows)).toEqual([]);
  expect((await csv('/v1/orders.csv?state=lost')).status).toBe(400);
  // The orders workspace's filters (issue 18): every open exception, held or not, stuck or not.
  expect(asObjects((await csv('/v1/orders.csv?exception=open')).rows).map((o) => [o.orderId, o.exception])).toEqual([
    ['ord-held', 'on_hold'],
  ]);
  expect(asObjects((await csv('/v1/orders.csv?held=false')).rows).map((o) => o.orderId)).toEqual(['ord-ok']);
  expect(asObjects((await csv('/v1/orders.csv?held=true&stuck=false')).rows).map((o) => o.orderId)).toEqual([
    'ord-held',
  ]);
  expect(asObjects((await csv('/v1/orders.csv?stuck=true')).rows)).toEqual([]);
  expect((await csv('/v1/orders.csv?held=maybe')).status).toBe(400);

  // L4: whoever may read the log may export it; a key without the role may not.
  expect((await csv('/v1/dispatches.csv', await stack.keyWithRoles(['dispatch:write']))).status).toBe(403);
  expect((await csv('/v1/dispatches.csv', await stack.keyWithRoles(['log:read']))).status).toBe(200);
  expect((await csv('/v1/orders.csv', await stack.keyWithRoles(['ops']))).status).toBe(200);
  expect((await csv('/v1/orders.csv', await stack.keyWithRoles(['dispatch:write']))).status).toBe(403);
  expect((await csv('/v1/dispatches.csv')).status).toBe(200);
  // Another tenant's key exports its own (empty) log and orders: a header and nothing of this tenant.
  for (const path of ['/v1/dispatches.csv?result=all', '/v1/orders.csv']) {
    const other = await csv(path, stack.other.key);
    expect(other.rows).toHaveLength(1);
  }
});
