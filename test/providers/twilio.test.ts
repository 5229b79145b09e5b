// The Twilio sender through the official SDK against the provider sandbox (src/sandbox): SMS and
// WhatsApp (template and free text) as stored there, numbers refused before any request, and
// Twilio's refusals, rate limits and outages shaped for Temporal's activity retries.
import { ApplicationFailure } from '@temporalio/common';
import twilio from 'twilio';
import { createTwilioSender, mapTwilioError } from '../../src/providers/twilio/send';
import type { OutboundMessage } from '../../src/providers/types';
import { generateSendGridKeyPair, startSandbox, type Sandbox } from '../../src/sandbox';
import { failure } from '../support/failure';

const ACCOUNT_SID = `AC${'1a2b3c4d'.repeat(4)}`;
const AUTH_TOKEN = 'relais-provider-tests-token';
const SMS_FROM = '+15005550006';
const WHATSAPP_FROM = '+14155238886';
const CONTENT_SID = `HX${'0123456789abcdef'.repeat(2)}`;
const CALLBACK = 'https://relais.example/webhooks/twilio/status?tenant=t1&dispatch=d-4711&recipient=r1';

describe('Twilio sender against the sandbox', () => {
  let sandbox: Sandbox;
  let sender: ReturnType<typeof createTwilioSender>;

  beforeAll(async () => {
    sandbox = await startSandbox({
      port: 0,
      sendgrid: {
        apiKey: 'SG.unused',
        signingPrivateKeyPem: generateSendGridKeyPair().privateKeyPem,
        webhookUrl: 'http://127.0.0.1:9/not-listening',
      },
      twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, inboundWebhookUrl: 'http://127.0.0.1:9/not-listening' },
      eventDelayMs: 600_000, // no status callback within these tests
    });
    sender = createTwilioSender({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      baseUrl: sandbox.url,
      smsFrom: SMS_FROM,
      whatsappFrom: WHATSAPP_FROM,
    });
  });
  afterAll(() => sandbox.close());
  beforeEach(async () => {
    sandbox.clear();
    await fetch(`${sandbox.url}/sandbox/faults`, { method: 'DELETE' });
  });

  const sms = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
    channel: 'sms',
    to: '+33612345678',
    body: 'Your order 4711 is on its way.',
    statusCallback: CALLBACK,
    ...overrides,
  });

  it('SMS: sent with To, From, Body and StatusCallback', async () => {
    const result = await sender.sendMessage(sms());
    expect(result).toEqual({
      provider: 'twilio',
      providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/),
      status: 'queued',
    });
    expect(sandbox.messages()).toEqual([
      expect.objectContaining({
        provider: 'twilio',
        channel: 'sms',
        providerMessageId: result.providerMessageId,
        to: '+33612345678',
        from: SMS_FROM,
        body: 'Your order 4711 is on its way.',
        statusCallback: CALLBACK,
      }),
    ]);
  });

  it('WhatsApp template: ContentSid + ContentVariables, no Body', async () => {
    const result = await sender.sendMessage({
      channel: 'whatsapp',
      to: '+33698765432',
      template: { contentSid: CONTENT_SID, variables: { 1: 'Anna', 2: '4711' } },
      statusCallback: CALLBACK,
    });
    expect(result.providerMessageId).toMatch(/^SM/);
    const [stored] = sandbox.messages();
    expect(stored).toMatchObject({
      channel: 'whatsapp',
      to: '+33698765432',
      from: `whatsapp:${WHATSAPP_FROM}`,
      contentSid: CONTENT_SID,
      statusCallback: CALLBACK,
    });
    expect(JSON.parse(stored.contentVariables!)).toEqual({ 1: 'Anna', 2: '4711' });
    expect(stored.body).toBeUndefined();
  });

  it('WhatsApp free text (inside the 24-hour window)', async () => {
    await sender.sendMessage({
      channel: 'whatsapp',
      to: '+33698765432',
      body: 'Thanks, your address is confirmed.',
      statusCallback: CALLBACK,
    });
    const [stored] = sandbox.messages({ to: 'whatsapp:+33698765432' });
    expect(stored).toMatchObject({
      channel: 'whatsapp',
      from: `whatsapp:${WHATSAPP_FROM}`,
      body: 'Thanks, your address is confirmed.',
    });
    expect(stored.contentSid).toBeUndefined();
  });

  it('uses the messaging service when the channel has no sender number', async () => {
    const serviceSid = `MG${'f'.repeat(32)}`;
    const viaService = createTwilioSender({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      baseUrl: sandbox.url,
      messagingServiceSid: serviceSid,
    });
    const result = await viaService.sendMessage(sms());
    expect(result.status).toBe('accepted');
    expect(sandbox.messages()[0].from).toBe(serviceSid);
  });

  it.each([
    ['+3361234', ''],
    ['0612345678', ''],
    ['+33 6 12 34 56 78', ' (write it as +33612345678)'],
    ['whatsapp:+33612345678', ' (write it as +33612345678)'],
  ])('refuses %s before any request (InvalidPhoneNumber)', async (to, hint) => {
    const err = await failure(sender.sendMessage(sms({ to })));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidPhoneNumber');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(err.message).toBe(`to: "${to}" is not a valid phone number in E.164 form, e.g. +33612345678${hint}`);
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('refuses an empty body without a template before any request', async () => {
    const err = await failure(sender.sendMessage(sms({ body: '  ' })));
    expect((err as ApplicationFailure).type).toBe('InvalidRequest');
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('21211 from Twilio: non-retryable, code kept', async () => {
    const err = await failure(sender.sendMessage(sms({ to: '+33612340003' })));
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('ProviderRejected');
    expect(f.message).toBe(
      "Twilio refused the request: error 21211: the phone number is not valid (Twilio: The 'To' number +33612340003 is not a valid phone number.)",
    );
    expect(f.details?.[0]).toMatchObject({
      provider: 'Twilio',
      status: 400,
      code: 21211,
      moreInfo: 'https://www.twilio.com/docs/errors/21211',
    });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('429: RateLimited, waiting for Retry-After', async () => {
    await fetch(`${sandbox.url}/sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'twilio', status: 429, count: 1, retryAfterSeconds: 3 }),
    });
    const err = await failure(sender.sendMessage(sms()));
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.type).toBe('RateLimited');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(3000);
    expect(sandbox.messages()).toHaveLength(0);
    await expect(sender.sendMessage(sms())).resolves.toMatchObject({ status: 'queued' });
  });

  it('500: an ordinary (retryable) error', async () => {
    await fetch(`${sandbox.url}/sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'twilio', status: 500, count: 1 }),
    });
    const err = await failure(sender.sendMessage(sms()));
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
    expect(err.message).toBe('Twilio answered 500 (code 20500): Internal Server Error');
  });

  it('wrong credentials (20003): non-retryable', async () => {
    const wrong = createTwilioSender({
      accountSid: ACCOUNT_SID,
      authToken: 'wrong',
      baseUrl: sandbox.url,
      smsFrom: SMS_FROM,
    });
    const err = await failure(wrong.sendMessage(sms()));
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(err.message).toBe('Twilio refused the request: error 20003: Authenticate');
  });

  it('no answer at all: an ordinary (retryable) error', async () => {
    const down = createTwilioSender({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      baseUrl: 'http://127.0.0.1:9',
      smsFrom: SMS_FROM,
    });
    const err = await failure(down.sendMessage(sms()));
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe("Twilio's synchronous refusals in words (mapTwilioError)", () => {
  const rest = (status: number, code: number, message: string) =>
    new twilio.RestException({
      statusCode: status,
      body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
    });

  it.each([
    [21211, 'the phone number is not valid'],
    [21610, 'the recipient has unsubscribed (replied STOP)'],
    [21408, 'sending to this country or region is not enabled'],
    [21608, 'a Twilio trial account can only send to verified numbers'],
    [63016, 'send an approved template instead'],
    [21614, 'not a mobile number'],
  ])('%i → non-retryable, code and reason kept', (code, words) => {
    const f = mapTwilioError(rest(400, code, 'Twilio says no')) as ApplicationFailure;
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('ProviderRejected');
    expect(f.message).toContain(`error ${code}: `);
    expect(f.message).toContain(words);
    expect(f.message).toContain('(Twilio: Twilio says no)');
  });

  it("another code: Twilio's own message", () => {
    const f = mapTwilioError(
      rest(400, 21606, "The 'From' phone number provided is not a valid message-capable Twilio phone number."),
    ) as ApplicationFailure;
    expect(f.message).toBe(
      "Twilio refused the request: error 21606: The 'From' phone number provided is not a valid message-capable Twilio phone number.",
    );
  });

  it('code 20429 without Retry-After waits 1 s', () => {
    const f = mapTwilioError(rest(429, 20429, 'Too Many Requests')) as ApplicationFailure;
    expect(f.type).toBe('RateLimited');
    expect(f.nextRetryDelay).toBe(1000);
  });

  it('503: retryable', () => {
    const e = mapTwilioError(rest(503, 20503, 'Service Unavailable'));
    expect(e).not.toBeInstanceOf(ApplicationFailure);
    expect(e.name).toBe('ProviderUnavailable');
  });
});
