// Request shapes, validated at the edge. The types the routes use are inferred from these.
import { z } from 'zod';
import { isIsoDuration } from '../domain/durations';

const isoDuration = z.string().refine(isIsoDuration, 'an ISO-8601 duration such as PT30M or P3D');

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'letters, digits and . _ : - only, up to 100 characters');

export const MAX_RECIPIENTS = 1000;

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

export const resendSchema = z.object({ email: z.email() });
export const resendViaSchema = z.object({ channel: z.enum(['sms', 'whatsapp']), phone });
export const markSentSchema = z.object({ note: z.string().trim().max(500).default(''), at: z.iso.datetime({ offset: true }).optional() });

export const createTenantSchema = z.object({
  id,
  name: z.string().trim().min(1).max(200),
  locale: z.enum(['fr', 'en']).default('fr'),
  timeZone: z.string().refine((tz) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; } }, 'an IANA time zone such as Europe/Paris').default('Europe/Paris'),
  emailFrom: z.object({ email: z.email(), name: z.string().trim().min(1).max(200).nullish().transform((v) => v ?? null) }),
  outlets: z.array(z.object({ id, name: z.string().trim().min(1).max(200), purchasingManager: personSchema })).max(500).default([]),
  policies: z.object({
    unknownAfter: isoDuration.optional(),
    listenFor: isoDuration.optional(),
  }).default({}),
});

export const settingsSchema = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  locale: z.enum(['fr', 'en']).optional(),
  timeZone: createTenantSchema.shape.timeZone.optional(),
  emailFrom: createTenantSchema.shape.emailFrom.optional(),
  outlets: createTenantSchema.shape.outlets.optional(),
  policies: z.object({ unknownAfter: isoDuration.optional(), listenFor: isoDuration.optional() }).optional(),
}).strict();
