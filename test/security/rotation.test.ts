// Rotating keys and secrets without downtime (docs/security.md).
// - API keys (stored as the hash of their secret): an admin creates the new key, the platform switches, the old key is revoked; the
//   secret is shown once; another tenant's key cannot be touched; the last admin key stays.
// - LINK_SECRET, TWILIO_AUTH_TOKEN, SENDGRID_WEBHOOK_PUBLIC_KEY: during a rotation the API also
//   accepts what the previous value signed (…_PREVIOUS), and stops once it is removed.
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import twilio from 'twilio';
import { freePort } from '../../scripts/lib/processes';
import { buildServer } from '../../src/api/server';
import type { ApiDeps } from '../../src/api/deps';
import { signLink } from '../../src/links';
import { generateSendGridKeyPair } from '../../src/sandbox';
import { Templates } from '../../src/templates';
import { purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';

let stack: Stack;
/** The tenant's admin key (rotated by the first test). */
let admin: string;
const servers: FastifyInstance[] = [];

beforeAll(async () => {
  stack = await startStack();
  admin = stack.key;
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await stack?.close();
});

/** Another API process as it would run after a configuration change (same database and Temporal). */
async function apiWith(config: Partial<ApiDeps>): Promise<string> {
  const url = `http://127.0.0.1:${await freePort()}`;
  const app = buildServer({
    db: stack.db,
    temporal: stack.client,
    templates: new Templates(),
    taskQueue: stack.taskQueue,
    publicBaseUrl: url,
    ...config,
  });
  await app.listen({ host: '127.0.0.1', port: Number(new URL(url).port) });
  servers.push(app);
  return url;
}

test("API keys: create, use, list without secrets, revoke; another tenant's key is 404; the last admin key stays", async () => {
  const created = await stack.request(
    'POST',
    '/v1/keys',
    { roles: ['dispatch:write', 'log:read'], label: 'platform, November rotation' },
    admin,
  );
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ roles: ['dispatch:write', 'log:read'], label: 'platform, November rotation' });
  const { id, key } = created.body;
  expect(key.startsWith(`rk_${id}_`)).toBe(true);

  // Stored as the SHA-256 of its secret only: the database cannot give the key back.
  const stored = await stack.db.ApiKey.findById(id).lean();
  expect(stored!.secretHash).toBe(createHash('sha256').update(key.slice(16)).digest('hex'));
  expect(JSON.stringify(stored)).not.toContain(key.slice(16));
  // The right id with a wrong secret of the same shape is refused.
  expect((await stack.request('GET', '/v1/keys', undefined, `${key.slice(0, 16)}${'A'.repeat(32)}`)).status).toBe(401);

  // The new key works at once, within its roles.
  expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('rot-1', ['sofia@acme.test']), key)).status).toBe(
    202,
  );
  expect((await stack.request('GET', '/v1/settings', undefined, key)).status).toBe(403);

  // Listed with its roles and label; no secret, no hash.
  const listed = await stack.request('GET', '/v1/keys', undefined, admin);
  expect(listed.status).toBe(200);
  expect(listed.body.keys.find((k: any) => k.id === id)).toEqual({
    id,
    roles: ['dispatch:write', 'log:read'],
    label: 'platform, November rotation',
    createdAt: expect.any(String),
  });
  expect(JSON.stringify(listed.body)).not.toContain(key.slice(16));
  expect(JSON.stringify(listed.body)).not.toContain('secretHash');

  // Another tenant sees none of it and cannot revoke it.
  expect(
    (await stack.request('GET', '/v1/keys', undefined, stack.other.key)).body.keys.map((k: any) => k.id),
  ).not.toContain(id);
  const foreign = await stack.request('DELETE', `/v1/keys/${id}`, undefined, stack.other.key);
  expect(foreign.status).toBe(404);
  expect(foreign.body.error.code).toBe('not_found');
  expect((await stack.request('GET', '/v1/dispatches/rot-1', undefined, key)).status).toBe(200);

  // Revoked: the key stops working, and the revocation is audited.
  expect((await stack.request('DELETE', `/v1/keys/${id}`, undefined, admin)).status).toBe(204);
  expect((await stack.request('GET', '/v1/dispatches/rot-1', undefined, key)).status).toBe(401);
  expect(await stack.db.Audit.findOne({ action: 'key.revoke', target: id }).lean()).toMatchObject({
    tenantId: stack.tenantId,
  });

  // The tenant's only admin key cannot be revoked (the tenant would be locked out)…
  const adminId = stack.key.slice(3, 15);
  const last = await stack.request('DELETE', `/v1/keys/${adminId}`, undefined, admin);
  expect(last.status).toBe(409);
  expect(last.body.error.code).toBe('last_admin_key');
  // …until a new admin key exists: the full rotation of the admin key itself.
  const next = await stack.request('POST', '/v1/keys', { roles: ['admin'] }, admin);
  expect((await stack.request('DELETE', `/v1/keys/${adminId}`, undefined, next.body.key)).status).toBe(204);
  expect((await stack.request('GET', '/v1/keys', undefined, admin)).status).toBe(401);
  expect((await stack.request('GET', '/v1/keys', undefined, next.body.key)).status).toBe(200);
  admin = next.body.key;
});

