// Request shapes, validated at the edge. The types the routes use are inferred from these.
import { z } from 'zod';
import { isIsoDuration } from '../domain/durations';
import { ROLES } from '../db/api-keys';

const isoDuration = z.string().refine(isIsoDuration, 'an ISO-8601 duration such as PT30M or P3D');

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'letters, digits and . _ : - only, up to 100 characters');

export const MAX_RECIPIENTS = 1000;
/** Attachments travel in the request (base64) and are kept beside the dispatch, never in workflow history. */
export const MAX_ATTACHMENT_BYTES = 7 * 1024 * 1024;

const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number such as +33612345678');

export const personSchema = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email(),
  phone: phone.nullish().transform((v) => v ?? null),
  smsOptIn: z.boolean().default(false),
  whatsappOptIn: z.boolean().default(false),
});

export const createDispatchSchema = z.object({
  dispatchId: id,
  channel: z.literal('email').default('email'),
  provider: z.enum(['sendgrid', 'smtp']).optional(),
  template: z.string().regex(/^[a-z0-9_]{1,64}$/, 'a template name such as purchase_order'),
  locale: z.enum(['fr', 'en']).optional(),
  data: z.record(z.string(), z.unknown()).default({}),
  document: z.object({
    type: z.string().regex(/^[a-z_]{1,40}$/, 'a document type such as purchase_order or invoice'),
    number: z.string().trim().min(1).max(100),
  }),
  sender: personSchema.extend({ outletId: id.nullish().transform((v) => v ?? null) }),
  attachments: z.array(z.object({
    filename: z.string().regex(/^[^/\\\0]{1,120}$/, 'a file name without slashes, up to 120 characters'),
    contentType: z.enum(['application/pdf', 'image/png', 'image/jpeg', 'text/csv', 'application/xml', 'text/plain']),
    contentBase64: z.base64(),
  })).max(10, 'at most 10 attachments').default([])
    .refine((list) => list.reduce((n, a) => n + Math.floor((a.contentBase64.length * 3) / 4), 0) <= MAX_ATTACHMENT_BYTES, `attachments total at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB`),
  recipients: z.array(z.object({
    id: id.optional(),
    email: z.email(),
    name: z.string().trim().min(1).max(200).nullish().transform((v) => v ?? null),
  })).min(1, 'at least one recipient').max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} recipients`),
}).superRefine((body, ctx) => {
  const seen = new Map<string, number>();
  body.recipients.forEach((r, i) => {
    const key = r.email.toLowerCase();
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['recipients', i, 'email'], message: `duplicate of recipients.${seen.get(key)}.email` });
    seen.set(key, i);
  });
});
export type CreateDispatchBody = z.infer<typeof createDispatchSchema>;

export const listDispatchesQuery = z.object({
  result: z.union([z.literal('all'), z.enum(['failed', 'queued', 'processed', 'unknown', 'delivered', 'alert', 'error', 'sent'])]).optional(),
  recipient: z.string().trim().min(1).max(320).optional(),
  document: z.string().trim().min(1).max(100).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export type ListDispatchesQuery = z.infer<typeof listDispatchesQuery>;

export const resendSchema = z.object({ email: z.email() });
export const resendViaSchema = z.object({ channel: z.enum(['sms', 'whatsapp']), phone });
export const markSentSchema = z.object({ note: z.string().trim().max(500).default(''), at: z.iso.datetime({ offset: true }).optional() });

const timeZoneSchema = z.string().refine((tz) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; } }, 'an IANA time zone such as Europe/Paris');
const emailFromSchema = z.object({ email: z.email(), name: z.string().trim().min(1).max(200).nullish().transform((v) => v ?? null) });
const outletsSchema = z.array(z.object({ id, name: z.string().trim().min(1).max(200), purchasingManager: personSchema })).max(500);

export const createTenantSchema = z.object({
  id,
  name: z.string().trim().min(1).max(200),
  locale: z.enum(['fr', 'en']).default('fr'),
  timeZone: timeZoneSchema.default('Europe/Paris'),
  emailFrom: emailFromSchema,
  outlets: outletsSchema.default([]),
  policies: z.object({
    unknownAfter: isoDuration.optional(),
    listenFor: isoDuration.optional(),
  }).default({}),
});

/** Only what is sent changes: no defaults here, or an absent field would reset a setting. */
export const settingsSchema = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  locale: z.enum(['fr', 'en']).optional(),
  timeZone: timeZoneSchema.optional(),
  emailFrom: emailFromSchema.optional(),
  outlets: outletsSchema.optional(),
  policies: z.object({
    unknownAfter: isoDuration.optional(), listenFor: isoDuration.optional(), stuckAfter: isoDuration.optional(),
    confirmationLinkTtl: isoDuration.optional(), readyToShipWithin: isoDuration.optional(),
  }).strict().optional(),
  seller: personSchema.optional(),
}).strict();

export type SettingsBody = z.infer<typeof settingsSchema>;

const addressSchema = z.object({
  line1: z.string().trim().min(1).max(200),
  line2: z.string().trim().max(200).nullish().transform((v) => v || null),
  city: z.string().trim().max(100),
  postalCode: z.string().trim().max(20),
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 country code such as FR'),
});

export const createOrderSchema = z.object({
  orderId: id,
  items: z.array(z.object({ sku: z.string().trim().min(1).max(100), quantity: z.number().int().min(1).max(10_000), location: z.string().trim().min(1).max(100) }))
    .min(1, 'at least one item').max(500, 'at most 500 items'),
  customer: z.object({
    name: z.string().trim().min(1).max(200),
    phone: z.string().trim().max(30).nullish().transform((v) => v || null),
    email: z.string().trim().max(320).nullish().transform((v) => v || null),
    address: addressSchema,
  }),
  payment: z.object({ method: z.enum(['prepaid', 'cash_on_delivery']), amount: z.string().max(40).nullish().transform((v) => v ?? null) }),
  salesChannel: z.string().trim().min(1).max(100),
  carrier: z.string().trim().min(1).max(100),
});

const reasonOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values);
export const orderEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('allocated') }),
  z.object({ type: z.literal('allocation_failed'), sku: z.string().min(1).max(100), reason: reasonOf(['out_of_stock', 'not_found_at_location']), location: z.string().max(100).optional() }),
  z.object({ type: z.literal('packed') }),
  z.object({ type: z.literal('rts_failed'), reason: reasonOf(['label_or_invoice_unavailable', 'pincode_unserviceable', 'dimension_mismatch']) }),
  z.object({ type: z.literal('label_uploaded') }),
  z.object({ type: z.literal('carrier_changed'), carrier: z.string().min(1).max(100) }),
  z.object({ type: z.literal('dimensions_fixed') }),
  z.object({ type: z.literal('handed_over') }),
  z.object({ type: z.literal('handover_failed'), reason: reasonOf(['customer_cancelled', 'pickup_refused']) }),
  z.object({ type: z.literal('pickup_requested') }),
  z.object({ type: z.literal('tracking_update'), status: z.string().min(1).max(200), location: z.string().min(1).max(200), at: z.iso.datetime({ offset: true }) }),
  z.object({ type: z.literal('delivered') }),
  z.object({ type: z.literal('delivery_failed'), reason: reasonOf(['customer_unavailable', 'refused', 'cancelled', 'cod_not_ready', 'address_incorrect', 'unreachable']) }),
]);

export const opsActionSchema = z.object({ reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(500) });

const channelChoice = z.object({ enabled: z.boolean(), channels: z.array(z.enum(['email', 'sms', 'whatsapp'])).max(3) });
export const preferencesSchema = z.object({
  sellerAlerts: z.partialRecord(z.enum(['unfulfillable', 'on_hold', 'rts_failed', 'handover_failed', 'stuck_in_transit', 'delivery_failed']), channelChoice).optional(),
  customerNotices: z.partialRecord(z.enum(['address_confirmation', 'delivery_delay', 'delivery_failed']), channelChoice).optional(),
}).strict();

export type PreferencesBody = z.infer<typeof preferencesSchema>;

export const confirmFormSchema = z.object({
  action: z.enum(['confirm', 'correct']),
  line1: z.string().optional(), line2: z.string().optional(), city: z.string().optional(), postalCode: z.string().optional(), country: z.string().optional(),
});
export { addressSchema };

/** POST /v1/keys: a tenant key; `platform` is not a tenant's to give. */
export const createKeySchema = z.object({
  roles: z.array(z.enum(ROLES).refine((r) => r !== 'platform', 'a tenant key cannot have the platform role')).min(1, 'at least one role').max(ROLES.length)
    .transform((roles) => [...new Set(roles)]),
  label: z.string().trim().min(1).max(200).nullish().transform((v) => v ?? null),
});
