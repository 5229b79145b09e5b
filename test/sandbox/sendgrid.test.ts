// The sandbox's SendGrid side, through the official SDK (@sendgrid/mail on its own client):
// Mail Send answers and refusals, what is stored, every email fate of the table with the Event
// Webhook's fields and order, batching, real ECDSA signatures verified with
// @sendgrid/eventwebhook, retries, faults, the inbox page and close().
import { Client } from '@sendgrid/client';
import { MailService, type MailDataRequired } from '@sendgrid/mail';
import ResponseError from '@sendgrid/helpers/classes/response-error';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FATE_TABLE, fateTableMarkdown, generateSendGridKeyPair, startSandbox, type Sandbox } from '../../src/sandbox';
import { startReceiver, type Receiver, type Received } from './receiver';

const API_KEY = 'SG.sandbox-tests.0123456789';
const ACCOUNT_SID = `AC${'ab'.repeat(16)}`;
const DELAY = 30;
const LATE = 250;
const keys = generateSendGridKeyPair();
const ew = new EventWebhook();
const publicKey = ew.convertPublicKeyToECDSA(keys.publicKeyBase64);

type SgEvent = Record<string, unknown> & {
  email: string;
  event: string;
  sg_event_id: string;
  sg_message_id: string;
  timestamp: number;
};

function mailer(sandbox: Sandbox, apiKey = API_KEY) {
  const client = new Client();
  client.setApiKey(apiKey); // first: it resets the base URL
  client.setDefaultRequest('baseUrl', sandbox.url);
  const mail = new MailService();
  mail.setClient(client);
  return { mail, client };
}

async function rejection(p: Promise<unknown>): Promise<ResponseError> {
  try {
    await p;
  } catch (err) {
    return err as ResponseError;
  }
  throw new Error('expected a rejection');
}

const sigOf = (r: Received) => String(r.headers['x-twilio-email-event-webhook-signature']);
const tsOf = (r: Received) => String(r.headers['x-twilio-email-event-webhook-timestamp']);
const verify = (r: Received, raw: Buffer | string = r.raw, ts = tsOf(r)) =>
  ew.verifySignature(publicKey, raw, sigOf(r), ts);
const eventsOf = (r: Received) => JSON.parse(r.raw.toString('utf8')) as SgEvent[];

async function startMailSandbox(receiver: Receiver, extra: Partial<Parameters<typeof startSandbox>[0]> = {}) {
  return startSandbox({
    port: 0,
    sendgrid: {
      apiKey: API_KEY,
      signingPrivateKeyPem: keys.privateKeyPem,
      webhookUrl: `${receiver.url}/sendgrid/events`,
    },
    twilio: { accountSid: ACCOUNT_SID, authToken: 'unused-here', inboundWebhookUrl: `${receiver.url}/twilio/inbound` },
    eventDelayMs: DELAY,
    lateEventMs: LATE,
    ...extra,
  });
}

