// N4: a message the provider has taken is not sent again because the delivery log could not be
// written (MongoDB down at that moment, fault 3 of test/faults): the send activity completes
// with the provider's answer — kept in the workflow's history — instead of failing into a retry
// that would send it a second time.
import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { connectDb, type Db } from '../../src/db/models';
import type { DispatchInput } from '../../src/domain/dispatch';
import type { EmailSender, OutboundEmail } from '../../src/providers/types';
import { Templates } from '../../src/templates';
import { purchaseOrder } from '../support/stack';

let db: Db;
beforeAll(async () => { db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, { dbName: `relais_test_sendlog_${randomBytes(4).toString('hex')}` }); });
afterAll(async () => { await db.connection.dropDatabase().catch(() => undefined); await db.close(); });

test('the send-log write fails after the provider took the message: the activity completes, nothing is sent twice', async () => {
  const sent: OutboundEmail[] = [];
  const sendgrid: EmailSender = {
    async sendEmail(message) {
      sent.push(message);
      return { provider: 'sendgrid', providerMessageId: 'MSG1', recipients: message.recipients.map((r) => ({ recipientId: r.recipientId, outcome: 'accepted' as const })) };
    },
  };
  // The delivery log's writes fail from now on, as when the MongoDB server goes away mid-activity.
  let down = false;
  const Dispatch = new Proxy(db.Dispatch, {
    get: (target, prop, receiver) => (prop === 'updateOne' && down
      ? () => Promise.reject(Object.assign(new Error('connection 1 to 127.0.0.1:27017 closed'), { name: 'MongoNetworkError' }))
      : Reflect.get(target, prop, receiver)),
  });
  const activities = createActivities({
    db: { ...db, Dispatch } as Db, templates: new Templates(), sendgrid,
    publicBaseUrl: 'http://127.0.0.1:1', emailFrom: 'n@relais.test', linkSecret: 'x'.repeat(32),
  });
  const body = purchaseOrder('po-sendlog', ['sendlog@acme.test']);
  const input: DispatchInput = {
    tenantId: 't-sendlog', dispatchId: 'po-sendlog', kind: 'document', channel: 'email', provider: 'sendgrid',
    template: body.template, data: body.data, locale: 'en', timeZone: 'Europe/Paris', tenantName: 'Bistro', document: body.document,
    sender: { ...body.sender, phone: null, smsOptIn: false, whatsappOptIn: false }, escalateTo: [],
    recipients: [{ recipientId: 'r1', address: 'sendlog@acme.test', name: null }], requestedBy: 'test',
    policy: { unknownAfterMs: 1_800_000, listenForMs: 60_000 }, dispatchUrl: 'http://127.0.0.1:1/ui/dispatches/po-sendlog', parentWorkflowId: null,
  };
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  await env.run(activities.prepareDispatch, input);

  down = true;
  const result = await env.run(activities.sendDispatch, { tenantId: 't-sendlog', dispatchId: 'po-sendlog', recipients: [{ routingId: 'r1.1', address: 'sendlog@acme.test', name: null }] });
  expect(result).toMatchObject({ providerMessageId: 'MSG1', recipients: [{ routingId: 'r1.1', outcome: 'accepted' }] });
  expect(sent).toHaveLength(1);
});
