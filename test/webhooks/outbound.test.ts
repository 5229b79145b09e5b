// Outbound webhooks (issue 21, item 4; docs/webhooks.md) on the real stack: a tenant registers
// endpoints of its own system (a real HTTP server here), events raised by a workflow through
// src/workflows/tenant-events.ts reach the subscribed ones, signed per Standard Webhooks and
// verified by an independent implementation (the `standardwebhooks` package: its own base64 and
// SHA-256); retried after a failure, rotated, replayed, stopped by 410, refused where Relais must
// not send, and one tenant never sees or triggers another's.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Webhook } from 'standardwebhooks';
import { QUIET_BUNDLER_LOGGER } from '../../src/worker';
import { postWebhook } from '../../src/outbound/post';
import { sealEndpointSecret } from '../../src/outbound/signing';
import { startStack, type Stack } from '../support/stack';
import { webhookActivities } from '../support/tenant-events';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver';
import { publishEvents, type PublishRequest } from './publisher-workflows';

/** Names only these tests resolve: one inside the metadata range (a name that passes registration and resolves where Relais must not go). */
const TEST_NAMES: Record<string, string> = { 'metadata.relais-test': '169.254.169.254' };

let stack: Stack;
let receiver: WebhookReceiver;
let publisher: Worker;
let running: Promise<void>;
let connection: NativeConnection;
const publisherQueue = `publisher-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startStack({
      webhooks: {
        resolve: (hostname, callback) =>
          TEST_NAMES[hostname]
            ? callback(null, [{ address: TEST_NAMES[hostname], family: 4 }])
            : callback(Object.assign(new Error(`${hostname} is not a test name`), { code: 'ENOTFOUND' }), []),
      },
    }),
    startWebhookReceiver(),
  ]);
  connection = await NativeConnection.connect({ address: process.env.RELAIS_TEST_TEMPORAL_ADDRESS! });
  // The publishing side as the dispatch and order workflows will use it: a workflow calling
  // tenantEvents(…).publish, whose activity starts delivery workflows on the stack's worker.
  publisher = await Worker.create({
    connection,
    taskQueue: publisherQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('./publisher-workflows'),
      logger: QUIET_BUNDLER_LOGGER,
    }),
    activities: webhookActivities(stack),
  });
  running = publisher.run();
});
afterAll(async () => {
  publisher?.shutdown();
  await running;
  await connection?.close();
  await receiver?.close();
  await stack?.close();
});
afterEach(async () => {
  // Each test's endpoints go, so the next test's events reach only its own.
  for (const key of [stack.key, stack.other.key]) {
    for (const e of (await stack.request('GET', '/v1/webhook-endpoints', undefined, key)).body.endpoints)
      await stack.request('DELETE', `/v1/webhook-endpoints/${e.id}`, undefined, key);
  }
});

const publish = (events: PublishRequest['events'], tenantId = stack.tenantId) =>
  stack.client.workflow.execute(publishEvents, {
    taskQueue: publisherQueue,
    workflowId: `publish-${randomBytes(6).toString('hex')}`,
    args: [{ tenantId, events }],
  });

const held = (orderId: string) => ({
  type: 'order.held' as const,
  data: { orderId, reason: 'address_or_contact', risk: 'high', customerAsked: true },
});

async function register(path: string, events: string[], key = stack.key) {
  const res = await stack.request(
    'POST',
    '/v1/webhook-endpoints',
    { url: receiver.url(path), events, description: `receiver ${path}` },
    key,
  );
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; url: string };
}

/** Standard Webhooks verification by the independent implementation; throws when no signature matches. */
const verify = (secret: string, request: ReceivedWebhook) =>
  new Webhook(secret).verify(request.body, request.headers as Record<string, string>);

const deliveriesOf = async (endpointId: string, key = stack.key) =>
  (await stack.request('GET', `/v1/webhook-deliveries?endpointId=${endpointId}`, undefined, key)).body
    .deliveries as any[];

test('an event reaches the subscribed endpoint signed per Standard Webhooks; a 500 is retried after the backoff, the 200 ends it; every attempt is logged', async () => {
  const endpoint = await register('/orders', ['order.held', 'order.released']);
  const other = await register('/dispatches', ['dispatch.result_changed']);
  expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  receiver.script('/orders', [{ status: 500, body: 'boom: database locked' }, 200]);

  await publish([held('o-1')]);
  const [first, second] = await stack.waitFor('the retry', async () =>
    receiver.received('/orders').length >= 2 ? receiver.received('/orders') : undefined,
  );
  // Both verify with the endpoint's secret, independently of Relais's code.
  expect(verify(endpoint.secret, first)).toEqual({
    type: 'order.held',
    timestamp: expect.any(String),
    data: held('o-1').data,
  });
  expect(verify(endpoint.secret, second)).toEqual(verify(endpoint.secret, first));
  // The same event: same webhook-id and the same bytes; the attempt's own timestamp.
  expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
  expect(first.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9_-]+$/);
  expect(second.body).toBe(first.body);
  expect(first.headers['content-type']).toBe('application/json');
  expect(Number(first.headers['webhook-timestamp'])).toBeLessThanOrEqual(Number(second.headers['webhook-timestamp']));
  // A secret of another endpoint does not verify it.
  expect(() => verify(other.secret, first)).toThrow(/No matching signature/);

  const delivery = await stack.waitFor('delivered', async () =>
    (await deliveriesOf(endpoint.id)).find((d) => d.status === 'delivered'),
  );
  expect(delivery).toMatchObject({
    type: 'order.held',
    url: receiver.url('/orders'),
    webhookId: first.headers['webhook-id'],
    reason: null,
    replayOf: null,
    nextAttemptAt: null,
  });
  expect(delivery.attempts.map((a: any) => [a.statusCode, a.error, a.response])).toEqual([
    [500, null, 'boom: database locked'],
    [200, null, 'ok'],
  ]);
  expect(delivery.attempts.every((a: any) => typeof a.durationMs === 'number' && a.durationMs >= 0)).toBe(true);
  // The backoff: the second attempt came no sooner than the schedule's first wait (5 s).
  expect(Date.parse(delivery.attempts[1].at) - Date.parse(delivery.attempts[0].at)).toBeGreaterThanOrEqual(5_000);
  expect(second.at - first.at).toBeGreaterThanOrEqual(5_000);
  // Counted for Prometheus (the worker runs in this process; its registry is the one /metrics serves).
  const counted = await (await fetch(`${stack.metricsUrl}/metrics`)).text();
  expect(counted).toMatch(/relais_outbound_webhook_attempts_total\{outcome="retry"\} [1-9]/);
  expect(counted).toMatch(/relais_outbound_webhook_attempts_total\{outcome="delivered"\} [1-9]/);
  // The endpoint subscribed to dispatch events only got nothing.
  expect(receiver.received('/dispatches')).toHaveLength(0);

  // Publishing the same event id twice starts nothing twice (the workflow's activity retried, or called again).
  await publish([
    { ...held('o-2'), eventId: 'order/o-2/held/1' },
    { ...held('o-2'), eventId: 'order/o-2/held/1' },
  ]);
  await stack.waitFor(
    'o-2 delivered',
    async () => (await deliveriesOf(endpoint.id)).filter((d) => d.status === 'delivered').length === 2,
  );
  expect(receiver.received('/orders').filter((r) => r.body.includes('"o-2"'))).toHaveLength(1);
});

test('the Python verification shown in docs/webhooks.md accepts a real request and refuses a tampered one', async () => {
  const endpoint = await register('/python', ['order.held']);
  await publish([held('o-py')]);
  const request = await stack.waitFor('the request', async () => receiver.received('/python')[0]);
  const docs = readFileSync(join(__dirname, '../../docs/webhooks.md'), 'utf8');
  const snippet = /```python\n([\s\S]*?)```/.exec(docs)![1];
  const check = (body: string, secret = endpoint.secret) =>
    execFileSync(
      'python3',
      [
        '-c',
        `${snippet}
