// SendGrid v3 Mail Send, as far as @sendgrid/mail sees it: Bearer auth, SendGrid's validation
// and error bodies, 202 with X-Message-Id; then each recipient's events (fates.ts) go out on the
// signed Event Webhook.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { emailFate, type EmailStep } from './fates';
import { answerLate, type Faults } from './faults';
import type { MessageStore, SandboxEvent, SandboxMessage } from './store';
import type { Scheduler, SendGridEventStream } from './webhooks';

/** SendGrid refuses a message of more than 30 MB. */
export const MAX_MESSAGE_BYTES = 30 * 1024 * 1024;
export const MAX_RECIPIENTS = 1000;
export const MAX_CATEGORIES = 10;
export const MAX_CUSTOM_ARGS_BYTES = 10_000;
/** What the server reads at all; a larger body is refused (413) without reading it. */
const READ_LIMIT = 2 * MAX_MESSAGE_BYTES;

export interface SendGridErrorItem {
  message: string;
  field: string | null;
  help: string | null;
}

export const SENDGRID_MESSAGES = {
  unauthorized: 'The provided authorization grant is invalid, expired, or revoked',
  authorizationRequired: 'authorization required',
  tooLarge: 'The JSON payload you have included in your request is too large.',
  badRequest: 'Bad Request',
  rateLimited: 'too many requests',
  internal: 'internal error, please try again',
  unavailable: 'service unavailable, please try again later',
} as const;

const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';
const help = (anchor: string) => `${HELP}#message.${anchor}`;
/** Loose on purpose, like SendGrid's: something@domain.tld, no spaces or angle brackets. */
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:".]{2,}$/;

