// Keys of every role (docs/security.md, "Keys and roles"): each operation of the published contract
// answers 403 to a key without its role and lets a key with it through; and no role can read or
// resend the customer's signed link held in a notice's stored copy, through the API or the operator
// pages (issue 14, finding 1: a log:read key could release a held order through the link it read).
import { createApiKey, type Role } from '../../src/db/api-keys';
import { signInOverHttp, type UiSession } from '../support/ui-session';
import { newOrder, purchaseOrder, startStack, TEST_WHATSAPP_TEMPLATES, type Stack } from '../support/stack';

const TENANT_ROLES: Role[] = ['admin', 'dispatch:write', 'log:read', 'orders:write', 'ops'];
/** The roles each operation needs (an admin key has every tenant role; platform is never implied). */
const NEEDS: Record<string, Role[]> = {
  'POST /v1/dispatches': ['dispatch:write'],
  'GET /v1/dispatches': ['log:read'],
  'GET /v1/dispatches/{id}': ['log:read'],
  'GET /v1/dispatches.csv': ['log:read'],
  'GET /v1/dispatches/{id}/proof.json': ['log:read'],
  'GET /v1/dispatches/{id}/proof.pdf': ['log:read'],
  'GET /v1/dispatches/{id}/attachments/{index}': ['log:read'],
  'GET /v1/orders.csv': ['orders:write', 'ops', 'log:read'],
  'POST /v1/dispatches/{id}/recipients/{rid}/resend': ['dispatch:write'],
  'POST /v1/dispatches/{id}/resend-via': ['dispatch:write'],
  'POST /v1/dispatches/{id}/mark-sent': ['dispatch:write'],
  'POST /v1/orders': ['orders:write'],
  'GET /v1/orders/{id}': ['orders:write', 'ops', 'log:read'],
  'POST /v1/orders/{id}/events': ['orders:write'],
  'POST /v1/orders/{id}/release': ['ops'],
  'POST /v1/orders/{id}/cancel': ['ops'],
  'GET /v1/orders': ['orders:write', 'ops', 'log:read'],
  'POST /v1/orders/{id}/actions': ['ops'],
  'POST /v1/orders/{id}/documents': ['ops'],
  'GET /v1/orders/{id}/documents/{documentId}': ['orders:write', 'ops', 'log:read'],
  'GET /v1/settings': ['admin'],
  'PUT /v1/settings': ['admin'],
  'GET /v1/preferences': ['admin'],
  'PUT /v1/preferences': ['admin'],
  'GET /v1/keys': ['admin'],
  'POST /v1/keys': ['admin'],
  'DELETE /v1/keys/{id}': ['admin'],
  'POST /v1/webhook-endpoints': ['admin'],
  'GET /v1/webhook-endpoints': ['admin'],
  'GET /v1/webhook-endpoints/{id}': ['admin'],
  'PATCH /v1/webhook-endpoints/{id}': ['admin'],
  'DELETE /v1/webhook-endpoints/{id}': ['admin'],
  'POST /v1/webhook-endpoints/{id}/rotate-secret': ['admin'],
  'GET /v1/webhook-deliveries': ['admin'],
  'GET /v1/webhook-deliveries/{id}': ['admin'],
  'POST /v1/webhook-deliveries/{id}/replay': ['admin'],
  'GET /v1/address-health': ['log:read', 'ops'],
  'GET /v1/address-health/{address}': ['log:read', 'ops'],
  'DELETE /v1/address-health/{address}': ['ops'],
  'POST /v1/tenants': ['platform'],
  'POST /v1/tenants/{id}/keys': ['platform'],
};
const allowed = (operation: string, role: Role) =>
  NEEDS[operation].includes(role) || (role === 'admin' && !NEEDS[operation].includes('platform'));

// Ends in 0001: WhatsApp and SMS come back undelivered, so the notice goes on all three channels in turn (issue 20).
const PHONE = '+33698710001';
// The email bounces: a failed notice is one an operator could otherwise resend (D8).
const EMAIL = 'nina.notice+bounce@example.test';
const DOCUMENT_PHONE = '+33698700102';
/** An approved WhatsApp template for the address confirmation: its variables come from the template data. */
const WHATSAPP_TEMPLATES = {
  ...TEST_WHATSAPP_TEMPLATES,
  'address_confirmation.en': { contentSid: `HX${'2'.repeat(32)}`, variables: ['orderId', 'link'] },
};

