// Contract checks: the requests the official SDKs actually put on the wire, as our senders drive
// them, validated against the providers' descriptions:
// - Twilio: its official OpenAPI (twilio_api_v2010.json from @twilio-alpha/mcp), the
//   form-encoded request schema of POST /2010-04-01/Accounts/{AccountSid}/Messages.json;
// - SendGrid: test/providers/sendgrid-mail-send.schema.json (SendGrid's OpenAPI is not on npm).
// A local HTTP server stands in for both APIs and keeps the raw requests.
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSendGridSender } from '../../src/providers/sendgrid/send';
import { createTwilioSender } from '../../src/providers/twilio/send';
import type { OutboundEmail, OutboundMessage } from '../../src/providers/types';
import { readFileSync } from 'node:fs';
import sendgridSchema from './sendgrid-mail-send.schema.json';

// 2 MB of JSON: read at run time rather than typed by the compiler.
const twilioSpec = JSON.parse(
  readFileSync(require.resolve('@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json'), 'utf8'),
);

interface Captured {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const MESSAGING_SERVICE_SID = `MG${'fedcba9876543210'.repeat(2)}`;
const CONTENT_SID = `HX${'a1b2c3d4'.repeat(4)}`;
const MESSAGES_PATH = '/2010-04-01/Accounts/{AccountSid}/Messages.json';

function ajv(options: { formEncoded: boolean }) {
  // Form-encoded values are all strings: coerce them to the types the spec gives (as Twilio
  // does). JSON bodies are taken as they are.
  const instance = new Ajv({ allErrors: true, strict: false, coerceTypes: options.formEncoded });
  addFormats(instance);
  // OpenAPI's `phone-number` format: E.164, or a channel address such as whatsapp:+E164.
  instance.addFormat('phone-number', /^(?:[a-z]+:)?\+[1-9]\d{1,14}$/);
  return instance;
}

/** The spec's request schema, with its components (for its $refs) and, our addition, no unknown parameter. */
function twilioMessageValidator(): { validate: ValidateFunction; validateAccountSid: ValidateFunction } {
  const operation = twilioSpec.paths[MESSAGES_PATH].post;
  const schema = operation.requestBody.content['application/x-www-form-urlencoded'].schema;
  const accountSid = operation.parameters.find((p: any) => p.name === 'AccountSid' && p.in === 'path').schema;
  const instance = ajv({ formEncoded: true });
  return {
    validate: instance.compile({
      ...schema,
      // A misspelled parameter would be silently ignored by Twilio; the spec allows any, we don't.
      propertyNames: { enum: Object.keys(schema.properties) },
      components: twilioSpec.components,
    }),
    validateAccountSid: instance.compile(accountSid),
  };
}

const errorsOf = (v: ValidateFunction) => (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);

async function startCapture(
  answer: (req: Captured) => { status: number; headers?: Record<string, string>; body?: unknown },
) {
  const captured: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      captured.push(request);
      const reply = answer(request);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    captured,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("Twilio Messages requests match Twilio's OpenAPI description", () => {
  const { validate, validateAccountSid } = twilioMessageValidator();
  let api: Awaited<ReturnType<typeof startCapture>>;

  beforeAll(async () => {
    api = await startCapture(() => ({
      status: 201,
      body: { sid: `SM${'0'.repeat(32)}`, status: 'queued', account_sid: ACCOUNT_SID },
    }));
  });
  afterAll(() => api.close());

  const callback = 'https://relais.example/webhooks/twilio/status?tenant=t1&dispatch=d-1&recipient=r1';
  const cases: Array<
    [
      string,
      Parameters<typeof createTwilioSender>[0] extends infer O ? Partial<O> : never,
      OutboundMessage,
      Record<string, string>,
    ]
  > = [
    [
      'SMS from a number',
      { smsFrom: '+15005550006' },
      { channel: 'sms', to: '+33612345678', body: 'Your order is on its way', statusCallback: callback },
      { To: '+33612345678', From: '+15005550006', Body: 'Your order is on its way', StatusCallback: callback },
    ],
    [
      'SMS through a messaging service',
      { messagingServiceSid: MESSAGING_SERVICE_SID },
      { channel: 'sms', to: '+33612345678', body: 'Hi', statusCallback: callback },
      { To: '+33612345678', MessagingServiceSid: MESSAGING_SERVICE_SID, Body: 'Hi', StatusCallback: callback },
    ],
    [
      'WhatsApp template',
      { whatsappFrom: '+14155238886' },
      {
        channel: 'whatsapp',
        to: '+33698765432',
        template: { contentSid: CONTENT_SID, variables: { 1: 'Anna' } },
        statusCallback: callback,
      },
      {
        To: 'whatsapp:+33698765432',
        From: 'whatsapp:+14155238886',
        ContentSid: CONTENT_SID,
        ContentVariables: '{"1":"Anna"}',
        StatusCallback: callback,
      },
    ],
    [
      'WhatsApp free text',
      { whatsappFrom: 'whatsapp:+14155238886' },
      { channel: 'whatsapp', to: '+33698765432', body: 'Merci !', statusCallback: callback },
      { To: 'whatsapp:+33698765432', From: 'whatsapp:+14155238886', Body: 'Merci !', StatusCallback: callback },
    ],
  ];

  it.each(cases)('%s', async (_name, options, message, expected) => {
    api.captured.length = 0;
    const sender = createTwilioSender({ accountSid: ACCOUNT_SID, authToken: 'token', baseUrl: api.url, ...options });
    await sender.sendMessage(message);

    expect(api.captured).toHaveLength(1);
    const [req] = api.captured;
    expect(req.method).toBe('POST');
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.path);
    expect(match).not.toBeNull();
    expect(validateAccountSid(match![1])).toBe(true);
    expect(req.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:token`).toString('base64')}`);

    const form = Object.fromEntries(new URLSearchParams(req.body));
    expect(form).toEqual(expected);
    const ok = validate(form);
    expect(errorsOf(validate)).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['no To', { From: '+15005550006', Body: 'x' }, "must have required property 'To'"],
    [
      'a StatusCallback that is not a URI',
      { To: '+33612345678', From: '+15005550006', Body: 'x', StatusCallback: 'not a url' },
      'must match format "uri"',
    ],
    [
      'a To that is not a phone number',
      { To: '0612345678', From: '+15005550006', Body: 'x' },
      'must match format "phone-number"',
    ],
    [
      'a ContentSid that is not HX…',
      { To: '+33612345678', From: '+15005550006', ContentSid: 'HX123' },
      'must NOT have fewer than 34 characters',
    ],
    [
      'a MessagingServiceSid that is not MG…',
      { To: '+33612345678', MessagingServiceSid: `PN${'0'.repeat(32)}`, Body: 'x' },
      'must match pattern "^MG[0-9a-fA-F]{32}$"',
    ],
    [
      'a misspelled parameter',
      { To: '+33612345678', From: '+15005550006', Body: 'x', StatusCallBack: 'https://x.test/' },
      'must be equal to one of the allowed values',
    ],
  ])('rejects a request with %s', (_name, form, words) => {
    expect(validate({ ...form })).toBe(false);
    expect(errorsOf(validate).join('\n')).toContain(words);
  });

  it('rejects a path AccountSid that is not AC…', () => {
    expect(validateAccountSid('AC123')).toBe(false);
  });
});

describe('SendGrid Mail Send bodies match the kept schema', () => {
  const validate = ajv({ formEncoded: false }).compile(sendgridSchema);
  let api: Awaited<ReturnType<typeof startCapture>>;

  beforeAll(async () => {
    api = await startCapture(() => ({ status: 202, headers: { 'x-message-id': 'contract-msg-id' } }));
  });
  afterAll(() => api.close());

  const message: OutboundEmail = {
    from: { email: 'orders@relais.test', name: 'Relais Orders' },
    replyTo: { email: 'buyer@shop.test' },
    subject: 'Purchase order PO-4711',
    text: 'Purchase order attached.',
    html: '<p>Purchase order attached.</p>',
    recipients: Array.from({ length: 3 }, (_, i) => ({
      email: `supplier${i}@supplier.test`,
      recipientId: `r${i}`,
      ...(i === 0 ? { name: 'Anna' } : {}),
    })),
    attachments: [
      {
        filename: 'PO-4711.pdf',
        contentType: 'application/pdf',
        contentBase64: Buffer.from('%PDF-1.4').toString('base64'),
      },
    ],
    categories: ['purchase_order', 'po_default', 'purchase_order'],
    customArgs: { relais_tenant: 't1', relais_dispatch: 'd-4711' },
  };

  let body: any;
  beforeAll(async () => {
    const result = await createSendGridSender({ apiKey: 'SG.contract', baseUrl: api.url }).sendEmail(message);
    expect(result.providerMessageId).toBe('contract-msg-id');
    expect(api.captured).toHaveLength(1);
    expect(api.captured[0].path).toBe('/v3/mail/send');
    expect(api.captured[0].headers.authorization).toBe('Bearer SG.contract');
    body = JSON.parse(api.captured[0].body);
  });

  it('the body our sender builds is valid', () => {
    const ok = validate(body);
    expect(errorsOf(validate)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('has one personalization per recipient, with its own custom_args', () => {
    expect(body.personalizations).toEqual([
      {
        to: [{ email: 'supplier0@supplier.test', name: 'Anna' }],
        custom_args: { relais_tenant: 't1', relais_dispatch: 'd-4711', relais_recipient: 'r0' },
      },
      {
        to: [{ email: 'supplier1@supplier.test' }],
        custom_args: { relais_tenant: 't1', relais_dispatch: 'd-4711', relais_recipient: 'r1' },
      },
      {
        to: [{ email: 'supplier2@supplier.test' }],
        custom_args: { relais_tenant: 't1', relais_dispatch: 'd-4711', relais_recipient: 'r2' },
      },
    ]);
    expect(body.reply_to).toEqual({ email: 'buyer@shop.test' });
    expect(body.content).toEqual([
      { type: 'text/plain', value: 'Purchase order attached.' },
      { type: 'text/html', value: '<p>Purchase order attached.</p>' },
    ]);
    expect(body.categories).toEqual(['purchase_order', 'po_default']);
    expect(body.attachments).toEqual([
      {
        content: Buffer.from('%PDF-1.4').toString('base64'),
        filename: 'PO-4711.pdf',
        type: 'application/pdf',
        disposition: 'attachment',
      },
    ]);
  });

  const mutate = (change: (b: any) => void) => {
    const copy = JSON.parse(JSON.stringify(body));
    change(copy);
    return copy;
  };
  it.each([
    [
      '11 categories',
      (b: any) => {
        b.categories = Array.from({ length: 11 }, (_, i) => `c${i}`);
      },
      'must NOT have more than 10 items',
    ],
    [
      'a repeated category',
      (b: any) => {
        b.categories = ['a', 'a'];
      },
      'must NOT have duplicate items',
    ],
    [
      'a custom arg that is not a string',
      (b: any) => {
        b.personalizations[0].custom_args.n = 1;
      },
      'must be string',
    ],
    [
      'no personalization',
      (b: any) => {
        b.personalizations = [];
      },
      'must NOT have fewer than 1 items',
    ],
    [
      '1001 personalizations',
      (b: any) => {
        b.personalizations = Array.from({ length: 1001 }, (_, i) => ({ to: [{ email: `p${i}@x.test` }] }));
      },
      'must NOT have more than 1000 items',
    ],
    [
      'no from',
      (b: any) => {
        delete b.from;
      },
      "must have required property 'from'",
    ],
    [
      'an attachment without a file name',
      (b: any) => {
        delete b.attachments[0].filename;
      },
      "must have required property 'filename'",
    ],
    [
      'an empty content value',
      (b: any) => {
        b.content[0].value = '';
      },
      'must NOT have fewer than 1 characters',
    ],
    [
      'a camelCase field (replyTo)',
      (b: any) => {
        b.replyTo = b.reply_to;
      },
      'must NOT have additional properties',
    ],
    [
      'a recipient address that is not one',
      (b: any) => {
        b.personalizations[0].to[0].email = 'nobody';
      },
      'must match format "email"',
    ],
  ])('rejects a body with %s', (_name, change, words) => {
    expect(validate(mutate(change))).toBe(false);
    expect(errorsOf(validate).join('\n')).toContain(words);
  });
});