export function sendgridErrors(
  reply: FastifyReply,
  status: number,
  errors: Array<Partial<SendGridErrorItem> & { message: string }>,
) {
  return reply
    .code(status)
    .type('application/json')
    .send({
      errors: errors.map((e) => ({ message: e.message, field: e.field ?? null, help: e.help ?? null })),
    });
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeName = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** The checks Mail Send makes before accepting a request, in SendGrid's words and field names. */
export function validateMailSend(body: unknown): SendGridErrorItem[] {
  const errors: SendGridErrorItem[] = [];
  const add = (message: string, field: string | null, anchor?: string) =>
    errors.push({ message, field, help: anchor ? help(anchor) : null });
  if (!isObject(body)) {
    add(SENDGRID_MESSAGES.badRequest, null);
    return errors;
  }
  const templateId = typeof body.template_id === 'string' && body.template_id !== '' ? body.template_id : undefined;

  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    add(
      'The personalizations field is required and must have at least one personalization.',
      'personalizations',
      'personalizations',
    );
  } else {
    if (personalizations.length > MAX_RECIPIENTS) {
      add(
        `The personalization block is limited to ${MAX_RECIPIENTS} personalizations per API request. You have provided ${personalizations.length} personalizations. Please consider splitting this into multiple requests and resending your request.`,
        'personalizations',
        'personalizations',
      );
    }
    let total = 0;
    const seenAnywhere = new Map<string, string>();
    personalizations.forEach((p, i) => {
      if (!isObject(p)) {
        add('Each personalization must be an object.', `personalizations.${i}`, 'personalizations');
        return;
      }
      if (!Array.isArray(p.to) || p.to.length === 0) {
        add(
          'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          `personalizations.${i}.to`,
          'personalizations.to',
        );
      }
      const seenHere = new Set<string>();
      for (const kind of ['to', 'cc', 'bcc'] as const) {
        const list = p[kind];
        if (list === undefined) continue;
        if (!Array.isArray(list)) {
          add(
            `Invalid type. Expected: array, given: ${typeName(list)}.`,
            `personalizations.${i}.${kind}`,
            `personalizations.${kind}`,
          );
          continue;
        }
        list.forEach((entry, j) => {
          total += 1;
          const address = isObject(entry) && typeof entry.email === 'string' ? entry.email : undefined;
          if (address === undefined || !EMAIL.test(address)) {
            add(
              'Does not contain a valid address.',
              `personalizations.${i}.${kind}.${j}.email`,
              `personalizations.${kind}`,
            );
            return;
          }
          const key = address.toLowerCase();
          if (seenHere.has(key)) {
            add(
              `Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${address}] in the personalizations.${i}.${kind} field.`,
              `personalizations.${i}`,
              'personalizations',
            );
          } else if (seenAnywhere.has(key)) {
            add(
              `Each unique email address in the personalizations array should only be included once. You have included [${address}] more than once.`,
              `personalizations.${i}.${kind}.${j}.email`,
              'personalizations',
            );
          }
          seenHere.add(key);
          if (!seenAnywhere.has(key)) seenAnywhere.set(key, `personalizations.${i}.${kind}.${j}`);
        });
      }
      if (p.subject !== undefined && typeof p.subject !== 'string')
        add(
          `Invalid type. Expected: string, given: ${typeName(p.subject)}.`,
          `personalizations.${i}.subject`,
          'personalizations.subject',
        );
      checkCustomArgs(p.custom_args, `personalizations.${i}.custom_args`, body.custom_args, add);
      if (
        p.substitutions !== undefined &&
        (!isObject(p.substitutions) || Object.values(p.substitutions).some((v) => typeof v !== 'string'))
      )
        add('Substitutions must be an object of strings.', `personalizations.${i}.substitutions`, 'substitutions');
      else if (p.substitutions !== undefined && Buffer.byteLength(JSON.stringify(p.substitutions)) > 10_000)
        add(
          'The total collective size of your substitutions may not exceed 10,000 bytes per personalization object.',
          `personalizations.${i}.substitutions`,
          'substitutions',
        );
    });
    if (total > MAX_RECIPIENTS) {
      add(
        `There is a limit of ${MAX_RECIPIENTS} total recipients (to + cc + bcc) per request.`,
        'personalizations',
        'personalizations',
      );
    }
  }

  if (body.from === undefined) {
    add(
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
      'from',
      'from',
    );
  } else if (!isObject(body.from) || typeof body.from.email !== 'string' || !EMAIL.test(body.from.email)) {
    add('The from email does not contain a valid address.', 'from.email', 'from');
  }
  if (
    body.reply_to !== undefined &&
    (!isObject(body.reply_to) || typeof body.reply_to.email !== 'string' || !EMAIL.test(body.reply_to.email))
  ) {
    add('The reply_to email does not contain a valid address.', 'reply_to.email', 'reply_to');
  }

  const everyPersonalizationHasSubject =
    Array.isArray(personalizations) &&
    personalizations.length > 0 &&
    personalizations.every((p) => isObject(p) && typeof p.subject === 'string' && p.subject !== '');
  if (!templateId && !everyPersonalizationHasSubject && (typeof body.subject !== 'string' || body.subject === '')) {
    add(
      'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      'subject',
      'subject',
    );
  }

  if (body.content === undefined || (Array.isArray(body.content) && body.content.length === 0)) {
    if (!templateId) {
      add(
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
        'content',
        'content',
      );
    }
  } else if (!Array.isArray(body.content)) {
    add(`Invalid type. Expected: array, given: ${typeName(body.content)}.`, 'content', 'content');
  } else {
    body.content.forEach((c, i) => {
      if (!isObject(c) || typeof c.type !== 'string' || c.type === '')
        add('The content type must be a string at least one character in length.', `content.${i}.type`, 'content.type');
      if (!isObject(c) || typeof c.value !== 'string' || c.value === '')
        add(
          'The content value must be a string at least one character in length.',
          `content.${i}.value`,
          'content.value',
        );
    });
  }

  if (body.attachments !== undefined) {
    if (!Array.isArray(body.attachments)) {
      add(`Invalid type. Expected: array, given: ${typeName(body.attachments)}.`, 'attachments', 'attachments');
    } else {
      body.attachments.forEach((a, i) => {
        if (!isObject(a) || typeof a.content !== 'string' || a.content === '')
          add('The attachment content is required.', `attachments.${i}.content`, 'attachments.content');
        else if (!/^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/.test(a.content))
          add('The attachment content must be base64 encoded.', `attachments.${i}.content`, 'attachments.content');
        if (!isObject(a) || typeof a.filename !== 'string' || a.filename === '')
          add('The attachment filename parameter is required.', `attachments.${i}.filename`, 'attachments.filename');
      });
    }
  }

  if (body.categories !== undefined) {
    if (!Array.isArray(body.categories) || body.categories.some((c) => typeof c !== 'string')) {
      add('The categories parameter must be an array of strings.', 'categories', 'categories');
    } else if (body.categories.length > MAX_CATEGORIES) {
      add(`Too many categories: a message may have at most ${MAX_CATEGORIES} categories.`, 'categories', 'categories');
    }
  }
  checkCustomArgs(body.custom_args, 'custom_args', undefined, add);
  return errors;
}

