// SendGrid's Event Webhook, the other direction of sending (rule N3): its signature checked
// (ECDSA over the timestamp and the exact body, with the key SendGrid shows), its events parsed
// and routed to a dispatch's recipient in Relais's words. No I/O.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ROUTING_ARGS, type ProviderEventType } from '../types';
import { routeOf, type RoutedEvent } from '../webhook-events';
import { canonicalJson } from '../../canonical-json';
import { sendgridPublicKey, verifySendGridSignature } from './signature';

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
export function parseSendGridBatch(
  json: unknown,
): { ok: true; events: ParsedSendGridEvent[] } | { ok: false; message: string } {
  if (!Array.isArray(json)) return { ok: false, message: 'body is not a SendGrid event batch (a JSON array)' };
  if (json.length < 1 || json.length > MAX_SENDGRID_BATCH)
    return { ok: false, message: `a batch holds 1 to ${MAX_SENDGRID_BATCH} events (got ${json.length})` };
  return {
    ok: true,
    events: json.map((raw): ParsedSendGridEvent => {
      const parsed = sendgridEventSchema.safeParse(raw);
      if (!parsed.success)
        return {
          ok: false,
          raw,
          problems: parsed.error.issues
            .slice(0, 5)
            .map((i) => ({ field: i.path.join('.') || '(event)', message: i.message })),
        };
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
  processed: 'processed',
  deferred: 'deferred',
  delivered: 'delivered',
  bounce: 'bounce',
  dropped: 'dropped',
  open: 'open',
  click: 'click',
  spamreport: 'spamreport',
  unsubscribe: 'unsubscribe',
  group_unsubscribe: 'unsubscribe',
};

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
    tenantId,
    dispatchId,
    ...(copy ? { copy: true as const } : route.recipient ? { recipient: route.recipient } : {}),
    event: {
      eventId: raw.sg_event_id,
      provider: 'sendgrid',
      recipientId,
      type,
      at: new Date(raw.timestamp * 1000).toISOString(),
      providerMessageId: raw.sg_message_id,
      reason: raw.reason,
      response: raw.response ?? (raw.status !== undefined ? String(raw.status) : undefined),
      bounceType: raw.type,
      classification: raw.bounce_classification,
    },
  };
}

/** A signed SendGrid batch older than this is refused: a captured request can't be replayed later. */
export const SIGNATURE_MAX_AGE_SECONDS = 300;

/** Why a request's signature was refused: the API answers 401 with this code. */
export type SignatureRefusal = { code: 'unsigned' | 'stale_signature' | 'bad_signature'; message: string };

/**
 * Checks the signature of a SendGrid batch against its exact bytes, with any of the public keys
 * given (the current one first; during a rotation the previous one too), each named by its
 * setting so a key that is not one stops the start. Undefined when it holds.
 */
export function sendgridSignatureCheck(publicKeys: Array<{ name: string; base64: string }>) {
  const keys = publicKeys.map((k) => sendgridPublicKey(k.base64, k.name));
  return (
    body: unknown,
    signature: unknown,
    timestamp: unknown,
    nowSeconds = Date.now() / 1000,
  ): SignatureRefusal | undefined => {
    if (typeof signature !== 'string' || typeof timestamp !== 'string' || !Buffer.isBuffer(body)) {
      return { code: 'unsigned', message: 'missing X-Twilio-Email-Event-Webhook-Signature or -Timestamp' };
    }
    const age = Math.abs(nowSeconds - Number(timestamp));
    if (!Number.isFinite(age) || age > SIGNATURE_MAX_AGE_SECONDS)
      return {
        code: 'stale_signature',
        message: `timestamp is ${Math.round(age)} s away from now (max ${SIGNATURE_MAX_AGE_SECONDS} s)`,
      };
    return verifySendGridSignature(keys, body, signature, timestamp)
      ? undefined
      : { code: 'bad_signature', message: 'signature does not match the body' };
  };
}
