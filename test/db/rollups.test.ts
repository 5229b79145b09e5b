// The dashboard's rollups on the real store (src/db/rollups.ts, issue 21): a fold counts what the
// records say now minus what it counted before, so folding again counts nothing twice; a fold
// retried after it was applied (its plan found again) changes nothing; a plan left by a fold that
// did not finish is applied by the next one; failures by domain stop at the day's cap; exceptions
// move from the open summary to the day they were resolved.
import { randomBytes } from 'node:crypto';
import { connectDb, type Db } from '../../src/db/models';
import { dispatchKey, recipientsKey, recordDispatch } from '../../src/db/dispatch-records';
import { writeEventBatch } from '../../src/db/dispatch-events';
import { applyPlan, foldRollups, planFold, readDays, readOpenExceptions, type FoldBatch } from '../../src/db/rollups';
import { DOMAINS_PER_DAY, domainKey, OTHER_DOMAINS, ttdBucket } from '../../src/domain/dashboard';
import { dayOf } from '../../src/domain/days';

let db: Db;
const tenantId = 'roll';
const zone = 'Europe/Paris';
beforeAll(async () => {
  db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, {
    dbName: `relais_test_${randomBytes(4).toString('hex')}`,
  });
  await db.Tenant.create({ _id: tenantId, name: 'Rollups', timeZone: zone, emailFrom: { email: 'x@roll.test' } });
});
afterAll(async () => {
  await db.connection.dropDatabase();
  await db.close();
});

let seq = 0;
const fold = (batch: Partial<FoldBatch>) =>
  foldRollups(db, tenantId, (seq += 1), { dispatches: [], orders: [], ...batch });

async function record(dispatchId: string, addresses: string[], kind: 'document' | 'notification' = 'document') {
  await recordDispatch(db, {
    tenantId,
    dispatchId,
    kind,
    channel: 'email',
    provider: 'sendgrid',
    template: 'purchase_order',
    locale: 'en',
    document: { type: 'purchase_order', number: dispatchId },
    sender: { name: 'Bruno', email: 'bruno@roll.test', outletId: null },
    requestedBy: 'key-1',
    content: { subject: `PO ${dispatchId}`, html: '<p>hi</p>', text: 'hi', templateData: {} },
    sealed: null,
    attachments: [],
    recipients: addresses.map((address, i) => ({ recipientId: `r${i + 1}`, address, name: null })),
    parent: null,
    request: null,
  });
  return (await db.Dispatch.findById(dispatchKey(tenantId, dispatchId)).lean())!.createdAt as Date;
}

/** What the dispatch's projection writes: a recipient's status (as the workflow decided it) and the dispatch's result. */
async function project(
  dispatchId: string,
  result: string,
  recipients: Record<
    number,
    { status: string; reasonCode?: string; attempt?: number; address?: string; sentAt?: Date }
  >,
) {
  for (const [index, r] of Object.entries(recipients)) {
    const slot = Number(index) % 25;
    await db.DispatchRecipients.updateOne(
      { _id: recipientsKey(tenantId, dispatchId, Number(index)) },
      {
        $set: {
          [`recipients.${slot}.status`]: r.status,
          [`recipients.${slot}.reasonCode`]: r.reasonCode ?? null,
          [`recipients.${slot}.attempt`]: r.attempt ?? 1,
          ...(r.sentAt ? { [`recipients.${slot}.sentAt`]: r.sentAt } : {}),
          ...(r.address ? { [`recipients.${slot}.address`]: r.address } : {}),
        },
      },
    );
  }
  await db.Dispatch.updateOne({ _id: dispatchKey(tenantId, dispatchId) }, { $set: { result } });
}

/** A provider's delivered event in the recipient's history (what the webhook handler stores). */
async function delivered(dispatchId: string, index: number, at: Date, batch: string) {
  const documents = await writeEventBatch(
    db,
    tenantId,
    dispatchId,
    batch,
    [
      {
        _id: `sendgrid:${dispatchId}-${index}-${batch}`,
        tenantId,
        dispatchId,
        index,
        attempt: 1,
        source: 'sendgrid',
        event: 'delivered',
        status: 'delivered',
        at,
        receivedAt: at,
        position: 0,
      },
    ],
    at,
  );
  for (const n of documents)
    await db.DispatchRecipients.updateOne(
      { _id: recipientsKey(tenantId, dispatchId, n * 25) },
      { $push: { batches: batch } },
    );
}

