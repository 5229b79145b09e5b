// Tenant isolation (docs/security.md): every operation of the published contract
// (/openapi.json), called with another tenant's admin key and this tenant's ids, with a valid
// body so that validation cannot be what stops it. An id route answers 404 (never 403, which
// would confirm the id exists); a collection route answers from the caller's own tenant; and
// afterwards this tenant's dispatches, orders, settings, preferences and keys are unchanged.
// The copies of the notices this tenant sent its customer are as unreachable, and a customer's
// SMS reply to the other tenant's question never confirms this tenant's order (issue 14, findings
// 1 and 3). The operator pages get the same walk with the other tenant's session.
import { signInOverHttp } from '../support/ui-session';
import { purchaseOrder, newOrder, startStack, type Stack } from '../support/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { publishHeld } from '../support/tenant-events';
import { recordFacts } from '../../src/db/address-health';

let stack: Stack;
let receiver: WebhookReceiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack(), startWebhookReceiver()]);
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

const DISPATCH = 'iso-dispatch';
/** In this tenant's address-health registry only. */
const KNOWN_BAD = 'iso.known.bad@acme.test';
const ORDER = 'iso-order';
/** The label uploaded to ORDER by this tenant. */
let documentId = '';

/** A valid body for each write, so only the tenant check can refuse it (the other tenant's own new records get their own ids). */
const BODIES: Record<string, unknown> = {
  // The other tenant has no outlets: its own sender (naming this tenant's outlet is refused, below).
  'POST /v1/dispatches': purchaseOrder('other-dispatch', ['sofia@acme.test'], {
    sender: { name: 'Olga Other', email: 'olga@other.test' },
  }),
  'POST /v1/dispatches/{id}/recipients/{rid}/resend': { email: 'new.address@acme.test' },
  'DELETE /v1/address-health/{address}': { reason: "not this tenant's to clear" },
  'POST /v1/dispatches/{id}/resend-via': { channel: 'sms', phone: '+33698765411' },
  'POST /v1/dispatches/{id}/mark-sent': { note: 'handed over in person' },
  'POST /v1/orders': newOrder('other-order'),
  'POST /v1/orders/{id}/events': { type: 'allocated' },
  'POST /v1/orders/{id}/release': { reason: 'checked by phone' },
  'POST /v1/orders/{id}/cancel': { reason: 'customer asked' },
  // Issue 18: a seller's action, and an upload (a PDF: only the tenant check can refuse it).
  'POST /v1/orders/{id}/actions': { type: 'change_carrier', carrier: 'Taken over' },
  'POST /v1/orders/{id}/documents': { kind: 'label', file: '%PDF-1.4 a label' },
  'PUT /v1/preferences': { sellerAlerts: { on_hold: { enabled: false, channels: [] } } },
  'PUT /v1/settings': { name: 'Taken over', locale: 'fr' },
  'POST /v1/keys': { roles: ['log:read'], label: 'walked' },
  // The other tenant's own endpoint: on loopback's discard port, never reached (it publishes nothing).
  'POST /v1/webhook-endpoints': { url: 'http://127.0.0.1:9/relais', events: ['order.held'] },
  'PATCH /v1/webhook-endpoints/{id}': { enabled: false, url: 'http://127.0.0.1:9/taken-over' },
  'POST /v1/webhook-endpoints/{id}/rotate-secret': {},
  'POST /v1/webhook-deliveries/{id}/replay': {},
};

/** Operations that are not tenant data: public, signed by providers, or platform-wide. */
const NOT_TENANT_SCOPED = [
  /^\/webhooks\//,
  /^\/a\//,
  /^\/c\//,
  /^\/d\//,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/metrics$/,
  /^\/openapi\.json$/,
  /^\/docs/,
  /^\/v1\/tenants(\/|$)/,
];

/** What this tenant can see of itself: compared before and after the walk. */
async function snapshot() {
  const read = async (path: string) => (await stack.request('GET', path)).body;
  const strip = (o: any) =>
    JSON.parse(JSON.stringify(o, (k, v) => (['updatedAt', 'version'].includes(k) ? undefined : v)));
  return strip({
    dispatch: await read(`/v1/dispatches/${DISPATCH}`),
    order: await read(`/v1/orders/${ORDER}`),
    settings: await read('/v1/settings'),
    preferences: await read('/v1/preferences'),
    keys: await read('/v1/keys'),
    dispatches: (await read('/v1/dispatches?result=all&limit=200')).dispatches.map((d: any) => d.dispatchId),
    webhookEndpoints: await read('/v1/webhook-endpoints'),
    webhookDeliveries: await read('/v1/webhook-deliveries'),
    orders: await read('/v1/orders?exception=all'),
    addressHealth: await read('/v1/address-health?limit=200'),
  });
}

