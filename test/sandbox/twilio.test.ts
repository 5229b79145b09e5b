// The sandbox's Twilio side, through the official twilio-node client (its own httpClient sends
// https://api.twilio.com to the sandbox): the Message resource it returns, Twilio's refusals as
// RestException, every phone fate with signed status callbacks verified by
// twilio.validateRequest, retries, faults, and inbound SMS/WhatsApp delivered to Relais.
import twilio from 'twilio';
import type RequestClientType from 'twilio/lib/base/RequestClient';
import { generateSendGridKeyPair, startSandbox, type Sandbox } from '../../src/sandbox';
import { startReceiver, type Receiver, type Received } from './receiver';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'sandbox-tests-auth-token';
const SMS_FROM = '+15005550006';
const WA_FROM = 'whatsapp:+14155238886';
const CONTENT_SID = `HX${'fedcba9876543210'.repeat(2)}`;
const DELAY = 30;

/** twilio-node's own HTTP client, with every https://*.twilio.com URL sent to the sandbox instead. */
class SandboxHttpClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super({ autoRetry: false });
  }

  override request<TData>(opts: RequestClientType.RequestOptions<TData>) {
    return super.request<TData>({
      ...opts,
      uri: opts.uri.replace(/^https:\/\/[^/]+\.twilio\.com(?=\/|$)/i, this.base),
    });
  }
}

type RestError = Error & { status: number; code: number; moreInfo: string };

async function rejection(p: Promise<unknown>): Promise<RestError> {
  try {
    await p;
  } catch (err) {
    return err as RestError;
  }
  throw new Error('expected a rejection');
}

const formOf = (r: Received) =>
  Object.fromEntries(new URLSearchParams(r.raw.toString('utf8'))) as Record<string, string>;
const signatureOf = (r: Received) => String(r.headers['x-twilio-signature']);
const valid = (r: Received, params = formOf(r), url = r.url) =>
  twilio.validateRequest(AUTH_TOKEN, signatureOf(r), url, params);