describe('sandbox: SendGrid Mail Send and Event Webhook', () => {
  let receiver: Receiver;
  let sandbox: Sandbox;
  const batches = () => receiver.on('/sendgrid/events');
  const events = () => batches().flatMap(eventsOf);

  beforeAll(async () => {
    receiver = await startReceiver();
    sandbox = await startMailSandbox(receiver);
  });
  afterAll(async () => {
    await sandbox.close();
    await receiver.close();
  });
  beforeEach(() => {
    sandbox.clear();
    sandbox.clearFaults();
    receiver.reset();
  });
  afterEach(() => sandbox.idle());

  it("sends every email fate in order with SendGrid's fields, signed, batched, one sg_message_id per recipient", async () => {
    const fates: Array<[string, string[]]> = [
      ['anna+bounce@supplier.test', ['processed', 'bounce']],
      ['Ben+BLOCK@Supplier.test', ['processed', 'bounce']],
      ['carl+drop@supplier.test', ['dropped']],
      ['dora+defer@supplier.test', ['processed', 'deferred', 'deferred', 'deferred', 'deferred', 'deferred']],
      ['emil+deferok@supplier.test', ['processed', 'deferred', 'delivered']],
      ['eve+defer20@supplier.test', ['processed', ...Array<string>(20).fill('deferred'), 'delivered']],
      ['fay+silent@supplier.test', ['processed']],
      ['gus+latebounce@supplier.test', ['processed', 'delivered', 'bounce']],
      ['hana+open@supplier.test', ['processed', 'delivered', 'open']],
      ['ivan@supplier.test', ['processed', 'delivered']],
      // Issue 20: the outcomes the address-health registry tells apart.
      ['jo+softbounce@supplier.test', ['processed', 'bounce']],
      ['kim+content@supplier.test', ['processed', 'bounce']],
      ['lea+invalid@supplier.test', ['dropped']],
      ['max+unsub@supplier.test', ['dropped']],
    ];
    const { mail } = mailer(sandbox);
    const sentAt = Math.floor(Date.now() / 1000);
    const [response] = await mail.send({
      from: { email: 'orders@relais.test', name: 'Relais' },
      subject: 'Purchase order PO-1',
      text: 'PO-1 attached',
      html: '<p>PO-1 attached</p>',
      categories: ['purchase_order'],
      customArgs: { relais_tenant: 't1', relais_dispatch: 'd1' },
      personalizations: fates.map(([email], i) => ({ to: [{ email }], customArgs: { relais_recipient: `r${i}` } })),
    });
    expect(response.statusCode).toBe(202);
    const messageId = String(response.headers['x-message-id']);
    expect(messageId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(response.body).toBe('');

    await sandbox.idle();
    const all = events();
    expect(all).toHaveLength(fates.reduce((n, [, expected]) => n + expected.length, 0));

    // Each recipient's events, in the order they arrived.
    for (const [email, expected] of fates) {
      expect([email, all.filter((e) => e.email === email).map((e) => e.event)]).toEqual([email, expected]);
    }

    // Fields common to every event.
    const eventIds = new Set(all.map((e) => e.sg_event_id));
    expect(eventIds.size).toBe(all.length);
    fates.forEach(([email], i) => {
      const mine = all.filter((e) => e.email === email);
      const sgMessageIds = new Set(mine.map((e) => e.sg_message_id));
      expect(sgMessageIds.size).toBe(1);
      for (const e of mine) {
        expect(e.sg_event_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(e.sg_message_id.startsWith(`${messageId}.`)).toBe(true);
        expect(e.sg_message_id.length).toBeGreaterThan(messageId.length + 5);
        expect(e['smtp-id']).toBe(`<${messageId}@ismtpd-sandbox.relais.localhost>`);
        expect(e.category).toEqual(['purchase_order']);
        expect(e).toMatchObject({ relais_tenant: 't1', relais_dispatch: 'd1', relais_recipient: `r${i}` });
        expect(Number.isInteger(e.timestamp)).toBe(true);
        expect(e.timestamp).toBeGreaterThanOrEqual(sentAt);
        expect(e.timestamp).toBeLessThanOrEqual(sentAt + 5);
      }
    });
    const allMessageIds = new Set(all.map((e) => e.sg_message_id));
    expect(allMessageIds.size).toBe(fates.length);

    // Per event type.
    const one = (email: string, event: string, nth = 0) =>
      all.filter((e) => e.email === email && e.event === event)[nth];
    expect(one('anna+bounce@supplier.test', 'bounce')).toMatchObject({
      reason: '550 5.1.1 user unknown',
      status: '5.1.1',
      type: 'bounce',
      bounce_classification: 'Invalid Address',
    });
    expect(one('Ben+BLOCK@Supplier.test', 'bounce')).toMatchObject({
      reason: '554 5.7.1 blocked as spam',
      status: '5.7.1',
      type: 'blocked',
      bounce_classification: 'Reputation',
    });
    expect(one('carl+drop@supplier.test', 'dropped')).toMatchObject({ reason: 'Bounced Address', status: '5.0.0' });
    expect(one('jo+softbounce@supplier.test', 'bounce')).toMatchObject({
      reason: '552 5.2.2 mailbox full',
      status: '5.2.2',
      type: 'bounce',
      bounce_classification: 'Mailbox Unavailable',
    });
    expect(one('kim+content@supplier.test', 'bounce')).toMatchObject({
      reason: '554 5.7.1 message content rejected',
      status: '5.7.1',
      type: 'blocked',
      bounce_classification: 'Content',
    });
    expect(one('lea+invalid@supplier.test', 'dropped')).toMatchObject({ reason: 'Invalid', status: '5.0.0' });
    expect(one('max+unsub@supplier.test', 'dropped')).toMatchObject({
      reason: 'Unsubscribed Address',
      status: '5.0.0',
    });
    expect(
      all.filter((e) => e.email === 'dora+defer@supplier.test' && e.event === 'deferred').map((e) => e.attempt),
    ).toEqual(['1', '2', '3', '4', '5']);
    expect(one('dora+defer@supplier.test', 'deferred').response).toBe(
      '451 4.2.0 mailbox temporarily unavailable, try again later',
    );
    expect(one('emil+deferok@supplier.test', 'deferred')).toMatchObject({ attempt: '1' });
    expect(
      all.filter((e) => e.email === 'eve+defer20@supplier.test' && e.event === 'deferred').map((e) => e.attempt),
    ).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    const delivered = one('ivan@supplier.test', 'delivered');
    expect(String(delivered.response)).toMatch(/^250 2\.0\.0 OK /);
    expect(delivered).toMatchObject({ ip: '149.72.123.24', tls: 1 });
    expect(one('hana+open@supplier.test', 'open')).toMatchObject({
      ip: '203.0.113.7',
      sg_machine_open: false,
      useragent: expect.stringContaining('Mozilla/5.0'),
    });
    expect(one('gus+latebounce@supplier.test', 'bounce')).toMatchObject({
      type: 'bounce',
      bounce_classification: 'Invalid Address',
    });
    expect(one('fay+silent@supplier.test', 'processed')).not.toHaveProperty('response');

    // The late bounce came lateEventMs after delivered.
    const gus = sandbox.messages({ to: 'gus+latebounce@supplier.test' })[0].events;
    expect(Date.parse(gus[2].at) - Date.parse(gus[1].at)).toBeGreaterThanOrEqual(LATE - 2);

    // Batching: the first POST carries the first event of all nine recipients.
    const first = eventsOf(batches()[0]);
    expect(first.map((e) => e.email)).toEqual(fates.map(([email]) => email));
    expect(batches().length).toBeLessThan(all.length);

    // Every POST: JSON array + CRLF, signed over timestamp + raw body.
    for (const b of batches()) {
      expect(b.headers['content-type']).toBe('application/json');
      expect(b.raw.subarray(-2).toString()).toBe('\r\n');
      expect(Number(tsOf(b))).toBeGreaterThanOrEqual(sentAt);
      expect(verify(b)).toBe(true);
    }

    // The sandbox recorded each event and its (single, successful) delivery.
    const stored = sandbox.messages({ to: 'gus+latebounce@supplier.test' })[0];
    expect(stored.status).toBe('bounce');
    expect(stored.events.map((e) => [e.type, e.outcome, e.deliveries.map((d) => d.status)])).toEqual([
      ['processed', 'delivered', [200]],
      ['delivered', 'delivered', [200]],
      ['bounce', 'delivered', [200]],
    ]);
    expect(stored.events.map((e) => e.eventId)).toEqual(
      all.filter((e) => e.email === 'gus+latebounce@supplier.test').map((e) => e.sg_event_id),
    );
    expect(sandbox.messages({ to: 'fay+silent@supplier.test' })[0].status).toBe('processed');
  });

  it('a +noevent address is accepted and never hears anything', async () => {
    const [response] = await mailer(sandbox).mail.send({
      from: 'orders@relais.test',
      to: 'finn+noevent@supplier.test',
      subject: 's',
      text: 't',
    });
    expect(response.statusCode).toBe(202);
    await sandbox.idle();
    expect(events()).toEqual([]);
    expect(sandbox.messages({ to: 'finn+noevent@supplier.test' })[0]).toMatchObject({ status: 'accepted', events: [] });
  });

  it('signatures verify with @sendgrid/eventwebhook; a tampered body, another timestamp or another key fail', async () => {
    await mailer(sandbox).mail.send({ from: 'orders@relais.test', to: 'sig@supplier.test', subject: 's', text: 't' });
    const b = await receiver.waitFor('a webhook', () => batches()[0]);
    expect(verify(b)).toBe(true);
    const tampered = Buffer.from(b.raw.toString().replace('sig@supplier.test', 'sig@supplier.tesu'));
    expect(tampered.equals(b.raw)).toBe(false);
    expect(verify(b, tampered)).toBe(false);
    expect(verify(b, b.raw.toString().trimEnd())).toBe(false); // the CRLF is signed too
    expect(verify(b, b.raw, String(Number(tsOf(b)) + 1))).toBe(false);
    const other = ew.convertPublicKeyToECDSA(generateSendGridKeyPair().publicKeyBase64);
    expect(ew.verifySignature(other, b.raw, sigOf(b), tsOf(b))).toBe(false);
  });

  it('stores what it received: one message per recipient (to, cc, bcc), merged custom args, attachment names', async () => {
    const data: MailDataRequired = {
      from: { email: 'orders@relais.test', name: 'Relais' },
      replyTo: 'buyer@shop.test',
      subject: 'Invoice INV-9',
      text: 'Your invoice',
      html: '<p>Your <b>invoice</b></p>',
      categories: ['invoice', 'tenant_t1'],
      customArgs: { relais_tenant: 't1', relais_dispatch: 'd9', relais_recipient: 'default' },
      attachments: [
        { content: Buffer.from('%PDF-1.4 invoice').toString('base64'), filename: 'INV-9.pdf', type: 'application/pdf' },
        { content: Buffer.from('hello').toString('base64'), filename: 'notes.txt', type: 'text/plain' },
      ],
      personalizations: [
        {
          to: [{ email: 'Anna@Supplier.test', name: 'Anna' }],
          cc: [{ email: 'copy@supplier.test' }],
          customArgs: { relais_recipient: 'r1' },
        },
        { to: [{ email: 'bob@supplier.test' }], bcc: [{ email: 'audit@relais.test' }], subject: 'Invoice INV-9 (Bob)' },
      ],
    };
    const [response] = await mailer(sandbox).mail.send(data);
    const stored = sandbox.messages();
    expect(stored.map((m) => [m.to, m.kind])).toEqual([
      ['Anna@Supplier.test', 'to'],
      ['copy@supplier.test', 'cc'],
      ['bob@supplier.test', 'to'],
      ['audit@relais.test', 'bcc'],
    ]);
    for (const m of stored) {
      expect(m).toMatchObject({
        provider: 'sendgrid',
        channel: 'email',
        providerMessageId: response.headers['x-message-id'],
        status: 'accepted',
        from: 'orders@relais.test',
        replyTo: 'buyer@shop.test',
        text: 'Your invoice',
        html: '<p>Your <b>invoice</b></p>',
        categories: ['invoice', 'tenant_t1'],
        attachments: ['INV-9.pdf', 'notes.txt'],
        events: [],
      });
      expect(Date.parse(m.receivedAt)).toBeGreaterThan(Date.now() - 5000);
    }
    expect(stored.map((m) => m.subject)).toEqual([
      'Invoice INV-9',
      'Invoice INV-9',
      'Invoice INV-9 (Bob)',
      'Invoice INV-9 (Bob)',
    ]);
    expect(stored[0].customArgs).toEqual({ relais_tenant: 't1', relais_dispatch: 'd9', relais_recipient: 'r1' });
    expect(stored[2].customArgs).toEqual({ relais_tenant: 't1', relais_dispatch: 'd9', relais_recipient: 'default' });

    // Filter: case-insensitive, in the API and over HTTP.
    expect(sandbox.messages({ to: 'anna@supplier.TEST' }).map((m) => m.kind)).toEqual(['to']);
    const res = await fetch(`${sandbox.url}/sandbox/messages?to=${encodeURIComponent('BOB@supplier.test')}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { messages: Array<{ to: string; subject: string }> };
    expect(body.messages.map((m) => [m.to, m.subject])).toEqual([['bob@supplier.test', 'Invoice INV-9 (Bob)']]);
    expect(
      ((await (await fetch(`${sandbox.url}/sandbox/messages`)).json()) as { messages: unknown[] }).messages,
    ).toHaveLength(4);
    expect(sandbox.messages({ to: 'nobody@supplier.test' })).toEqual([]);

    // Copies: changing what messages() returned changes nothing inside.
    stored[0].to = 'changed@x.test';
    expect(sandbox.messages()[0].to).toBe('Anna@Supplier.test');

    // DELETE /sandbox/messages clears the store.
    expect((await fetch(`${sandbox.url}/sandbox/messages`, { method: 'DELETE' })).status).toBe(200);
    expect(sandbox.messages()).toEqual([]);
  });

  it("401 with SendGrid's body: a wrong key (SDK ResponseError) or no Authorization at all", async () => {
    const err = await rejection(
      mailer(sandbox, 'SG.wrong').mail.send({
        from: 'orders@relais.test',
        to: 'a@supplier.test',
        subject: 's',
        text: 't',
      }),
    );
    expect(err).toBeInstanceOf(ResponseError);
    expect(err.code).toBe(401);
    expect(err.response.body).toEqual({
      errors: [
        { message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null },
      ],
    });

    const res = await fetch(`${sandbox.url}/v3/mail/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ errors: [{ message: 'authorization required', field: null, help: null }] });
    expect(sandbox.messages()).toEqual([]);
  });

  it("400 with SendGrid's messages and fields for each kind of invalid request; nothing stored", async () => {
    const { client, mail } = mailer(sandbox);
    const send = async (body: unknown) => {
      const err = await rejection(client.request({ method: 'POST', url: '/v3/mail/send', body: body as object }));
      expect(err).toBeInstanceOf(ResponseError);
      expect(err.code).toBe(400);
      return (
        err.response.body as unknown as {
          errors: Array<{ message: string; field: string | null; help: string | null }>;
        }
      ).errors;
    };
    const ok = { from: { email: 'orders@relais.test' }, subject: 'PO', content: [{ type: 'text/plain', value: 'hi' }] };
    const to = (...emails: string[]) => emails.map((email) => ({ email }));

    expect((await send({})).map((e) => e.field)).toEqual(['personalizations', 'from', 'subject', 'content']);
    expect(await send({ ...ok, personalizations: [] })).toEqual([
      {
        message: 'The personalizations field is required and must have at least one personalization.',
        field: 'personalizations',
        help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations',
      },
    ]);
    expect((await send({ ...ok, personalizations: [{}] })).map((e) => [e.field, e.message])).toEqual([
      [
        'personalizations.0.to',
        'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
      ],
    ]);
    expect(
      (await send({ ...ok, personalizations: [{ to: to('a@supplier.test', 'someone@localhost') }] })).map((e) => [
        e.field,
        e.message,
      ]),
    ).toEqual([['personalizations.0.to.1.email', 'Does not contain a valid address.']]);
    expect(
      (await send({ ...ok, from: { email: 'not an address' }, personalizations: [{ to: to('a@supplier.test') }] })).map(
        (e) => e.field,
      ),
    ).toEqual(['from.email']);
    expect(
      (await send({ ...ok, from: undefined, personalizations: [{ to: to('a@supplier.test') }] })).map((e) => e.field),
    ).toEqual(['from']);
    expect(
      (await send({ ...ok, subject: undefined, personalizations: [{ to: to('a@supplier.test') }] })).map(
        (e) => e.field,
      ),
    ).toEqual(['subject']);
    expect(
      (await send({ ...ok, content: undefined, personalizations: [{ to: to('a@supplier.test') }] })).map(
        (e) => e.field,
      ),
    ).toEqual(['content']);
    expect(
      (
        await send({
          ...ok,
          content: [{ type: 'text/plain', value: '' }],
          personalizations: [{ to: to('a@supplier.test') }],
        })
      ).map((e) => [e.field, e.message]),
    ).toEqual([['content.0.value', 'The content value must be a string at least one character in length.']]);

    const dupInOne = await send({
      ...ok,
      personalizations: [{ to: to('dup@supplier.test'), cc: to('DUP@supplier.test') }],
    });
    expect(dupInOne.map((e) => e.field)).toEqual(['personalizations.0']);
    expect(dupInOne[0].message).toBe(
      'Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [DUP@supplier.test] in the personalizations.0.cc field.',
    );
    const dupAcross = await send({
      ...ok,
      personalizations: [{ to: to('dup@supplier.test') }, { to: to('dup@supplier.test') }],
    });
    expect(dupAcross.map((e) => [e.field, e.message])).toEqual([
      [
        'personalizations.1.to.0.email',
        'Each unique email address in the personalizations array should only be included once. You have included [dup@supplier.test] more than once.',
      ],
    ]);

    const many = Array.from({ length: 1001 }, (_, i) => `p${i}@supplier.test`);
    expect((await send({ ...ok, personalizations: [{ to: to(...many) }] })).map((e) => [e.field, e.message])).toEqual([
      ['personalizations', 'There is a limit of 1000 total recipients (to + cc + bcc) per request.'],
    ]);
    expect(
      (await send({ ...ok, personalizations: many.map((email) => ({ to: to(email) })) })).map((e) => e.message),
    ).toEqual([
      'The personalization block is limited to 1000 personalizations per API request. You have provided 1001 personalizations. Please consider splitting this into multiple requests and resending your request.',
      'There is a limit of 1000 total recipients (to + cc + bcc) per request.',
    ]);
    // Exactly 1000 is fine.
    await expect(
      client.request({
        method: 'POST',
        url: '/v3/mail/send',
        body: { ...ok, personalizations: many.slice(0, 1000).map((email) => ({ to: to(email) })) },
      }),
    ).resolves.toEqual([expect.objectContaining({ statusCode: 202 }), '']);
    expect(sandbox.messages()).toHaveLength(1000);
    sandbox.clear();

    // Through MailService too: the SDK's ResponseError carries SendGrid's body.
    const err = await rejection(
      mail.send({ from: 'orders@relais.test', to: 'someone@localhost', subject: 's', text: 't' }),
    );
    expect(err.code).toBe(400);
    expect(err.response.body).toEqual({
      errors: [
        {
          message: 'Does not contain a valid address.',
          field: 'personalizations.0.to.0.email',
          help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to',
        },
      ],
    });

    // Not JSON at all.
    const res = await fetch(`${sandbox.url}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{"personalizations": [',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: [{ message: 'Bad Request', field: null, help: null }] });
    expect(sandbox.messages()).toEqual([]);
  });

  it("413 with SendGrid's body over 30 MB (SDK ResponseError); nothing stored", async () => {
    const big = Buffer.alloc(23 * 1024 * 1024, 7).toString('base64'); // ~30.7 MB once base64
    const err = await rejection(
      mailer(sandbox).mail.send({
        from: 'orders@relais.test',
        to: 'a@supplier.test',
        subject: 'big',
        text: 't',
        attachments: [{ content: big, filename: 'big.bin', type: 'application/octet-stream' }],
      }),
    );
    expect(err).toBeInstanceOf(ResponseError);
    expect(err.code).toBe(413);
    expect(err.response.body).toEqual({
      errors: [
        { message: 'The JSON payload you have included in your request is too large.', field: null, help: null },
      ],
    });
    expect(sandbox.messages()).toEqual([]);
  });

  it("429 fault: SendGrid's rate-limit headers, nothing stored; the next request succeeds", async () => {
    const armed = await fetch(`${sandbox.url}/sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'sendgrid', status: 429, count: 1, retryAfterSeconds: 5 }),
    });
    expect(armed.status).toBe(200);
    expect(await armed.json()).toEqual({
      faults: [{ provider: 'sendgrid', status: 429, count: 1, retryAfterSeconds: 5 }],
    });

    const { mail } = mailer(sandbox);
    const msg = { from: 'orders@relais.test', to: 'rate@supplier.test', subject: 's', text: 't' };
    const now = Math.floor(Date.now() / 1000);
    const err = await rejection(mail.send(msg));
    expect(err.code).toBe(429);
    expect(err.response.body).toEqual({ errors: [{ message: 'too many requests', field: null, help: null }] });
    expect(err.response.headers['x-ratelimit-limit']).toBe('600');
    expect(err.response.headers['x-ratelimit-remaining']).toBe('0');
    const reset = Number(err.response.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(now + 5);
    expect(reset).toBeLessThanOrEqual(now + 6);
    expect(err.response.headers['retry-after']).toBe('5');
    expect(sandbox.messages()).toEqual([]);

    const [ok] = await mail.send(msg);
    expect(ok.statusCode).toBe(202);
    expect(sandbox.messages({ to: 'rate@supplier.test' })).toHaveLength(1);
  });

  it('500 fault on "any" provider; DELETE /sandbox/faults disarms', async () => {
    const { mail } = mailer(sandbox);
    const msg = { from: 'orders@relais.test', to: 'down@supplier.test', subject: 's', text: 't' };
    sandbox.fault({ provider: 'any', status: 500, count: 2 });
    const err = await rejection(mail.send(msg));
    expect(err.code).toBe(500);
    expect(err.response.body).toEqual({
      errors: [{ message: 'internal error, please try again', field: null, help: null }],
    });
    expect(
      (
        (await (await fetch(`${sandbox.url}/sandbox/faults`)).json()) as { faults: Array<{ count: number }> }
      ).faults.map((f) => f.count),
    ).toEqual([1]);
    expect((await fetch(`${sandbox.url}/sandbox/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await mail.send(msg))[0].statusCode).toBe(202);

    const bad = await fetch(`${sandbox.url}/sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'mailgun', status: 503, count: 0 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('retries a webhook the receiver refused (500), re-signed, and records each attempt', async () => {
    receiver.failNext('/sendgrid/events', 1, 500);
    await mailer(sandbox).mail.send({ from: 'orders@relais.test', to: 'retry@supplier.test', subject: 's', text: 't' });
    await sandbox.idle();

    // Retries are not ordered with later events (SendGrid's aren't either): look at each event's POSTs.
    const postsOf = (event: string) => batches().filter((p) => eventsOf(p).some((e) => e.event === event));
    const processed = postsOf('processed');
    expect(processed.map((p) => p.answered)).toEqual([500, 200]);
    // Events due within the batch window share a POST, as SendGrid's do: on a busy machine the
    // 'delivered' timer can fire in the same turn as 'processed', and is then refused and retried with it.
    const shared = eventsOf(processed[0]).some((e) => e.event === 'delivered');
    expect(postsOf('delivered').map((p) => p.answered)).toEqual(shared ? [500, 200] : [200]);
    expect(eventsOf(processed[1])[0].sg_event_id).toBe(eventsOf(processed[0])[0].sg_event_id); // the same event, again
    expect(processed[1].raw.equals(processed[0].raw)).toBe(true);
    for (const p of batches()) expect(verify(p)).toBe(true);
    expect(processed[1].at - processed[0].at).toBeGreaterThanOrEqual(DELAY - 5); // backoff starts at eventDelayMs

    const [stored] = sandbox.messages({ to: 'retry@supplier.test' });
    expect(
      stored.events.map((e) => ({
        type: e.type,
        outcome: e.outcome,
        deliveries: e.deliveries.map((d) => [d.attempt, d.status]),
      })),
    ).toEqual([
      {
        type: 'processed',
        outcome: 'delivered',
        deliveries: [
          [1, 500],
          [2, 200],
        ],
      },
      {
        type: 'delivered',
        outcome: 'delivered',
        deliveries: shared
          ? [
              [1, 500],
              [2, 200],
            ]
          : [[1, 200]],
      },
    ]);
  });

  it('gives up after maxDeliveryAttempts when the receiver cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const lonely = await startSandbox({
      sendgrid: {
        apiKey: API_KEY,
        signingPrivateKeyPem: keys.privateKeyPem,
        webhookUrl: `http://127.0.0.1:${port}/gone`,
      },
      twilio: { accountSid: ACCOUNT_SID, authToken: 'x', inboundWebhookUrl: `http://127.0.0.1:${port}/gone` },
      eventDelayMs: 10,
      maxDeliveryAttempts: 3,
    });
    try {
      await mailer(lonely).mail.send({
        from: 'orders@relais.test',
        to: 'x+silent@supplier.test',
        subject: 's',
        text: 't',
      });
      await lonely.idle();
      const [event] = lonely.messages()[0].events;
      expect(event.type).toBe('processed');
      expect(event.outcome).toBe('gave_up');
      expect(event.deliveries.map((d) => [d.attempt, d.status])).toEqual([
        [1, null],
        [2, null],
        [3, null],
      ]);
      expect(event.deliveries[0].error).toMatch(/ECONNREFUSED/);
    } finally {
      await lonely.close();
    }
  });

  it('batches events of several messages falling due together into one POST', async () => {
    const r = await startReceiver();
    const batching = await startMailSandbox(r, { eventDelayMs: 100, batchWindowMs: 60 });
    try {
      const { mail } = mailer(batching);
      const [[a], [b]] = await Promise.all([
        mail.send({ from: 'orders@relais.test', to: 'one@supplier.test', subject: 's', text: 't' }),
        mail.send({ from: 'orders@relais.test', to: 'two@supplier.test', subject: 's', text: 't' }),
      ]);
      await batching.idle();
      const posts = r.on('/sendgrid/events').map(eventsOf);
      const prefixes = (p: SgEvent[]) => new Set(p.map((e) => e.sg_message_id.split('.')[0]));
      expect(posts.some((p) => prefixes(p).size === 2)).toBe(true);
      expect([...new Set(posts.flatMap((p) => [...prefixes(p)]))].sort()).toEqual(
        [a.headers['x-message-id'], b.headers['x-message-id']].sort(),
      );
      expect(
        posts
          .flat()
          .map((e) => e.event)
          .sort(),
      ).toEqual(['delivered', 'delivered', 'processed', 'processed']);
    } finally {
      await batching.close();
      await r.close();
    }
  });

  it('close() cancels every scheduled event and retry', async () => {
    const r = await startReceiver();
    const short = await startMailSandbox(r, { eventDelayMs: 40 });
    await mailer(short).mail.send({ from: 'orders@relais.test', to: 'x+defer@supplier.test', subject: 's', text: 't' });
    await short.close();
    await short.close(); // twice is fine
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.received).toEqual([]);
    await short.idle(); // resolves at once once closed
    await r.close();
  });

  it('GET /sandbox: a readable inbox, newest first, everything escaped', async () => {
    const { mail } = mailer(sandbox);
    await mail.send({ from: 'orders@relais.test', to: 'older@supplier.test', subject: 'Older one', text: 'first' });
    await mail.send({
      from: 'orders@relais.test',
      to: 'newer@supplier.test',
      subject: '<script>alert("x")</script> PO & co',
      text: 'a <b>bold</b> claim',
      html: '<img src=x onerror=alert(1)><p>hi</p>',
      customArgs: { note: '"><svg onload=alert(2)>' },
    });
    await sandbox.idle();
    const res = await fetch(`${sandbox.url}/sandbox`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await res.text();
    expect(page).toContain('<title>Relais sandbox inbox</title>');
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<svg onload');
    expect(page).not.toContain('<b>bold</b>');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; PO &amp; co');
    expect(page).toContain('a &lt;b&gt;bold&lt;/b&gt; claim');
    // The views' escaping (Handlebars) also writes = as &#x3D;: the frame still gets the HTML part as sent.
    expect(page).toContain('srcdoc="&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;&lt;p&gt;hi&lt;/p&gt;"');
    expect(page).toContain('iframe sandbox=""');
    expect(page.indexOf('newer@supplier.test')).toBeLessThan(page.indexOf('older@supplier.test'));
    expect(page).toMatch(/<b>delivered<\/b>/);
    expect(page).toContain('webhook delivered: HTTP 200');
  });

  it('documents the fate table for the README', () => {
    expect(FATE_TABLE).toHaveLength(23);
    const md = fateTableMarkdown().split('\n');
    expect(md[0]).toBe('| address | what happens |');
    expect(md).toHaveLength(25);
    expect(md[2]).toContain('`+bounce`');
  });
});
