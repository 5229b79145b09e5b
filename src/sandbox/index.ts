// The provider sandbox (dev and tests only): answers like SendGrid v3 Mail Send and Twilio's
// Messages API closely enough for their official SDKs, keeps what it received, and sends back
// the providers' webhooks signed with real keys, retrying them like SendGrid does.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { generateKeyPairSync, randomBytes, sign, createPrivateKey, type KeyObject } from 'node:crypto';
import twilio from 'twilio';
import { emailFate, phoneFate, refusedAtApi, type EmailStep, type PhoneStep } from './fates';
import { renderInbox } from './inbox-page';

export interface SandboxOptions {
  host?: string;
  port?: number;
  sendgrid: { apiKey: string; signingPrivateKeyPem: string; webhookUrl: string };
  twilio: { accountSid: string; authToken: string; inboundWebhookUrl: string };
  /** Gap between successive events of one message (ms). */
  eventDelayMs?: number;
  /** Delay of a late bounce after delivered (ms). */
  lateEventMs?: number;
  /** Webhook delivery attempts before giving up (SendGrid retries for 24 h; the sandbox is bounded). */
  maxDeliveryAttempts?: number;
  logger?: boolean;
}

export interface SandboxEvent { type: string; at: string; deliveries: Array<{ at: string; status: number | string }>; outcome: 'pending' | 'delivered' | 'gave_up' }

export interface SandboxMessage {
  id: string;
  provider: 'sendgrid' | 'twilio';
  channel: 'email' | 'sms' | 'whatsapp';
  providerMessageId: string;
  to: string;
  from: string;
  subject?: string;
  html?: string;
  text?: string;
  body?: string;
  contentSid?: string;
  contentVariables?: string;
  customArgs?: Record<string, string>;
  categories?: string[];
  attachments?: string[];
  replyTo?: string;
  statusCallback?: string;
  receivedAt: string;
  events: SandboxEvent[];
}

export interface Sandbox {
  url: string;
  messages(filter?: { to?: string }): SandboxMessage[];
  clear(): void;
  close(): Promise<void>;
}

