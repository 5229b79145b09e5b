// Twilio's Messages API, as far as twilio-node sees it: basic auth, form-encoded parameters,
// Twilio's error codes and bodies, 201 with the message resource; then signed status callbacks
// (fates.ts) to each message's StatusCallback, and inbound messages on demand.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { E164_EXAMPLE, E164_PATTERN } from '../domain/phone';
import { optedOutAtApi, phoneFate, refusedAtApi, type PhoneStep } from './fates';
import { answerLate, type Faults } from './faults';
import type { MessageStore, SandboxEvent, SandboxMessage } from './store';
import { describeError, postOnce, signedTwilioForm, type Scheduler, type WebhookDeliverer } from './webhooks';

export const API_VERSION = '2010-04-01';
export const MAX_BODY = 1600;
/** The sender the sandbox uses when a message goes through a messaging service, and the default inbound `To`. */
export const SANDBOX_NUMBER = '+15005550006';

const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;
const SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

export function twilioError(reply: FastifyReply, status: number, code: number, message: string) {
  return reply
    .code(status)
    .type('application/json')
    .send({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

export interface TwilioContext {
  accountSid: string;
  authToken: string;
  inboundWebhookUrl: string;
  store: MessageStore;
  faults: Faults;
  scheduler: Scheduler;
  deliverer: WebhookDeliverer;
  eventDelayMs: number;
  webhookTimeoutMs: number;
  /** SMS numbers that texted STOP (Twilio's opt-out keywords) and not START since: refused with 21610. */
  optedOut?: Set<string>;
}

/** Twilio's default SMS opt-out and opt-in keywords (Advanced Opt-Out), the whole message in any case. */
const OPT_OUT_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'];
const OPT_IN_WORDS = ['START', 'UNSTOP', 'YES'];
const optedOut = (ctx: TwilioContext) => (ctx.optedOut ??= new Set());

const newSid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
/** RFC 2822, as Twilio writes dates: `Tue, 05 Nov 2024 10:00:00 +0000`. */
export const rfc2822 = (date: Date) => date.toUTCString().replace('GMT', '+0000');

/** GSM-7 basic characters (and the extension table): 160 per SMS, 153 per part; otherwise UCS-2, 70 / 67. */
const GSM7 = /^[A-Za-z0-9 \r\n@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~\]|€]*$/;
export function segments(body: string): number {
  if (body.length === 0) return 1;
  const gsm = GSM7.test(body);
  // GSM-7: the extension characters take two septets; UCS-2: UTF-16 code units (an emoji takes two).
  const length = gsm ? [...body].reduce((n, c) => n + ('^{}\\[~]|€'.includes(c) ? 2 : 1), 0) : body.length;
  const [single, part] = gsm ? [160, 153] : [70, 67];
  return length <= single ? 1 : Math.ceil(length / part);
}

type Form = Record<string, string>;

/** form-urlencoded → first value of each name. */
function parseForm(text: string): Form {
  const form: Form = Object.create(null) as Form;
  for (const [key, value] of new URLSearchParams(text)) if (!(key in form)) form[key] = value;
  return form;
}

export async function twilioRoutes(app: FastifyInstance, ctx: TwilioContext): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) =>
    done(null, parseForm(String(body))),
  );
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    if (error.statusCode === 413) return twilioError(reply, 413, 20413, 'Request entity too large');
    if (error.statusCode && error.statusCode < 500) return twilioError(reply, error.statusCode, 20001, error.message);
    request.log.error(error);
    return twilioError(reply, 500, 20500, 'Internal Server Error');
  });

  const authenticated = (request: FastifyRequest<{ Params: { sid: string } }>): boolean => {
    const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return (
      colon > 0 &&
      decoded.slice(0, colon) === ctx.accountSid &&
      decoded.slice(colon + 1) === ctx.authToken &&
      request.params.sid === ctx.accountSid
    );
  };
  const refuseAuth = (reply: FastifyReply) => {
    reply.header('WWW-Authenticate', 'Basic realm="Twilio API"');
    return twilioError(reply, 401, 20003, 'Authenticate');
  };

  /** An armed fault (POST /sandbox/faults): waited out when slow, then answered here (true) or left to the API (false). */
  const faulted = async (reply: FastifyReply): Promise<boolean> => {
    const fault = ctx.faults.take('twilio');
    await answerLate(fault);
    if (!fault?.status) return false;
    if (fault.status === 500 || fault.status === 502 || fault.status === 503)
      twilioError(reply, fault.status, 20500, 'Internal Server Error');
    else if (fault.status === 400) twilioError(reply, 400, 21610, 'Attempt to send to unsubscribed recipient');
    else {
      reply.header('Retry-After', String(fault.retryAfterSeconds));
      twilioError(reply, 429, 20429, 'Too Many Requests');
    }
    return true;
  };

  app.post<{ Params: { sid: string }; Body: Form }>(
    `/${API_VERSION}/Accounts/:sid/Messages.json`,
    async (request, reply) => {
      if (!authenticated(request)) return refuseAuth(reply);
      if (await faulted(reply)) return reply;

      const form = request.body ?? {};
      const refusal = validateCreate(form, optedOut(ctx));
      if (refusal) return twilioError(reply, 400, refusal.code, refusal.message);

      const message = accept(ctx, form);
      return reply.code(201).send(resource(ctx, message));
    },
  );

  // Fetch one message (client.messages(sid).fetch()): its current status.
  app.get<{ Params: { sid: string; file: string } }>(
    `/${API_VERSION}/Accounts/:sid/Messages/:file`,
    async (request, reply) => {
      if (!authenticated(request)) return refuseAuth(reply);
      if (await faulted(reply)) return reply;
      const messageSid = request.params.file.replace(/\.json$/, '');
      const message = ctx.store.byProviderId(messageSid);
      if (!message || message.provider !== 'twilio')
        return twilioError(
          reply,
          404,
          20404,
          `The requested resource /${API_VERSION}/Accounts/${ctx.accountSid}/Messages/${messageSid}.json was not found`,
        );
      return resource(ctx, message);
    },
  );
}