test('bad key requests: a platform role, no role, an unknown role are refused naming the field, and create nothing', async () => {
  const before = await stack.db.ApiKey.countDocuments({ tenantId: stack.tenantId });
  for (const [body, field] of [
    [{ roles: ['platform'] }, 'roles.0'],
    [{ roles: [] }, 'roles'],
    [{ roles: ['root'] }, 'roles.0'],
    [{}, 'roles'],
  ] as const) {
    const res = await stack.request('POST', '/v1/keys', body, admin);
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
  }
  expect(await stack.db.ApiKey.countDocuments({ tenantId: stack.tenantId })).toBe(before);
});

test('LINK_SECRET rotation: links signed with the previous secret open until it is removed; new links use the new one', async () => {
  expect(
    (await stack.request('POST', '/v1/dispatches', purchaseOrder('rot-link', ['sofia@acme.test']), admin)).status,
  ).toBe(202);
  await stack.waitFor('the dispatch record', async () =>
    stack.db.Dispatch.exists({ tenantId: stack.tenantId, dispatchId: 'rot-link' }),
  );
  const claims = { kind: 'document', tenantId: stack.tenantId, target: 'rot-link', exp: Date.now() + 3_600_000 };
  const oldLink = signLink(SANDBOX_SECRETS.linkSecret, claims);
  const newSecret = randomBytes(32).toString('base64url');
  const newLink = signLink(newSecret, claims);

  const rotating = await apiWith({ linkSecret: newSecret, previous: { linkSecret: SANDBOX_SECRETS.linkSecret } });
  expect((await fetch(`${rotating}/d/${oldLink}`)).status).toBe(200);
  expect((await fetch(`${rotating}/d/${newLink}`)).status).toBe(200);
  expect((await fetch(`${rotating}/d/${signLink(randomBytes(32).toString('base64url'), claims)}`)).status).toBe(404);

  const rotated = await apiWith({ linkSecret: newSecret });
  expect((await fetch(`${rotated}/d/${oldLink}`)).status).toBe(404);
  expect((await fetch(`${rotated}/d/${newLink}`)).status).toBe(200);
});

test('webhook secret rotation: Twilio callbacks signed with the previous token and SendGrid batches signed with the previous key are accepted, others are not', async () => {
  const newToken = randomBytes(16).toString('hex');
  const oldKeys = generateSendGridKeyPair();
  const newKeys = generateSendGridKeyPair();
  const rotating = await apiWith({
    twilioAuthToken: newToken,
    sendgridWebhookPublicKey: newKeys.publicKeyBase64,
    previous: { twilioAuthToken: SANDBOX_SECRETS.twilioAuthToken, sendgridWebhookPublicKey: oldKeys.publicKeyBase64 },
  });
  const rotated = await apiWith({ twilioAuthToken: newToken, sendgridWebhookPublicKey: newKeys.publicKeyBase64 });

  const twilioStatus = (base: string, token: string) => {
    const url = `${base}/webhooks/twilio/status?tenant=${stack.tenantId}&dispatch=rot-none&recipient=r1.1`;
    const params = {
      MessageSid: `SM${'b'.repeat(32)}`,
      MessageStatus: 'delivered',
      AccountSid: SANDBOX_SECRETS.twilioAccountSid,
      To: '+33612345678',
    };
    return fetch(url, {
      method: 'POST',
      body: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params),
      },
    }).then((r) => r.status);
  };
  expect(await twilioStatus(rotating, SANDBOX_SECRETS.twilioAuthToken)).toBe(200);
  expect(await twilioStatus(rotating, newToken)).toBe(200);
  expect(await twilioStatus(rotating, 'a-token-nobody-issued-0123456789')).toBe(401);
  expect(await twilioStatus(rotated, SANDBOX_SECRETS.twilioAuthToken)).toBe(401);

  const sendgridBatch = (base: string, privateKeyPem: string) => {
    const body = JSON.stringify([
      {
        email: 'nobody@acme.test',
        timestamp: Math.floor(Date.now() / 1000),
        event: 'delivered',
        sg_event_id: randomBytes(8).toString('hex'),
        sg_message_id: 'none.0',
      },
    ]);
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = sign('sha256', Buffer.from(ts + body), createPrivateKey(privateKeyPem)).toString('base64');
    return fetch(`${base}/webhooks/sendgrid`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': signature,
        'x-twilio-email-event-webhook-timestamp': ts,
      },
    }).then((r) => r.status);
  };
  expect(await sendgridBatch(rotating, oldKeys.privateKeyPem)).toBe(200);
  expect(await sendgridBatch(rotating, newKeys.privateKeyPem)).toBe(200);
  expect(await sendgridBatch(rotating, generateSendGridKeyPair().privateKeyPem)).toBe(401);
  expect(await sendgridBatch(rotated, oldKeys.privateKeyPem)).toBe(401);
});