export function generateSendGridKeyPair(): { privateKeyPem: string; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

interface Fault { provider: 'sendgrid' | 'twilio' | 'any'; status: 429 | 500; count: number; retryAfterSeconds: number }

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_MAIL_BYTES = 30 * 1024 * 1024;

const sendgridErrors = (reply: FastifyReply, status: number, errors: Array<{ message: string; field?: string | null; help?: string | null }>) =>
  reply.status(status).send({ errors: errors.map((e) => ({ message: e.message, field: e.field ?? null, help: e.help ?? null })) });

const twilioError = (reply: FastifyReply, status: number, code: number, message: string) =>
  reply.status(status).send({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const delay = options.eventDelayMs ?? 200;
  const lateDelay = options.lateEventMs ?? 5000;
  const maxAttempts = options.maxDeliveryAttempts ?? 10;
  const signingKey: KeyObject = createPrivateKey(options.sendgrid.signingPrivateKeyPem);
  const store: SandboxMessage[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const faults: Fault[] = [];
  let closed = false;

  const later = (ms: number, fn: () => void) => {
    if (closed) return;
    const t = setTimeout(() => { timers.delete(t); if (!closed) fn(); }, ms);
    timers.add(t);
  };

  /** Posts until the receiver answers 2xx, with exponential backoff, each attempt recorded on the events. */
  const deliver = (events: SandboxEvent[], attempt: (n: number) => Promise<number>, n = 1) => {
    attempt(n).then((status) => status, (err: Error) => `network: ${err.message}`).then((status) => {
      const at = new Date().toISOString();
      for (const e of events) e.deliveries.push({ at, status });
      if (typeof status === 'number' && status >= 200 && status < 300) { events.forEach((e) => { e.outcome = 'delivered'; }); return; }
      if (n >= maxAttempts) { events.forEach((e) => { e.outcome = 'gave_up'; }); return; }
      later(Math.min(30_000, delay * 2 ** n), () => deliver(events, attempt, n + 1));
    });
  };

  // SendGrid batches the events that are due together into one signed POST.
  let pending: Array<{ record: SandboxEvent; payload: Record<string, unknown> }> = [];
  const flushSendGrid = () => {
    const batch = pending;
    pending = [];
    if (!batch.length) return;
    const body = JSON.stringify(batch.map((b) => b.payload)) + '\r\n';
    deliver(batch.map((b) => b.record), async () => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = sign('sha256', Buffer.from(timestamp + body), signingKey).toString('base64');
      const res = await fetch(options.sendgrid.webhookUrl, {
        method: 'POST', body,
        headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp, 'user-agent': 'SendGrid Event API' },
      });
      await res.arrayBuffer();
      return res.status;
    });
  };
  const queueSendGridEvent = (message: SandboxMessage, step: EmailStep, index: number) => {
    const record: SandboxEvent = { type: step.event, at: new Date().toISOString(), deliveries: [], outcome: 'pending' };
    message.events.push(record);
    pending.push({
      record,
      payload: {
        email: message.to, timestamp: Math.floor(Date.now() / 1000), event: step.event,
        'smtp-id': `<${message.providerMessageId}@sandbox.relais.localhost>`,
        sg_event_id: randomBytes(16).toString('base64url').slice(0, 22),
        sg_message_id: `${message.providerMessageId}.filterdrecv-sandbox-${index}-${message.id}`,
        category: message.categories ?? [],
        ...step.fields,
        ...message.customArgs,
      },
    });
    if (pending.length === 1) later(5, flushSendGrid);
  };

  const sendTwilioCallback = (message: SandboxMessage, step: PhoneStep) => {
    const record: SandboxEvent = { type: step.status, at: new Date().toISOString(), deliveries: [], outcome: 'pending' };
    message.events.push(record);
    if (!message.statusCallback) { record.outcome = 'delivered'; return; }
    const url = message.statusCallback;
    const params: Record<string, string> = {
      MessageSid: message.providerMessageId, SmsSid: message.providerMessageId, MessageStatus: step.status, SmsStatus: step.status,
      AccountSid: options.twilio.accountSid, From: message.from, To: message.channel === 'whatsapp' ? `whatsapp:${message.to}` : message.to,
      ApiVersion: '2010-04-01', ...(step.errorCode ? { ErrorCode: step.errorCode } : {}),
    };
    deliver([record], async () => {
      const res = await fetch(url, {
        method: 'POST', body: new URLSearchParams(params).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(options.twilio.authToken, url, params), 'i-twilio-idempotency-token': randomBytes(8).toString('hex') },
      });
      await res.arrayBuffer();
      return res.status;
    });
  };

  const takeFault = (provider: 'sendgrid' | 'twilio'): Fault | undefined => {
    const fault = faults.find((f) => f.count > 0 && (f.provider === provider || f.provider === 'any'));
    if (fault) fault.count -= 1;
    return fault;
  };

  const app: FastifyInstance = Fastify({ logger: options.logger ?? false, bodyLimit: MAX_MAIL_BYTES + 10 * 1024 * 1024 });
  app.register(formbody);

  app.post('/v3/mail/send', async (request, reply) => {
    if (request.headers.authorization !== `Bearer ${options.sendgrid.apiKey}`) {
      return sendgridErrors(reply, 401, [{ message: 'The provided authorization grant is invalid, expired, or revoked' }]);
    }
    const fault = takeFault('sendgrid');
    if (fault?.status === 429) {
      reply.header('X-RateLimit-Limit', '600').header('X-RateLimit-Remaining', '0').header('X-RateLimit-Reset', String(Math.floor(Date.now() / 1000) + fault.retryAfterSeconds));
      return sendgridErrors(reply, 429, [{ message: 'too many requests' }]);
    }
    if (fault) return sendgridErrors(reply, 500, [{ message: 'internal error, please try again' }]);
    if (Number(request.headers['content-length'] ?? 0) > MAX_MAIL_BYTES) return sendgridErrors(reply, 413, [{ message: 'The JSON payload you have included in your request is too large.' }]);

    const body = (request.body ?? {}) as Record<string, any>;
    const errors = validateMail(body);
    if (errors.length) return sendgridErrors(reply, 400, errors);

    const messageId = randomBytes(16).toString('base64url').slice(0, 22);
    const receivedAt = new Date().toISOString();
    const text = body.content.find((c: any) => c.type === 'text/plain')?.value;
    const html = body.content.find((c: any) => c.type === 'text/html')?.value;
    (body.personalizations as any[]).forEach((p, pIndex) => {
      for (const to of p.to as Array<{ email: string }>) {
        const message: SandboxMessage = {
          id: randomBytes(6).toString('hex'), provider: 'sendgrid', channel: 'email', providerMessageId: messageId,
          to: to.email, from: body.from.email, subject: p.subject ?? body.subject, html, text,
          customArgs: { ...(body.custom_args ?? {}), ...(p.custom_args ?? {}) },
          categories: body.categories ?? [], attachments: (body.attachments ?? []).map((a: any) => a.filename),
          replyTo: body.reply_to?.email, receivedAt, events: [],
        };
        store.push(message);
        for (const step of emailFate(to.email)) {
          later(step.late ? step.at * delay + lateDelay : step.at * delay, () => queueSendGridEvent(message, step, pIndex));
        }
      }
    });
    return reply.status(202).header('X-Message-Id', messageId).send();
  });

  app.post<{ Params: { sid: string } }>('/2010-04-01/Accounts/:sid/Messages.json', async (request, reply) => {
    const [user, pass] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
    if (user !== options.twilio.accountSid || pass !== options.twilio.authToken || request.params.sid !== options.twilio.accountSid) {
      return twilioError(reply, 401, 20003, 'Authenticate');
    }
    const fault = takeFault('twilio');
    if (fault?.status === 429) { reply.header('Retry-After', String(fault.retryAfterSeconds)); return twilioError(reply, 429, 20429, 'Too Many Requests'); }
    if (fault) return twilioError(reply, 500, 20500, 'Internal Server Error');

    const form = (request.body ?? {}) as Record<string, string>;
    const whatsapp = form.To?.startsWith('whatsapp:');
    const to = (form.To ?? '').replace(/^whatsapp:/, '');
    if (!form.To) return twilioError(reply, 400, 21604, "A 'To' phone number is required.");
    if (!form.From && !form.MessagingServiceSid) return twilioError(reply, 400, 21603, "A 'From' phone number is required.");
    if (!form.Body && !form.ContentSid) return twilioError(reply, 400, 21602, 'Message body is required.');
    if ((form.Body ?? '').length > 1600) return twilioError(reply, 400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (!E164.test(to) || refusedAtApi(to)) return twilioError(reply, 400, 21211, `The 'To' number ${form.To} is not a valid phone number.`);

    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date();
    const message: SandboxMessage = {
      id: randomBytes(6).toString('hex'), provider: 'twilio', channel: whatsapp ? 'whatsapp' : 'sms', providerMessageId: sid,
      to, from: form.From ?? form.MessagingServiceSid, body: form.Body, contentSid: form.ContentSid, contentVariables: form.ContentVariables,
      statusCallback: form.StatusCallback, receivedAt: now.toISOString(), events: [],
    };
    store.push(message);
    for (const step of phoneFate(to, message.channel as 'sms' | 'whatsapp')) later(step.at * delay, () => sendTwilioCallback(message, step));
    const date = now.toUTCString().replace('GMT', '+0000');
    return reply.status(201).send({
      sid, account_sid: options.twilio.accountSid, api_version: '2010-04-01', body: form.Body ?? '', date_created: date, date_updated: date, date_sent: null,
      direction: 'outbound-api', error_code: null, error_message: null, from: form.From ?? null, messaging_service_sid: form.MessagingServiceSid ?? null,
      num_media: '0', num_segments: String(Math.max(1, Math.ceil((form.Body ?? '').length / 153))), price: null, price_unit: 'USD',
      status: form.MessagingServiceSid ? 'accepted' : 'queued', subresource_uris: { media: `/2010-04-01/Accounts/${options.twilio.accountSid}/Messages/${sid}/Media.json` },
      to: form.To, uri: `/2010-04-01/Accounts/${options.twilio.accountSid}/Messages/${sid}.json`,
    });
  });

  app.post('/sandbox/inbound', async (request, reply) => {
    const input = (request.body ?? {}) as { channel?: string; from?: string; to?: string; body?: string; buttonPayload?: string; buttonText?: string; profileName?: string };
    if (!input.from || !E164.test(input.from)) return reply.status(400).send({ error: 'from must be an E.164 number' });
    const whatsapp = input.channel === 'whatsapp';
    const params: Record<string, string> = {
      MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: options.twilio.accountSid, ApiVersion: '2010-04-01', NumMedia: '0',
      From: whatsapp ? `whatsapp:${input.from}` : input.from, To: input.to ?? (whatsapp ? 'whatsapp:+15005550006' : '+15005550006'), Body: input.body ?? input.buttonText ?? '',
      ...(whatsapp ? { WaId: input.from.slice(1), ProfileName: input.profileName ?? 'Customer' } : {}),
      ...(input.buttonPayload ? { ButtonPayload: input.buttonPayload } : {}), ...(input.buttonText ? { ButtonText: input.buttonText } : {}),
    };
    const url = options.twilio.inboundWebhookUrl;
    const res = await fetch(url, {
      method: 'POST', body: new URLSearchParams(params).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(options.twilio.authToken, url, params) },
    });
    return { status: res.status, body: await res.text() };
  });

  const list = (to?: string) => {
    const wanted = to?.toLowerCase().replace(/^whatsapp:/, '');
    return wanted ? store.filter((m) => m.to.toLowerCase() === wanted) : [...store];
  };
  app.get('/sandbox/messages', async (request: FastifyRequest<{ Querystring: { to?: string } }>) => ({ messages: list(request.query.to) }));
  app.delete('/sandbox/messages', async () => { store.length = 0; return { cleared: true }; });
  app.get('/sandbox', async (_request, reply) => reply.type('text/html; charset=utf-8').send(renderInbox([...store].reverse())));
  app.post('/sandbox/faults', async (request, reply) => {
    const f = (request.body ?? {}) as Partial<Fault>;
    if (!['sendgrid', 'twilio', 'any'].includes(String(f.provider)) || ![429, 500].includes(Number(f.status)) || !(Number(f.count) > 0)) {
      return reply.status(400).send({ error: 'expected { provider: sendgrid|twilio|any, status: 429|500, count: N, retryAfterSeconds? }' });
    }
    faults.push({ provider: f.provider!, status: f.status!, count: Number(f.count), retryAfterSeconds: Number(f.retryAfterSeconds ?? 1) });
    return { faults };
  });
  app.delete('/sandbox/faults', async () => { faults.length = 0; return { faults }; });

  const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return {
    url,
    messages: (filter) => list(filter?.to),
    clear: () => { store.length = 0; },
    async close() {
      closed = true;
      timers.forEach(clearTimeout);
      timers.clear();
      await app.close();
    },
  };
}

