// N4: a message the provider has taken is not sent again because the delivery log could not be
// written (MongoDB down at that moment, fault 3 of test/faults): the send activity completes
// with the provider's answer — kept in the workflow's history — instead of failing into a retry
// that would send it a second time. And a retried send skips what an earlier attempt handed over.
import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { connectDb, type Db } from '../../src/db/models';
import { recordDispatch } from '../../src/db/dispatch-records';
import type { DispatchInput as DispatchInputV1 } from '../../src/domain/legacy/dispatch-v1';
import type { EmailSender, OutboundEmail } from '../../src/providers/types';
import { Templates } from '../../src/templates';
import { purchaseOrder } from '../support/stack';

let db: Db;
beforeAll(async () => {
  db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, {
    dbName: `relais_test_sendlog_${randomBytes(4).toString('hex')}`,
  });
});
afterAll(async () => {
  await db.connection.dropDatabase().catch(() => undefined);
  await db.close();
});

const mongoDown = () =>
  Promise.reject(Object.assign(new Error('connection 1 to 127.0.0.1:27017 closed'), { name: 'MongoNetworkError' }));

function recordingSender(sent: OutboundEmail[]): EmailSender {
  return {
    async sendEmail(message) {
      sent.push(message);
      return {
        provider: 'sendgrid',
        providerMessageId: 'MSG1',
        recipients: message.recipients.map((r) => ({ recipientId: r.recipientId, outcome: 'accepted' as const })),
      };
    },
  };
}

/** Activities on a database whose `model.method` writes fail while `down()` says so. */
function activitiesWith(
  sent: OutboundEmail[],
  model: 'DispatchEvent' | 'LegacyDispatch',
  method: 'insertMany' | 'updateOne',
  down: () => boolean,
) {
  const failing = new Proxy(db[model], {
    get: (target, prop, receiver) => (prop === method && down() ? mongoDown : Reflect.get(target, prop, receiver)),
  });
  return createActivities({
    db: { ...db, [model]: failing } as Db,
    templates: new Templates(),
    sendgrid: recordingSender(sent),
    publicBaseUrl: 'http://127.0.0.1:1',
    emailFrom: 'n@relais.test',
    linkSecret: 'x'.repeat(32),
  });
}

const body = purchaseOrder('po-sendlog', ['sendlog@acme.test']);
const quiet = { logger: new DefaultLogger('ERROR') };

test('the events write fails after the provider took the message: the activity completes, nothing is sent twice', async () => {
  const sent: OutboundEmail[] = [];
  let down = false;
  const activities = activitiesWith(sent, 'DispatchEvent', 'insertMany', () => down);
  await recordDispatch(db, {
    tenantId: 't-sendlog',
    dispatchId: 'po-sendlog',
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: body.template,
    locale: 'en',
    document: body.document,
    sender: { ...body.sender },
    requestedBy: 'test',
    content: { subject: 'PO', html: '<p>PO</p>', text: 'PO', templateData: body.data },
    sealed: null,
    attachments: [],
    recipients: [{ recipientId: 'r1', address: 'sendlog@acme.test', name: null }],
    parent: null,
    request: null,
  });
  down = true;
  const result = await new MockActivityEnvironment(undefined, quiet).run(activities.sendRecipients, {
    tenantId: 't-sendlog',
    dispatchId: 'po-sendlog',
    first: true,
  });
  expect(result).toMatchObject({ accepted: [0], sent: [], notSent: [] });
  expect(sent).toHaveLength(1);
  expect(sent[0].customArgs).toMatchObject({ relais_tenant: 't-sendlog', relais_dispatch: 'po-sendlog' });
  expect(sent[0].recipientArg).toBe('relais_index');
});

test('a retried send (a later attempt of the activity) skips what an earlier attempt handed over (N4)', async () => {
  const sent: OutboundEmail[] = [];
  const activities = activitiesWith(sent, 'DispatchEvent', 'insertMany', () => false);
  await recordDispatch(db, {
    tenantId: 't-sendlog',
    dispatchId: 'po-retry',
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: body.template,
    locale: 'en',
    document: body.document,
    sender: { ...body.sender },
    requestedBy: 'test',
    content: { subject: 'PO', html: '<p>PO</p>', text: 'PO', templateData: body.data },
    sealed: null,
    attachments: [],
    parent: null,
    request: null,
    recipients: [
      { recipientId: 'r1', address: 'a@acme.test', name: null },
      { recipientId: 'r2', address: 'b@acme.test', name: null },
    ],
  });
  const request = { tenantId: 't-sendlog', dispatchId: 'po-retry', first: true };
  await new MockActivityEnvironment({ attempt: 1 }, quiet).run(activities.sendRecipients, request);
  const again = await new MockActivityEnvironment({ attempt: 2 }, quiet).run(activities.sendRecipients, request);
  expect(again).toMatchObject({ accepted: [0, 1] });
  expect(sent).toHaveLength(1);
  expect(sent[0].recipients.map((r) => r.email)).toEqual(['a@acme.test', 'b@acme.test']);
});

test("the first version's send: the send-log write fails after the provider took the message; nothing is sent twice", async () => {
  const sent: OutboundEmail[] = [];
  let down = false;
  const activities = activitiesWith(sent, 'LegacyDispatch', 'updateOne', () => down);
  const input: DispatchInputV1 = {
    tenantId: 't-sendlog',
    dispatchId: 'po-sendlog-v1',
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: body.template,
    data: body.data,
    locale: 'en',
    timeZone: 'Europe/Paris',
    tenantName: 'Bistro',
    document: body.document,
    sender: { ...body.sender, phone: null, smsOptIn: false, whatsappOptIn: false },
    escalateTo: [],
    recipients: [{ recipientId: 'r1', address: 'sendlog@acme.test', name: null }],
    requestedBy: 'test',
    policy: { unknownAfterMs: 1_800_000, listenForMs: 60_000 },
    dispatchUrl: 'http://127.0.0.1:1/ui/dispatches/po-sendlog-v1',
    parentWorkflowId: null,
  };
  const env = new MockActivityEnvironment(undefined, quiet);
  await env.run(activities.prepareDispatch, input);
  down = true;
  const result = await env.run(activities.sendDispatch, {
    tenantId: 't-sendlog',
    dispatchId: 'po-sendlog-v1',
    recipients: [{ routingId: 'r1.1', address: 'sendlog@acme.test', name: null }],
  });
  expect(result).toMatchObject({ providerMessageId: 'MSG1', recipients: [{ routingId: 'r1.1', outcome: 'accepted' }] });
  expect(sent).toHaveLength(1);
});
