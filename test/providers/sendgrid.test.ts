// The SendGrid sender through the official SDK against the provider sandbox (src/sandbox):
// what the sandbox received, the X-Message-Id returned, and how refusals, rate limits and
// outages are shaped for Temporal's activity retries.
import { ApplicationFailure } from '@temporalio/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSendGridSender, mapSendGridError } from '../../src/providers/sendgrid/send';
import type { OutboundEmail } from '../../src/providers/types';
import { generateSendGridKeyPair, startSandbox, type Sandbox } from '../../src/sandbox';
import { failure } from '../support/failure';

const API_KEY = 'SG.relais-provider-tests';
const PDF = Buffer.from('%PDF-1.4 purchase order 4711').toString('base64');

function email(overrides: Partial<OutboundEmail> = {}): OutboundEmail {
  return {
    from: { email: 'orders@relais.test', name: 'Relais Orders' },
    replyTo: { email: 'buyer@shop.test', name: 'Alice Buyer' },
    subject: 'Purchase order PO-4711',
    text: 'Please find purchase order PO-4711 attached.',
    html: '<p>Please find purchase order <b>PO-4711</b> attached.</p>',
    recipients: [
      { email: 'anna@supplier.test', name: 'Anna', recipientId: 'r1' },
      { email: 'bob@supplier.test', recipientId: 'r2' },
      { email: 'carla@supplier.test', recipientId: 'r3' },
    ],
    attachments: [
      { filename: 'PO-4711.pdf', contentType: 'application/pdf', contentBase64: PDF },
      { filename: 'terms.txt', contentType: 'text/plain', contentBase64: Buffer.from('terms').toString('base64') },
    ],
    categories: ['purchase_order', 'po_default'],
    customArgs: { relais_tenant: 't1', relais_dispatch: 'd-4711' },
    ...overrides,
  };
}