test("another tenant's key reaches nothing of this tenant through any operation of the contract", async () => {
  // This tenant's data: a delivered dispatch and a held order (address incomplete).
  expect(
    (
      await stack.request(
        'POST',
        '/v1/dispatches',
        purchaseOrder(DISPATCH, ['sofia@acme.test'], {
          attachments: [
            {
              filename: 'PO.pdf',
              contentType: 'application/pdf',
              contentBase64: Buffer.from('%PDF-1.4 PO').toString('base64'),
            },
          ],
        }),
      )
    ).status,
  ).toBe(202);
  const held = newOrder(ORDER, {
    address: { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '750', country: 'FR' },
  });
  expect((await stack.request('POST', '/v1/orders', held)).status).toBe(202);
  await stack.waitFor(
    'the dispatch delivered',
    async () => (await stack.request('GET', `/v1/dispatches/${DISPATCH}`)).body?.result === 'delivered',
  );
  await stack.waitFor(
    'the order on hold',
    async () => (await stack.request('GET', `/v1/orders/${ORDER}`)).body?.state === 'on_hold',
  );
  // Everything this tenant expects has happened (alerts and customer messages delivered), so the
  // snapshot can only change through the walk.
  await stack.waitFor("the order's notifications delivered", async () => {
    await stack.sandbox.idle();
    const { notifications, customerNotices } = (await stack.request('GET', `/v1/orders/${ORDER}`)).body;
    // Issue 20: a customer notice records its delivery itself (its own reads), after the dispatch's.
    return (
      notifications.length >= 2 &&
      notifications.every((n: { status: string }) => n.status === 'delivered') &&
      customerNotices.every((c: { state: string }) => c.state !== 'running')
    );
  });
  // An address in this tenant's registry (issue 20), which the walk names from the other tenant.
  await recordFacts(stack.db, [
    {
      tenantId: stack.tenantId,
      address: KNOWN_BAD,
      key: 'sendgrid:iso-bounce',
      kind: 'invalid_address',
      at: new Date(),
      code: 'Invalid Address',
      reason: '550 5.1.1 user unknown',
      dispatchId: DISPATCH,
      orderId: null,
    },
  ]);
  // An outbound webhook endpoint of this tenant and a delivered event (the publishing activity, as a workflow calls it).
  const endpoint = (
    await stack.request('POST', '/v1/webhook-endpoints', { url: receiver.url('/mine'), events: ['order.held'] })
  ).body;
  const {
    deliveries: [delivery],
  } = await publishHeld(stack, ORDER);
  await stack.waitFor(
    'the event delivered',
    async () => (await stack.request('GET', `/v1/webhook-deliveries/${delivery}`)).body.status === 'delivered',
  );
  const adminKeyId = stack.key.slice(3, 15);
  // A label uploaded to the held order (issue 18): the other tenant can neither read it nor add one.
  const label = new FormData();
  label.append('kind', 'label');
  label.append(
    'file',
    new Blob([Buffer.from('%PDF-1.4 the label\n%%EOF\n')], { type: 'application/pdf' }),
    'label.pdf',
  );
  const uploaded = await fetch(`${stack.apiUrl}/v1/orders/${ORDER}/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}` },
    body: label,
  });
  expect(uploaded.status).toBe(201);
  documentId = ((await uploaded.json()) as { document: { documentId: string } }).document.documentId;
  const before = await snapshot();

  const doc = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const walked: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (NOT_TENANT_SCOPED.some((r) => r.test(path))) continue;
    for (const method of Object.keys(item).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))) {
      const operation = `${method.toUpperCase()} ${path}`;
      const hasBody = ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase()) || operation in BODIES;
      if (hasBody && !(operation in BODIES))
        throw new Error(`${operation} is new: give it a valid body in BODIES so the walk covers it`);
      const id = path.startsWith('/v1/keys')
        ? adminKeyId
        : path.startsWith('/v1/orders')
          ? ORDER
          : path.startsWith('/v1/webhook-endpoints')
            ? endpoint.id
            : path.startsWith('/v1/webhook-deliveries')
              ? delivery
              : DISPATCH;
      const url = path
        .replace('{id}', encodeURIComponent(id))
        .replace('{rid}', 'r1')
        .replace('{documentId}', documentId)
        .replace('{index}', '0')
        .replace('{address}', encodeURIComponent(KNOWN_BAD)); // in this tenant's registry only
      expect({ operation, unfilled: /\{\w+\}/.exec(url)?.[0] ?? null }).toEqual({ operation, unfilled: null }); // a 404 for a literal "{x}" would prove nothing
      const res = await stack.request(
        method.toUpperCase(),
        url,
        hasBody ? BODIES[operation] : undefined,
        stack.other.key,
      );
      walked.push(operation);
      if (path.includes('{')) {
        // An id of this tenant, from the other tenant: not found, with the error shape.
        expect({ operation, status: res.status, code: res.body?.error?.code }).toEqual({
          operation,
          status: 404,
          code: 'not_found',
        });
      } else {
        // A collection: answered from the caller's own tenant, never with this tenant's data.
        expect({ operation, ok: res.status < 300 }).toEqual({ operation, ok: true });
        const text = JSON.stringify(res.body);
        for (const mine of [stack.tenantId, 'Bistro Demo', 'sam.seller@bistro.test', adminKeyId])
          expect({ operation, leaks: text.includes(mine) ? mine : null }).toEqual({ operation, leaks: null });
      }
    }
  }
  // This tenant's outlet (and so its purchasing manager, D4) is not the other tenant's to name.
  const outlet = await stack.request(
    'POST',
    '/v1/dispatches',
    purchaseOrder('iso-outlet', ['sofia@acme.test']),
    stack.other.key,
  );
  expect([outlet.status, outlet.body.error.code]).toEqual([422, expect.any(String)]);
  expect(outlet.body.error.message).toContain('paris-1');

  // The walk covered the tenant's whole surface (a contract that lost routes would pass silently otherwise).
  expect(walked).toEqual(
    expect.arrayContaining([
      'GET /v1/dispatches',
      'POST /v1/dispatches',
      'GET /v1/dispatches/{id}',
      'POST /v1/dispatches/{id}/recipients/{rid}/resend',
      'POST /v1/dispatches/{id}/resend-via',
      'POST /v1/dispatches/{id}/mark-sent',
      'POST /v1/orders',
      'GET /v1/orders/{id}',
      'GET /v1/address-health',
      'GET /v1/address-health/{address}',
      'DELETE /v1/address-health/{address}',
      'POST /v1/orders/{id}/events',
      'POST /v1/orders/{id}/release',
      'POST /v1/orders/{id}/cancel',
      'GET /v1/preferences',
      'PUT /v1/preferences',
      'GET /v1/settings',
      'PUT /v1/settings',
      'GET /v1/keys',
      'POST /v1/keys',
      'DELETE /v1/keys/{id}',
      'POST /v1/webhook-endpoints',
      'GET /v1/webhook-endpoints',
      'GET /v1/webhook-endpoints/{id}',
      'PATCH /v1/webhook-endpoints/{id}',
      'DELETE /v1/webhook-endpoints/{id}',
      'POST /v1/webhook-endpoints/{id}/rotate-secret',
      'GET /v1/webhook-deliveries',
      'GET /v1/webhook-deliveries/{id}',
      'POST /v1/webhook-deliveries/{id}/replay',
      'GET /v1/orders',
      'POST /v1/orders/{id}/actions',
      'POST /v1/orders/{id}/documents',
      'GET /v1/orders/{id}/documents/{documentId}',
      'GET /v1/dispatches.csv',
      'GET /v1/orders.csv',
      'GET /v1/dispatches/{id}/proof.json',
      'GET /v1/dispatches/{id}/proof.pdf',
      'GET /v1/dispatches/{id}/attachments/{index}',
    ]),
  );
  // Nothing was sent again to this tenant's endpoint.
  expect(receiver.received('/mine')).toHaveLength(1);

  // The other tenant's own writes stayed its own, and are as invisible from here.
  for (const path of ['/v1/dispatches/other-dispatch', '/v1/orders/other-order']) {
    expect([path, (await stack.request('GET', path, undefined, stack.other.key)).status]).toEqual([path, 200]);
    expect([path, (await stack.request('GET', path)).status]).toEqual([path, 404]);
  }

  // The notices this tenant sent its customer (their copies hold the customer's withheld link): not found, not resent.
  for (const id of await customerNotices()) {
    expect([id, (await stack.request('GET', `/v1/dispatches/${id}`, undefined, stack.other.key)).status]).toEqual([
      id,
      404,
    ]);
    expect([
      id,
      (
        await stack.request(
          'POST',
          `/v1/dispatches/${id}/recipients/r1/resend`,
          { email: 'x@other.test' },
          stack.other.key,
        )
      ).status,
    ]).toEqual([id, 404]);
  }

  // The same customer is asked by the other tenant too; their reply to it confirms the other tenant's order only.
  const phone = (newOrder(ORDER).customer as { phone: string }).phone;
  expect(
    (
      await stack.request(
        'POST',
        '/v1/orders',
        newOrder('other-held', { address: held.customer.address }),
        stack.other.key,
      )
    ).status,
  ).toBe(202);
  const code = await stack.waitFor(
    "the other tenant's question",
    async () =>
      /OUI (\d{4})/.exec(
        stack.sandbox.messages({ to: phone }).find((m) => m.channel === 'sms' && m.body?.includes('other-held'))
          ?.body ?? '',
      )?.[1],
  );
  expect((await stack.sandbox.inbound({ channel: 'sms', from: phone, body: `OUI ${code}` })).body).toContain(
    'other-held',
  );
  await stack.waitFor(
    "the other tenant's order released",
    async () =>
      (await stack.request('GET', '/v1/orders/other-held', undefined, stack.other.key)).body.state === 'placed',
  );
  expect(await snapshot()).toEqual(before);
});

