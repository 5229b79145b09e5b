// The log's default listings read page by page (src/db/dispatch-log.ts): these tests check they
// list what a sort of the whole log would, newest first, through every cursor, on the embedded
// store; and that a dispatch enters and leaves the failed-only listing as its result changes,
// through the projection the dispatch workflow writes with.
import { randomBytes } from 'node:crypto';
import { connectDb, type Db } from '../../src/db/models';
import { recordDispatch, type NewDispatch } from '../../src/db/dispatch-records';
import { backfillLogPages, LOG_PAGE_SIZE } from '../../src/db/dispatch-log';
import { createDispatchActivities } from '../../src/activities/dispatch';
import { listDispatches } from '../../src/app/dispatches';
import type { ActivityDeps } from '../../src/activities/deps';
import type { DispatchResult } from '../../src/domain/dispatch-status';

let db: Db;
let project: ReturnType<typeof createDispatchActivities>['projectDispatch'];
beforeAll(async () => {
  db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, {
    dbName: `relais_log_${randomBytes(4).toString('hex')}`,
  });
  project = createDispatchActivities({
    db,
    linkSecret: 'test-link-secret',
    publicBaseUrl: 'http://relais.test',
    emailFrom: 'relais@relais.test',
  } as ActivityDeps).projectDispatch;
});
afterAll(async () => {
  await db?.connection.dropDatabase().catch(() => undefined);
  await db?.close();
});

const record = (tenantId: string, dispatchId: string, kind: NewDispatch['kind'] = 'document'): NewDispatch => ({
  tenantId,
  dispatchId,
  kind,
  channel: 'email',
  provider: 'sendgrid',
  template: 'purchase_order',
  locale: 'en',
  document: { type: 'purchase_order', number: dispatchId },
  sender: { name: 'Buyer', email: 'buyer@acme.test', outletId: null },
  requestedBy: 'k1',
  content: { subject: `PO ${dispatchId}`, html: '<p>PO</p>', text: 'PO', templateData: {} } as never,
  sealed: null,
  attachments: [],
  recipients: [{ recipientId: 'r1', address: `${dispatchId}@supplier.test`, name: null }],
  parent: null,
  request: null,
});
const versions = new Map<string, number>();
const setResult = async (tenantId: string, dispatchId: string, result: DispatchResult) => {
  const version = (versions.get(dispatchId) ?? 0) + 1;
  versions.set(dispatchId, version);
  await project({
    tenantId,
    dispatchId,
    version,
    recipients: [],
    histories: [],
    decided: [],
    dispatch: {
      result,
      providerError: null,
      counts: { [result === 'alert' || result === 'error' ? 'bounced' : 'delivered']: 1 },
      opened: 0,
      attention: [],
    },
  });
};
const numbers = (page: { dispatches: Array<{ number: number }> }) => page.dispatches.map((d) => d.number);
/** Every page of a listing, following its cursor. */
async function allPages(tenantId: string, query: Record<string, unknown>) {
  const pages: number[][] = [];
  let cursor: number | undefined;
  do {
    const page = await listDispatches(db, tenantId, { limit: 50, ...query, cursor } as never);
    pages.push(numbers(page));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 20);
  return pages;
}