/** Twilio's synchronous refusals, first one found (Twilio reports one error at a time). */
function validateCreate(form: Form, stopped: ReadonlySet<string>): { code: number; message: string } | undefined {
  const to = form.To ?? '';
  if (to === '') return { code: 21604, message: "A 'To' phone number is required." };
  if (!form.From && !form.MessagingServiceSid) return { code: 21603, message: "A 'From' phone number is required." };
  if (!form.Body && !form.ContentSid && !form.MediaUrl) return { code: 21602, message: 'Message body is required.' };
  if ((form.Body ?? '').length > MAX_BODY)
    return { code: 21617, message: `The concatenated message body exceeds the ${MAX_BODY} character limit.` };
  const number = to.replace(/^whatsapp:/i, '');
  if (!E164_PATTERN.test(number) || refusedAtApi(number))
    return { code: 21211, message: `The 'To' number ${to} is not a valid phone number.` };
  // An SMS to a number that texted STOP (or one that always did: ending 0005) is refused until START.
  if (!/^whatsapp:/i.test(to) && (stopped.has(number) || optedOutAtApi(number)))
    return { code: 21610, message: 'Attempt to send to unsubscribed recipient' };
  if (form.From && /^whatsapp:/i.test(form.From) !== /^whatsapp:/i.test(to)) {
    return { code: 21910, message: 'Invalid From and To pair. From and To should be of the same channel' };
  }
  if (form.MessagingServiceSid && !SERVICE_SID.test(form.MessagingServiceSid)) {
    return { code: 21701, message: `The Messaging Service Sid ${form.MessagingServiceSid} is invalid.` };
  }
  if (form.ContentSid && !CONTENT_SID.test(form.ContentSid))
    return { code: 21655, message: 'The ContentSid is Invalid.' };
  if (form.ContentVariables !== undefined) {
    let valid = false;
    try {
      const parsed: unknown = JSON.parse(form.ContentVariables);
      valid = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    } catch {
      valid = false;
    }
    if (!valid) return { code: 21656, message: 'The ContentVariables Parameter is invalid.' };
  }
  if (form.StatusCallback !== undefined && !isHttpUrl(form.StatusCallback)) {
    return { code: 21609, message: `The StatusCallback URL ${form.StatusCallback} is not a valid URL.` };
  }
  return undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function accept(ctx: TwilioContext, form: Form): SandboxMessage {
  const whatsapp = /^whatsapp:/i.test(form.To);
  const sid = newSid('SM');
  const message: SandboxMessage = {
    id: randomBytes(6).toString('hex'),
    provider: 'twilio',
    channel: whatsapp ? 'whatsapp' : 'sms',
    providerMessageId: sid,
    status: form.MessagingServiceSid ? 'accepted' : 'queued',
    to: form.To.replace(/^whatsapp:/i, ''),
    from: form.From ?? form.MessagingServiceSid,
    ...(form.Body !== undefined ? { body: form.Body } : {}),
    ...(form.ContentSid !== undefined ? { contentSid: form.ContentSid } : {}),
    ...(form.ContentVariables !== undefined ? { contentVariables: form.ContentVariables } : {}),
    ...(form.MessagingServiceSid !== undefined ? { messagingServiceSid: form.MessagingServiceSid } : {}),
    ...(form.StatusCallback !== undefined ? { statusCallback: form.StatusCallback } : {}),
    receivedAt: new Date().toISOString(),
    events: [],
  };
  ctx.store.add(message);
  for (const step of phoneFate(message.to, whatsapp ? 'whatsapp' : 'sms')) {
    ctx.scheduler.later(step.at * ctx.eventDelayMs, () => statusChanged(ctx, message, step));
  }
  return message;
}

const wireTo = (m: SandboxMessage) => (m.channel === 'whatsapp' ? `whatsapp:${m.to}` : m.to);
/** The number a message went out from: its From, or (messaging service) the sandbox's pool number. */
const wireFrom = (m: SandboxMessage) =>
  m.messagingServiceSid && m.from === m.messagingServiceSid
    ? `${m.channel === 'whatsapp' ? 'whatsapp:' : ''}${SANDBOX_NUMBER}`
    : m.from;

const ERROR_MESSAGES: Record<string, string> = {
  30003: 'Unreachable destination handset',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  63016:
    'Failed to send freeform message because you are outside the allowed window. If you want to send messages outside this window, please use a Message Template.',
};

/** The Message resource as Twilio returns it (create and fetch). */
function resource(ctx: TwilioContext, m: SandboxMessage) {
  const created = new Date(m.receivedAt);
  const last = m.events.at(-1);
  const sent = m.events.find((e) => e.type === 'sent');
  const uri = `/${API_VERSION}/Accounts/${ctx.accountSid}/Messages/${m.providerMessageId}.json`;
  return {
    account_sid: ctx.accountSid,
    api_version: API_VERSION,
    body: m.body ?? '',
    date_created: rfc2822(created),
    date_sent: sent ? rfc2822(new Date(sent.at)) : null,
    date_updated: rfc2822(last ? new Date(last.at) : created),
    direction: 'outbound-api',
    error_code: m.errorCode ? Number(m.errorCode) : null,
    error_message: m.errorCode ? (ERROR_MESSAGES[m.errorCode] ?? null) : null,
    from: m.messagingServiceSid && m.from === m.messagingServiceSid && m.status === 'accepted' ? null : wireFrom(m),
    messaging_service_sid: m.messagingServiceSid ?? null,
    num_media: '0',
    num_segments: String(m.contentSid && !m.body ? 1 : segments(m.body ?? '')),
    price: null,
    price_unit: 'USD',
    sid: m.providerMessageId,
    status: m.status,
    subresource_uris: {
      media: `/${API_VERSION}/Accounts/${ctx.accountSid}/Messages/${m.providerMessageId}/Media.json`,
      feedback: `/${API_VERSION}/Accounts/${ctx.accountSid}/Messages/${m.providerMessageId}/Feedback.json`,
    },
    to: wireTo(m),
    uri,
  };
}

/** One status change: recorded on the message, and called back (signed) when it has a StatusCallback. */
function statusChanged(ctx: TwilioContext, message: SandboxMessage, step: PhoneStep): void {
  message.status = step.status;
  if (step.errorCode) message.errorCode = step.errorCode;
  const params: Form = {
    SmsSid: message.providerMessageId,
    SmsStatus: step.status,
    MessageStatus: step.status,
    To: wireTo(message),
    MessageSid: message.providerMessageId,
    AccountSid: ctx.accountSid,
    From: wireFrom(message),
    ApiVersion: API_VERSION,
    ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
    ...(step.errorCode ? { ErrorCode: step.errorCode } : {}),
  };
  const record: SandboxEvent = {
    type: step.status,
    at: new Date().toISOString(),
    eventId: `${message.providerMessageId}:${step.status}`,
    payload: params,
    deliveries: [],
    outcome: message.statusCallback ? 'pending' : 'no_webhook',
  };
  message.events.push(record);
  const url = message.statusCallback;
  if (!url) return;
  ctx.deliverer.deliver(
    [record],
    async () => {
      const { body, headers } = signedTwilioForm(ctx.authToken, url, params);
      return (await postOnce(ctx.scheduler, url, body, headers, ctx.webhookTimeoutMs)).status;
    },
    { inOrder: message.providerMessageId },
  );
}

export const inboundSchema = z.object({
  channel: z.enum(['sms', 'whatsapp']),
  from: z.string().regex(E164_PATTERN, E164_EXAMPLE),
  to: z.string().min(1).optional(),
  body: z.string().max(MAX_BODY).optional(),
  buttonPayload: z.string().min(1).optional(),
  buttonText: z.string().min(1).optional(),
  profileName: z.string().min(1).optional(),
});
export type InboundInput = z.input<typeof inboundSchema>;

export interface InboundResult {
  status: number;
  body: string;
  contentType?: string;
  params: Form;
}

/**
 * A customer's SMS or WhatsApp message, delivered to Relais as Twilio delivers it: form params,
 * signed with the auth token over the inbound URL. One attempt; the receiver's answer is returned.
 */
export async function deliverInbound(
  ctx: TwilioContext,
  input: z.output<typeof inboundSchema>,
): Promise<InboundResult> {
  const whatsapp = input.channel === 'whatsapp';
  const prefix = whatsapp ? 'whatsapp:' : '';
  const sid = newSid('SM');
  const to = input.to ? `${prefix}${input.to.replace(/^whatsapp:/i, '')}` : `${prefix}${SANDBOX_NUMBER}`;
  const body = input.body ?? input.buttonText ?? '';
  const params: Form = {
    SmsMessageSid: sid,
    NumMedia: '0',
    SmsSid: sid,
    SmsStatus: 'received',
    Body: body,
    To: to,
    NumSegments: String(segments(body)),
    MessageSid: sid,
    AccountSid: ctx.accountSid,
    From: `${prefix}${input.from}`,
    ApiVersion: API_VERSION,
    ...(whatsapp ? { WaId: input.from.slice(1), MessageType: input.buttonPayload ? 'button' : 'text' } : {}),
    ...(input.profileName ? { ProfileName: input.profileName } : {}),
    ...(input.buttonPayload ? { ButtonPayload: input.buttonPayload } : {}),
    ...(input.buttonText ? { ButtonText: input.buttonText } : {}),
  };
  // Twilio applies its opt-out keywords itself before the message reaches the webhook.
  const word = body.trim().toUpperCase();
  if (!whatsapp && OPT_OUT_WORDS.includes(word)) optedOut(ctx).add(input.from);
  if (!whatsapp && OPT_IN_WORDS.includes(word)) optedOut(ctx).delete(input.from);
  const url = ctx.inboundWebhookUrl;
  const signed = signedTwilioForm(ctx.authToken, url, params);
  const at = new Date().toISOString();
  try {
    const answer = await ctx.scheduler.track(() =>
      postOnce(ctx.scheduler, url, signed.body, signed.headers, ctx.webhookTimeoutMs),
    );
    ctx.store.addInbound({ at, url, params, status: answer.status, body: answer.body });
    return { ...answer, params };
  } catch (err) {
    ctx.store.addInbound({ at, url, params, status: null, error: describeError(err) });
    throw Object.assign(new Error(`the inbound webhook ${url} could not be reached: ${describeError(err)}`), {
      params,
    });
  }
}