describe('sandbox: Twilio Messages, status callbacks and inbound messages', () => {
  let receiver: Receiver;
  let sandbox: Sandbox;
  let http: SandboxHttpClient;
  let client: ReturnType<typeof twilio>;
  const callbackUrl = (recipient: string) =>
    `${receiver.url}/twilio/status?tenant=t1&dispatch=d1&recipient=${recipient}`;
  const callbacks = (recipient?: string) =>
    receiver.on('/twilio/status').filter((r) => !recipient || r.url.endsWith(`recipient=${recipient}`));

  beforeAll(async () => {
    receiver = await startReceiver();
    sandbox = await startSandbox({
      sendgrid: {
        apiKey: 'SG.unused',
        signingPrivateKeyPem: generateSendGridKeyPair().privateKeyPem,
        webhookUrl: `${receiver.url}/sendgrid/events`,
      },
      twilio: {
        accountSid: ACCOUNT_SID,
        authToken: AUTH_TOKEN,
        inboundWebhookUrl: `${receiver.url}/twilio/inbound?source=sandbox`,
      },
      eventDelayMs: DELAY,
    });
    http = new SandboxHttpClient(sandbox.url);
    client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: http });
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

  it('SMS: 201 with the Message resource; sent → delivered callbacks, signed over the exact URL', async () => {
    const before = Date.now();
    const message = await client.messages.create({
      to: '+33612345678',
      from: SMS_FROM,
      body: 'Your order 4711 is on its way.',
      statusCallback: callbackUrl('r1'),
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message).toMatchObject({
      accountSid: ACCOUNT_SID,
      to: '+33612345678',
      from: SMS_FROM,
      body: 'Your order 4711 is on its way.',
      status: 'queued',
      numSegments: '1',
      numMedia: '0',
      direction: 'outbound-api',
      errorCode: null,
      errorMessage: null,
      price: null,
      priceUnit: 'USD',
      apiVersion: '2010-04-01',
      messagingServiceSid: null,
      dateSent: null,
      uri: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${message.sid}.json`,
      subresourceUris: expect.objectContaining({
        media: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${message.sid}/Media.json`,
      }),
    });
    expect(message.dateCreated).toBeInstanceOf(Date);
    expect(message.dateCreated.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(message.dateUpdated).toBeInstanceOf(Date);

    await sandbox.idle();
    const received = callbacks('r1');
    expect(received.map((r) => formOf(r).MessageStatus)).toEqual(['sent', 'delivered']);
    for (const r of received) {
      expect(r.url).toBe(callbackUrl('r1'));
      expect(String(r.headers['content-type'])).toMatch(/^application\/x-www-form-urlencoded/);
      expect(valid(r)).toBe(true);
      const params = formOf(r);
      expect(Object.keys(params).sort()).toEqual([
        'AccountSid',
        'ApiVersion',
        'From',
        'MessageSid',
        'MessageStatus',
        'SmsSid',
        'SmsStatus',
        'To',
      ]);
      expect(params).toMatchObject({
        MessageSid: message.sid,
        SmsSid: message.sid,
        AccountSid: ACCOUNT_SID,
        From: SMS_FROM,
        To: '+33612345678',
        ApiVersion: '2010-04-01',
      });
      expect(params.SmsStatus).toBe(params.MessageStatus);
    }
    // Signed over the URL with its query, and over every param.
    const [sent] = received;
    expect(valid(sent, { ...formOf(sent), MessageStatus: 'delivered' })).toBe(false);
    expect(valid(sent, formOf(sent), sent.url.split('?')[0])).toBe(false);
    expect(twilio.validateRequest('another-token', signatureOf(sent), sent.url, formOf(sent))).toBe(false);

    const [stored] = sandbox.messages({ to: '+33612345678' });
    expect(stored).toMatchObject({
      provider: 'twilio',
      channel: 'sms',
      providerMessageId: message.sid,
      status: 'delivered',
      from: SMS_FROM,
      body: 'Your order 4711 is on its way.',
      statusCallback: callbackUrl('r1'),
    });
    expect(stored.events.map((e) => [e.type, e.eventId, e.outcome, e.deliveries.map((d) => d.status)])).toEqual([
      ['sent', `${message.sid}:sent`, 'delivered', [200]],
      ['delivered', `${message.sid}:delivered`, 'delivered', [200]],
    ]);

    // Fetching the message shows where it is now.
    const fetched = await client.messages(message.sid).fetch();
    expect(fetched.status).toBe('delivered');
    expect(fetched.dateSent).toBeInstanceOf(Date);
    await expect(client.messages(`SM${'0'.repeat(32)}`).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
  });

  it('phone ending 0001: sent → undelivered with ErrorCode 30003', async () => {
    const message = await client.messages.create({
      to: '+33612340001',
      from: SMS_FROM,
      body: 'hi',
      statusCallback: callbackUrl('r2'),
    });
    expect(message.status).toBe('queued');
    await sandbox.idle();
    const received = callbacks('r2').map(formOf);
    expect(received.map((p) => [p.MessageStatus, p.ErrorCode])).toEqual([
      ['sent', undefined],
      ['undelivered', '30003'],
    ]);
    expect(callbacks('r2').every((r) => valid(r))).toBe(true);
    const fetched = await client.messages(message.sid).fetch();
    expect(fetched).toMatchObject({
      status: 'undelivered',
      errorCode: 30003,
      errorMessage: 'Unreachable destination handset',
    });
  });

  it('phone ending 0002: failed with ErrorCode 30005, and nothing else', async () => {
    await client.messages.create({ to: '+33612340002', from: SMS_FROM, body: 'hi', statusCallback: callbackUrl('r3') });
    await sandbox.idle();
    expect(
      callbacks('r3')
        .map(formOf)
        .map((p) => [p.MessageStatus, p.SmsStatus, p.ErrorCode]),
    ).toEqual([['failed', 'failed', '30005']]);
    expect(valid(callbacks('r3')[0])).toBe(true);
    expect(sandbox.messages({ to: '+33612340002' })[0].status).toBe('failed');
  });

  it('phone ending 0003: refused at the API (400, 21211) as RestException; nothing stored, no callback', async () => {
    const err = await rejection(
      client.messages.create({ to: '+33612340003', from: SMS_FROM, body: 'hi', statusCallback: callbackUrl('r4') }),
    );
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({
      status: 400,
      code: 21211,
      message: "The 'To' number +33612340003 is not a valid phone number.",
      moreInfo: 'https://www.twilio.com/docs/errors/21211',
    });
    await sandbox.idle();
    expect(sandbox.messages()).toEqual([]);
    expect(callbacks()).toEqual([]);
  });

  it('issue 20: 0004 undelivered 30006 (landline); 0005 refused 21610 for SMS only; 0006 WhatsApp failed 63016, SMS delivered', async () => {
    await client.messages.create({
      to: '+33612340004',
      from: SMS_FROM,
      body: 'hi',
      statusCallback: callbackUrl('r40'),
    });
    expect(await rejection(client.messages.create({ to: '+33612340005', from: SMS_FROM, body: 'hi' }))).toMatchObject({
      status: 400,
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient',
    });
    await client.messages.create({
      to: 'whatsapp:+33612340005',
      from: WA_FROM,
      contentSid: CONTENT_SID,
      statusCallback: callbackUrl('r41'),
    });
    await client.messages.create({
      to: 'whatsapp:+33612340006',
      from: WA_FROM,
      contentSid: CONTENT_SID,
      statusCallback: callbackUrl('r42'),
    });
    await client.messages.create({
      to: '+33612340006',
      from: SMS_FROM,
      body: 'hi',
      statusCallback: callbackUrl('r43'),
    });
    await sandbox.idle();
    const statuses = (r: string) =>
      callbacks(r)
        .map(formOf)
        .map((p) => [p.MessageStatus, p.ErrorCode]);
    expect(statuses('r40')).toEqual([
      ['sent', undefined],
      ['undelivered', '30006'],
    ]);
    expect(statuses('r41').at(-1)).toEqual(['read', undefined]);
    expect(statuses('r42')).toEqual([['failed', '63016']]);
    expect(statuses('r43').at(-1)).toEqual(['delivered', undefined]);
    const landline = sandbox.messages({ to: '+33612340004' })[0];
    expect(await client.messages(landline.providerMessageId).fetch()).toMatchObject({
      errorCode: 30006,
      errorMessage: 'Landline or unreachable carrier',
    });
  });

  it('issue 20: a number that texts STOP is refused SMS (21610) until it texts START; WhatsApp is not affected', async () => {
    const phone = '+33698711111';
    await sandbox.inbound({ channel: 'sms', from: phone, body: 'Stop' });
    expect(await rejection(client.messages.create({ to: phone, from: SMS_FROM, body: 'hi' }))).toMatchObject({
      status: 400,
      code: 21610,
    });
    expect(
      (await client.messages.create({ to: `whatsapp:${phone}`, from: WA_FROM, contentSid: CONTENT_SID })).status,
    ).toBe('queued');
    await sandbox.inbound({ channel: 'sms', from: phone, body: 'START' });
    expect((await client.messages.create({ to: phone, from: SMS_FROM, body: 'hi' })).status).toBe('queued');
  });

  it('WhatsApp template: sent → delivered → read, whatsapp: addresses in callbacks; found with or without the prefix', async () => {
    const message = await client.messages.create({
      to: 'whatsapp:+33698765432',
      from: WA_FROM,
      contentSid: CONTENT_SID,
      contentVariables: JSON.stringify({ 1: 'Anna', 2: '4711' }),
      statusCallback: callbackUrl('r5'),
    });
    expect(message).toMatchObject({
      to: 'whatsapp:+33698765432',
      from: WA_FROM,
      status: 'queued',
      body: '',
      numSegments: '1',
    });
    await sandbox.idle();
    const received = callbacks('r5');
    expect(received.map(formOf).map((p) => [p.MessageStatus, p.To, p.From])).toEqual([
      ['sent', 'whatsapp:+33698765432', WA_FROM],
      ['delivered', 'whatsapp:+33698765432', WA_FROM],
      ['read', 'whatsapp:+33698765432', WA_FROM],
    ]);
    expect(received.every((r) => valid(r))).toBe(true);

    for (const to of ['+33698765432', 'whatsapp:+33698765432', 'WhatsApp:+33698765432']) {
      expect(sandbox.messages({ to }).map((m) => m.providerMessageId)).toEqual([message.sid]);
    }
    const [stored] = sandbox.messages();
    expect(stored).toMatchObject({
      channel: 'whatsapp',
      to: '+33698765432',
      from: WA_FROM,
      contentSid: CONTENT_SID,
      status: 'read',
    });
    expect(JSON.parse(stored.contentVariables!)).toEqual({ 1: 'Anna', 2: '4711' });
    expect(stored.body).toBeUndefined();
  });

  it('messaging service: accepted, no From in the answer; callbacks name the service and the number used', async () => {
    const serviceSid = `MG${'a'.repeat(32)}`;
    const message = await client.messages.create({
      to: '+33612345678',
      messagingServiceSid: serviceSid,
      body: 'hi',
      statusCallback: callbackUrl('r6'),
    });
    expect(message).toMatchObject({ status: 'accepted', from: null, messagingServiceSid: serviceSid });
    await sandbox.idle();
    expect(
      callbacks('r6')
        .map(formOf)
        .map((p) => [p.MessageStatus, p.MessagingServiceSid, p.From]),
    ).toEqual([
      ['sent', serviceSid, SMS_FROM],
      ['delivered', serviceSid, SMS_FROM],
    ]);
  });

  it('without StatusCallback: statuses recorded, no webhook sent', async () => {
    await client.messages.create({ to: '+33612349999', from: SMS_FROM, body: 'hi' });
    await sandbox.idle();
    expect(receiver.received).toEqual([]);
    expect(sandbox.messages()[0].events.map((e) => [e.type, e.outcome, e.deliveries])).toEqual([
      ['sent', 'no_webhook', []],
      ['delivered', 'no_webhook', []],
    ]);
  });

  it('segments: GSM-7 160/153 per part, UCS-2 70/67', async () => {
    const segmentsOf = async (body: string) =>
      (await client.messages.create({ to: '+33612345678', from: SMS_FROM, body })).numSegments;
    expect(await segmentsOf('a'.repeat(160))).toBe('1');
    expect(await segmentsOf('a'.repeat(161))).toBe('2');
    expect(await segmentsOf('é'.repeat(160))).toBe('1'); // é is GSM-7
    expect(await segmentsOf('ç'.repeat(70))).toBe('1'); // ç is not
    expect(await segmentsOf('ç'.repeat(71))).toBe('2');
  });

  it('401 (20003) as RestException for a wrong token or another account', async () => {
    const wrong = twilio(ACCOUNT_SID, 'wrong-token', { httpClient: http });
    const err = await rejection(wrong.messages.create({ to: '+33612345678', from: SMS_FROM, body: 'hi' }));
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({
      status: 401,
      code: 20003,
      message: 'Authenticate',
      moreInfo: 'https://www.twilio.com/docs/errors/20003',
    });
    const other = twilio(`AC${'9'.repeat(32)}`, AUTH_TOKEN, { httpClient: http });
    expect(await rejection(other.messages.create({ to: '+33612345678', from: SMS_FROM, body: 'hi' }))).toMatchObject({
      status: 401,
      code: 20003,
    });
    expect(sandbox.messages()).toEqual([]);
  });

  it("400 with Twilio's codes for each refused parameter; nothing stored", async () => {
    const refused = async (params: Parameters<typeof client.messages.create>[0]) => {
      const err = await rejection(client.messages.create(params));
      expect(err).toBeInstanceOf(twilio.RestException);
      expect(err.status).toBe(400);
      return [err.code, err.message];
    };
    expect(await refused({ to: '+33612345678', from: SMS_FROM })).toEqual([21602, 'Message body is required.']);
    expect(await refused({ to: '+33612345678', body: 'hi' })).toEqual([21603, "A 'From' phone number is required."]);
    expect(await refused({ to: '0612345678', from: SMS_FROM, body: 'hi' })).toEqual([
      21211,
      "The 'To' number 0612345678 is not a valid phone number.",
    ]);
    expect(await refused({ to: 'whatsapp:+33612345678', from: SMS_FROM, body: 'hi' })).toEqual([
      21910,
      'Invalid From and To pair. From and To should be of the same channel',
    ]);
    expect(await refused({ to: '+33612345678', from: SMS_FROM, body: 'x'.repeat(1601) })).toEqual([
      21617,
      'The concatenated message body exceeds the 1600 character limit.',
    ]);
    expect(await refused({ to: 'whatsapp:+33612345678', from: WA_FROM, contentSid: 'HX123' })).toEqual([
      21655,
      'The ContentSid is Invalid.',
    ]);
    expect(
      await refused({ to: 'whatsapp:+33612345678', from: WA_FROM, contentSid: CONTENT_SID, contentVariables: '{nope' }),
    ).toEqual([21656, 'The ContentVariables Parameter is invalid.']);
    expect(await refused({ to: '+33612345678', from: SMS_FROM, body: 'hi', statusCallback: 'not a url' })).toEqual([
      21609,
      'The StatusCallback URL not a url is not a valid URL.',
    ]);

    // `To` is required by the SDK itself; straight over HTTP, Twilio's 21604.
    const res = await fetch(`${sandbox.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ From: SMS_FROM, Body: 'hi' }).toString(),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 21604,
      message: "A 'To' phone number is required.",
      more_info: 'https://www.twilio.com/docs/errors/21604',
      status: 400,
    });
    expect(sandbox.messages()).toEqual([]);
  });

  it('429 fault: 20429 with Retry-After, nothing stored; the next request succeeds', async () => {
    const armed = await fetch(`${sandbox.url}/sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'twilio', status: 429, count: 1, retryAfterSeconds: 3 }),
    });
    expect(armed.status).toBe(200);
    const err = await rejection(client.messages.create({ to: '+33612345678', from: SMS_FROM, body: 'hi' }));
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({ status: 429, code: 20429, message: 'Too Many Requests' });
    expect(http.lastResponse?.headers['retry-after']).toBe('3');
    expect(sandbox.messages()).toEqual([]);
    const ok = await client.messages.create({ to: '+33612345678', from: SMS_FROM, body: 'hi' });
    expect(ok.status).toBe('queued');
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('500 fault: 20500; a SendGrid-only fault leaves Twilio alone', async () => {
    sandbox.fault({ provider: 'sendgrid', status: 500, count: 1 });
    await expect(client.messages.create({ to: '+33612345678', from: SMS_FROM, body: 'hi' })).resolves.toMatchObject({
      status: 'queued',
    });
    sandbox.fault({ provider: 'twilio', status: 500, count: 1 });
    const err = await rejection(client.messages.create({ to: '+33612345678', from: SMS_FROM, body: 'hi' }));
    expect(err).toMatchObject({ status: 500, code: 20500, message: 'Internal Server Error' });
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('retries a status callback the receiver refused, re-sent signed, each attempt recorded', async () => {
    receiver.failNext('/twilio/status', 1, 503);
    const message = await client.messages.create({
      to: '+33612345678',
      from: SMS_FROM,
      body: 'hi',
      statusCallback: callbackUrl('r7'),
    });
    await sandbox.idle();
    const sent = callbacks('r7').filter((r) => formOf(r).MessageStatus === 'sent');
    expect(sent.map((r) => r.answered)).toEqual([503, 200]);
    expect(sent.every((r) => valid(r))).toBe(true);
    expect(sent[1].at - sent[0].at).toBeGreaterThanOrEqual(DELAY - 5);
    const [stored] = sandbox.messages();
    expect(stored.providerMessageId).toBe(message.sid);
    expect(stored.events.map((e) => [e.type, e.outcome, e.deliveries.map((d) => [d.attempt, d.status])])).toEqual([
      [
        'sent',
        'delivered',
        [
          [1, 503],
          [2, 200],
        ],
      ],
      ['delivered', 'delivered', [[1, 200]]],
    ]);
  });

  it("inbound WhatsApp quick reply: signed form to the inbound URL; the receiver's answer comes back", async () => {
    const res = await fetch(`${sandbox.url}/sandbox/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        channel: 'whatsapp',
        from: '+33698765432',
        buttonPayload: 'confirm_address:o-17',
        buttonText: 'Confirm',
        profileName: 'Anna',
      }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { status: number; body: string; params: Record<string, string> };
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks!</Message></Response>');

    const [r] = receiver.on('/twilio/inbound');
    expect(r.url).toBe(`${receiver.url}/twilio/inbound?source=sandbox`);
    expect(valid(r)).toBe(true);
    const params = formOf(r);
    expect(params).toEqual(answer.params);
    expect(params).toMatchObject({
      AccountSid: ACCOUNT_SID,
      From: 'whatsapp:+33698765432',
      To: `whatsapp:${SMS_FROM}`,
      Body: 'Confirm',
      NumMedia: '0',
      ProfileName: 'Anna',
      WaId: '33698765432',
      ButtonPayload: 'confirm_address:o-17',
      ButtonText: 'Confirm',
      ApiVersion: '2010-04-01',
    });
    expect(params.MessageSid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(valid(r, { ...params, ButtonPayload: 'cancel' })).toBe(false);
    expect(sandbox.inboundLog().map((i) => [i.params.From, i.status])).toEqual([['whatsapp:+33698765432', 200]]);
  });

  it("inbound SMS through sandbox.inbound(); a refusing receiver's status is passed on; bad input is 400", async () => {
    const answer = await sandbox.inbound({ channel: 'sms', from: '+33612345678', to: '+15005550007', body: 'STOP' });
    expect(answer.status).toBe(200);
    const [r] = receiver.on('/twilio/inbound');
    expect(valid(r)).toBe(true);
    const params = formOf(r);
    expect(params).toMatchObject({ From: '+33612345678', To: '+15005550007', Body: 'STOP', NumMedia: '0' });
    expect(params).not.toHaveProperty('WaId');
    expect(params).not.toHaveProperty('ButtonPayload');

    receiver.failNext('/twilio/inbound', 1, 403);
    const refused = await fetch(`${sandbox.url}/sandbox/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'sms', from: '+33612345678', body: 'hello' }),
    });
    expect(refused.status).toBe(200);
    expect(((await refused.json()) as { status: number }).status).toBe(403);
    expect(receiver.on('/twilio/inbound')).toHaveLength(2); // one attempt only: the caller decides

    const bad = await fetch(`${sandbox.url}/sandbox/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'fax', from: '0612' }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; details: Record<string, string[]> } };
    expect(body.error.code).toBe('invalid_request');
    expect(Object.keys(body.error.details).sort()).toEqual(['channel', 'from']);
  });

  it('inbound to a receiver that is not there: 502 naming the URL', async () => {
    const lonely = await startSandbox({
      sendgrid: {
        apiKey: 'SG.x',
        signingPrivateKeyPem: generateSendGridKeyPair().privateKeyPem,
        webhookUrl: 'http://127.0.0.1:9/x',
      },
      twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, inboundWebhookUrl: 'http://127.0.0.1:9/inbound' },
    });
    try {
      const res = await fetch(`${lonely.url}/sandbox/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'sms', from: '+33612345678', body: 'hi' }),
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('webhook_unreachable');
      expect(body.error.message).toContain('http://127.0.0.1:9/inbound');
      expect(lonely.inboundLog()[0]).toMatchObject({ status: null, error: expect.stringMatching(/ECONNREFUSED/) });
    } finally {
      await lonely.close();
    }
  });
});
