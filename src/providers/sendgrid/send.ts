// Email through SendGrid v3 Mail Send with the official SDK. One request per dispatch, one
// personalization per recipient (nobody sees the others' addresses), our ids in each one's
// custom_args so the Event Webhook can be routed back without a lookup.
//
// Sent once (rule N4): Mail Send has no idempotency key. A request that fails before SendGrid
// answers (connection reset, timeout, 5xx) is retried by the activity, and if SendGrid had in fact
// accepted it, the recipients get it twice. The window is the time between SendGrid receiving
// the request and our reading its 202 (normally well under a second, at most `timeoutMs`).
// Refusals (4xx) are final and never resent; a refused connection never reached SendGrid.
//
// Issue 20: a 5xx answer, or a connection that did not reach SendGrid (within the tenant's
// `failoverAfter` when the caller gives one), is marked not taken: the send may go through SMTP.
import { Client } from '@sendgrid/client';
import { MailService, type MailDataRequired } from '@sendgrid/mail';
import {
  ROUTING_ARGS,
  type EmailSender,
  type EmailSendOptions,
  type EmailSendResult,
  type OutboundEmail,
} from '../types';
import { NotReached, watchedAgents, withinReach } from '../reach';
import {
  checkAddress,
  checkRecipients,
  header,
  invalidRequest,
  isNetworkError,
  msUntilEpochSeconds,
  ProviderUnavailable,
  rateLimited,
  refused,
} from '../failures';

export const SENDGRID_MAX_RECIPIENTS = 1000;
export const SENDGRID_MAX_CATEGORIES = 10;
/** `custom_args` must stay under 10,000 bytes (per personalization, message-level ones included). */
export const SENDGRID_MAX_CUSTOM_ARGS_BYTES = 10_000;
/** The whole message must stay under 30 MB. */
export const SENDGRID_MAX_MESSAGE_BYTES = 30 * 1024 * 1024;

export interface SendGridOptions {
  apiKey: string;
  /** Another API base (the sandbox); production leaves it unset. */
  baseUrl?: string;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
}

interface SendGridErrorItem {
  message?: string;
  field?: string | null;
  help?: string | null;
}

/** What `@sendgrid/client` rejects with: `ResponseError` (HTTP answer ≥ 400) or an axios error. */
interface SendGridFailure extends Error {
  code?: number | string;
  isAxiosError?: boolean;
  response?: { headers?: unknown; body?: { errors?: SendGridErrorItem[] } | string };
}

/**
 * The request the SDK turns into the Mail Send JSON body (camelCase here, snake_case on the wire).
 * Checks first (nothing is sent when they fail): 1..1000 recipients, each address once and
 * shaped like one, string custom args under 10,000 bytes, at most 10 categories, under 30 MB.
 */
export function buildSendGridRequest(message: OutboundEmail): MailDataRequired {
  checkRecipients(message.recipients);
  checkAddress('from.email', message.from?.email);
  if (message.replyTo) checkAddress('replyTo.email', message.replyTo.email);
  if (typeof message.subject !== 'string' || message.subject.trim() === '')
    throw invalidRequest('subject: empty', { field: 'subject', value: message.subject });

  for (const [key, value] of Object.entries(message.customArgs ?? {})) {
    if (typeof value !== 'string')
      throw invalidRequest(`customArgs.${key}: values must be strings, got ${typeof value}`, {
        field: `customArgs.${key}`,
        value,
      });
  }
  const categories = [...new Set(message.categories ?? [])];
  if (categories.length > SENDGRID_MAX_CATEGORIES) {
    throw invalidRequest(
      `categories: ${categories.length} distinct categories; SendGrid takes at most ${SENDGRID_MAX_CATEGORIES}`,
      { field: 'categories', value: categories },
    );
  }

  // SendGrid refuses an empty content value: send only the parts that have something in them.
  const parts = [
    { type: 'text/plain', value: message.text },
    { type: 'text/html', value: message.html },
  ].filter((c): c is { type: string; value: string } => typeof c.value === 'string' && c.value.length > 0);
  const [firstPart, ...otherParts] = parts;
  if (!firstPart)
    throw invalidRequest('content: both the text and the HTML body are empty', { field: 'content', value: '' });

  if (message.copy) {
    checkAddress('copy.email', message.copy.email);
    if (message.recipients.some((r) => r.email.toLowerCase() === message.copy!.email.toLowerCase())) {
      throw invalidRequest(
        `copy.email: "${message.copy.email}" is a recipient already; SendGrid takes each address once per request`,
        { field: 'copy.email', value: message.copy.email },
      );
    }
    if (message.recipients.length >= SENDGRID_MAX_RECIPIENTS) {
      throw invalidRequest(
        `copy: ${message.recipients.length} recipients and a copy; SendGrid takes at most ${SENDGRID_MAX_RECIPIENTS} addresses (to, cc, bcc) per request`,
        { field: 'copy', value: message.recipients.length },
      );
    }
  }
  const personalizations = message.recipients.map((r, i) => {
    const customArgs = { ...message.customArgs, [message.recipientArg ?? ROUTING_ARGS.recipient]: r.recipientId };
    const bytes = Buffer.byteLength(JSON.stringify(customArgs));
    if (bytes >= SENDGRID_MAX_CUSTOM_ARGS_BYTES) {
      throw invalidRequest(
        `recipients[${i}]: custom_args take ${bytes} bytes; SendGrid takes less than ${SENDGRID_MAX_CUSTOM_ARGS_BYTES}`,
        { field: 'customArgs', value: bytes },
      );
    }
    // Issue 17: the sender's copy rides on the first personalization, marked so its events are told apart.
    const copy = i === 0 && message.copy ? message.copy : undefined;
    if (copy) customArgs[ROUTING_ARGS.copy] = copy.email.toLowerCase();
    return {
      to: [{ email: r.email, ...(r.name ? { name: r.name } : {}) }],
      customArgs,
      // Issue 20: this recipient's own text for the placeholders (the tags as written: see substitutionWrappers).
      ...(r.substitutions && Object.keys(r.substitutions).length ? { substitutions: r.substitutions } : {}),
      ...(copy ? { [copy.mode]: [{ email: copy.email, ...(copy.name ? { name: copy.name } : {}) }] } : {}),
    };
  });

  const content: [{ type: string; value: string }, ...Array<{ type: string; value: string }>] = [
    firstPart,
    ...otherParts,
  ];
  const request: MailDataRequired = {
    from: { email: message.from.email, ...(message.from.name ? { name: message.from.name } : {}) },
    ...(message.replyTo
      ? { replyTo: { email: message.replyTo.email, ...(message.replyTo.name ? { name: message.replyTo.name } : {}) } }
      : {}),
    subject: message.subject,
    content,
    personalizations,
    ...(message.attachments?.length
      ? {
          attachments: message.attachments.map((a) => ({
            content: a.contentBase64,
            filename: a.filename,
            type: a.contentType,
            disposition: 'attachment',
          })),
        }
      : {}),
    ...(categories.length ? { categories } : {}),
    // The SDK wraps every substitution tag in {{ }} unless told otherwise: Relais's tags are written whole.
    ...(message.recipients.some((r) => r.substitutions) ? { substitutionWrappers: ['', ''] as [string, string] } : {}),
  };
  const size = Buffer.byteLength(JSON.stringify(request));
  if (size >= SENDGRID_MAX_MESSAGE_BYTES) {
    throw invalidRequest(
      `message: ${(size / 1024 / 1024).toFixed(1)} MB with its attachments; SendGrid takes less than 30 MB`,
      { field: 'attachments', value: size },
    );
  }
  return request;
}

