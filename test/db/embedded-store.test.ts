// The embedded store (FerretDB on PostgreSQL, scripts/lib/ferretdb-postgresql.sql) takes what
// Relais writes at the documented limits: a dispatch to 1000 recipients (rule D1) is recorded with
// its address list, which FerretDB's B-tree on `recipientAddresses` refused (its 2704-byte row
// limit) until the index trigger replaced non-unique B-trees with GIN twins.
import { randomBytes } from 'node:crypto';
import { connectDb, type Db } from '../../src/db/models';

let db: Db;
beforeAll(async () => {
  db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, {
    dbName: `relais_store_${randomBytes(4).toString('hex')}`,
  });
});
afterAll(async () => {
  await db?.connection.dropDatabase().catch(() => undefined);
  await db?.close();
});

test('D1: a dispatch to 1000 recipients with long addresses is recorded, and found by one of them', async () => {
  const addresses = Array.from(
    { length: 1000 },
    (_, i) => `purchasing.department.${i}@a-rather-long-supplier-domain-name.example`,
  );
  await db.Dispatch.create({
    _id: 't1/big-1',
    format: 2,
    tenantId: 't1',
    dispatchId: 'big-1',
    workflowId: 'dispatch/t1/big-1',
    number: 1,
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: 'purchase_order',
    locale: 'en',
    requestedBy: 'k1',
    result: 'queued',
    recipientCount: addresses.length,
    recipientAddresses: addresses,
  });
  const found = await db.Dispatch.findOne(
    { tenantId: 't1', recipientAddresses: addresses[737] },
    { dispatchId: 1 },
  ).lean();
  expect(found?.dispatchId).toBe('big-1');
  // Unique indexes still hold (they stay B-trees): the same dispatch cannot be recorded twice.
  await expect(
    db.Dispatch.create({
      _id: 't1/big-1-again',
      format: 2,
      tenantId: 't1',
      dispatchId: 'big-1',
      workflowId: 'dispatch/t1/big-1',
      number: 2,
      kind: 'document',
      channel: 'email',
      provider: 'sendgrid',
      template: 'purchase_order',
      locale: 'en',
      requestedBy: 'k1',
      result: 'queued',
      recipientCount: 1,
    }),
  ).rejects.toMatchObject({ code: 11000 });
});