let stack: Stack;
const keys = {} as Record<Role, string>;
beforeAll(async () => {
  stack = await startStack({ whatsappTemplates: WHATSAPP_TEMPLATES });
  for (const role of TENANT_ROLES) keys[role] = await stack.keyWithRoles([role]);
  keys.platform = (await createApiKey(stack.db, { tenantId: null, roles: ['platform'] })).key;
});
afterAll(async () => {
  await stack?.close();
});

test('every operation of the contract: 403 without its role, through with it', async () => {
  const doc = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>>;
  };
  const walked: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op.security?.some((s) => Object.keys(s as object).includes('apiKey'))) continue;
      const operation = `${method.toUpperCase()} ${path}`;
      expect({ operation, classified: operation in NEEDS }).toEqual({ operation, classified: true });
      // Ids that name nothing and empty bodies: an allowed call is refused further on (400, 404)
      // and changes nothing; a forbidden one is refused before the body is read.
      const url = path
        .replace('{id}', 'no-such-id')
        .replace('{rid}', 'r1')
        .replace('{index}', '0')
        .replace('{address}', 'nobody%40example.test');
      for (const role of [...TENANT_ROLES, 'platform'] as Role[]) {
        const res = await stack.request(method.toUpperCase(), url, op.requestBody ? {} : undefined, keys[role]);
        const seen = allowed(operation, role)
          ? res.status === 401 || res.status === 403
            ? `refused ${res.status}`
            : 'through'
          : `${res.status} ${res.body?.error?.code}`;
        expect({ operation, role, seen }).toEqual({
          operation,
          role,
          seen: allowed(operation, role) ? 'through' : '403 forbidden',
        });
      }
      walked.push(operation);
    }
  }
  expect(walked.sort()).toEqual(Object.keys(NEEDS).sort());
});

