// The events Relais sends to a tenant's own system (outbound webhooks, docs/webhooks.md): one
// catalogue, each type with the schema of its `data`. Payloads are thin on purpose (ids, states,
// counts, reason codes), so they stay small whatever the dispatch or order: a receiver that needs
// more reads the resource from the API. Every delivery's body is the Standard Webhooks envelope
// `{ type, timestamp, data }`; the receiver dedupes on the `webhook-id` header.
import { z } from 'zod';

const id = z.string().min(1).max(200);
const at = z.string().describe('ISO 8601, UTC');
const documentRef = z
  .object({ type: z.string().nullable(), number: z.string().nullable() })
  .nullable()
  .describe("the document the dispatch carried (null for Relais's own notices)");
/** Dispatch results (rule D9) and recipient statuses (D2), as the API names them. */
const result = z.enum(['failed', 'queued', 'processed', 'unknown', 'delivered', 'alert', 'error', 'sent']);
const exception = z.object({
  type: z.string().describe('unfulfillable, on_hold, rts_failed, handover_failed, stuck_in_transit, delivery_failed'),
  reason: z.string().describe('the reason code (docs/operators.md words it)'),
  details: z.string().nullable(),
  openedAt: at,
});

export const TENANT_EVENTS = {
  'dispatch.result_changed': {
    summary:
      "A dispatch's result changed (rule D9): e.g. processed → delivered, delivered → alert after a late bounce.",
    data: z.object({
      dispatchId: id,
      kind: z.enum(['document', 'notification']),
      document: documentRef,
      previousResult: result.nullable().describe('null for the first result'),
      result,
      recipients: z
        .record(z.string(), z.number().int().min(0))
        .describe('how many recipients are in each status, e.g. { "delivered": 2, "bounced": 1 }'),
    }),
  },
  'dispatch.escalated': {
    summary: 'Every recipient of a dispatch failed and the sender and purchasing manager were alerted (rule D4).',
    data: z.object({
      dispatchId: id,
      document: documentRef,
      failedRecipients: z.number().int().min(1),
      reasonCodes: z.array(z.string()).describe('the distinct reasons, e.g. ["invalid_address", "mailbox_full"]'),
      notified: z
        .array(z.object({ name: z.string(), channels: z.array(z.enum(['email', 'sms', 'whatsapp'])) }))
        .describe('who was alerted, on which channels'),
    }),
  },
  'dispatch.acknowledged': {
    summary: 'A recipient confirmed they received the document (receipt acknowledgement).',
    data: z.object({
      dispatchId: id,
      document: documentRef,
      recipientId: id,
      address: z.string(),
      acknowledgedAt: at,
      note: z.string().nullable().describe('what the recipient wrote, e.g. a delivery date'),
    }),
  },
  'order.held': {
    summary: 'An order was put on hold after its risk check (rule O2).',
    data: z.object({
      orderId: id,
      reason: z
        .enum(['address_or_contact', 'suspicious_behaviour'])
        .describe(
          "why: the address or contact is doubtful (the customer can confirm it), or the customer's history is",
        ),
      risk: z.enum(['low', 'medium', 'high']),
      customerAsked: z.boolean().describe('whether the customer was sent an address confirmation (rule O3)'),
    }),
  },
  'order.released': {
    summary: 'A held order was released: by ops (rule O4) or by the customer confirming the address (O3).',
    data: z.object({
      orderId: id,
      by: z.enum(['ops', 'customer']),
      actor: z.string().nullable().describe('the API key id of the person (ops), or null (customer)'),
      reason: z.string().nullable(),
    }),
  },
  'order.cancelled': {
    summary: 'An order was cancelled (rule O4, or by the customer before handover, O6).',
    data: z.object({
      orderId: id,
      previousState: z.string(),
      actor: z.string().nullable().describe('the API key id, or null when the platform reported the cancellation'),
      reason: z.string().nullable(),
    }),
  },
  'order.exception_opened': {
    summary: 'An order exception opened (rules O1, O2, O5–O8).',
    data: z.object({ orderId: id, exception }),
  },
  'order.exception_resolved': {
    summary: 'An order exception was resolved.',
    data: z.object({
      orderId: id,
      exception: exception.extend({
        resolvedAt: at,
        resolution: z.string().describe('how it was resolved, as a code (e.g. tracking_update, label_uploaded)'),
      }),
    }),
  },
} as const;

export type TenantEventType = keyof typeof TENANT_EVENTS;
export type TenantEventData<T extends TenantEventType> = z.input<(typeof TENANT_EVENTS)[T]['data']>;
export const TENANT_EVENT_TYPES = Object.keys(TENANT_EVENTS) as TenantEventType[];

/** The body every delivery of an event carries (Standard Webhooks' recommended envelope). */
export interface TenantEventEnvelope<T extends TenantEventType = TenantEventType> {
  type: T;
  timestamp: string;
  data: TenantEventData<T>;
}

/** The data checked against its type's schema: the problem in words, or the parsed data. */
export function parseTenantEvent(
  type: string,
  data: unknown,
): { ok: true; data: unknown } | { ok: false; problem: string } {
  const entry = (TENANT_EVENTS as Record<string, { data: z.ZodType }>)[type];
  if (!entry) return { ok: false, problem: `unknown event type ${type}` };
  const parsed = entry.data.safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, problem: `${type}: data.${issue.path.join('.')}: ${issue.message}` };
}
