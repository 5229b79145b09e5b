// /a/:token — a recipient confirms they received a document (issue 20): server-rendered, no
// JavaScript, French or English, readable on a phone, like /c. The link is signed, per recipient
// attempt, and expires when the dispatch stops listening (D7); the dispatch workflow makes it
// single use (an Update whose validator refuses a second one). The page shows the document, who it
// was sent to, and a form: a name, a delivery date (purchase orders), a note, one button.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { linkSecrets } from '../../links';
import { checkLink } from '../link-check';
import { acknowledgeFormSchema } from '../schemas';
import { errors, htmlPage, type ZodRequestTypes } from '../openapi';
import { perTenantLinkLimit, type ApiLimits } from '../limits';
import { securePublicPages } from '../public-pages';
import { renderView } from '../../ui/render';
import type { Locale } from '../../domain/locale';
import { documentLabel } from '../../domain/dispatch';
import {
  ACKNOWLEDGEMENT_LIMITS,
  acknowledgementFieldProblem,
  parseReceiptTarget,
  RECEIPT_LINK_KIND,
  typedValue,
  type AcknowledgementFields,
  type AcknowledgementProblem,
} from '../../domain/acknowledgement';
import { dayOf } from '../../domain/days';
import { formatDateTime } from '../../templates';
import { dispatchKey } from '../../db/dispatch-records';
import { readRecipients } from '../../db/dispatch-events';
import { acknowledgeReceiptUpdate, dispatchWorkflowId } from '../../workflows/dispatch/contract';
import { updateRefusal, workflowGone } from '../../app/workflow-errors';
import { ACKNOWLEDGED_ALREADY, INVALID_FIELD, LINK_REPLACED } from '../../workflows/failure-types';

const T = {
  fr: {
    title: 'Accusé de réception',
    intro: (tenant: string, label: string, on: string) => `${tenant} vous a envoyé ce document (${label}) le ${on}.`,
    sentTo: 'Envoyé à :',
    button: (type: string | null, number: string | null, label: string) =>
      type === 'purchase_order' && number ? `J'ai bien reçu la commande ${number}` : `J'ai bien reçu : ${label}`,
    name: 'Votre nom (facultatif)',
    deliveryDate: 'Date de livraison prévue (facultatif)',
    note: 'Un mot pour l’expéditeur (facultatif)',
    noteHint: `${ACKNOWLEDGEMENT_LIMITS.note} caractères au plus.`,
    done: (on: string) => `Merci ! Votre accusé de réception est enregistré (${on}). L'expéditeur en est informé.`,
    already: (on: string | null) =>
      on
        ? `La réception de ce document a déjà été confirmée le ${on}.`
        : 'La réception de ce document a déjà été confirmée.',
    replaced:
      'Ce lien a été remplacé par un e-mail plus récent. Utilisez le bouton du dernier e-mail reçu pour ce document.',
    expired: "Ce lien a expiré. Pour confirmer la réception, répondez directement à l'e-mail de l'expéditeur.",
    invalid: "Ce lien n'est pas valide. Vérifiez que vous l'avez copié en entier.",
    fix: 'Merci de corriger :',
    problems: {
      too_long: (max: number) => `${max} caractères au plus`,
      control_characters: () => 'caractères non autorisés',
      not_a_day: () => 'une date qui existe',
      too_early: () => 'une date trop ancienne',
      too_late: () => 'une date trop lointaine',
    },
  },
  en: {
    title: 'Confirm receipt',
    intro: (tenant: string, label: string, on: string) => `${tenant} sent you this document (${label}) on ${on}.`,
    sentTo: 'Sent to:',
    button: (_type: string | null, _number: string | null, label: string) => `Confirm receipt of ${label}`,
    name: 'Your name (optional)',
    deliveryDate: 'Expected delivery date (optional)',
    note: 'A note for the sender (optional)',
    noteHint: `At most ${ACKNOWLEDGEMENT_LIMITS.note} characters.`,
    done: (on: string) => `Thank you! Your confirmation of receipt is recorded (${on}). The sender has been told.`,
    already: (on: string | null) =>
      on
        ? `Receipt of this document was already confirmed on ${on}.`
        : 'Receipt of this document was already confirmed.',
    replaced:
      'This link was replaced by a newer email. Use the button in the latest email you received for this document.',
    expired: "This link has expired. To confirm receipt, reply to the sender's email directly.",
    invalid: 'This link is not valid. Check that you copied all of it.',
    fix: 'Please correct:',
    problems: {
      too_long: (max: number) => `at most ${max} characters`,
      control_characters: () => 'characters that are not allowed',
      not_a_day: () => 'a date that exists',
      too_early: () => 'a date too far in the past',
      too_late: () => 'a date too far ahead',
    },
  },
};