function checkCustomArgs(
  args: unknown,
  field: string,
  messageLevel: unknown,
  add: (m: string, f: string | null, a?: string) => void,
) {
  if (args === undefined) return;
  if (!isObject(args)) {
    add(`Invalid type. Expected: object, given: ${typeName(args)}.`, field, 'custom_args');
    return;
  }
  for (const [key, value] of Object.entries(args)) {
    if (typeof value !== 'string')
      add(`Invalid type. Expected: string, given: ${typeName(value)}.`, `${field}.${key}`, 'custom_args');
  }
  const merged = { ...(isObject(messageLevel) ? messageLevel : {}), ...args };
  if (Buffer.byteLength(JSON.stringify(merged)) > MAX_CUSTOM_ARGS_BYTES) {
    add(`The total size of custom arguments must be less than ${MAX_CUSTOM_ARGS_BYTES} bytes.`, field, 'custom_args');
  }
}

export interface SendGridContext {
  apiKey: string;
  store: MessageStore;
  faults: Faults;
  scheduler: Scheduler;
  stream: SendGridEventStream;
  eventDelayMs: number;
  lateEventMs: number;
}

/** A random id shaped like SendGrid's X-Message-Id (22 URL-safe characters, no dot). */
export const newMessageId = () => randomBytes(16).toString('base64url');
const newEventId = () => randomBytes(16).toString('base64url');
const epochSeconds = () => Math.floor(Date.now() / 1000);

export async function sendgridRoutes(app: FastifyInstance, ctx: SendGridContext): Promise<void> {
  // The raw body: its size is checked (413) and it is parsed here, after authentication.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: READ_LIMIT }, (_request, body, done) =>
    done(null, body),
  );
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendgridErrors(reply, 413, [{ message: SENDGRID_MESSAGES.tooLarge }]);
    if (error.statusCode && error.statusCode < 500)
      return sendgridErrors(reply, error.statusCode, [{ message: error.message }]);
    request.log.error(error);
    return sendgridErrors(reply, 500, [{ message: SENDGRID_MESSAGES.internal }]);
  });

  app.post('/v3/mail/send', async (request, reply) => {
    const authorization = request.headers.authorization;
    if (!authorization) return sendgridErrors(reply, 401, [{ message: SENDGRID_MESSAGES.authorizationRequired }]);
    if (authorization !== `Bearer ${ctx.apiKey}`)
      return sendgridErrors(reply, 401, [{ message: SENDGRID_MESSAGES.unauthorized }]);

    const fault = ctx.faults.take('sendgrid');
    await answerLate(fault);
    if (fault?.status === 429) {
      const reset = epochSeconds() + fault.retryAfterSeconds;
      reply
        .header('X-RateLimit-Limit', '600')
        .header('X-RateLimit-Remaining', '0')
        .header('X-RateLimit-Reset', String(reset))
        .header('Retry-After', String(fault.retryAfterSeconds));
      return sendgridErrors(reply, 429, [{ message: SENDGRID_MESSAGES.rateLimited }]);
    }
    if (fault?.status === 400)
      return sendgridErrors(reply, 400, [
        { message: 'The content value must be a string at least one character in length.', field: 'content.0.value' },
      ]);
    if (fault?.status === 502 || fault?.status === 503)
      return sendgridErrors(reply, fault.status, [{ message: SENDGRID_MESSAGES.unavailable }]);
    if (fault?.status) return sendgridErrors(reply, 500, [{ message: SENDGRID_MESSAGES.internal }]);

    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (raw.length > MAX_MESSAGE_BYTES) return sendgridErrors(reply, 413, [{ message: SENDGRID_MESSAGES.tooLarge }]);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendgridErrors(reply, 400, [{ message: SENDGRID_MESSAGES.badRequest }]);
    }
    const errors = validateMailSend(body);
    if (errors.length) return sendgridErrors(reply, 400, errors);

    const messageId = newMessageId();
    accept(ctx, body as Json, messageId);
    return reply.code(202).header('X-Message-Id', messageId).send();
  });
}