const dayDoc = async (day: string) => (await readDays(db, tenantId, [day])).get(day);
/** A day's counters without the number of the fold that last changed it. */
const withoutFold = (doc: object | undefined) => {
  const { applied: _fold, ...counters } = doc as { applied?: number };
  return counters;
};

test('a dispatch is counted on its day by what its records say; folding it again counts nothing twice', async () => {
  const createdAt = await record('po-1', ['ana@acme.test', 'bob@gone.test', 'cy@acme.test']);
  const day = dayOf(createdAt, zone);
  // A notice (kind notification) is not counted: the log lists documents.
  await record('notice-1', ['seller@roll.test'], 'notification');
  await fold({
    dispatches: [
      { dispatchId: 'po-1', parts: [0] },
      { dispatchId: 'notice-1', parts: [0] },
    ],
  });
  expect(await dayDoc(day)).toMatchObject({
    dispatches: 1,
    results: { queued: 1 },
    recipients: 3,
    statuses: { queued: 3 },
    tracked: 3,
    emailTracked: 3,
  });

  const sentAt = new Date(createdAt.getTime() + 1000);
  await project('po-1', 'alert', {
    0: { status: 'delivered', sentAt },
    1: { status: 'bounced', reasonCode: 'invalid_address', sentAt },
    2: { status: 'delivered', sentAt },
  });
  await delivered('po-1', 0, new Date(sentAt.getTime() + 2_500), 'b1');
  await fold({ dispatches: [{ dispatchId: 'po-1', parts: [0] }] });
  const after = await dayDoc(day);
  expect(after).toMatchObject({
    dispatches: 1,
    results: { queued: 0, alert: 1 },
    recipients: 3,
    statuses: { queued: 0, delivered: 2, bounced: 1 },
    delivered: 2,
    hardBounces: 1,
    failures: { invalid_address: 1 },
    domains: { [domainKey('gone.test')]: 1 },
    ttd: { [ttdBucket(2_500)]: 1 },
  });

  // Nothing changed: a fold of the same dispatch (a repeated note) adds nothing.
  await fold({ dispatches: [{ dispatchId: 'po-1', parts: [0] }] });
  expect(withoutFold(await dayDoc(day))).toEqual(withoutFold(after));

  // D8: the bounced recipient corrected and resent (attempt 2) is delivered: it leaves the failures.
  await project('po-1', 'delivered', { 1: { status: 'delivered', attempt: 2, address: 'bob@acme.test', sentAt } });
  await fold({ dispatches: [{ dispatchId: 'po-1', parts: [0] }] });
  expect(await dayDoc(day)).toMatchObject({
    results: { alert: 0, delivered: 1 },
    statuses: { delivered: 3, bounced: 0 },
    delivered: 3,
    hardBounces: 0,
    failures: { invalid_address: 0 },
    domains: { [domainKey('gone.test')]: 0 },
  });
});

test('a fold retried after it was applied changes nothing; a plan left by a fold that did not finish is applied by the next', async () => {
  const createdAt = await record('po-2', ['dee@acme.test']);
  const day = dayOf(createdAt, zone);
  const before = (await dayDoc(day))!;

  // The fold's first attempt made its plan and applied it; its retry finds the plan again (stored
  // before anything was applied) and applies it once more: the days' guard and the tallies' refuse it.
  seq += 1;
  const batch: FoldBatch = { dispatches: [{ dispatchId: 'po-2', parts: [0] }], orders: [] };
  const plan = await planFold(db, tenantId, seq, batch);
  await applyPlan(db, plan);
  const once = (await dayDoc(day))!;
  expect(once.dispatches).toBe(before.dispatches! + 1);
  await db.connection.db!.collection('rollup_plans').insertOne(plan as never);
  await foldRollups(db, tenantId, seq, batch);
  expect((await dayDoc(day))!.dispatches).toBe(once.dispatches);
  expect((await dayDoc(day))!.recipients).toBe(once.recipients);

  // A fold that stopped after making its plan: the next fold applies it first, then its own.
  await project('po-2', 'delivered', { 0: { status: 'delivered' } });
  seq += 1;
  await planFold(db, tenantId, seq, batch);
  await fold({});
  expect(await dayDoc(day)).toMatchObject({ dispatches: once.dispatches, delivered: once.delivered! + 1 });
  expect(await db.connection.db!.collection('rollup_plans').countDocuments({ tenantId })).toBe(0);
});

