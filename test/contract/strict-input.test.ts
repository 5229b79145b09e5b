// Input is never silently ignored (issue 14, finding 11): unknown fields of a new tenant are
// refused like those of the settings, every policy and the seller given at creation are kept,
// a second dispatch under an existing dispatchId with another body is a 409 naming what differs,
// policy durations have minimums, and the recipient cap names the count it got (rule D1).
import { createApiKey } from '../../src/db/api-keys';
import { MAX_RECIPIENTS } from '../../src/api/schemas';
import { purchaseOrder, startStack, type Stack } from '../support/stack';

let stack: Stack;
let platform: string;
beforeAll(async () => {
  stack = await startStack();
  platform = (await createApiKey(stack.db, { tenantId: null, roles: ['platform'] })).key;
});
afterAll(async () => {
  await stack?.close();
});

const tenant = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Tenant ${id}`,
  emailFrom: { email: `orders@${id}.test` },
  ...extra,
});

test('POST /v1/tenants refuses unknown fields, naming them, and keeps every policy and the seller it is given', async () => {
  for (const [body, field] of [
    [tenant('t-unknown', { colour: 'blue' }), 'colour'],
    [tenant('t-unknown-policy', { policies: { listenFor: 'P3D', retryForever: 'P1D' } }), 'policies.retryForever'],
  ] as const) {
    const res = await stack.request('POST', '/v1/tenants', body, platform);
    expect({ field, status: res.status }).toEqual({ field, status: 400 });
    expect(res.body.error.details.map((d: { field: string }) => d.field).join(' ')).toContain(field);
    expect(await stack.db.Tenant.exists({ _id: body.id })).toBeNull();
  }

  const policies = {
    unknownAfter: 'PT45M',
    listenFor: 'P5D',
    stuckAfter: 'P3D',
    confirmationLinkTtl: 'P1D',
    readyToShipWithin: 'PT12H',
    failoverAfter: 'PT15S',
    moveOnAfter: 'PT20M',
  };
  const seller = {
    name: 'Selma Seller',
    email: 'selma@full.test',
    phone: '+33611112222',
    smsOptIn: true,
    whatsappOptIn: false,
  };
  const created = await stack.request('POST', '/v1/tenants', tenant('t-full', { policies, seller }), platform);
  expect(created.status).toBe(201);
  const settings = await stack.request('GET', '/v1/settings', undefined, created.body.apiKey);
  expect(settings.body.policies).toEqual(policies);
  expect((await stack.db.Tenant.findById('t-full').lean())!.seller).toMatchObject(seller);
});

test.each([
  ['unknownAfter', 'PT0S', 'PT5M'],
  ['listenFor', 'PT5S', 'PT1H'],
  ['stuckAfter', 'PT1M', 'PT1H'],
  ['confirmationLinkTtl', 'PT1M', 'PT15M'],
  ['readyToShipWithin', 'P0D', 'PT15M'],
  ['failoverAfter', 'PT1S', 'PT2S'],
])(
  'policy %s = %s is refused (422) naming the field and its minimum %s, at creation and in the settings',
  async (policy, value, minimum) => {
    const created = await stack.request(
      'POST',
      '/v1/tenants',
      tenant(`t-min-${policy.toLowerCase()}`, { policies: { [policy]: value } }),
      platform,
    );
    expect(created.status).toBe(422);
    expect(created.body.error.details[0]).toMatchObject({ field: `policies.${policy}`, value });
    expect(created.body.error.message).toContain(`at least ${minimum}`);
    const before = (await stack.request('GET', '/v1/settings')).body.policies;
    const put = await stack.request('PUT', '/v1/settings', { policies: { [policy]: value } });
    expect(put.status).toBe(422);
    expect(put.body.error.details[0]).toMatchObject({ field: `policies.${policy}`, value });
    expect((await stack.request('GET', '/v1/settings')).body.policies).toEqual(before);
    // The minimum itself is fine.
    expect((await stack.request('PUT', '/v1/settings', { policies: { [policy]: minimum } })).status).toBe(200);
    await stack.request('PUT', '/v1/settings', { policies: before });
  },
);

test('issue 20: the email failover delay is refused (422) above PT20S, naming the field; PT20S itself is fine', async () => {
  const before = (await stack.request('GET', '/v1/settings')).body.policies;
  const res = await stack.request('PUT', '/v1/settings', { policies: { failoverAfter: 'PT21S' } });
  expect(res.status).toBe(422);
  expect(res.body.error.details[0]).toMatchObject({ field: 'policies.failoverAfter', value: 'PT21S' });
  expect(res.body.error.message).toContain('at most PT20S');
  expect((await stack.request('GET', '/v1/settings')).body.policies).toEqual(before);
  expect((await stack.request('PUT', '/v1/settings', { policies: { failoverAfter: 'PT20S' } })).status).toBe(200);
  await stack.request('PUT', '/v1/settings', { policies: before });
});

test('issue 20: a tenant stored before failoverAfter existed is shown, and sends, with its default PT10S', async () => {
  await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $unset: { 'policies.failoverAfter': 1 } });
  expect((await stack.request('GET', '/v1/settings')).body.policies.failoverAfter).toBe('PT10S');
});

test('D3/D7: the listening window cannot be shorter than the time after which a recipient is unknown', async () => {
  const res = await stack.request('PUT', '/v1/settings', { policies: { unknownAfter: 'PT2H', listenFor: 'PT1H' } });
  expect(res.status).toBe(422);
  expect(res.body.error.details[0]).toMatchObject({ field: 'policies.listenFor', value: 'PT1H' });
  // The same against what is stored: unknownAfter alone, longer than the stored listenFor (P3D).
  const alone = await stack.request('PUT', '/v1/settings', { policies: { unknownAfter: 'P4D' } });
  expect(alone.status).toBe(422);
  expect(alone.body.error.details[0].field).toBe('policies.unknownAfter');
});

test('rule D1: a second POST with an existing dispatchId and another body is a 409 naming what differs; the same body is 200', async () => {
  const first = purchaseOrder('dup-1', ['anna@supplier.test']);
  expect((await stack.request('POST', '/v1/dispatches', first)).status).toBe(202);
  const same = await stack.request('POST', '/v1/dispatches', first);
  expect([same.status, same.body.created]).toEqual([200, false]);
  // Key order and defaults spelled out do not make a body different.
  const reordered = { ...Object.fromEntries(Object.entries(first).reverse()), channel: 'email', attachments: [] };
  expect((await stack.request('POST', '/v1/dispatches', reordered)).status).toBe(200);

  const other = { ...first, recipients: [{ email: 'bruno@supplier.test' }], data: { ...first.data, message: 'new' } };
  const conflict = await stack.request('POST', '/v1/dispatches', other);
  expect(conflict.status).toBe(409);
  expect(conflict.body.error.code).toBe('dispatch_exists');
  expect(conflict.body.error.message).toMatch(/dup-1/);
  expect(conflict.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['data', 'recipients']);
  // Nothing of the second body was sent.
  await stack.sandbox.idle();
  expect(stack.sandbox.messages({ to: 'bruno@supplier.test' })).toHaveLength(0);
});

test(`rule D1: ${MAX_RECIPIENTS + 1} recipients is refused with the count as the value`, async () => {
  const many = Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) => ({ email: `p${i}@supplier.test` }));
  const res = await stack.request('POST', '/v1/dispatches', purchaseOrder('too-many', [], { recipients: many }));
  expect(res.status).toBe(400);
  expect(res.body.error.details[0]).toEqual({
    field: 'recipients',
    message: `at most ${MAX_RECIPIENTS} recipients`,
    value: MAX_RECIPIENTS + 1,
  });
  expect(res.body.error.message).toBe(`recipients: at most ${MAX_RECIPIENTS} recipients (got ${MAX_RECIPIENTS + 1})`);
});

test('a NUL character (U+0000) anywhere in the input is refused naming the field, never a 500 from the store (found by the API fuzzer on PostgreSQL): 400 where the contract says so, 422 inside free-form data', async () => {
  const listed = await stack.request('GET', '/v1/dispatches?recipient=%00&document=PO');
  expect(listed.status).toBe(400);
  expect(listed.body.error.details[0]).toMatchObject({ field: 'recipient' });

  const body = purchaseOrder('nul-in-data', ['a@supplier.test']);
  const posted = await stack.request('POST', '/v1/dispatches', {
    ...body,
    data: { ...body.data, message: 'line one\u0000line two' },
  });
  // `data` is free-form JSON in the contract: schema-valid, refused because the store cannot hold it.
  expect(posted.status).toBe(422);
  expect(posted.body.error.details[0]).toMatchObject({ field: 'data.message' });
  const namedKey = await stack.request('POST', '/v1/dispatches', {
    ...body,
    data: { ...body.data, ['bad\u0000key']: 1 },
  });
  expect(namedKey.status).toBe(422);
  expect(await stack.db.Dispatch.exists({ tenantId: stack.tenantId, dispatchId: 'nul-in-data' })).toBeNull();

  const order = await stack.request('POST', '/v1/orders', {
    orderId: 'nul-order',
    items: [{ sku: 'SKU\u00001', quantity: 1, location: 'A1' }],
    customer: {
      name: 'Ana',
      phone: null,
      email: 'ana@customer.test',
      address: { line1: '1 rue X', city: 'Paris', postalCode: '75011', country: 'FR' },
    },
    payment: { method: 'prepaid' },
    salesChannel: 'web',
    carrier: 'dhl',
  });
  expect(order.status).toBe(400);
  expect(order.body.error.details[0]).toMatchObject({ field: 'items.0.sku' });
});

test('rule D10: "provider": "smtp" on a deployment without an SMTP server is refused naming `provider`, and nothing is stored', async () => {
  // This stack has no SMTP_URL: accepted, the dispatch could only fail at the send and escalate (D9).
  const res = await stack.request(
    'POST',
    '/v1/dispatches',
    purchaseOrder('no-smtp', ['a@acme.test'], { provider: 'smtp' }),
  );
  expect(res.status).toBe(422);
  expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'provider', value: 'smtp' })]);
  expect(res.body.error.message).toContain('SMTP_URL');
  expect((await stack.request('GET', '/v1/dispatches/no-smtp')).status).toBe(404);
  expect(stack.sandbox.messages().filter((m) => m.to === 'a@acme.test')).toEqual([]);
});
