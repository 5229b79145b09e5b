// Secrets never reach the logs (issue 7, docs/security.md). The API and the worker run as their
// own processes at LOG_LEVEL=debug, as chatty as an operator could make them, through a full run:
// a dispatch delivered through signed SendGrid webhooks (D1), a resend over SMS with a signed
// document link (D8), a held order whose customer confirms through the signed link (O3), an
// operator signing in to the pages, outbound webhooks (an endpoint's secret at creation and
// rotation, a signed delivery and its replay), and a wrong key. Then every key, token and secret used is
// searched for in everything both processes printed.
import { freePort } from '../../scripts/lib/processes';
import { createApiKey } from '../../src/db/api-keys';
import { generateSendGridKeyPair, startSandbox, type Sandbox } from '../../src/sandbox';
import { killAllRelais, spawnRelais, type RelaisProcess } from '../support/relais-process';
import { signInOverHttp } from '../support/ui-session';
import { newOrder, purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { publishHeld } from '../support/tenant-events';

let stack: Stack;
let sandbox: Sandbox;
let receiver: WebhookReceiver;
let apiUrl: string;
const processes: RelaisProcess[] = [];
function startProcess(entry: 'src/worker.ts' | 'src/api/main.ts', env: Record<string, string>) {
  processes.push(spawnRelais(entry, { ...stack.workerEnv, ...env }));
}
/** Everything the API and worker processes wrote. */
const output = () => processes.map((p) => p.output()).join('');

async function api(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack({ worker: false }), startWebhookReceiver()]);
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  const signing = generateSendGridKeyPair();
  // A sandbox of its own, calling back the API process (signatures cover its URL).
  sandbox = await startSandbox({
    port: 0,
    sendgrid: {
      apiKey: SANDBOX_SECRETS.sendgridApiKey,
      signingPrivateKeyPem: signing.privateKeyPem,
      webhookUrl: `${apiUrl}/webhooks/sendgrid`,
    },
    twilio: {
      accountSid: SANDBOX_SECRETS.twilioAccountSid,
      authToken: SANDBOX_SECRETS.twilioAuthToken,
      inboundWebhookUrl: `${apiUrl}/webhooks/twilio/inbound`,
    },
    eventDelayMs: 50,
    lateEventMs: 500,
  });
  const env = {
    LOG_LEVEL: 'debug',
    PUBLIC_BASE_URL: apiUrl,
    SENDGRID_BASE_URL: sandbox.url,
    TWILIO_BASE_URL: sandbox.url,
    SENDGRID_WEBHOOK_PUBLIC_KEY: signing.publicKeyBase64,
  };
  startProcess('src/api/main.ts', { ...env, HOST: '127.0.0.1', API_PORT: String(port) });
  startProcess('src/worker.ts', env);
  await stack.waitFor(
    'the API process',
    async () => (await fetch(`${apiUrl}/healthz`).catch(() => undefined))?.ok,
    60_000,
  );
  await stack.waitFor('the worker process', async () => output().includes('worker started'), 120_000);
});

afterAll(async () => {
  killAllRelais();
  await receiver?.close();
  await sandbox?.close();
  await stack?.close();
});

