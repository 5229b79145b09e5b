// Provider webhook payloads → ProviderEvent (Relais's words). Pure parsing, no I/O.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ROUTING_ARGS, type ProviderEvent, type ProviderEventType } from './types';
import { parseRoutingId } from '../domain/dispatch';
import { canonicalJson } from '../canonical-json';

/** What stands for U+0000 in what Relais stores of a provider's payload: U+FFFD, the replacement character. */
export const NUL_REPLACEMENT = '\uFFFD';

/**
 * A provider's payload as Relais stores it: every U+0000 (NUL) in a string or a key replaced by
 * U+FFFD. The payload is signed and the provider's to send; Relais accepts it, but PostgreSQL
 * (under FerretDB) cannot store U+0000 in text, and a refused insert answered 500 would make the
 * provider retry the whole batch for a day. Applied after the signature check, to what is parsed.
 */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', NUL_REPLACEMENT) : value) as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), withoutNul(v)])) as T;
  }
  return value;
}

/** JSON text parsed, U+0000 replaced as withoutNul does; JSON writes NUL only as an escape, so text without one needs no walk. */
export function parseWithoutNul(text: string): unknown {
  const json: unknown = JSON.parse(text);
  return text.includes('\\u0000') ? withoutNul(json) : json;
}

/** The most events SendGrid posts at once (it batches up to a few thousand). */
export const MAX_SENDGRID_BATCH = 10_000;
/** 9999-12-31T23:59:59Z: the last second a date can be written for. */
const MAX_TIMESTAMP_SECONDS = 253_402_300_799;

/**
 * One SendGrid Event Webhook event: the fields Relais reads, each checked (a timestamp must be a
 * date); the others — categories (a string or a list), unique/custom args (top-level fields),
 * `attempt` (a string), `tls`, `ip`… — pass through for the audit copy. `sg_event_id` may be
 * missing (SendGrid's own `dropped` sample has none): `parseSendGridBatch` derives one.
 */
export const sendgridEventSchema = z.looseObject({
  email: z.string(),
  // Seconds since the epoch, within what a date can hold (1e300 would make no date at all).
  timestamp: z.number().min(0).max(MAX_TIMESTAMP_SECONDS),
  event: z.string().min(1),
  sg_event_id: z.string().min(1).optional(),
  sg_message_id: z.string().optional(),
  reason: z.string().optional(),
  response: z.string().optional(),
  status: z.union([z.string(), z.number()]).optional(),
  type: z.string().optional(),
  bounce_classification: z.string().optional(),
  category: z.union([z.string(), z.array(z.string())]).optional(),
  attempt: z.union([z.string(), z.number()]).optional(),
  [ROUTING_ARGS.tenant]: z.string().optional(),
  [ROUTING_ARGS.dispatch]: z.string().optional(),
  [ROUTING_ARGS.index]: z.string().optional(),
  [ROUTING_ARGS.recipient]: z.string().optional(),
  [ROUTING_ARGS.copy]: z.string().optional(),
});
/** The batch as the contract describes it; `parseSendGridBatch` checks each event on its own. */
export const sendgridBatchSchema = z.array(sendgridEventSchema).min(1).max(MAX_SENDGRID_BATCH);
export type SendGridEvent = z.infer<typeof sendgridEventSchema> & { sg_event_id: string };

export type ParsedSendGridEvent =
  | { ok: true; raw: unknown; event: SendGridEvent }
  | { ok: false; raw: unknown; problems: Array<{ field: string; message: string }> };

/**
 * A batch of events, each parsed on its own (issue 14, finding 5): one bad event is reported as
 * such, with why, and never makes the batch fail — SendGrid would retry the whole batch, good
 * events included, for a day. Only something that is no batch at all is refused.
 */
export function parseSendGridBatch(json: unknown): { ok: true; events: ParsedSendGridEvent[] } | { ok: false; message: string } {
  if (!Array.isArray(json)) return { ok: false, message: 'body is not a SendGrid event batch (a JSON array)' };
  if (json.length < 1 || json.length > MAX_SENDGRID_BATCH) return { ok: false, message: `a batch holds 1 to ${MAX_SENDGRID_BATCH} events (got ${json.length})` };
  return {
    ok: true,
    events: json.map((raw): ParsedSendGridEvent => {
      const parsed = sendgridEventSchema.safeParse(raw);
      if (!parsed.success) return { ok: false, raw, problems: parsed.error.issues.slice(0, 5).map((i) => ({ field: i.path.join('.') || '(event)', message: i.message })) };
      return { ok: true, raw, event: { ...parsed.data, sg_event_id: parsed.data.sg_event_id ?? derivedEventId(raw) } };
    }),
  };
}

/**
 * For an event without `sg_event_id`: a hash of the event as sent (keys sorted), so the same
 * event in a retried batch gets the same id and is deduplicated like any other.
 */
export function derivedEventId(raw: unknown): string {
  return `derived:${createHash('sha256').update(canonicalJson(raw)).digest('base64url')}`;
}