async function fault(sandbox: Sandbox, body: Record<string, unknown>) {
  const res = await fetch(`${sandbox.url}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

describe('SendGrid sender against the sandbox', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({
      port: 0,
      sendgrid: {
        apiKey: API_KEY,
        signingPrivateKeyPem: generateSendGridKeyPair().privateKeyPem,
        webhookUrl: 'http://127.0.0.1:9/not-listening',
      },
      twilio: {
        accountSid: `AC${'0'.repeat(32)}`,
        authToken: 'unused',
        inboundWebhookUrl: 'http://127.0.0.1:9/not-listening',
      },
      eventDelayMs: 600_000, // no webhook within these tests
    });
  });
  afterAll(() => sandbox.close());
  beforeEach(async () => {
    sandbox.clear();
    await fetch(`${sandbox.url}/sandbox/faults`, { method: 'DELETE' });
  });

  const sender = () => createSendGridSender({ apiKey: API_KEY, baseUrl: sandbox.url });

  it("issue 17: the sender's copy rides once, in bcc or cc, on the first personalization, which names it in relais_copy; a copy to a recipient or beyond 1000 addresses is refused before sending", async () => {
    for (const mode of ['bcc', 'cc'] as const) {
      sandbox.clear();
      await sender().sendEmail(
        email({ recipientArg: 'relais_index', copy: { mode, email: 'Buyer@Shop.test', name: 'Alice Buyer' } }),
      );
      const stored = sandbox.messages();
      expect(stored.map((m) => [m.to, m.kind])).toEqual([
        ['anna@supplier.test', 'to'],
        ['Buyer@Shop.test', mode],
        ['bob@supplier.test', 'to'],
        ['carla@supplier.test', 'to'],
      ]);
      // SendGrid reports the copy with its personalization's custom_args: relais_copy tells its events apart.
      expect(stored[1].customArgs).toEqual({
        relais_tenant: 't1',
        relais_dispatch: 'd-4711',
        relais_index: 'r1',
        relais_copy: 'buyer@shop.test',
      });
      expect(stored[2].customArgs).not.toHaveProperty('relais_copy');
    }
    await expect(sender().sendEmail(email({ copy: { mode: 'cc', email: 'BOB@supplier.test' } }))).rejects.toMatchObject(
      { message: expect.stringContaining('copy.email') },
    );
    const many = Array.from({ length: 1000 }, (_, i) => ({ email: `s${i}@supplier.test`, recipientId: `r${i}` }));
    await expect(
      sender().sendEmail(email({ recipients: many, copy: { mode: 'bcc', email: 'buyer@shop.test' } })),
    ).rejects.toMatchObject({ message: expect.stringContaining('at most 1000 addresses') });
  });

  it('sends one request with one personalization per recipient and returns X-Message-Id', async () => {
    const result = await sender().sendEmail(email());

    expect(result.provider).toBe('sendgrid');
    expect(result.providerMessageId).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    expect(result.recipients).toEqual([
      { recipientId: 'r1', outcome: 'accepted' },
      { recipientId: 'r2', outcome: 'accepted' },
      { recipientId: 'r3', outcome: 'accepted' },
    ]);

    const stored = sandbox.messages();
    expect(stored.map((m) => m.to)).toEqual(['anna@supplier.test', 'bob@supplier.test', 'carla@supplier.test']);
    // Each recipient had its own personalization: its own custom_args with its own id.
    expect(stored.map((m) => m.customArgs)).toEqual(
      ['r1', 'r2', 'r3'].map((id) => ({ relais_tenant: 't1', relais_dispatch: 'd-4711', relais_recipient: id })),
    );
    for (const m of stored) {
      expect(m.providerMessageId).toBe(result.providerMessageId);
      expect(m.from).toBe('orders@relais.test');
      expect(m.replyTo).toBe('buyer@shop.test');
      expect(m.subject).toBe('Purchase order PO-4711');
      expect(m.text).toBe('Please find purchase order PO-4711 attached.');
      expect(m.html).toBe('<p>Please find purchase order <b>PO-4711</b> attached.</p>');
      expect(m.categories).toEqual(['purchase_order', 'po_default']);
      expect(m.attachments).toEqual(['PO-4711.pdf', 'terms.txt']);
    }
    // The sandbox can look at any one address.
    expect(sandbox.messages({ to: 'bob@supplier.test' })).toHaveLength(1);
  });

  it("400: non-retryable, with SendGrid's own message and field", async () => {
    const err = await failure(
      sender().sendEmail(email({ recipients: [{ email: 'someone@localhost', recipientId: 'r1' }] })),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('ProviderRejected');
    expect(f.message).toContain('HTTP 400');
    expect(f.message).toContain('Does not contain a valid address. (field personalizations.0.to.0.email)');
    expect(f.details?.[0]).toMatchObject({
      provider: 'SendGrid',
      status: 400,
      errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' }],
    });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('401 (wrong key): non-retryable', async () => {
    const err = await failure(
      createSendGridSender({ apiKey: 'SG.wrong-key', baseUrl: sandbox.url }).sendEmail(email()),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('ProviderRejected');
    expect(err.message).toContain('HTTP 401');
    expect(err.message).toContain('The provided authorization grant is invalid, expired, or revoked');
  });

  it('429: RateLimited, retryable, waiting until X-RateLimit-Reset', async () => {
    await fault(sandbox, { provider: 'sendgrid', status: 429, count: 1, retryAfterSeconds: 7 });
    const err = await failure(sender().sendEmail(email()));
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.type).toBe('RateLimited');
    expect(f.nonRetryable).toBe(false);
    // Reset is whole epoch seconds, 7 s ahead: between 6 and 7 s from now.
    expect(f.nextRetryDelay).toBeGreaterThanOrEqual(5_000);
    expect(f.nextRetryDelay).toBeLessThanOrEqual(7_000);
    expect(sandbox.messages()).toHaveLength(0);

    // The fault is used up: the retry goes through.
    await expect(sender().sendEmail(email())).resolves.toMatchObject({ provider: 'sendgrid' });
  });

  it('500: an ordinary (retryable) error', async () => {
    await fault(sandbox, { provider: 'sendgrid', status: 500, count: 1 });
    const err = await failure(sender().sendEmail(email()));
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
    expect(err.message).toBe('SendGrid answered 500: internal error, please try again');
  });

  it('no answer at all (connection refused): an ordinary (retryable) error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(
      createSendGridSender({ apiKey: API_KEY, baseUrl: `http://127.0.0.1:${port}` }).sendEmail(email()),
    );
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('refuses before calling: empty list, >1000, duplicates, >10 categories, non-string custom args', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ email: `p${i}@supplier.test`, recipientId: `r${i}` }));
    const cases: Array<[Partial<OutboundEmail>, RegExp]> = [
      [{ recipients: [] }, /recipients: the list is empty/],
      [{ recipients: many }, /recipients: 1001 recipients; at most 1000/],
      [
        {
          recipients: [
            { email: 'a@x.test', recipientId: 'r1' },
            { email: 'A@X.TEST', recipientId: 'r2' },
          ],
        },
        /recipients\[1\]\.email: "A@X.TEST" is already recipients\[0\]/,
      ],
      [{ categories: Array.from({ length: 11 }, (_, i) => `c${i}`) }, /categories: 11 distinct categories/],
      [{ customArgs: { relais_tenant: 1 as unknown as string } }, /customArgs\.relais_tenant: values must be strings/],
      [{ customArgs: { big: 'x'.repeat(10_000) } }, /custom_args take \d+ bytes/],
    ];
    for (const [overrides, words] of cases) {
      const err = await failure(sender().sendEmail(email(overrides)));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('InvalidRequest');
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      expect(err.message).toMatch(words);
    }
    expect(sandbox.messages()).toHaveLength(0);
  });
});