const tokenParams = z.object({
  token: z.string().min(1).describe("the signed, per-recipient link token sent in the document's email"),
});

type Opened = {
  lang: Locale;
  timeZone: string;
  tenantName: string;
  tenantId: string;
  dispatchId: string;
  index: number;
  attempt: number;
  label: string;
  document: { type: string | null; number: string | null };
  sentAt: Date | null;
  recipient: { address: string; name: string | null; attempt: number; acknowledged: { at: Date } | null };
};

/** What the page shows: a message alone, or the document, its recipient and the form (with the fields to fix). */
type Content =
  | { message: string; error?: boolean }
  | { opened: Opened; fields: AcknowledgementFields; problem?: AcknowledgementProblem };

function page(reply: FastifyReply, status: number, lang: Locale, content: Content) {
  const w = T[lang];
  if ('message' in content)
    return reply
      .status(status)
      .type('text/html; charset=utf-8')
      .send(renderView('acknowledge', { lang, w, ...content }));
  const { opened, fields, problem } = content;
  const on = opened.sentAt ? formatDateTime(opened.sentAt.toISOString(), lang, opened.timeZone) : '';
  const label = { name: w.name, deliveryDate: w.deliveryDate, note: w.note };
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(
      renderView('acknowledge', {
        lang,
        w,
        intro: w.intro(opened.tenantName, opened.label, on),
        recipient: opened.recipient,
        button: w.button(opened.document.type, opened.document.number, opened.label),
        askDeliveryDate: opened.document.type === 'purchase_order',
        fields,
        limits: ACKNOWLEDGEMENT_LIMITS,
        problem: problem && {
          field: problem.field,
          text: `${label[problem.field]} — ${w.problems[problem.reason](
            problem.field === 'name' ? ACKNOWLEDGEMENT_LIMITS.name : ACKNOWLEDGEMENT_LIMITS.note,
          )}`,
        },
      }),
    );
}