/** The dispatches of this tenant's notices to the held order's customer. */
const customerNotices = async (): Promise<string[]> =>
  (await stack.request('GET', `/v1/orders/${ORDER}`)).body.notifications
    .filter((n: { audience: string }) => n.audience === 'customer')
    .map((n: { dispatchId: string }) => n.dispatchId);

test("the operator pages: another tenant's session opens none of this tenant's dispatches or orders, and cannot act on them", async () => {
  const { status, cookie, csrf } = await signInOverHttp(stack.apiUrl, stack.other.key);
  expect(status).toBe(303);
  const page = async (method: string, path: string, form?: Record<string, string>) =>
    (
      await fetch(`${stack.apiUrl}${path}`, {
        method,
        redirect: 'manual',
        headers: { cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body: form ? new URLSearchParams({ _csrf: csrf, ...form }) : undefined,
      })
    ).status;
  expect(await page('GET', '/ui/log')).toBe(200);
  const notices = await customerNotices();
  expect(notices.length).toBeGreaterThan(0);
  for (const [method, path, form] of [
    ...notices.map((id) => ['GET', `/ui/dispatches/${id}`] as const),
    ['GET', `/ui/dispatches/${DISPATCH}`],
    ['GET', `/ui/orders/${ORDER}`],
    ['GET', `/ui/orders/${ORDER}/documents/${documentId}`],
    ['POST', `/ui/orders/${ORDER}/carrier`, { carrier: 'Taken over' }],
    ['POST', `/ui/orders/${ORDER}/resolve`, { exception: 'on_hold', note: 'taken over' }],
    ['GET', `/ui/dispatches/${DISPATCH}/proof.pdf`],
    ['GET', `/ui/dispatches/${DISPATCH}/proof.json`],
    ['GET', `/ui/dispatches/${DISPATCH}/attachments/0`],
    ['POST', `/ui/orders/${ORDER}/release`, { reason: 'checked by phone' }],
    ['POST', `/ui/orders/${ORDER}/cancel`, { reason: 'customer asked' }],
    ['POST', `/ui/dispatches/${DISPATCH}/recipients/r1/resend`, { email: 'x@acme.test' }],
    ['POST', `/ui/dispatches/${DISPATCH}/mark-sent`, { note: 'x' }],
    ['POST', `/ui/dispatches/${DISPATCH}/resend-via`, { channel: 'sms', phone: '+33698765412' }],
  ] as const) {
    expect({ method, path, status: await page(method, path, form as Record<string, string> | undefined) }).toEqual({
      method,
      path,
      status: 404,
    });
  }
  expect((await stack.request('GET', `/v1/orders/${ORDER}`)).body.state).toBe('on_hold');
});