test(`failures by domain: a day counts ${DOMAINS_PER_DAY} domains, the others under ${OTHER_DOMAINS}`, async () => {
  const addresses = Array.from({ length: DOMAINS_PER_DAY + 5 }, (_, i) => `x@d${i}.cap.test`);
  const createdAt = await record('po-cap', addresses);
  const day = dayOf(createdAt, zone);
  const known = Object.keys((await dayDoc(day))?.domains ?? {}).length;
  await project(
    'po-cap',
    'error',
    Object.fromEntries(addresses.map((_, i) => [i, { status: 'dropped', reasonCode: 'suppressed' }])),
  );
  await fold({
    dispatches: [
      { dispatchId: 'po-cap', parts: Array.from({ length: Math.ceil(addresses.length / 25) }, (_, n) => n) },
    ],
  });
  const domains = (await dayDoc(day))!.domains!;
  expect(Object.keys(domains).filter((d) => d !== OTHER_DOMAINS && domains[d] > 0)).toHaveLength(
    DOMAINS_PER_DAY - known,
  );
  expect(domains[OTHER_DOMAINS]).toBe(addresses.length - (DOMAINS_PER_DAY - known));
});

test('exceptions: opened on their day and open until resolved, then resolved on the day they were', async () => {
  const openedAt = new Date('2026-12-01T10:00:00Z');
  await db.OrderException.insertMany([
    {
      _id: `${tenantId}/o-1/1`,
      tenantId,
      orderId: 'o-1',
      n: 1,
      type: 'stuck_in_transit',
      reason: 'no_tracking_update',
      openedAt,
    },
    {
      _id: `${tenantId}/o-1/2`,
      tenantId,
      orderId: 'o-1',
      n: 2,
      type: 'delivery_failed',
      reason: 'customer_unavailable',
      openedAt,
    },
  ]);
  await fold({ orders: [{ orderId: 'o-1', exceptions: [1, 2] }] });
  expect(await dayDoc('2026-12-01')).toMatchObject({ opened: { stuck_in_transit: 1, delivery_failed: 1 } });
  expect(await readOpenExceptions(db, tenantId)).toEqual({ '2026-12-01': { stuck_in_transit: 1, delivery_failed: 1 } });

  await db.OrderException.updateOne(
    { _id: `${tenantId}/o-1/1` },
    { $set: { resolvedAt: new Date('2026-12-03T09:00:00Z'), resolution: 'tracking_update' } },
  );
  await db.OrderException.updateOne(
    { _id: `${tenantId}/o-1/2` },
    { $set: { resolvedAt: new Date('2026-12-03T09:00:00Z'), resolution: 'delivered' } },
  );
  await fold({ orders: [{ orderId: 'o-1', exceptions: [1] }] });
  expect(await dayDoc('2026-12-03')).toMatchObject({ resolved: { stuck_in_transit: 1 } });
  expect(await readOpenExceptions(db, tenantId)).toEqual({ '2026-12-01': { stuck_in_transit: 0, delivery_failed: 1 } });
  // Nothing open left on a day: the day leaves the summary.
  await fold({ orders: [{ orderId: 'o-1', exceptions: [2] }] });
  expect(await readOpenExceptions(db, tenantId)).toEqual({});
  expect(await dayDoc('2026-12-01')).toMatchObject({ opened: { stuck_in_transit: 1, delivery_failed: 1 } });
});
