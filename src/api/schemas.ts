// Request shapes, validated at the edge. The types the routes use are inferred from these.
import { HH_MM } from '../domain/customer-notice';
import { z } from 'zod';
import { NUL_MESSAGE } from './errors';
import { ISO_DURATION_PATTERN } from '../domain/durations';
import { E164_EXAMPLE, E164_PATTERN } from '../domain/phone';
import { ROLES } from '../db/api-keys';
import { TENANT_EVENT_TYPES, type TenantEventType } from '../domain/tenant-events';
import { EXCEPTION_TYPES, ORDER_STATES, STUCK_CAUSES } from '../domain/order';
import { DOCUMENT_KINDS, TOLD_NOTICES } from '../domain/seller-actions';
import { DIGEST_MINUTES } from '../domain/alert-digest';

// Every rule is written so that it lands in the OpenAPI document (src/api/openapi.ts): a
// `.refine()` is invisible there, so formats are regexes, character classes ASCII ([0-9], not
// \d, which other regex engines read as any Unicode digit), and lengths are checked on the raw
// value before it is trimmed (the contract describes what the caller sends).
const isoDuration = z.string().regex(ISO_DURATION_PATTERN, 'an ISO-8601 duration such as PT30M or P3D');

/** Free text: anything but NUL, which the embedded store (PostgreSQL under FerretDB) cannot keep. */
// eslint-disable-next-line no-control-regex -- refusing NUL is the point
const plain = () => z.string().regex(/^[^\u0000]*$/, NUL_MESSAGE);
/** Text with at least one visible character, at most `max` characters as sent; stored trimmed. */
const text = (max: number) => plain().max(max).regex(/\S/, 'must not be blank').trim();
/** Optional free text, at most `max` characters as sent; stored trimmed. */
const optionalText = (max: number) => plain().max(max).trim();

/**
 * An email address: zod's (practical) address syntax, within the lengths of RFC 5321 (local part
 * at most 64 characters, whole address at most 254), as JSON Schema's `format: email` expects.
 */