import json, sys
given = json.load(sys.stdin)
print(verify(given["secret"], given["headers"], given["body"].encode()))
`,
      ],
      { input: JSON.stringify({ secret, headers: request.headers, body }), encoding: 'utf8' },
    ).trim();
  expect(check(request.body)).toBe('True');
  expect(check(request.body.replace('o-py', 'o-px'))).toBe('False');
  expect(check(request.body, (await register('/python-other', ['order.held'])).secret)).toBe('False');
});

test('a secret sealed under a LINK_SECRET no longer configured: the delivery fails saying so, and nothing is sent unsigned', async () => {
  const endpoint = await register('/unreadable', ['order.held']);
  await stack.db.WebhookEndpoint.updateOne(
    { _id: endpoint.id },
    {
      $set: {
        secret: sealEndpointSecret(
          'a retired link secret, 32 chars or more',
          stack.tenantId,
          endpoint.id,
          endpoint.secret,
        ),
      },
    },
  );
  await publish([held('o-unreadable')]);
  const delivery = await stack.waitFor('failed', async () =>
    (await deliveriesOf(endpoint.id)).find((d) => d.status === 'failed'),
  );
  expect(delivery).toMatchObject({ reason: 'secret_unreadable', attempts: [] });
  expect(receiver.received('/unreadable')).toHaveLength(0);
});

test('an event purged (past its 30 days) while its delivery waits for a retry: the delivery fails saying so', async () => {
  const endpoint = await register('/expiring', ['order.held']);
  receiver.script('/expiring', [500]);
  await publish([{ ...held('o-expiring'), eventId: 'expiring-1' }]);
  await stack.waitFor('the first attempt', async () =>
    (await deliveriesOf(endpoint.id)).find((d) => d.status === 'retrying'),
  );
  await stack.db.TenantEvent.deleteOne({ _id: `${stack.tenantId}/expiring-1` });
  const delivery = await stack.waitFor('failed', async () =>
    (await deliveriesOf(endpoint.id)).find((d) => d.status === 'failed'),
  );
  expect(delivery).toMatchObject({ reason: 'event_expired', attempts: [expect.objectContaining({ statusCode: 500 })] });
  expect(receiver.received('/expiring')).toHaveLength(1);
});

test("a workflow's publish with data that breaks its schema is logged, and the workflow carries on", async () => {
  const endpoint = await register('/strict', ['order.held']);
  await publish([{ type: 'order.held', data: { orderId: 'o-bad' } }, held('o-good')]);
  await stack.waitFor('the good one delivered', async () => receiver.received('/strict').length === 1);
  expect(verify(endpoint.secret, receiver.received('/strict')[0])).toMatchObject({ data: { orderId: 'o-good' } });
  expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
});

test('rotation: the new secret is shown once; both signatures are sent for the overlap; PT0S ends the old one at once', async () => {
  const endpoint = await register('/rotate', ['order.released']);
  const released = (orderId: string) => ({
    type: 'order.released' as const,
    data: { orderId, by: 'ops', actor: 'k1', reason: 'checked by phone' },
  });
  const rotated = await stack.request('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, {});
  expect(rotated.status).toBe(200);
  expect(rotated.body.secret).not.toBe(endpoint.secret);
  expect(Date.parse(rotated.body.previousSecretUntil) - Date.parse(rotated.body.secretRotatedAt)).toBe(86_400_000);
  // Shown once: reading the endpoint never gives either secret.
  const read = await stack.request('GET', `/v1/webhook-endpoints/${endpoint.id}`);
  expect(JSON.stringify(read.body)).not.toMatch(/whsec_/);

  await publish([released('o-r1')]);
  const during = await stack.waitFor('the event during the overlap', async () => receiver.received('/rotate')[0]);
  expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
  verify(endpoint.secret, during); // a receiver still on the old secret
  verify(rotated.body.secret, during); // one that switched already

  // PT0S drops the previous secret at once (e.g. after a leak).
  const quick = await stack.request('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, {
    previousSecretFor: 'PT0S',
  });
  expect(quick.status).toBe(200);
  expect(quick.body.previousSecretUntil).toBeNull();
  await publish([released('o-r2')]);
  const after = await stack.waitFor('the event after', async () => receiver.received('/rotate')[1]);
  expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
  verify(quick.body.secret, after);
  expect(() => verify(rotated.body.secret, after)).toThrow(/No matching signature/);
  expect(
    (await stack.request('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { previousSecretFor: 'P8D' }))
      .status,
  ).toBe(422);

  // What is stored is sealed: no secret in the endpoint's record, nor in the audit.
  const stored = await stack.db.WebhookEndpoint.findById(endpoint.id).select('+secret +previousSecret').lean();
  const audit = await stack.db.Audit.find({ target: endpoint.id }).lean();
  for (const secret of [endpoint.secret, rotated.body.secret, quick.body.secret]) {
    const raw = secret.slice('whsec_'.length);
    expect(JSON.stringify(stored)).not.toContain(raw);
    expect(JSON.stringify(audit)).not.toContain(raw);
  }
  expect(stored!.secret).toMatch(/^v1\./);
});

test("replay: the same event again, as a new delivery with the same webhook-id, to the endpoint's current URL", async () => {
  const endpoint = await register('/replay-old', ['order.cancelled']);
  receiver.script('/replay-old', [404, 404, 404]);
  await publish([
    {
      type: 'order.cancelled',
      data: { orderId: 'o-c1', previousState: 'on_hold', actor: null, reason: 'customer asked' },
    },
  ]);
  const original = await stack.waitFor('the first attempt', async () =>
    (await deliveriesOf(endpoint.id)).find((d) => d.attempts.length >= 1),
  );
  expect(original.attempts[0].statusCode).toBe(404);

  // The tenant fixes its URL, then replays without waiting for the next retry.
  expect(
    (await stack.request('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { url: receiver.url('/replay-new') })).body
      .url,
  ).toBe(receiver.url('/replay-new'));
  const replay = await stack.request('POST', `/v1/webhook-deliveries/${original.id}/replay`, {});
  expect(replay.status).toBe(202);
  expect(replay.body).toMatchObject({
    replayOf: original.id,
    webhookId: original.webhookId,
    type: 'order.cancelled',
    url: receiver.url('/replay-new'),
  });
  expect(replay.body.id).not.toBe(original.id);
  const received = await stack.waitFor('the replay', async () => receiver.received('/replay-new')[0]);
  expect(received.headers['webhook-id']).toBe(original.webhookId);
  expect(verify(endpoint.secret, received)).toMatchObject({ type: 'order.cancelled', data: { orderId: 'o-c1' } });
  expect(received.body).toBe(receiver.received('/replay-old')[0].body);
  const detail = await stack.waitFor('the replay delivered', async () => {
    const d = (await stack.request('GET', `/v1/webhook-deliveries/${replay.body.id}`)).body;
    return d.status === 'delivered' && d;
  });
  expect(detail.payload).toEqual(JSON.parse(received.body));
  expect(detail.requestedBy).toBe(stack.key.slice(3, 15));
  // An event past its 30 days (purged) is not replayed: refused naming why, nothing sent.
  const purged = await stack.db.TenantEvent.findOneAndDelete({ _id: `${stack.tenantId}/${original.eventId}` }).lean();
  const expired = await stack.request('POST', `/v1/webhook-deliveries/${original.id}/replay`, {});
  expect([expired.status, expired.body.error.code]).toEqual([409, 'event_expired']);
  await stack.db.TenantEvent.create(purged!);
  // Deleted endpoint: the waiting delivery stops at its next attempt; replay is refused naming why.
  expect((await stack.request('DELETE', `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(204);
  const refused = await stack.request('POST', `/v1/webhook-deliveries/${original.id}/replay`, {});
  expect([refused.status, refused.body.error.code]).toEqual([409, 'endpoint_deleted']);
});

