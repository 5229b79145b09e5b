// Raw webhook events are kept 30 days for audit, on MongoDB (TTL index) and FerretDB (purge job) alike;
// so are outbound webhooks' tenant events and finished deliveries (a delivery still retrying stays).
import { randomBytes } from 'node:crypto';
import {
  connectDb,
  ensureWebhookEventRetention,
  purgeOutboundWebhooks,
  purgeWebhookEvents,
  type Db,
} from '../../src/db/models';

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

test('the retention mechanism matches the server, and the purge removes only events older than 30 days', async () => {
  const info = await db.connection.db!.admin().command({ buildInfo: 1 });
  expect(await ensureWebhookEventRetention(db)).toBe('ferretdbVersion' in info ? 'periodic-purge' : 'ttl-index');
  const now = Date.parse('2026-11-22T12:00:00Z');
  await db.WebhookEvent.insertMany([
    {
      provider: 'sendgrid',
      eventId: 'old',
      outcome: 'signalled',
      payload: { a: 1 },
      receivedAt: new Date(now - 31 * 86_400_000),
    },
    {
      provider: 'sendgrid',
      eventId: 'recent',
      outcome: 'signalled',
      payload: { a: 2 },
      receivedAt: new Date(now - 29 * 86_400_000),
    },
  ]);
  expect(await purgeWebhookEvents(db, 30, now)).toBe(1);
  expect((await db.WebhookEvent.find().lean()).map((e) => e.eventId)).toEqual(['recent']);
});

test('outbound webhooks: events and finished deliveries older than 30 days go; a delivery still retrying stays', async () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  const day = 86_400_000;
  const event = (id: string, ageDays: number) => ({
    _id: `t/${id}`,
    tenantId: 't',
    eventId: id,
    webhookId: `msg_${id}`,
    type: 'order.held',
    body: '{}',
    occurredAt: new Date(now - ageDays * day),
  });
  await db.TenantEvent.insertMany([event('old', 31), event('recent', 29)]);
  const delivery = (id: string, number: number, finishedDaysAgo: number | null) => ({
    _id: id,
    tenantId: 't',
    number,
    endpointId: 'we_1',
    url: 'https://example.com/hook',
    eventId: 'old',
    webhookId: 'msg_old',
    type: 'order.held',
    status: finishedDaysAgo === null ? 'retrying' : 'delivered',
    requestedBy: 'relais',
    finishedAt: finishedDaysAgo === null ? null : new Date(now - finishedDaysAgo * day),
  });
  await db.WebhookDelivery.insertMany([
    delivery('wd_old', 1, 31),
    delivery('wd_recent', 2, 29),
    delivery('wd_running', 3, null),
  ]);
  expect(await purgeOutboundWebhooks(db, 30, now)).toEqual({ events: 1, deliveries: 1 });
  expect((await db.TenantEvent.find().lean()).map((e) => e.eventId)).toEqual(['recent']);
  expect((await db.WebhookDelivery.find().sort({ number: 1 }).lean()).map((d) => d._id)).toEqual([
    'wd_recent',
    'wd_running',
  ]);
});
