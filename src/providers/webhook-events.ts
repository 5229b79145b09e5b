// Provider webhook payloads → ProviderEvent (Relais's words). Pure parsing, no I/O.
import { z } from 'zod';
import { ROUTING_ARGS, type ProviderEvent, type ProviderEventType } from './types';
import { parseRoutingId } from '../domain/dispatch';

/** One SendGrid Event Webhook event; unknown fields are kept by passthrough for the audit copy. */
export const sendgridEventSchema = z.looseObject({
  email: z.string(),
  timestamp: z.number(),
  event: z.string(),
  sg_event_id: z.string().min(1),
  sg_message_id: z.string().optional(),
  reason: z.string().optional(),
  response: z.string().optional(),
  status: z.union([z.string(), z.number()]).optional(),
  type: z.string().optional(),
  bounce_classification: z.string().optional(),
  [ROUTING_ARGS.tenant]: z.string().optional(),
  [ROUTING_ARGS.dispatch]: z.string().optional(),
  [ROUTING_ARGS.index]: z.string().optional(),
  [ROUTING_ARGS.recipient]: z.string().optional(),
});
export const sendgridBatchSchema = z.array(sendgridEventSchema).min(1).max(10_000);
export type SendGridEvent = z.infer<typeof sendgridEventSchema>;

const SENDGRID_TYPES: Record<string, ProviderEventType> = {
  processed: 'processed', deferred: 'deferred', delivered: 'delivered', bounce: 'bounce', dropped: 'dropped',
  open: 'open', click: 'click', spamreport: 'spamreport', unsubscribe: 'unsubscribe', group_unsubscribe: 'unsubscribe',
};

/**
 * An event with its route: the dispatch, and the recipient's position and attempt. Events of the
 * first version's dispatches carry `<recipientId>.<attempt>` instead (`recipient` absent).
 */
export interface RoutedEvent { tenantId: string; dispatchId: string; event: ProviderEvent; recipient?: { index: number; attempt: number } }

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
  return {
    tenantId, dispatchId, ...(route.recipient ? { recipient: route.recipient } : {}),
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
  Body: z.string().optional(),
  ButtonPayload: z.string().optional().describe('WhatsApp quick-reply payload, e.g. confirm'),
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