test("L1: the log lists every dispatch newest first, page after page, across the pages of record numbers and only the tenant's own", async () => {
  // 150 documents and 10 notices for t-a, interleaved with 150 for t-b: three pages of record numbers.
  for (let i = 1; i <= 150; i += 1) {
    await recordDispatch(db, record('t-a', `a-${i}`));
    await recordDispatch(db, record('t-b', `b-${i}`));
    if (i % 15 === 0) await recordDispatch(db, record('t-a', `a-notice-${i}`, 'notification'));
  }
  const documents = (await db.Dispatch.find({ tenantId: 't-a', kind: 'document' }, { number: 1 }).lean())
    .map((d) => d.number)
    .sort((x, y) => y - x);
  expect(documents).toHaveLength(150);
  expect(Math.max(...documents)).toBeGreaterThan(2 * LOG_PAGE_SIZE);

  const pages = await allPages('t-a', { result: 'all', kind: 'document' });
  expect(pages.map((p) => p.length)).toEqual([50, 50, 50]);
  expect(pages.flat()).toEqual(documents);
  // Notices too by default, in the same numbering: no gaps (issue 16 item 7).
  const everything = (await allPages('t-a', { result: 'all', kind: 'all' })).flat();
  expect(everything).toHaveLength(160);
  expect(everything).toEqual(Array.from({ length: 160 }, (_, i) => 160 - i));
  // Another page size, and a cursor in the middle of a page of numbers.
  const first = await listDispatches(db, 't-a', { result: 'all', kind: 'document', limit: 7 } as never);
  expect(numbers(first)).toEqual(documents.slice(0, 7));
  const next = await listDispatches(db, 't-a', {
    result: 'all',
    kind: 'document',
    limit: 200,
    cursor: first.nextCursor,
  } as never);
  expect(numbers(next)).toEqual(documents.slice(7));
  expect(next.nextCursor).toBeNull();
  expect((await allPages('t-b', { result: 'all' })).flat()).toHaveLength(150);
  // A cursor far above the newest number (any integer is a valid cursor) lists from the newest,
  // without walking the empty pages above it (found by the API fuzzer: 39465479 took 30 s).
  const far = await listDispatches(db, 't-a', { result: 'all', kind: 'all', limit: 5, cursor: 39_465_479 } as never);
  expect(numbers(far)).toEqual([160, 159, 158, 157, 156]);
  const farFailed = await listDispatches(db, 't-a', {
    result: 'failed',
    kind: 'all',
    limit: 5,
    cursor: 2 ** 40,
  } as never);
  expect(numbers(farFailed)).toEqual([]);
});

test('L1: the failed-only listing (the default) shows the newest failures first; a dispatch leaves it when it is delivered after all and comes back on top when it fails again', async () => {
  for (let i = 1; i <= 130; i += 1) await recordDispatch(db, record('t-f', `f-${i}`));
  const failing = Array.from({ length: 130 }, (_, i) => `f-${i + 1}`).filter((_, i) => i % 2 === 0); // 65 of them
  for (const id of failing) await setResult('t-f', id, 'alert');
  for (let i = 2; i <= 130; i += 2) await setResult('t-f', `f-${i}`, 'delivered');
  const ids = async (query: Record<string, unknown>) => {
    const rows: string[] = [];
    let cursor: number | undefined;
    do {
      const page = await listDispatches(db, 't-f', { limit: 20, ...query, cursor } as never);
      rows.push(...page.dispatches.map((d: { dispatchId: string }) => d.dispatchId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return rows;
  };
  expect(await ids({})).toEqual([...failing].reverse());
  expect(await ids({ result: 'failed' })).toEqual([...failing].reverse());

  // f-1 is resent and delivered: out of the failures; f-3 turns from alert to error: keeps its place.
  await setResult('t-f', 'f-1', 'delivered');
  await setResult('t-f', 'f-3', 'error');
  const after = [...failing].reverse().filter((id) => id !== 'f-1');
  expect(await ids({})).toEqual(after);
  // f-1 fails again (a late bounce): the newest failure.
  await setResult('t-f', 'f-1', 'alert');
  expect(await ids({})).toEqual(['f-1', ...after]);
  // The filtered query (by result) agrees with the pages.
  const filtered = await listDispatches(db, 't-f', { result: 'delivered', limit: 200 } as never);
  expect(filtered.dispatches).toHaveLength(65);
});

test('L1: records written before the log had pages (the first version, or before this upgrade) get theirs once, and are listed', async () => {
  await recordDispatch(db, record('t-old', 'old-1'));
  await recordDispatch(db, record('t-old', 'old-2'));
  await setResult('t-old', 'old-2', 'alert');
  // As an earlier release left them: no page numbers.
  await db.Dispatch.collection.updateMany(
    { tenantId: 't-old' },
    { $unset: { logPage: 1, failedSeq: 1, failedPage: 1 } },
  );
  await db.Counter.deleteOne({ _id: 'migration:dispatch-log-pages' });
  expect((await listDispatches(db, 't-old', { result: 'all', limit: 50 } as never)).dispatches).toEqual([]);

  expect(await backfillLogPages(db)).toBeGreaterThanOrEqual(2);
  expect(
    (await listDispatches(db, 't-old', { result: 'all', limit: 50 } as never)).dispatches.map(
      (d: { dispatchId: string }) => d.dispatchId,
    ),
  ).toEqual(['old-2', 'old-1']);
  expect(
    (await listDispatches(db, 't-old', { limit: 50 } as never)).dispatches.map(
      (d: { dispatchId: string }) => d.dispatchId,
    ),
  ).toEqual(['old-2']);
  expect(await backfillLogPages(db)).toBe(0); // once per store
});