export async function acknowledgeRoutes(scope: FastifyInstance, deps: ApiDeps, limits: ApiLimits) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  securePublicPages(app);
  // Per client address: the page is public, and a guessed token must stay a slow guess.
  const config = { rateLimit: { max: limits.publicRate.max, timeWindow: limits.publicRate.windowMs } };
  const secrets = linkSecrets(deps);
  const onRequest = perTenantLinkLimit(app, limits, secrets, RECEIPT_LINK_KIND);
  const doc = { tags: ['public'], params: tokenParams };

  const failure = (reply: FastifyReply, reason: 'malformed' | 'forged' | 'expired', lang: Locale = 'en') =>
    page(reply, reason === 'expired' ? 410 : 404, lang, {
      message: reason === 'expired' ? T[lang].expired : T[lang].invalid,
      error: true,
    });

  /** The token checked, then the dispatch and recipient it names, from the delivery log (undefined: none). */
  async function open(request: FastifyRequest) {
    const check = checkLink(request, secrets, RECEIPT_LINK_KIND);
    if (!check.ok) return { check } as const;
    const target = parseReceiptTarget(check.claims.target);
    const tenantId = check.claims.tenantId;
    const tenant = await deps.db.Tenant.findById(tenantId, { locale: 1, timeZone: 1, name: 1 }).lean();
    const header =
      target && tenant
        ? await deps.db.Dispatch.findById(dispatchKey(tenantId, target.dispatchId), {
            document: 1,
            subject: 1,
            locale: 1,
            sentAt: 1,
            acknowledgement: 1,
          }).lean()
        : null;
    const recipient =
      header && target
        ? (await readRecipients(deps.db, tenantId, target.dispatchId, [target.index])).get(target.index)
        : undefined;
    const lang = ((header?.locale ?? tenant?.locale ?? 'en') === 'fr' ? 'fr' : 'en') as Locale;
    if (!target || !tenant || !header?.acknowledgement?.requested || !recipient) return { check, lang } as const;
    const opened: Opened = {
      lang,
      timeZone: tenant.timeZone,
      tenantName: tenant.name,
      tenantId,
      dispatchId: target.dispatchId,
      index: target.index,
      attempt: target.attempt,
      label: documentLabel(header.document ?? null, header.subject ?? null, lang),
      document: { type: header.document?.type ?? null, number: header.document?.number ?? null },
      sentAt: recipient.sentAt ?? header.sentAt ?? null,
      recipient: {
        address: recipient.address,
        name: recipient.name ?? null,
        attempt: recipient.attempt ?? 1,
        acknowledged: recipient.acknowledged ?? null,
      },
    };
    return { check, lang, opened } as const;
  }

  const shownAt = (o: Opened, at: Date | null | undefined) =>
    at ? formatDateTime(new Date(at).toISOString(), o.lang, o.timeZone) : null;

  /** Where the link stands without asking the workflow: acknowledged already, or replaced by a newer email. */
  function settled(reply: FastifyReply, o: Opened, status: { already: number; replaced: number }) {
    const w = T[o.lang];
    if (o.recipient.acknowledged)
      return page(reply, status.already, o.lang, { message: w.already(shownAt(o, o.recipient.acknowledged.at)) });
    if (o.recipient.attempt !== o.attempt)
      return page(reply, status.replaced, o.lang, { message: w.replaced, error: true });
    return undefined;
  }

  app.get(
    '/a/:token',
    {
      config,
      onRequest,
      schema: {
        ...doc,
        summary: 'The page where a recipient confirms receipt of a document (issue 20)',
        response: {
          200: htmlPage('the form, or that receipt was already confirmed'),
          404: htmlPage('the link is not valid'),
          410: htmlPage('the link has expired, or a newer email replaced it'),
          ...errors(429),
        },
      },
    },
    async (request, reply) => {
      const o = await open(request);
      if (!o.check.ok) return failure(reply, o.check.reason);
      if (!o.opened) return failure(reply, 'forged', o.lang);
      return (
        settled(reply, o.opened, { already: 200, replaced: 410 }) ??
        page(reply, 200, o.lang, { opened: o.opened, fields: { name: null, deliveryDate: null, note: null } })
      );
    },
  );

  app.post(
    '/a/:token',
    {
      config,
      onRequest,
      // A recipient gets a page in their language, not the API's JSON error: the handler checks the form itself.
      attachValidation: true,
      schema: {
        ...doc,
        summary: 'Confirm receipt of the document (issue 20); single use',
        consumes: ['application/x-www-form-urlencoded'],
        body: acknowledgeFormSchema,
        response: {
          200: htmlPage('recorded'),
          400: htmlPage('the form is not valid (the page names the field)'),
          404: htmlPage('the link is not valid'),
          409: htmlPage('receipt was already confirmed'),
          410: htmlPage('the link has expired, or a newer email replaced it'),
          ...errors(413, 429),
        },
      },
    },
    async (request, reply) => {
      const o = await open(request);
      if (!o.check.ok) return failure(reply, o.check.reason);
      if (!o.opened) return failure(reply, 'forged', o.lang);
      const opened = o.opened;
      const done = settled(reply, opened, { already: 409, replaced: 410 });
      if (done) return done;
      const posted = acknowledgeFormSchema.safeParse(request.body ?? {});
      const sent = posted.success ? posted.data : {};
      const fields: AcknowledgementFields = {
        name: typedValue(sent.name),
        deliveryDate: opened.document.type === 'purchase_order' ? typedValue(sent.deliveryDate) : null,
        note: typedValue(sent.note),
      };
      const problem = posted.success
        ? acknowledgementFieldProblem(fields, dayOf(Date.now(), opened.timeZone))
        : ({ field: 'note', reason: 'too_long', message: 'form too large', value: '' } as AcknowledgementProblem);
      if (problem) return page(reply, 400, o.lang, { opened, fields, problem });
      const w = T[o.lang];
      try {
        const result = await deps.temporal.workflow
          .getHandle(dispatchWorkflowId(opened.tenantId, opened.dispatchId))
          .executeUpdate(acknowledgeReceiptUpdate, {
            args: [{ index: opened.index, attempt: opened.attempt, ...fields }],
          });
        return page(reply, 200, o.lang, { message: w.done(shownAt(opened, new Date(result.acknowledgedAt))!) });
      } catch (err) {
        const refusal = updateRefusal(err);
        if (refusal?.type === ACKNOWLEDGED_ALREADY) {
          const again = await open(request);
          return page(reply, 409, o.lang, {
            message: w.already(again.opened ? shownAt(opened, again.opened.recipient.acknowledged?.at) : null),
          });
        }
        if (refusal?.type === LINK_REPLACED) return page(reply, 410, o.lang, { message: w.replaced, error: true });
        if (refusal?.type === INVALID_FIELD) return page(reply, 400, o.lang, { message: w.invalid, error: true });
        // The dispatch stopped listening (its window closed as the link expired) or was never acknowledgeable.
        if (refusal || workflowGone(err)) return failure(reply, 'expired', o.lang);
        throw err;
      }
    },
  );
}