/** Stores one message per recipient (to, cc, bcc) and schedules each one's fate. */
function accept(ctx: SendGridContext, body: Json, messageId: string): void {
  const receivedAt = new Date().toISOString();
  const content = (body.content as Json[] | undefined) ?? [];
  const text = content.find((c) => c.type === 'text/plain')?.value as string | undefined;
  const html = content.find((c) => c.type === 'text/html')?.value as string | undefined;
  const from = body.from as { email: string };
  const categories = (body.categories as string[] | undefined) ?? [];
  const attachments = ((body.attachments as Json[] | undefined) ?? []).map((a) => String(a.filename));
  const messageArgs = (body.custom_args as Record<string, string> | undefined) ?? {};

  // Steps due at the same time are emitted together, in recipient order (one timer each).
  const due = new Map<
    number,
    Array<{ message: SandboxMessage; step: EmailStep; sgMessageId: string; then?: EmailStep[] }>
  >();
  let n = 0;
  for (const p of body.personalizations as Json[]) {
    // As SendGrid does: each substitution tag replaced in this personalization's subject and content.
    const substitutions = (p.substitutions as Record<string, string> | undefined) ?? {};
    const substituted = (value: string | undefined) =>
      value === undefined
        ? undefined
        : Object.entries(substitutions).reduce((t, [tag, v]) => t.split(tag).join(v), value);
    for (const kind of ['to', 'cc', 'bcc'] as const) {
      for (const entry of (p[kind] as Array<{ email: string }> | undefined) ?? []) {
        n += 1;
        const message: SandboxMessage = {
          id: randomBytes(6).toString('hex'),
          provider: 'sendgrid',
          channel: 'email',
          providerMessageId: messageId,
          status: 'accepted',
          to: entry.email,
          kind,
          from: isObject(p.from) && typeof p.from.email === 'string' ? p.from.email : from.email,
          ...(isObject(body.reply_to) ? { replyTo: String(body.reply_to.email) } : {}),
          subject: substituted(
            typeof p.subject === 'string' && p.subject !== '' ? p.subject : (body.subject as string | undefined),
          ),
          ...(html !== undefined ? { html: substituted(html) } : {}),
          ...(text !== undefined ? { text: substituted(text) } : {}),
          ...(typeof body.template_id === 'string' ? { templateId: body.template_id } : {}),
          customArgs: { ...messageArgs, ...((p.custom_args as Record<string, string> | undefined) ?? {}) },
          categories: [...categories],
          attachments,
          receivedAt,
          events: [],
        };
        ctx.store.add(message);
        // sg_message_id = X-Message-Id + "." + a suffix of this recipient's own.
        const sgMessageId = `${messageId}.filterdrecv-sandbox-${randomBytes(4).toString('hex')}-${n}-${Date.now().toString(16).toUpperCase()}-0.0`;
        for (const step of emailFate(entry.email)) {
          if (step.late) {
            // A late event comes lateEventMs after the event before it actually went out.
            const previous = due
              .get(step.at * ctx.eventDelayMs)
              ?.filter((d) => d.message === message)
              .at(-1);
            if (previous) (previous.then ??= []).push(step);
            continue;
          }
          const ms = step.at * ctx.eventDelayMs;
          const list = due.get(ms) ?? [];
          list.push({ message, step, sgMessageId });
          due.set(ms, list);
        }
      }
    }
  }
  for (const [ms, items] of due) {
    ctx.scheduler.later(ms, () => {
      for (const { message, step, sgMessageId, then } of items) {
        emit(ctx, message, step, messageId, sgMessageId);
        for (const late of then ?? [])
          ctx.scheduler.later(ctx.lateEventMs, () => emit(ctx, message, late, messageId, sgMessageId));
      }
    });
  }
}

function emit(
  ctx: SendGridContext,
  message: SandboxMessage,
  step: EmailStep,
  messageId: string,
  sgMessageId: string,
): void {
  const eventId = newEventId();
  const payload: Json = {
    ...(message.customArgs ?? {}), // custom_args arrive as top-level keys; SendGrid's own fields win
    email: message.to,
    timestamp: epochSeconds(),
    event: step.event,
    'smtp-id': `<${messageId}@ismtpd-sandbox.relais.localhost>`,
    sg_event_id: eventId,
    sg_message_id: sgMessageId,
    ...(message.categories?.length ? { category: [...message.categories] } : {}),
    ...step.fields,
  };
  const record: SandboxEvent = {
    type: step.event,
    at: new Date().toISOString(),
    eventId,
    payload,
    deliveries: [],
    outcome: 'pending',
  };
  message.events.push(record);
  message.status = step.event;
  ctx.stream.emit(record);
}
