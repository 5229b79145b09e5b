// Issue 15: SendGrid batches are answered once stored in the webhook inbox and applied behind the
// answer. Nothing accepted is lost (rule N3: the provider's word is applied once it was taken):
// a process that dies before applying leaves its requests to any other process's sweep, two
// sweepers never apply one request twice, and past its bound a process answers 503 and stores nothing.
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';
import { firstRecipientEvent, signedSendGrid } from '../support/sendgrid-webhook';
import { buildServer } from '../../src/api/server';
import { Templates } from '../../src/templates';
import type { ApiLimits } from '../../src/api/limits';

let stack: Stack;
const others: FastifyInstance[] = [];
beforeAll(async () => {
  stack = await startStack({ eventDelayMs: 50 });
});
afterAll(async () => {
  await Promise.all(others.map((app) => app.close())); // closing twice is harmless
  await stack?.close();
});

/** Another API process on the same store and Temporal (its sweep runs when it is ready). */
async function anotherApi(limits: Partial<ApiLimits> = {}) {
  const app = buildServer({
    db: stack.db,
    temporal: stack.client,
    templates: new Templates(),
    taskQueue: stack.taskQueue,
    publicBaseUrl: stack.apiUrl,
    sendgridWebhookPublicKey: createPublicKey(createPrivateKey(stack.sendgridSigningKeyPem))
      .export({ type: 'spki', format: 'der' })
      .toString('base64'),
    twilioAuthToken: SANDBOX_SECRETS.twilioAuthToken,
    linkSecret: SANDBOX_SECRETS.linkSecret,
    limits: { webhookRate: { max: 1_000_000, windowMs: 60_000 }, ...limits },
  });
  others.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/** A request as the accept path stores it, held by a process that died before applying it: its lease has run out. */
async function leftByACrashedProcess(events: unknown[]) {
  const id = randomUUID();
  await stack.db.WebhookInbox.collection.insertOne({
    _id: id as never,
    requestId: id,
    provider: 'sendgrid',
    body: signedSendGrid(stack, events).body,
    receivedAt: new Date(Date.now() - 60_000),
    leaseUntil: new Date(Date.now() - 30_000),
    owner: 'a-process-that-crashed',
  });
  return id;
}

const event = (dispatchId: string, type: string, id: string, extra: Record<string, unknown> = {}) =>
  firstRecipientEvent(stack, dispatchId, type, id, extra);

const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;
const inboxSize = () => stack.db.WebhookInbox.countDocuments({});

test('a batch accepted by a process that crashed before applying it is applied by the next process to start (N3, L2)', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('inbox-crash', ['a+silent@acme.test']));
  await stack.waitFor('processed', async () => (await get('inbox-crash'))?.recipients?.[0]?.status === 'processed');
  const left = await leftByACrashedProcess([event('inbox-crash', 'delivered', 'crash-1', { response: '250 OK' })]);

  await anotherApi(); // its sweep at start takes what nobody holds any more
  // rule L2: the recipient's status history shows the provider's word, once
  const recipient = await stack.waitFor('delivered', async () => {
    const r = (await get('inbox-crash')).recipients[0];
    return r.status === 'delivered' ? r : undefined;
  });
  expect(recipient.history.filter((h: any) => h.event === 'delivered')).toHaveLength(1);
  expect(await stack.db.DispatchEvent.countDocuments({ _id: 'sendgrid:crash-1' })).toBe(1);
  await stack.waitFor('the inbox emptied', async () => (await stack.db.WebhookInbox.findById(left).lean()) === null);
  expect(await inboxSize()).toBe(0);
});

test('two processes sweeping the same requests at once apply each once', async () => {
  // Events of no running dispatch: each application keeps them for audit, so an audit row counts an application.
  const count = 12;
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      leftByACrashedProcess([event(`inbox-gone-${i}`, 'delivered', `race-${i}`)]),
    ),
  );
  await Promise.all([anotherApi(), anotherApi()]); // both sweep as they become ready
  await stack.waitFor('the inbox emptied', async () => (await inboxSize()) === 0);
  const audited = await stack.db.WebhookEvent.find({ eventId: /^race-/ }, { eventId: 1, outcome: 1 }).lean();
  expect(audited.map((a) => a.eventId).sort()).toEqual(Array.from({ length: count }, (_, i) => `race-${i}`).sort());
  expect(new Set(audited.map((a) => a.outcome))).toEqual(new Set(['unknown_target']));
});

test('past its bound of pending work a process answers 503 with Retry-After, and stores nothing', async () => {
  const small = await anotherApi({ webhookInbox: { maxPendingRequests: 10, maxPendingBytes: 64 } });
  const res = await fetch(`${small.url}/webhooks/sendgrid`, {
    method: 'POST',
    ...signedSendGrid(stack, [event('inbox-full', 'delivered', 'full-1')]),
  });
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('10');
  expect(((await res.json()) as any).error).toMatchObject({
    code: 'busy',
    details: { pendingRequests: 0, pendingBytes: 0, retryAfterSeconds: 10 },
  });
  expect(await inboxSize()).toBe(0);
  expect(await stack.db.DispatchEvent.countDocuments({ _id: 'sendgrid:full-1' })).toBe(0);
  expect(await stack.db.WebhookEvent.countDocuments({ eventId: 'full-1' })).toBe(0);

  // The same request on a process with room is taken (the provider's retry).
  const res2 = await fetch(`${stack.apiUrl}/webhooks/sendgrid`, {
    method: 'POST',
    ...signedSendGrid(stack, [event('inbox-full', 'delivered', 'full-1')]),
  });
  expect(res2.status).toBe(200);
  await stack.waitFor('kept for audit', () => stack.db.WebhookEvent.findOne({ eventId: 'full-1' }).lean());
});

test('closing an API process waits for the batches it accepted to be applied', async () => {
  const leaving = await anotherApi();
  const res = await fetch(`${leaving.url}/webhooks/sendgrid`, {
    method: 'POST',
    ...signedSendGrid(stack, [event('inbox-closing', 'delivered', 'closing-1')]),
  });
  expect(res.status).toBe(200);
  await leaving.app.close(); // as SIGTERM does (src/api/main.ts)
  // Applied before close returned: no wait here.
  expect(await stack.db.WebhookEvent.countDocuments({ eventId: 'closing-1', outcome: 'unknown_target' })).toBe(1);
  expect(await inboxSize()).toBe(0);
});