test('410 Gone disables the endpoint: nothing more is sent to it until it is enabled again', async () => {
  const endpoint = await register('/gone', ['order.exception_opened', 'order.exception_resolved']);
  receiver.script('/gone', [410]);
  const opened = (orderId: string) => ({
    type: 'order.exception_opened' as const,
    data: {
      orderId,
      exception: {
        type: 'stuck_in_transit',
        reason: 'no_tracking_update',
        details: null,
        openedAt: '2026-11-02T10:00:00.000Z',
      },
    },
  });
  await publish([opened('o-g1')]);
  const delivery = await stack.waitFor('failed', async () =>
    (await deliveriesOf(endpoint.id)).find((d) => d.status === 'failed'),
  );
  expect(delivery).toMatchObject({ reason: 'gone', attempts: [expect.objectContaining({ statusCode: 410 })] });
  expect(await (await fetch(`${stack.metricsUrl}/metrics`)).text()).toMatch(
    /relais_outbound_webhook_failures_total\{reason="gone"\} [1-9]/,
  );
  const disabled = (await stack.request('GET', `/v1/webhook-endpoints/${endpoint.id}`)).body;
  expect(disabled).toMatchObject({ enabled: false, disabledReason: 'gone', disabledAt: expect.any(String) });

  await publish([opened('o-g2')]);
  expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
  const replay = await stack.request('POST', `/v1/webhook-deliveries/${delivery.id}/replay`, {});
  expect([replay.status, replay.body.error.code]).toEqual([409, 'endpoint_disabled']);
  expect(receiver.received('/gone')).toHaveLength(1);

  const enabled = await stack.request('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { enabled: true });
  expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
  expect((await stack.request('POST', `/v1/webhook-deliveries/${delivery.id}/replay`, {})).status).toBe(202);
  await stack.waitFor('the replay after re-enabling', async () => receiver.received('/gone').length === 2);
  expect(verify(endpoint.secret, receiver.received('/gone')[1])).toMatchObject({ data: { orderId: 'o-g1' } });
});

test('where Relais does not send: the metadata address is refused at registration, and a name resolving there at connection time is never connected to', async () => {
  for (const url of [
    'http://169.254.169.254/latest/meta-data',
    'http://[::ffff:169.254.169.254]/',
    'ftp://example.com/x',
  ]) {
    const res = await stack.request('POST', '/v1/webhook-endpoints', { url, events: ['order.held'] });
    expect({ url, status: res.status, field: res.body.error.details?.[0]?.field }).toEqual({
      url,
      status: url.startsWith('ftp') ? 400 : 422,
      field: 'url',
    });
  }
  // A host name passes registration (names are checked when Relais connects: what they resolve to can change).
  const endpoint = await register('/unused', ['order.held']);
  const patched = await stack.request('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, {
    url: 'http://metadata.relais-test/hook',
  });
  expect(patched.status).toBe(200);
  await publish([held('o-ssrf')]);
  const delivery = await stack.waitFor('refused', async () =>
    (await deliveriesOf(endpoint.id)).find((d) => d.status === 'failed'),
  );
  expect(delivery.reason).toBe('blocked_address');
  expect(delivery.attempts).toEqual([
    expect.objectContaining({
      statusCode: null,
      error: expect.stringMatching(/169\.254\.169\.254 is in a link-local/),
    }),
  ]);

  // Without the operator's flag, loopback is refused on connection as well, whatever the name.
  const refused = await postWebhook({
    url: receiver.url('/never').replace('127.0.0.1', 'loopback.relais-test'),
    headers: {},
    body: '{}',
    timeoutMs: 2_000,
    allowPrivateNetworks: false,
    resolve: (_host, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]),
  });
  expect(refused).toMatchObject({ statusCode: null, blocked: true, error: expect.stringMatching(/loopback/) });
  expect(
    await postWebhook({
      url: receiver.url('/never'),
      headers: {},
      body: '{}',
      timeoutMs: 2_000,
      allowPrivateNetworks: false,
    }),
  ).toMatchObject({ blocked: true });
  expect(receiver.received('/never')).toHaveLength(0);
});