describe('SendGrid answers the sandbox does not give (403, 413, 503)', () => {
  let server: Server;
  let url: string;
  const answers: Record<string, [number, unknown]> = {
    '/403/v3/mail/send': [
      403,
      {
        errors: [
          {
            message: 'The from address does not match a verified Sender Identity.',
            field: 'from',
            help: 'https://sendgrid.com/docs/for-developers/sending-email/sender-identity/',
          },
        ],
      },
    ],
    '/413/v3/mail/send': [
      413,
      { errors: [{ message: 'The JSON payload you have included in your request is too large.', field: null }] },
    ],
    '/503/v3/mail/send': [503, { errors: [{ message: 'service unavailable' }] }],
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const [status, body] = answers[req.url ?? ''] ?? [404, { errors: [{ message: 'not found' }] }];
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it.each([
    ['403', 'The from address does not match a verified Sender Identity. (field from)'],
    ['413', 'The JSON payload you have included in your request is too large.'],
  ])("%s: non-retryable ProviderRejected with SendGrid's words", async (status, words) => {
    const err = await failure(
      createSendGridSender({ apiKey: API_KEY, baseUrl: `${url}/${status}` }).sendEmail(email()),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('ProviderRejected');
    expect(err.message).toBe(`SendGrid refused the request: HTTP ${status}: ${words}`);
  });

  it('503: retryable', async () => {
    const err = await failure(createSendGridSender({ apiKey: API_KEY, baseUrl: `${url}/503` }).sendEmail(email()));
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
  });

  it('429 without X-RateLimit-Reset waits 1 s', () => {
    const f = mapSendGridError(
      Object.assign(new Error('Too Many Requests'), {
        code: 429,
        response: { headers: {}, body: { errors: [{ message: 'too many requests' }] } },
      }),
    ) as ApplicationFailure;
    expect(f.type).toBe('RateLimited');
    expect(f.nextRetryDelay).toBe(1000);
  });
});