export function createSendGridSender(options: SendGridOptions): EmailSender {
  // Our own client and service, never the SDK's shared singletons.
  const client = new Client();
  client.setApiKey(options.apiKey); // first: it resets the base URL
  if (options.baseUrl) client.setDefaultRequest('baseUrl', options.baseUrl);
  // Issue 20: connections that tell whether a send reached SendGrid (src/providers/reach.ts).
  const agents = watchedAgents();
  // Passed on to axios as they are (the SDK's request type does not list axios's agent options).
  client.setDefaultRequest(agents as unknown as Parameters<Client['setDefaultRequest']>[0]);
  const mail = new MailService();
  mail.setClient(client); // and no mail.setApiKey afterwards: it would reset the base URL
  mail.setTimeout(options.timeoutMs ?? 30_000); // on our client (passed to axios): no call waits forever

  return {
    async sendEmail(message: OutboundEmail, sendOptions: EmailSendOptions = {}): Promise<EmailSendResult> {
      const request = buildSendGridRequest(message);
      const [response] = await withinReach(
        () => mail.send(request),
        sendOptions.reachWithinMs,
        (err, reached) =>
          err instanceof NotReached
            ? new ProviderUnavailable(
                `SendGrid not reached within ${Math.round(sendOptions.reachWithinMs! / 100) / 10} s (nothing was sent to it)`,
                undefined,
                'ETIMEDOUT',
                true,
              )
            : mapSendGridError(err as SendGridFailure, reached),
      );
      return {
        provider: 'sendgrid',
        providerMessageId: header(response.headers, 'x-message-id'),
        // Accepted for delivery; what happens next arrives on the Event Webhook.
        recipients: message.recipients.map((r) => ({ recipientId: r.recipientId, outcome: 'accepted' as const })),
      };
    },
  };
}

/**
 * SendGrid's answer → a Temporal-shaped failure (see failures.ts). A 5xx answer, or a network
 * failure before the request `reached` SendGrid, is marked as not taken (issue 20's failover).
 */
export function mapSendGridError(err: SendGridFailure, reached = true): Error {
  const status = typeof err.code === 'number' ? err.code : undefined;
  if (status === undefined || !err.response) {
    if (isNetworkError(err))
      return new ProviderUnavailable(
        `SendGrid unreachable: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '),
        undefined,
        err.code,
        !reached,
      );
    // Not an HTTP answer nor a network failure: the SDK refused to build the request.
    return invalidRequest(`SendGrid SDK refused the message: ${err.message}`, { sdkError: err.message });
  }
  const body = typeof err.response.body === 'object' && err.response.body ? err.response.body : undefined;
  const errors = (body?.errors ?? []).map((e) => ({
    message: e.message ?? '',
    field: e.field ?? null,
    ...(e.help ? { help: e.help } : {}),
  }));
  const words =
    errors
      .map((e) => (e.field ? `${e.message} (field ${e.field})` : e.message))
      .filter(Boolean)
      .join('; ') ||
    (typeof err.response.body === 'string' && err.response.body) ||
    err.message ||
    'no detail';
  if (status === 429) {
    const reset = header(err.response.headers, 'x-ratelimit-reset');
    return rateLimited('SendGrid', msUntilEpochSeconds(reset) ?? 1000, { status, rateLimitReset: reset ?? null });
  }
  if (status >= 500 || status === 408)
    return new ProviderUnavailable(`SendGrid answered ${status}: ${words}`, status, undefined, true);
  // 400 bad request, 401 bad key, 403 not allowed (unverified sender …), 413 too large, other 4xx.
  return refused('SendGrid', `HTTP ${status}: ${words}`, { status, errors });
}