test("tenant isolation: another tenant neither sees, changes nor replays this tenant's endpoints and deliveries, and its events never reach them", async () => {
  const mine = await register('/mine', ['order.held']);
  await publish([held('o-mine')]);
  const delivery = await stack.waitFor('delivered', async () =>
    (await deliveriesOf(mine.id)).find((d) => d.status === 'delivered'),
  );
  const theirs = stack.other.key;
  for (const [method, path, body] of [
    ['GET', `/v1/webhook-endpoints/${mine.id}`],
    ['PATCH', `/v1/webhook-endpoints/${mine.id}`, { enabled: false }],
    ['POST', `/v1/webhook-endpoints/${mine.id}/rotate-secret`, {}],
    ['DELETE', `/v1/webhook-endpoints/${mine.id}`],
    ['GET', `/v1/webhook-deliveries/${delivery.id}`],
    ['POST', `/v1/webhook-deliveries/${delivery.id}/replay`, {}],
  ] as const) {
    const res = await stack.request(method, path, body, theirs);
    expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
  }
  expect((await stack.request('GET', '/v1/webhook-endpoints', undefined, theirs)).body.endpoints).toEqual([]);
  expect(
    (await stack.request('GET', `/v1/webhook-deliveries?endpointId=${mine.id}`, undefined, theirs)).body.deliveries,
  ).toEqual([]);

  // The other tenant's own endpoint on the same receiver, and its own event: each gets only its own.
  const its = await register('/theirs', ['order.held'], theirs);
  await publish([held('o-theirs')], stack.other.tenantId);
  await stack.waitFor('theirs delivered', async () => receiver.received('/theirs').length === 1);
  expect(verify(its.secret, receiver.received('/theirs')[0])).toMatchObject({ data: { orderId: 'o-theirs' } });
  expect(receiver.received('/mine').map((r) => JSON.parse(r.body).data.orderId)).toEqual(['o-mine']);
  expect(await stack.request('GET', `/v1/webhook-endpoints/${mine.id}`)).toMatchObject({
    status: 200,
    body: { enabled: true },
  });
});