/** The checks SendGrid makes before accepting a send, with its error wording and field names. */
function validateMail(body: Record<string, any>): Array<{ message: string; field: string }> {
  const errors: Array<{ message: string; field: string }> = [];
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    errors.push({ message: 'The personalizations field is required and must have at least one personalization.', field: 'personalizations' });
  } else {
    const seen = new Set<string>();
    let total = 0;
    personalizations.forEach((p: any, i: number) => {
      if (!Array.isArray(p?.to) || p.to.length === 0) errors.push({ message: 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.', field: `personalizations.${i}.to` });
      for (const [j, to] of (p?.to ?? []).entries()) {
        total += 1;
        if (!EMAIL.test(String(to?.email ?? ''))) errors.push({ message: 'Does not contain a valid address.', field: `personalizations.${i}.to.${j}.email` });
        const key = String(to?.email ?? '').toLowerCase();
        if (seen.has(key)) errors.push({ message: 'Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [' + key + '] in the personalizations.' + i + '.to field.', field: `personalizations.${i}.to` });
        seen.add(key);
      }
      for (const [k, v] of Object.entries(p?.custom_args ?? {})) if (typeof v !== 'string') errors.push({ message: 'Custom args values must be strings.', field: `personalizations.${i}.custom_args.${k}` });
    });
    if (total > 1000) errors.push({ message: 'The total number of recipients must be less than or equal to 1000.', field: 'personalizations' });
  }
  if (!EMAIL.test(String(body.from?.email ?? ''))) errors.push({ message: 'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.', field: 'from.email' });
  if (!body.subject && !personalizations?.every?.((p: any) => p?.subject)) errors.push({ message: 'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.', field: 'subject' });
  if (!Array.isArray(body.content) || body.content.length === 0 || body.content.some((c: any) => typeof c?.value !== 'string' || c.value.length === 0)) {
    errors.push({ message: 'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.', field: 'content' });
  }
  if (Array.isArray(body.categories) && body.categories.length > 10) errors.push({ message: 'Too many categories: 10 at most.', field: 'categories' });
  return errors;
}
