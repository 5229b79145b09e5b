// What the contract fuzzer (fuzz.test.ts) found, each pinned by a plain example through the
// real stack, so that a regression fails here with a readable message rather than only under a
// seeded fuzz run. docs/api.md, "Fuzzing", lists them.
import { newOrder, purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';
import { signLink } from '../../src/links';

describe('fuzz findings, fixed', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('a tenant admin key cannot create tenants (the platform role is never implied)', async () => {
    const tenant = { id: `t-${Date.now()}`, name: 'Made by an admin', emailFrom: { email: 'x@made.test' } };
    const refused = await stack.request('POST', '/v1/tenants', tenant);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    const platform = await stack.keyWithRoles(['platform']);
    expect((await stack.request('POST', '/v1/tenants', tenant, platform)).status).toBe(201);
  });

  it('rule D1: an address whose local part is over 64 characters is refused naming the field', async () => {
    const res = await stack.request(
      'POST',
      '/v1/dispatches',
      purchaseOrder('long-local', [`${'a'.repeat(65)}@acme.test`]),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('recipients.0.email');
    expect(
      (await stack.request('POST', '/v1/dispatches', purchaseOrder('long-local-ok', [`${'a'.repeat(64)}@acme.test`])))
        .status,
    ).toBe(202);
  });

  it('blank text is a 400 naming the field; lengths count what was sent', async () => {
    const blank = await stack.request('POST', '/v1/orders', { ...newOrder('o-blank'), salesChannel: '   ' });
    expect(blank.status).toBe(400);
    expect(blank.body.error.details[0]).toMatchObject({ field: 'salesChannel', message: 'must not be blank' });
    const padded = await stack.request('POST', '/v1/orders', {
      ...newOrder('o-padded'),
      carrier: `colissimo${' '.repeat(100)}`,
    });
    expect(padded.status).toBe(400);
    expect(padded.body.error.details[0].field).toBe('carrier');
  });

  it('time zones and durations: the contract lists and patterns them, the API agrees', async () => {
    const doc = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as any;
    const settings = doc.paths['/v1/settings'].put.requestBody.content['application/json'].schema;
    expect(settings.properties.timeZone.enum).toEqual(expect.arrayContaining(['UTC', 'Europe/Paris']));
    expect(settings.properties.policies.properties.unknownAfter.pattern).toBeDefined();
    expect((await stack.request('PUT', '/v1/settings', { timeZone: 'UTC' })).status).toBe(200);
    expect((await stack.request('PUT', '/v1/settings', { timeZone: '' })).status).toBe(400);
    // One name per zone: an alias is refused naming the one to use.
    const alias = await stack.request('PUT', '/v1/settings', { timeZone: 'America/Montreal' });
    expect(alias.status).toBe(400);
    expect(alias.body.error.details[0]).toMatchObject({
      field: 'timeZone',
      message: 'America/Montreal is another name of America/Toronto: use America/Toronto',
    });
    expect((await stack.request('PUT', '/v1/settings', { policies: { unknownAfter: 'P１D' } })).status).toBe(400); // a full-width digit
    await stack.request('PUT', '/v1/settings', { timeZone: 'Europe/Paris' });
  });

  it('a schema-valid dispatch naming what the tenant lacks is a 422, never a 400', async () => {
    const res = await stack.request(
      'POST',
      '/v1/dispatches',
      purchaseOrder('no-outlet', ['a@acme.test'], {
        sender: { name: 'Bruno Buyer', email: 'bruno.buyer@bistro.test', outletId: 'nowhere' },
      }),
    );
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'invalid_request',
      details: [{ field: 'sender.outletId', value: 'nowhere' }],
    });
  });

  it('rule O3: a correction missing the address is the 400 page naming the fields; a link the order never issued is a 409 page', async () => {
    expect((await stack.request('POST', '/v1/orders', newOrder('o-link'))).status).toBe(202);
    const token = signLink(SANDBOX_SECRETS.linkSecret, {
      kind: 'confirm',
      tenantId: stack.tenantId,
      target: 'o-link:never-issued',
      exp: Date.now() + 600_000,
    });
    const post = (form: string) =>
      fetch(`${stack.apiUrl}/c/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      });
    const partial = await post('action=correct&city=Paris');
    expect(partial.status).toBe(400);
    expect(partial.headers.get('content-type')).toMatch(/text\/html/);
    expect(await partial.text()).toMatch(/Please correct: Address, Postal code, Country/);
    expect((await post('action=confirm')).status).toBe(409);
    const missing = signLink(SANDBOX_SECRETS.linkSecret, {
      kind: 'confirm',
      tenantId: stack.tenantId,
      target: 'no-such-order:n',
      exp: Date.now() + 600_000,
    });
    const gone = await fetch(`${stack.apiUrl}/c/${missing}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=correct',
    });
    expect(gone.status).toBe(404);
  });

  it('a "__proto__" key in a JSON body is dropped, not a 400, and pollutes nothing', async () => {
    const raw =
      '{"__proto__":{"polluted":true},"sellerAlerts":{"on_hold":{"enabled":true,"channels":["email"],"__proto__":{"x":1}}}}';
    const res = await fetch(`${stack.apiUrl}/v1/preferences`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: raw,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).sellerAlerts.on_hold).toEqual({ enabled: true, channels: ['email'] });
    expect(({} as any).polluted).toBeUndefined();
  });
});