test('at most 50 endpoints per tenant: the 51st is refused (409) naming the limit', async () => {
  for (let i = 0; i < 50; i += 1)
    expect(
      (
        await stack.request('POST', '/v1/webhook-endpoints', {
          url: receiver.url(`/many-${i}`),
          events: ['order.held'],
        })
      ).status,
    ).toBe(201);
  const refused = await stack.request('POST', '/v1/webhook-endpoints', {
    url: receiver.url('/many-50'),
    events: ['order.held'],
  });
  expect([refused.status, refused.body.error.code, refused.body.error.details]).toEqual([
    409,
    'endpoint_limit',
    { limit: 50 },
  ]);
  expect((await stack.request('GET', '/v1/webhook-endpoints')).body.endpoints).toHaveLength(50);
  expect(
    (
      await stack.request(
        'POST',
        '/v1/webhook-endpoints',
        { url: receiver.url('/theirs-1'), events: ['order.held'] },
        stack.other.key,
      )
    ).status,
  ).toBe(201);
});

test("roles: only an admin key manages endpoints or reads deliveries (the secret is an admin's, once)", async () => {
  const endpoint = await register('/roles', ['order.held']);
  for (const role of ['dispatch:write', 'log:read', 'orders:write', 'ops'] as const) {
    const key = await stack.keyWithRoles([role]);
    for (const [method, path, body] of [
      ['GET', '/v1/webhook-endpoints'],
      ['POST', '/v1/webhook-endpoints', { url: receiver.url('/x'), events: ['order.held'] }],
      ['POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, {}],
      ['GET', '/v1/webhook-deliveries'],
    ] as const) {
      const res = await stack.request(method, path, body, key);
      expect({ role, method, path, status: res.status }).toEqual({ role, method, path, status: 403 });
    }
  }
});
