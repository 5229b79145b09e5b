// Raw webhook events are kept 30 days for audit, on MongoDB (TTL index) and FerretDB (purge job) alike.
import { randomBytes } from 'node:crypto';
import { connectDb, ensureWebhookEventRetention, purgeWebhookEvents, type Db } from '../../src/db/models';

let db: Db;
beforeAll(async () => { db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, { dbName: `relais_test_${randomBytes(4).toString('hex')}` }); });
afterAll(async () => { await db.connection.dropDatabase(); await db.close(); });

test('the retention mechanism matches the server, and the purge removes only events older than 30 days', async () => {
  const info = await db.connection.db!.admin().command({ buildInfo: 1 });
  expect(await ensureWebhookEventRetention(db)).toBe('ferretdbVersion' in info ? 'periodic-purge' : 'ttl-index');
  const now = Date.parse('2026-11-22T12:00:00Z');
  await db.WebhookEvent.insertMany([
    { provider: 'sendgrid', eventId: 'old', outcome: 'signalled', payload: { a: 1 }, receivedAt: new Date(now - 31 * 86_400_000) },
    { provider: 'sendgrid', eventId: 'recent', outcome: 'signalled', payload: { a: 2 }, receivedAt: new Date(now - 29 * 86_400_000) },
  ]);
  expect(await purgeWebhookEvents(db, 30, now)).toBe(1);
  expect((await db.WebhookEvent.find().lean()).map((e) => e.eventId)).toEqual(['recent']);
});