test('a full run at LOG_LEVEL=debug prints no API key, session, link token, provider key, link secret or webhook endpoint secret', async () => {
  const secrets: Record<string, string> = {
    'tenant admin key': stack.key,
    SENDGRID_API_KEY: SANDBOX_SECRETS.sendgridApiKey,
    TWILIO_AUTH_TOKEN: SANDBOX_SECRETS.twilioAuthToken,
    LINK_SECRET: SANDBOX_SECRETS.linkSecret,
  };
  // The secret half of a key is what matters: the id half is fine to log (it names the key).
  secrets['tenant admin key secret'] = stack.key.slice(16);

  // D1: an email dispatch, delivered through signed webhooks.
  const created = await api(
    'POST',
    '/v1/dispatches',
    stack.key,
    purchaseOrder('po-secrets', ['sofia.supplier@acme.test'], {
      attachments: [
        {
          filename: 'PO-secrets.pdf',
          contentType: 'application/pdf',
          contentBase64: Buffer.from('%PDF-1.4 PO').toString('base64'),
        },
      ],
    }),
  );
  expect(created.status).toBe(202);
  await stack.waitFor(
    'the delivered result',
    async () => (await api('GET', '/v1/dispatches/po-secrets', stack.key)).body.result === 'delivered',
    60_000,
  );

  // D8: resent over SMS; the SMS carries a signed document link, which the recipient opens.
  expect(
    (await api('POST', '/v1/dispatches/po-secrets/resend-via', stack.key, { channel: 'sms', phone: '+33698765400' }))
      .status,
  ).toBe(202);
  const sms = await stack.waitFor('the SMS', async () => sandbox.messages({ to: '+33698765400' })[0], 60_000);
  const documentLink = /https?:\/\/\S+\/d\/[A-Za-z0-9_.-]+/.exec(sms.body ?? '')![0];
  const documentPage = await fetch(documentLink);
  expect(documentPage.status).toBe(200);
  secrets['document link token'] = documentLink.split('/d/')[1];
  // Issue 17: its attachment, by its own signed link.
  const attachmentPath = /href="(\/d\/[^"]+)"/.exec(await documentPage.text())![1];
  expect((await fetch(new URL(attachmentPath, documentLink))).status).toBe(200);
  secrets['attachment link token'] = attachmentPath.split('/')[2];

  // O3: a held order (postal code too short); the customer confirms through the link.
  // No phone: the confirmation goes by email (issue 20: one channel at a time, email the only one).
  const order = newOrder('o-secrets', {
    phone: null,
    address: { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '750', country: 'FR' },
  });
  expect((await api('POST', '/v1/orders', stack.key, order)).status).toBe(202);
  const email = await stack.waitFor(
    'the confirmation email',
    async () => sandbox.messages({ to: 'chloe.client@example.test' })[0],
    60_000,
  );
  const confirmationLink = /(http:\/\/\S+\/c\/[A-Za-z0-9_.-]+)/.exec(email.text!)![1];
  expect((await fetch(confirmationLink)).status).toBe(200);
  const confirmed = await fetch(confirmationLink, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'action=confirm',
  });
  expect(confirmed.status).toBe(200);
  secrets['confirmation link token'] = confirmationLink.split('/c/')[1];

  // An operator signs in with a key of their own; the session cookie opens the log.
  const { key: operatorKey } = await createApiKey(stack.db, { tenantId: stack.tenantId, roles: ['log:read'] });
  secrets['operator key'] = operatorKey;
  const session = await signInOverHttp(apiUrl, operatorKey);
  expect(session.status).toBe(303);
  secrets['session token'] = session.sessionToken;
  expect((await fetch(`${apiUrl}/ui/log`, { headers: { cookie: session.cookie } })).status).toBe(200);

  // Outbound webhooks: an endpoint's secret (shown at creation and rotation) signs a delivery and a replay.
  const endpoint = await api('POST', '/v1/webhook-endpoints', stack.key, {
    url: receiver.url('/hook'),
    events: ['order.held'],
  });
  expect(endpoint.status).toBe(201);
  const rotated = await api('POST', `/v1/webhook-endpoints/${endpoint.body.id}/rotate-secret`, stack.key, {});
  secrets['webhook endpoint secret'] = endpoint.body.secret.slice('whsec_'.length);
  secrets['rotated webhook endpoint secret'] = rotated.body.secret.slice('whsec_'.length);
  const {
    deliveries: [deliveryId],
  } = await publishHeld(stack, 'o-secrets');
  expect((await api('POST', `/v1/webhook-deliveries/${deliveryId}/replay`, stack.key, {})).status).toBe(202);
  await stack.waitFor('both webhook requests', async () => receiver.received('/hook').length === 2, 60_000);

  // A wrong key (the right id, a changed secret) is refused, and not echoed either.
  const wrong = `${stack.key.slice(0, -4)}AAAA`;
  secrets['refused key'] = wrong;
  expect((await api('GET', '/v1/dispatches', wrong)).status).toBe(401);

  // Let the last lines come out, then make sure the logs are worth searching: the requests
  // above, links included, were logged.
  await new Promise((r) => setTimeout(r, 1000));
  const logs = output();
  expect(logs).toContain('"url":"/c/');
  expect(logs).toContain('"url":"/d/');
  expect(logs).toContain('dispatch sent');
  expect(logs).toContain('webhook attempt');
  const found = Object.entries(secrets)
    .filter(([, value]) => logs.includes(value))
    .map(([name]) => name);
  expect(found).toEqual([]);
});
