// Revoking keys under concurrency (issue 14, finding 2; docs/security.md): "never the tenant's last
// admin key" holds however many revokes race, on MongoDB and on FerretDB (no transactions, no
// atomic read-modify-write); and a platform key can give a locked-out tenant a new admin key.
import { createApiKey } from '../../src/db/api-keys';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  await stack?.close();
});

const adminKeys = (tenantId: string) => stack.db.ApiKey.countDocuments({ tenantId, roles: 'admin' });

test('parallel DELETEs of every admin key of a tenant always leave one, round after round', async () => {
  const ROUNDS = 8;
  const KEYS = 4;
  for (let round = 0; round < ROUNDS; round += 1) {
    const tenantId = `race-${round}`;
    await stack.db.Tenant.create({ _id: tenantId, name: `Race ${round}`, emailFrom: { email: 'x@race.test' } });
    const keys = await Promise.all(
      Array.from({ length: KEYS }, () => createApiKey(stack.db, { tenantId, roles: ['admin'] })),
    );
    // Each admin revokes their own key, all at once (no request's key is revoked by another, so
    // none is a 401): each one is allowed on its own; together they must not lock the tenant out.
    const answers = await Promise.all(
      keys.map((k) => stack.request('DELETE', `/v1/keys/${k.keyId}`, undefined, k.key)),
    );
    const statuses = answers.map((a) => a.status);
    const left = await adminKeys(tenantId);
    expect({ round, left: left >= 1 }).toEqual({ round, left: true });
    // Every revoke answered 204 really removed its key; every other one was refused as the last admin key.
    expect({ round, statuses: [...statuses].sort() }).toEqual({
      round,
      statuses: [...statuses].sort().map((s) => (s === 204 ? 204 : 409)),
    });
    expect({ round, left }).toEqual({ round, left: KEYS - statuses.filter((s) => s === 204).length });
    for (const a of answers.filter((x) => x.status === 409)) expect(a.body.error.code).toBe('last_admin_key');
    // Only revokes that took effect are audited.
    expect(await stack.db.Audit.countDocuments({ tenantId, action: 'key.revoke' })).toBe(
      statuses.filter((s) => s === 204).length,
    );
  }
}, 120_000);

test('a key revoking itself while another admin key revokes it too: one answer is 204 or 404, never two revokes of one key', async () => {
  const tenantId = 'race-same';
  await stack.db.Tenant.create({ _id: tenantId, name: 'Race same', emailFrom: { email: 'x@race.test' } });
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => createApiKey(stack.db, { tenantId, roles: ['admin'] })));
  const answers = await Promise.all(
    [a, b].map((k) => stack.request('DELETE', `/v1/keys/${c.keyId}`, undefined, k.key)),
  );
  expect(answers.map((x) => x.status).sort()).toEqual([204, 404]);
  expect(await adminKeys(tenantId)).toBe(2);
});

test("a platform key gives a locked-out tenant a new admin key (audited); tenants' own keys cannot", async () => {
  const tenantId = 'locked-out';
  await stack.db.Tenant.create({ _id: tenantId, name: 'Locked out', emailFrom: { email: 'x@locked.test' } });
  const { key: lost } = await createApiKey(stack.db, { tenantId, roles: ['dispatch:write'] });
  const platform = await createApiKey(stack.db, { tenantId: null, roles: ['platform'] });
  // What a lock-out looks like: no admin key at all (as the race above could once leave it).
  expect(await adminKeys(tenantId)).toBe(0);

  const body = { reason: 'every admin key was revoked (ticket 4411)', label: 'recovery' };
  expect((await stack.request('POST', `/v1/tenants/${tenantId}/keys`, body, stack.key)).status).toBe(403);
  expect((await stack.request('POST', `/v1/tenants/${tenantId}/keys`, body, lost)).status).toBe(403);
  const unknown = await stack.request('POST', '/v1/tenants/no-such-tenant/keys', body, platform.key);
  expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
  const noReason = await stack.request('POST', `/v1/tenants/${tenantId}/keys`, { label: 'x' }, platform.key);
  expect([noReason.status, noReason.body.error.details[0].field]).toEqual([400, 'reason']);

  const recovered = await stack.request('POST', `/v1/tenants/${tenantId}/keys`, body, platform.key);
  expect(recovered.status).toBe(201);
  expect(recovered.body).toMatchObject({
    tenantId,
    roles: ['admin'],
    label: 'recovery',
    key: expect.stringMatching(/^rk_/),
  });
  // The new key is the tenant's admin key, within that tenant only.
  const keys = await stack.request('GET', '/v1/keys', undefined, recovered.body.key);
  expect(keys.status).toBe(200);
  expect(keys.body.keys.map((k: { id: string }) => k.id)).toContain(recovered.body.id);
  expect(await stack.db.Audit.findOne({ tenantId, action: 'key.recover' }).lean()).toMatchObject({
    actor: platform.keyId,
    target: recovered.body.id,
    reason: body.reason,
  });

  // A tenant that still has an admin key is not the platform's to hand keys for: it asks its own admin.
  const again = await stack.request('POST', `/v1/tenants/${tenantId}/keys`, body, platform.key);
  expect([again.status, again.body.error.code]).toEqual([409, 'tenant_has_admin_key']);
  expect(await adminKeys(tenantId)).toBe(1);
});