test("rules O3, D8: no role reads a customer link or reply code from a notice's stored copy, or resends it, through the API or the pages", async () => {
  // A held order: the customer is asked on SMS, WhatsApp (approved template) and email.
  const order = newOrder('roles-held', {
    phone: PHONE,
    email: EMAIL,
    address: { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '750', country: 'FR' },
  });
  expect((await stack.request('POST', '/v1/orders', order)).status).toBe(202);
  const sent = await stack.waitFor('the three customer messages', async () => {
    const email = stack.sandbox.messages({ to: EMAIL })[0];
    const sms = stack.sandbox.messages({ to: PHONE }).find((m) => m.channel === 'sms');
    const whatsapp = stack.sandbox.messages({ to: PHONE }).find((m) => m.channel === 'whatsapp');
    return email && sms && whatsapp && { email, sms, whatsapp };
  });
  const link = /https?:\/\/\S+\/c\/[A-Za-z0-9_.-]+/.exec(sent.email.text!)![0];
  const confirmToken = link.split('/c/')[1];
  // The customer gets the real link on every channel (the WhatsApp template's variables included).
  expect(sent.sms.body).toContain(link);
  expect(JSON.parse(sent.whatsapp.contentVariables!)).toEqual({ 1: 'roles-held', 2: link });
  expect(sent.email.html).toContain(link);

  // D8: a document re-sent over SMS carries a signed document link.
  expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('roles-doc', ['sofia@acme.test']))).status).toBe(
    202,
  );
  await stack.waitFor(
    'the dispatch recorded',
    async () => (await stack.request('GET', '/v1/dispatches/roles-doc')).body?.number,
  );
  const via = await stack.request('POST', '/v1/dispatches/roles-doc/resend-via', {
    channel: 'sms',
    phone: DOCUMENT_PHONE,
  });
  expect(via.status).toBe(202);
  const documentSms = await stack.waitFor(
    'the document SMS',
    async () => stack.sandbox.messages({ to: DOCUMENT_PHONE })[0],
  );
  const documentToken = /\/d\/([A-Za-z0-9_.-]+)/.exec(documentSms.body!)![1];

  const customerNotices = (await stack.request('GET', '/v1/orders/roles-held')).body.notifications
    .filter((n: { audience: string }) => n.audience === 'customer')
    .map((n: { dispatchId: string }) => n.dispatchId);
  expect(customerNotices).toHaveLength(3);
  const notices: string[] = [...customerNotices, via.body.dispatchId];
  // The SMS and WhatsApp questions carry a reply code too ("YES 4821"): withheld like the link.
  const code = /YES (\d{4})/.exec(sent.sms.body!)![1];
  expect(sent.whatsapp.contentVariables).toBeDefined(); // the approved template has no code variable here
  const secrets = [confirmToken, documentToken, `YES ${code}`];
  const leaks = (text: string) => secrets.filter((s) => text.includes(s));

  // What is stored: the copy people read has the link withheld; the sendable one is sealed. Every
  // document of the dispatch is read: its log entry, its content, its recipients.
  for (const id of notices) {
    const key = `${stack.tenantId}/${id}`;
    const [record, content, recipients] = await Promise.all([
      stack.db.Dispatch.findById(key).lean(),
      stack.db.DispatchContent.findById(key).select('+sealed').lean(),
      stack.db.DispatchRecipients.findById(`${key}/0`).lean(),
    ]);
    expect({ id, found: [record, content, recipients].map(Boolean) }).toEqual({ id, found: [true, true, true] });
    expect({ id, leaks: leaks(JSON.stringify([record, { ...content, sealed: undefined }, recipients])) }).toEqual({
      id,
      leaks: [],
    });
    expect({ id, sealed: typeof content!.sealed }).toEqual({ id, sealed: 'string' });
  }

  const sessions = {} as Record<Role, UiSession>;
  for (const role of TENANT_ROLES) sessions[role] = await signInOverHttp(stack.apiUrl, keys[role]);
  const page = async (role: Role, method: string, path: string, form?: Record<string, string>) => {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        cookie: sessions[role].cookie,
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams({ _csrf: sessions[role].csrf, ...form }) : undefined,
    });
    return { status: res.status, text: await res.text() };
  };

  for (const role of TENANT_ROLES) {
    const reads = allowed('GET /v1/dispatches/{id}', role);
    const writes = allowed('POST /v1/dispatches/{id}/recipients/{rid}/resend', role);
    for (const id of notices) {
      const rest = await stack.request('GET', `/v1/dispatches/${id}`, undefined, keys[role]);
      const text = JSON.stringify(rest.body);
      expect({ role, id, status: rest.status, leaks: leaks(text), sealed: text.includes('sealed') }).toEqual({
        role,
        id,
        status: reads ? 200 : 403,
        leaks: [],
        sealed: false,
      });
      if (reads) expect(text).toContain('withheld');
      const ui = await page(role, 'GET', `/ui/dispatches/${id}`);
      expect({ role, id, status: ui.status, leaks: leaks(ui.text) }).toEqual({
        role,
        id,
        status: reads ? 200 : 403,
        leaks: [],
      });

      // Resending a notice that carries a customer link would hand the link to an address of the caller's choosing.
      const resend = await stack.request(
        'POST',
        `/v1/dispatches/${id}/recipients/r1/resend`,
        { email: 'someone.else@evil.test' },
        keys[role],
      );
      expect({ role, id, status: resend.status }).toEqual({ role, id, status: writes ? 409 : 403 });
      if (writes) expect(resend.body.error.message).toMatch(/carries a customer's signed link/);
      const form = await page(role, 'POST', `/ui/dispatches/${id}/recipients/r1/resend`, {
        email: 'someone.else@evil.test',
      });
      expect({ role, id, status: form.status, leaks: leaks(form.text) }).toEqual({
        role,
        id,
        status: writes ? 409 : 403,
        leaks: [],
      });
    }
  }
  expect(stack.sandbox.messages({ to: 'someone.else@evil.test' })).toHaveLength(0);

  // A key, whatever its roles, is no Twilio signature: a "reply" posted with one confirms nothing.
  for (const role of TENANT_ROLES) {
    const res = await fetch(`${stack.apiUrl}/webhooks/twilio/inbound`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys[role]}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ From: PHONE, To: '+15005550006', Body: `YES ${code}` }),
    });
    expect({ role, status: res.status }).toEqual({ role, status: 401 });
  }
  expect((await stack.request('GET', '/v1/orders/roles-held')).body.state).toBe('on_hold');

  // The link the customer received still does its job.
  const confirmed = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'action=confirm',
  });
  expect(confirmed.status).toBe(200);
  expect((await stack.request('GET', '/v1/orders/roles-held')).body.state).toBe('placed');
  expect((await fetch(`${stack.apiUrl}/d/${documentToken}`)).status).toBe(200);
});
