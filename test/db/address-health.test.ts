// The address-health registry as a dispatch's projection writes it (issue 20), on the embedded
// store (FerretDB): what each write stores and rebuilds, and how a retried write makes good one
// that stopped between storing a fact and rebuilding its record.
import { randomBytes } from 'node:crypto';
import { connectDb, type Db } from '../../src/db/models';
import { writeEventBatch, type StoredEvent } from '../../src/db/dispatch-events';
import { readRecord } from '../../src/db/address-health';
import { recordProjectedOutcomes } from '../../src/activities/address-guard';

let db: Db;
beforeAll(async () => {
  db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, {
    dbName: `relais_address_health_${randomBytes(4).toString('hex')}`,
  });
});
afterAll(async () => {
  await db?.connection.dropDatabase().catch(() => undefined);
  await db?.close();
});

const TENANT = 't-health';
const facts = () => db.connection.collection('address_health_facts');
const records = () => db.connection.collection('address_health');

/** A SendGrid event as the webhook handler stores it (its history entry is derived from it). */
const sendgrid = (dispatchId: string, index: number, id: string, event: string, payload: Record<string, unknown>) =>
  ({
    _id: `sendgrid:${id}`,
    tenantId: TENANT,
    dispatchId,
    index,
    attempt: 1,
    source: 'sendgrid',
    event,
    status: null,
    at: new Date('2026-12-06T10:00:00Z'),
    receivedAt: new Date('2026-12-06T10:00:01Z'),
    position: 0,
    reason: (payload.reason as string) ?? null,
    response: (payload.response as string) ?? null,
    payload,
  }) satisfies StoredEvent;

/** Stores the events as one request's history batch and projects it, as the workflow's write does. */
async function project(dispatchId: string, batch: string, events: StoredEvent[], retried = false) {
  const documents = await writeEventBatch(db, TENANT, dispatchId, batch, events, new Date());
  await recordProjectedOutcomes(
    db,
    TENANT,
    dispatchId,
    documents.map((document) => ({ document, batches: [batch] })),
    { retried },
  );
}

test("a message's five deferrals in one write are one temporary failure; the next write's duplicates change nothing", async () => {
  const address = 'five@acme.test';
  const deferred = (n: number) =>
    sendgrid('d-five', 3, `five-${n}`, 'deferred', { email: address, response: '451 4.2.0 try later' });
  await project('d-five', 'b1', [1, 2, 3, 4, 5].map(deferred));
  const record = await readRecord(db, TENANT, address);
  expect(record).toMatchObject({ state: 'soft', folded: 1 });
  expect(record!.conditions).toEqual([
    expect.objectContaining({ condition: 'soft_failure', count: 1, dispatchId: 'd-five' }),
  ]);
  // The provider's retry of the same request: the same entries in another batch.
  await project('d-five', 'b2', [1, 2, 3, 4, 5].map(deferred));
  expect(await facts().countDocuments({ tenantId: TENANT, address })).toBe(1);
  expect((await readRecord(db, TENANT, address))!.conditions[0].count).toBe(1);
});

test('a delivered email address with no record writes nothing; one with a temporary failure is cleared', async () => {
  await project('d-ok', 'b1', [sendgrid('d-ok', 0, 'ok-1', 'delivered', { email: 'fine@acme.test' })]);
  expect(await facts().countDocuments({ tenantId: TENANT, address: 'fine@acme.test' })).toBe(0);
  expect(await readRecord(db, TENANT, 'fine@acme.test')).toBeNull();

  const address = 'later@acme.test';
  await project('d-later', 'b1', [sendgrid('d-later', 0, 'later-1', 'deferred', { email: address })]);
  expect((await readRecord(db, TENANT, address))!.state).toBe('soft');
  await project('d-later', 'b2', [sendgrid('d-later', 0, 'later-2', 'delivered', { email: address })]);
  expect(await readRecord(db, TENANT, address)).toMatchObject({ state: 'ok', conditions: [] });
});

test('a write that stopped after storing a fact, before its rebuild: its retry rebuilds the record; a first attempt trusts it', async () => {
  const address = 'stopped@acme.test';
  const bounce = sendgrid('d-stop', 30, 'stop-1', 'bounce', {
    email: address,
    type: 'bounce',
    bounce_classification: 'Invalid Address',
    reason: '550 5.1.1 user unknown',
  });
  // The first attempt stored the fact and stopped: no record.
  await facts().insertOne({
    _id: `${TENANT}/${address}/sendgrid:stop-1`,
    tenantId: TENANT,
    address,
    addressKind: 'email',
    kind: 'invalid_address',
    at: bounce.at,
    code: 'Invalid Address',
    reason: bounce.reason,
    dispatchId: 'd-stop',
    orderId: null,
    actor: null,
    recordedAt: new Date(),
  } as never);
  // Not a retry (as if an earlier write of this dispatch had finished): the fact is taken as rebuilt.
  await project('d-stop', 'b1', [bounce]);
  expect(await readRecord(db, TENANT, address)).toBeNull();
  // The retry of the write that stopped: the record is rebuilt from the fact.
  await project('d-stop', 'b1', [bounce], true);
  expect(await readRecord(db, TENANT, address)).toMatchObject({ state: 'bad', folded: 1 });
  expect(await records().countDocuments({ tenantId: TENANT, address })).toBe(1);
});