const SENDGRID_TYPES: Record<string, ProviderEventType> = {
  processed: 'processed', deferred: 'deferred', delivered: 'delivered', bounce: 'bounce', dropped: 'dropped',
  open: 'open', click: 'click', spamreport: 'spamreport', unsubscribe: 'unsubscribe', group_unsubscribe: 'unsubscribe',
};

/**
 * An event with its route: the dispatch, and the recipient's position and attempt. Events of the
 * first version's dispatches carry `<recipientId>.<attempt>` instead (`recipient` absent).
 */
export interface RoutedEvent {
  tenantId: string; dispatchId: string; event: ProviderEvent; recipient?: { index: number; attempt: number };
  /** Issue 17: the event is about the sender's copy (cc/bcc) carried by the recipient's personalization, not the recipient. */
  copy?: true;
}

/** The recipient a routing value names: `relais_index` (position) first, else the first version's `relais_recipient`. */
function routeOf(index: string | undefined, legacyRecipient: string | undefined) {
  if (index) {
    const recipient = parseRoutingId(index);
    return recipient ? { recipientId: index, recipient } : undefined;
  }
  return legacyRecipient ? { recipientId: legacyRecipient } : undefined;
}

/** Returns the event with its route, or undefined when it carries no Relais ids or an event type Relais does not track. */
export function fromSendGrid(raw: SendGridEvent): RoutedEvent | undefined {
  const type = SENDGRID_TYPES[raw.event];
  const tenantId = raw[ROUTING_ARGS.tenant];
  const dispatchId = raw[ROUTING_ARGS.dispatch];
  const route = routeOf(raw[ROUTING_ARGS.index], raw[ROUTING_ARGS.recipient]);
  if (!type || !tenantId || !dispatchId || !route) return undefined;
  const { recipientId } = route;
  // SendGrid reports a cc/bcc address with the personalization's custom_args: its `email` says whose event it is.
  const copyAddress = raw[ROUTING_ARGS.copy];
  const copy = copyAddress !== undefined && raw.email.toLowerCase() === copyAddress.toLowerCase();
  return {
    tenantId, dispatchId, ...(copy ? { copy: true as const } : route.recipient ? { recipient: route.recipient } : {}),
    event: {
      eventId: raw.sg_event_id, provider: 'sendgrid', recipientId, type,
      at: new Date(raw.timestamp * 1000).toISOString(),
      providerMessageId: raw.sg_message_id,
      reason: raw.reason,
      response: raw.response ?? (raw.status !== undefined ? String(raw.status) : undefined),
      bounceType: raw.type,
      classification: raw.bounce_classification,
    },
  };
}

export const twilioStatusSchema = z.looseObject({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-f]{32}$/),
  MessageStatus: z.string(),
  AccountSid: z.string().optional(),
  ErrorCode: z.string().optional(),
  From: z.string().optional(),
  To: z.string().optional(),
});

/** An inbound SMS/WhatsApp message (the fields Relais reads; Twilio sends many more). */
export const twilioInboundSchema = z.looseObject({
  MessageSid: z.string().optional(),
  From: z.string().optional().describe('+E.164, or whatsapp:+E.164'),
  To: z.string().optional().describe('the number the customer wrote to: +E.164, or whatsapp:+E.164'),
  Body: z.string().optional(),
  ButtonPayload: z.string().optional().describe('WhatsApp quick-reply payload: confirm:<code>, or confirm'),
});

const TWILIO_TYPES: Record<string, ProviderEventType> = {
  accepted: 'queued', queued: 'queued', sending: 'sent', sent: 'sent', delivered: 'delivered',
  undelivered: 'undelivered', failed: 'failed', read: 'read',
};

/** A status callback with its route (the StatusCallback query: `tenant`, `dispatch`, `index` or the first version's `recipient`). */
export function routeTwilioStatus(params: z.infer<typeof twilioStatusSchema>, query: { tenant?: string; dispatch?: string; index?: string; recipient?: string }, at: Date): RoutedEvent | undefined {
  const route = routeOf(query.index, query.recipient);
  const event = route && fromTwilioStatus(params, route.recipientId, at);
  if (!event || !query.tenant || !query.dispatch) return undefined;
  return { tenantId: query.tenant, dispatchId: query.dispatch, event, ...(route.recipient ? { recipient: route.recipient } : {}) };
}

export function fromTwilioStatus(params: z.infer<typeof twilioStatusSchema>, recipientId: string, at: Date): ProviderEvent | undefined {
  const type = TWILIO_TYPES[params.MessageStatus];
  if (!type) return undefined;
  return {
    // Twilio sends each status of a message once (and retries it): sid + status identifies it.
    eventId: `${params.MessageSid}:${params.MessageStatus}`, provider: 'twilio', recipientId, type, at: at.toISOString(),
    providerMessageId: params.MessageSid,
    errorCode: params.ErrorCode || undefined,
    reason: params.ErrorCode ? `Twilio error ${params.ErrorCode}` : undefined,
  };
}