const email = () =>
  z
    .email({
      pattern:
        /^(?!\.)(?!.*\.\.)(?=[^@]{1,64}@)([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/,
    })
    .max(254);

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'letters, digits and . _ : - only, up to 100 characters');

export const MAX_RECIPIENTS = 1000;
/** Attachments travel in the request (base64) and are kept beside the dispatch, never in workflow history. */
export const MAX_ATTACHMENT_BYTES = 7 * 1024 * 1024;

/**
 * A dispatch's template data (issue 14, finding 4): at most 64 KiB as JSON — about 300 order lines,
 * and with 1,000 ordinary recipients the workflow's input stays well under Temporal's 256 KiB
 * payload warning — and at most 16 levels deep. Refused at the edge (413, 400), naming `data`.
 */
export const DATA_LIMITS = { bytes: 64 * 1024, depth: 16 } as const;

/** Whether a parsed JSON value nests objects and arrays deeper than `max` levels (iterative: any depth is safe to ask). */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

const phone = z.string().regex(E164_PATTERN, E164_EXAMPLE);

export const personSchema = z.object({
  name: text(200),
  email: email(),
  phone: phone.nullish().transform((v) => v ?? null),
  smsOptIn: z.boolean().default(false),
  whatsappOptIn: z.boolean().default(false),
});

/** Issue 20: what a dispatch or order notice to an address known bad does (docs/operators.md). */
export const knownBadAddressesSchema = z
  .enum(['warn', 'refuse'])
  .describe(
    'a dispatch or order notice to an address the registry knows bad: warn (sent, with a warning) or refuse (422 for a dispatch; an order notice is not sent on that channel)',
  );

/** Issue 17: the sender in copy (cc), in blind copy (bcc), or not (null). */
export const copyToSenderSchema = z
  .enum(['cc', 'bcc'])
  .nullable()
  .describe(
    'the sender in copy (cc: the recipient sees it) or blind copy (bcc) of the email to the first recipient; null: no copy',
  );

const documentType = z.string().regex(/^[a-z_]{1,40}$/, 'a document type such as purchase_order or invoice');

/** Issue 20: the document types whose dispatches ask for receipt acknowledgement by default. */
const acknowledgeDocumentsSchema = z
  .array(documentType)
  .max(20)
  .describe(
    'issue 20: document types (e.g. purchase_order) whose dispatches ask each recipient to acknowledge receipt, unless a dispatch says `acknowledge: false`',
  );

export const createDispatchSchema = z.object({
  dispatchId: id,
  channel: z.literal('email').default('email'),
  provider: z.enum(['sendgrid', 'smtp']).optional(),
  copyToSender: copyToSenderSchema
    .optional()
    .describe(
      "the sender in copy (cc) or blind copy (bcc) of the email to the first recipient (SendGrid only); null: none; absent: the tenant's default (settings)",
    ),
  template: z.string().regex(/^[a-z0-9_]{1,64}$/, 'a template name such as purchase_order'),
  locale: z.enum(['fr', 'en']).optional(),
  data: z
    .record(z.string(), z.unknown())
    .default({})
    .describe(
      `the template's variables; at most ${DATA_LIMITS.bytes / 1024} KiB as JSON (413 above) and ${DATA_LIMITS.depth} levels deep`,
    )
    .refine((data) => !deeperThan(data, DATA_LIMITS.depth), `nested deeper than ${DATA_LIMITS.depth} levels`),
  document: z.object({
    type: documentType,
    number: text(100),
  }),
  acknowledge: z
    .boolean()
    .optional()
    .describe(
      "issue 20: ask each recipient to acknowledge receipt through a signed link of its own; absent: the tenant's default for the document type (settings `acknowledgeDocuments`)",
    ),
  sender: personSchema.extend({ outletId: id.nullish().transform((v) => v ?? null) }),
  attachments: z
    .array(
      z.object({
        // eslint-disable-next-line no-control-regex -- refusing NUL is the point
        filename: z.string().regex(/^[^/\\\x00]{1,120}$/, 'a file name without slashes, up to 120 characters'),
        contentType: z.enum([
          'application/pdf',
          'image/png',
          'image/jpeg',
          'text/csv',
          'application/xml',
          'text/plain',
        ]),
        contentBase64: z.base64(),
      }),
    )
    .max(10, 'at most 10 attachments')
    .default([])
    .refine(
      (list) => list.reduce((n, a) => n + Math.floor((a.contentBase64.length * 3) / 4), 0) <= MAX_ATTACHMENT_BYTES,
      `attachments total at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB`,
    ),
  recipients: z
    .array(
      z.object({
        id: id.optional(),
        email: email(),
        name: text(200)
          .nullish()
          .transform((v) => v ?? null),
      }),
    )
    .min(1, 'at least one recipient')
    .max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} recipients`),
});
export type CreateDispatchBody = z.infer<typeof createDispatchSchema>;

/** Recipients are distinct addresses (case-insensitive); JSON Schema can't say so, the route checks it (422). */
export function duplicateRecipient(
  recipients: ReadonlyArray<{ email: string }>,
): { index: number; first: number } | undefined {
  const seen = new Map<string, number>();
  for (const [index, r] of recipients.entries()) {
    const key = r.email.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) return { index, first };
    seen.set(key, index);
  }
  return undefined;
}

export const listDispatchesQuery = z.object({
  result: z
    .union([
      z.literal('all'),
      z.enum(['failed', 'queued', 'processed', 'unknown', 'delivered', 'alert', 'error', 'sent']),
    ])
    .optional(),
  recipient: text(320).optional(),
  document: text(100).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      'the `nextCursor` of the page before, with the same filters (the failed-only listing shows the newest failures first)',
    ),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Documents, notices (escalations, fix requests, alerts … each a dispatch too, numbered in the same series), or both (the default). */
  kind: z.enum(['all', 'document', 'notification']).default('all'),
  acknowledged: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      'issue 20: only dispatches that asked for receipt acknowledgement, where some recipient still owes it (false) or none does (true); every result unless `result` says otherwise',
    ),
});

export type ListDispatchesQuery = z.infer<typeof listDispatchesQuery>;

export const resendSchema = z.object({ email: email() });
export const resendViaSchema = z.object({ channel: z.enum(['sms', 'whatsapp']), phone });
export const markSentSchema = z.object({
  note: optionalText(500).default('').describe('how it was sent (posted, handed over …)'),
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD')
    .optional()
    .describe(
      "the day it was sent, in the tenant's time zone (not after today); today when neither date nor at is given",
    ),
  at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('the moment it was sent, when known to the minute (not in the future); instead of date'),
  by: text(80)
    .optional()
    .describe("the person who sent it (the operator pages give the name given at sign-in); the key's id when absent"),
});

/**
 * The canonical IANA zones this runtime knows, plus UTC: listed in the contract, one name per zone.
 * An alias (America/Montreal) is refused naming the zone to use instead (America/Toronto).
 */
const TIME_ZONES = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])] as [string, ...string[]];
function canonicalZone(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
const timeZoneSchema = z.enum(TIME_ZONES, {
  error: (issue) => {
    const canonical = canonicalZone(issue.input);
    return canonical && canonical !== issue.input
      ? `${String(issue.input)} is another name of ${canonical}: use ${canonical}`
      : 'an IANA time zone such as Europe/Paris';
  },
});
const emailFromSchema = z.object({
  email: email(),
  name: text(200)
    .nullish()
    .transform((v) => v ?? null),
});
const outletsSchema = z.array(z.object({ id, name: text(200), purchasingManager: personSchema })).max(500);

/** Tenant policies (ISO-8601 durations); minimums are checked by the routes (domain/durations.ts, 422). */
const policiesSchema = z
  .object({
    unknownAfter: isoDuration.optional(),
    listenFor: isoDuration.optional(),
    stuckAfter: isoDuration.optional(),
    confirmationLinkTtl: isoDuration.optional(),
    readyToShipWithin: isoDuration.optional(),
    failoverAfter: isoDuration.optional(),
    acknowledgeWithin: isoDuration
      .nullable()
      .optional()
      .describe(
        'issue 20: tell the sender when a recipient has not acknowledged receipt after this (e.g. PT24H); null: never (the default)',
      ),
    acknowledgeEscalateAfter: isoDuration
      .nullable()
      .optional()
      .describe(
        'issue 20: still not acknowledged this long after that: escalate to the sender and their purchasing manager (D4); null: as long as acknowledgeWithin',
      ),
    moveOnAfter: isoDuration.optional(),
  })
  .strict();

/** Issue 20: quiet hours, as the hours customer SMS and WhatsApp may go, in the customer's zone. */
const sendWindowSchema = z
  .object({
    from: z.string().regex(HH_MM, 'a time as HH:MM, e.g. 08:00'),
    to: z.string().regex(HH_MM, 'a time as HH:MM, e.g. 21:00'),
  })
  .strict()
  .meta({
    description:
      'when customer SMS and WhatsApp may go (from included, to excluded; from after to runs over midnight; from equal to to: no quiet hours); default 08:00–21:00',
  });

/** Unknown fields are refused, naming them, as in the settings (issue 14, finding 11). */
export const createTenantSchema = z
  .object({
    id,
    name: text(200),
    locale: z.enum(['fr', 'en']).default('fr'),
    timeZone: timeZoneSchema.default('Europe/Paris'),
    emailFrom: emailFromSchema,
    outlets: outletsSchema.default([]),
    policies: policiesSchema.default({}),
    seller: personSchema.optional(),
    copyToSender: copyToSenderSchema.optional(),
    acknowledgeDocuments: acknowledgeDocumentsSchema.optional(),
  })
  .strict();

/** Only what is sent changes: no defaults here, or an absent field would reset a setting. */
export const settingsSchema = z
  .object({
    name: text(200).optional(),
    locale: z.enum(['fr', 'en']).optional(),
    timeZone: timeZoneSchema.optional(),
    emailFrom: emailFromSchema.optional(),
    outlets: outletsSchema.optional(),
    policies: policiesSchema.optional(),
    seller: personSchema.optional(),
    copyToSender: copyToSenderSchema.optional(),
    knownBadAddresses: knownBadAddressesSchema.optional(),
    acknowledgeDocuments: acknowledgeDocumentsSchema.optional(),
    sendWindow: sendWindowSchema.optional(),
  })
  .strict();

export type SettingsBody = z.infer<typeof settingsSchema>;

const addressSchema = z.object({
  line1: text(200),
  line2: optionalText(200)
    .nullish()
    .transform((v) => v || null),
  city: optionalText(100),
  postalCode: optionalText(20),
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 country code such as FR'),
});

export const createOrderSchema = z.object({
  orderId: id,
  items: z
    .array(z.object({ sku: text(100), quantity: z.number().int().min(1).max(10_000), location: text(100) }))
    .min(1, 'at least one item')
    .max(500, 'at most 500 items'),
  customer: z.object({
    name: text(200),
    phone: optionalText(30)
      .nullish()
      .transform((v) => v || null),
    email: optionalText(320)
      .nullish()
      .transform((v) => v || null),
    address: addressSchema,
    timeZone: timeZoneSchema.optional().meta({
      description: "the customer's time zone (IANA), for quiet hours; default the tenant's",
    }),
  }),
  payment: z.object({
    method: z.enum(['prepaid', 'cash_on_delivery']),
    amount: plain()
      .max(40)
      .nullish()
      .transform((v) => v ?? null),
  }),
  salesChannel: text(100),
  carrier: text(100),
  urgentAddressConfirmation: z.boolean().optional().meta({
    description:
      'issue 20: an order about to ship: its address confirmation (O3) goes at once, SMS and WhatsApp not held by quiet hours',
  }),
});

const reasonOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values);
export const orderEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('allocated') }),
  z.object({
    type: z.literal('allocation_failed'),
    sku: plain().min(1).max(100),
    reason: reasonOf(['out_of_stock', 'not_found_at_location']),
    location: plain().max(100).optional(),
  }),
  z.object({ type: z.literal('packed') }),
  z.object({
    type: z.literal('rts_failed'),
    reason: reasonOf(['label_or_invoice_unavailable', 'pincode_unserviceable', 'dimension_mismatch']),
  }),
  z.object({ type: z.literal('label_uploaded') }),
  z.object({ type: z.literal('carrier_changed'), carrier: plain().min(1).max(100) }),
  z.object({ type: z.literal('dimensions_fixed') }),
  z.object({ type: z.literal('handed_over') }),
  z.object({ type: z.literal('handover_failed'), reason: reasonOf(['customer_cancelled', 'pickup_refused']) }),
  z.object({ type: z.literal('pickup_requested') }),
  z.object({
    type: z.literal('tracking_update'),
    status: plain().min(1).max(200),
    location: plain().min(1).max(200),
    at: z.iso.datetime({ offset: true }),
    stuckCause: z
      .enum(STUCK_CAUSES)
      .optional()
      .describe(
        'the carrier reports why the parcel is held up (O7): the order is flagged stuck with this cause, and stays so until an update without one',
      ),
  }),
  z.object({ type: z.literal('delivered') }),
  z.object({
    type: z.literal('delivery_failed'),
    reason: reasonOf([
      'customer_unavailable',
      'refused',
      'cancelled',
      'cod_not_ready',
      'address_incorrect',
      'unreachable',
    ]),
  }),
]);

/**
 * GET /v1/orders (issue 18): the orders workspace. By default the orders with an open exception,
 * oldest placed first; `exception` narrows to one type (or `all`: every order). Every filter is an
 * equality the store serves from an index, bar the created range (docs/architecture.md, "The orders list").
 */
export const listOrdersQuery = z.object({
  exception: z
    .enum(['open', ...EXCEPTION_TYPES, 'all'])
    .default('open')
    .describe(
      '`open` (default): orders with any open exception; an exception type: those with it open; `all`: every order',
    ),
  state: z.enum(ORDER_STATES).optional(),
  stuck: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('only stuck orders (true), or none of them (false)'),
  held: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('only orders on hold (true), or none of them (false)'),
  from: z.iso.datetime({ offset: true }).optional().describe('placed at or after'),
  to: z.iso.datetime({ offset: true }).optional().describe('placed at or before'),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,400}$/, 'the nextCursor of the previous page')
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  counts: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .default(true)
    .describe("with the workspace's counts of open exceptions by type (default true)"),
});
export type ListOrdersQuery = z.infer<typeof listOrdersQuery>;

const note = () =>
  optionalText(500)
    .nullish()
    .transform((v) => v || null);
const measure = (max: number) => z.number().positive().max(max);

/** The seller's actions on an order (issue 18; src/domain/seller-actions.ts), but the upload (POST …/documents). */
export const sellerActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('change_carrier'), carrier: text(100), note: note() }),
  z.object({
    type: z.literal('fix_dimensions'),
    dimensions: z.object({
      lengthCm: measure(1000),
      widthCm: measure(1000),
      heightCm: measure(1000),
      weightKg: measure(1000),
    }),
    note: note(),
  }),
  z.object({ type: z.literal('request_pickup'), note: note() }),
  z.object({
    type: z.literal('tell_customer'),
    notice: z.enum(TOLD_NOTICES),
    channels: z
      .array(z.enum(['email', 'sms', 'whatsapp']))
      .min(1, 'at least one channel')
      .max(3)
      .transform((c) => [...new Set(c)]),
    urgent: z.boolean().optional().meta({
      description:
        'goes now, outside the quiet hours too (issue 20); otherwise SMS and WhatsApp wait for the send window',
    }),
    note: note(),
  }),
  z.object({ type: z.literal('record_stuck_cause'), cause: z.enum(STUCK_CAUSES), note: note() }),
  z.object({ type: z.literal('resolve'), exception: z.enum(EXCEPTION_TYPES), note: text(500) }),
]);
export type OrderEventBody = z.infer<typeof orderEventSchema>;
export type SellerActionBody = z.infer<typeof sellerActionSchema>;

/**
 * POST /v1/orders/:id/documents (multipart/form-data): the label or the invoice. `file` is the file
 * part; its size and type (PDF, PNG, JPEG, read from its first bytes) are checked by the route.
 */
export const uploadDocumentSchema = z.object({
  kind: z.enum(DOCUMENT_KINDS),
  file: z.string().meta({ format: 'binary', description: 'the file: PDF, PNG or JPEG, at most 10 MiB' }),
  note: note(),
});

/** Issue 20: clearing an address's health record (audited): why, in words, NUL-free like every text here. */
export const clearAddressHealthSchema = z
  .object({ reason: text(500).describe('why the record is cleared (audited)') })
  .strict();

export const opsActionSchema = z.object({
  reason: plain()
    .max(500)
    .regex(/^\s*\S[\s\S]*\S[\s\S]*\S\s*$/, 'say why (at least 3 characters)')
    .trim(),
});

/** For customer notices the channels are an order (issue 20): each at most once. */
const channelChoice = z.object({
  enabled: z.boolean(),
  channels: z
    .array(z.enum(['email', 'sms', 'whatsapp']))
    .max(3)
    .refine((c) => new Set(c).size === c.length, 'each channel at most once')
    .meta({ uniqueItems: true }), // the refinement, said in the contract (JSON Schema)
});
export const preferencesSchema = z
  .object({
    sellerAlerts: z
      .partialRecord(
        z.enum(['unfulfillable', 'on_hold', 'rts_failed', 'handover_failed', 'stuck_in_transit', 'delivery_failed']),
        channelChoice,
      )
      .optional(),
    customerNotices: z
      .partialRecord(z.enum(['address_confirmation', 'delivery_delay', 'delivery_failed']), channelChoice)
      .optional(),
    sellerDigestMinutes: z.number().int().min(DIGEST_MINUTES.min).max(DIGEST_MINUTES.max).nullable().optional().meta({
      description:
        'seller alerts as a digest: at most one message per this many minutes per channel, listing everything; null sends each alert at once (the default)',
    }),
  })
  .strict();

export type PreferencesBody = z.infer<typeof preferencesSchema>;

/**
 * The confirmation page's two forms (O3): confirm as is, or correct (the address fields, country
 * in either case). A correction that doesn't match is a 400 page naming the fields.
 */
export const confirmFormSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('confirm') }),
  addressSchema.extend({
    action: z.literal('correct'),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'an ISO 3166 country code such as FR')
      .transform((c) => c.toUpperCase()),
  }),
]);
export type ConfirmForm = z.output<typeof confirmFormSchema>;

/**
 * Issue 20: the receipt acknowledgement form (/a/:token). Loose bounds here (a form that passes
 * them is shown again with the field named, in the recipient's language: domain/acknowledgement.ts).
 */
export const acknowledgeFormSchema = z.object({
  name: z.string().max(2000).optional().describe('the name of the person confirming (optional)'),
  deliveryDate: z.string().max(40).optional().describe('purchase orders: the expected delivery day, YYYY-MM-DD'),
  note: z.string().max(10_000).optional().describe('a note for the sender (at most 1000 characters)'),
});

export { addressSchema };

/** POST /v1/keys: a tenant key; `platform` is not a tenant's to give. */
export const createKeySchema = z.object({
  roles: z
    .array(
      z.enum(
        ROLES.filter((r) => r !== 'platform') as [
          Exclude<(typeof ROLES)[number], 'platform'>,
          ...Array<Exclude<(typeof ROLES)[number], 'platform'>>,
        ],
      ),
    )
    .min(1, 'at least one role')
    .max(ROLES.length)
    .transform((roles) => [...new Set(roles)]),
  label: text(200)
    .nullish()
    .transform((v) => v ?? null),
});

/** POST /v1/tenants/:id/keys: the platform's recovery of a locked-out tenant says why (audited). */
export const recoverAdminKeySchema = z
  .object({
    reason: text(500),
    label: text(200)
      .nullish()
      .transform((v) => v ?? null),
  })
  .strict();

/**
 * Outbound webhook endpoints (docs/webhooks.md). The URL's shape is in the contract; where it may
 * point (SSRF policy, src/domain/endpoint-url.ts) is a rule the schema cannot express: 422 naming `url`.
 */
// ASCII classes only (the contract's pattern must mean the same in every regex engine): no control
// character or space; what else makes a URL unusable is a 422 naming url (endpointUrlProblem).
const endpointUrl = z
  .string()
  .max(2048)
  // eslint-disable-next-line no-control-regex -- control characters are refused in a URL on purpose
  .regex(/^https?:\/\/[^\u0000-\u0020\u007f]+$/, 'an http:// or https:// URL (lower-case scheme, no spaces)');
const endpointEvents = z
  .array(z.enum(TENANT_EVENT_TYPES as [TenantEventType, ...TenantEventType[]]))
  .min(1, 'at least one event type')
  .max(TENANT_EVENT_TYPES.length * 2)
  .transform((events) => [...new Set(events)]);

export const createWebhookEndpointSchema = z
  .object({
    url: endpointUrl,
    events: endpointEvents,
    description: text(200)
      .nullish()
      .transform((v) => v ?? null),
    enabled: z.boolean().default(true),
  })
  .strict();

/** Only what is sent changes. */
export const updateWebhookEndpointSchema = z
  .object({
    url: endpointUrl.optional(),
    events: endpointEvents.optional(),
    description: text(200).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

/** How long the secret being replaced keeps signing beside the new one (at most P7D; PT0S: stop at once, e.g. after a leak). */
export const rotateSecretSchema = z
  .object({
    previousSecretFor: isoDuration.default('P1D'),
  })
  .strict();

export const listWebhookDeliveriesQuery = z.object({
  endpointId: z.string().max(100).optional(),
  status: z.enum(['pending', 'retrying', 'delivered', 'failed', 'cancelled']).optional(),
  cursor: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export type CreateWebhookEndpointBody = z.infer<typeof createWebhookEndpointSchema>;
export type UpdateWebhookEndpointBody = z.infer<typeof updateWebhookEndpointSchema>;
export type ListWebhookDeliveriesQuery = z.infer<typeof listWebhookDeliveriesQuery>;

// CSV exports (issue 21): the log's and the orders workspace's filters, without paging.
export const exportDispatchesQuery = listDispatchesQuery.omit({ cursor: true, limit: true });
export type ExportDispatchesQuery = z.infer<typeof exportDispatchesQuery>;
/** The orders workspace's filters (GET /v1/orders), every order by default. */
export const exportOrdersQuery = listOrdersQuery
  .pick({ state: true, stuck: true, held: true, from: true, to: true })
  .extend({
    exception: z
      .enum(['all', 'open', ...EXCEPTION_TYPES])
      .default('all')
      .describe(
        '`all` (default): every order; `open`: one row per open exception; an exception type: one row per open exception of that type',
      ),
  });

/** A page of an order's timeline (GET /v1/orders/:id, the order page). */
export const orderTimelineQuery = z.object({
  historyCursor: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe('the `historyCursor` of the previous answer: the page of events before it'),
  historyLimit: z.coerce.number().int().min(1).max(200).default(50).describe('events per page of the timeline'),
});
export type OrderTimelineQuery = z.infer<typeof orderTimelineQuery>;
