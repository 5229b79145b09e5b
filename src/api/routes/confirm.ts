// /c/:token — the customer's address confirmation page (rule O3): server-rendered, no
// JavaScript, French or English, readable on a phone. The link is signed and expiring; the
// order workflow makes it single-use and re-checks a corrected address.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { linkSecrets } from '../../links';
import { checkLink } from '../link-check';
import { confirmFormSchema } from '../schemas';
import { confirmAddressUpdate, orderStateQuery, orderWorkflowId, type Address } from '../../workflows/order/contract';
import { errors, htmlPage, type ZodRequestTypes } from '../openapi';
import { perTenantLinkLimit, type ApiLimits } from '../limits';
import { securePublicPages } from '../public-pages';
import { renderView } from '../../ui/render';
import type { Locale } from '../../domain/locale';
import { updateRefusal, workflowNotFound } from '../../app/workflow-errors';
import { CONFIRMATION_EXPIRED, CONFIRMATION_USED } from '../../workflows/failure-types';

const T = {
  fr: {
    title: 'Confirmez votre adresse de livraison',
    intro: (o: string) => `Avant d'expédier votre commande ${o}, merci de vérifier l'adresse :`,
    confirm: 'Cette adresse est correcte',
    correct: "Corriger l'adresse",
    line1: 'Adresse',
    line2: 'Complément (facultatif)',
    city: 'Ville',
    postalCode: 'Code postal',
    country: 'Pays (code à 2 lettres)',
    done: 'Merci ! Votre adresse est confirmée, votre commande va être préparée.',
    held: 'Merci. Nous devons encore vérifier cette adresse ; le vendeur vous contactera.',
    used: 'Ce lien a déjà été utilisé. Votre réponse a bien été prise en compte.',
    expired: 'Ce lien a expiré. Contactez le vendeur pour confirmer votre adresse.',
    invalid: "Ce lien n'est pas valide. Vérifiez que vous l'avez copié en entier.",
    notWaiting: "Cette commande n'attend plus de confirmation d'adresse.",
    fix: 'Merci de corriger :',
  },
  en: {
    title: 'Confirm your delivery address',
    intro: (o: string) => `Before we ship your order ${o}, please check the address:`,
    confirm: 'This address is right',
    correct: 'Correct the address',
    line1: 'Address',
    line2: 'Address line 2 (optional)',
    city: 'City',
    postalCode: 'Postal code',
    country: 'Country (2-letter code)',
    done: 'Thank you! Your address is confirmed and your order will be prepared.',
    held: 'Thank you. We still need to check this address; the seller will contact you.',
    used: 'This link was already used. Your answer has been recorded.',
    expired: 'This link has expired. Please contact the seller to confirm your address.',
    invalid: 'This link is not valid. Check that you copied all of it.',
    notWaiting: 'This order is no longer waiting for an address confirmation.',
    fix: 'Please correct:',
  },
};

const AUTOCOMPLETE: Record<keyof Address, string> = {
  line1: 'address-line1',
  line2: 'address-line2',
  postalCode: 'postal-code',
  city: 'address-level2',
  country: 'country',
};

/** The page (views/confirm.hbs): a message alone, or the address with its forms (and the fields to fix). */
function page(
  reply: FastifyReply,
  status: number,
  lang: Locale,
  content: { message: string; error?: boolean } | { orderId: string; address: Address; errors?: string[] },
) {
  const w = T[lang];
  const form = 'address' in content && {
    intro: w.intro(content.orderId),
    address: content.address,
    errors: content.errors ?? [],
    fields: (['line1', 'line2', 'postalCode', 'city', 'country'] as const).map((name) => ({
      name,
      label: w[name],
      value: content.address[name] ?? '',
      required: name !== 'line2',
      autocomplete: AUTOCOMPLETE[name],
    })),
  };
  // Headers: securePublicPages (no framing, no sniffing, no caching, no referrer).
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(renderView('confirm', { lang, w, ...(form || content) }));
}

const tokenParams = z.object({
  token: z.string().min(1).describe('the signed, expiring link token sent to the customer'),
});

export async function confirmRoutes(scope: FastifyInstance, deps: ApiDeps, limits: ApiLimits) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  securePublicPages(app);
  // Per client address: the page is public, and a guessed token must stay a slow guess.
  const config = { rateLimit: { max: limits.publicRate.max, timeWindow: limits.publicRate.windowMs } };
  const secrets = linkSecrets(deps);
  const onRequest = perTenantLinkLimit(app, limits, secrets, 'confirm');
  const doc = { tags: ['public'], params: tokenParams };
  /** Verifies the token and finds the tenant's language; the order workflow decides the rest. */
  async function open(request: FastifyRequest) {
    const check = checkLink(request, secrets, 'confirm');
    if (!check.ok) return { check } as const;
    const [orderId, nonce] = check.claims.target.split(':');
    const tenant = await deps.db.Tenant.findById(check.claims.tenantId, { locale: 1 }).lean();
    const lang = (tenant?.locale ?? 'en') as Locale;
    return {
      check,
      orderId,
      nonce,
      lang,
      handle: deps.temporal.workflow.getHandle(orderWorkflowId(check.claims.tenantId, orderId)),
    } as const;
  }

  const failure = (reply: FastifyReply, reason: 'malformed' | 'forged' | 'expired', lang: Locale = 'en') =>
    page(reply, reason === 'expired' ? 410 : 404, lang, {
      message: reason === 'expired' ? T[lang].expired : T[lang].invalid,
    });

  app.get(
    '/c/:token',
    {
      config,
      onRequest,
      schema: {
        ...doc,
        summary: "The customer's address confirmation page (O3)",
        response: {
          200: htmlPage('the form, or where the confirmation stands'),
          404: htmlPage('the link is not valid'),
          410: htmlPage('the link has expired'),
          ...errors(429),
        },
      },
    },
    async (request, reply) => {
      const o = await open(request);
      if (!o.check.ok) return failure(reply, o.check.reason);
      const w = T[o.lang!];
      try {
        const view = await o.handle!.query(orderStateQuery);
        const c = view.confirmation;
        if (c && c.nonce === o.nonce && c.used) return page(reply, 200, o.lang!, { message: w.used });
        if (view.state !== 'on_hold' || c?.nonce !== o.nonce)
          return page(reply, 200, o.lang!, { message: w.notWaiting });
        return page(reply, 200, o.lang!, { orderId: o.orderId!, address: view.address });
      } catch (err) {
        if (workflowNotFound(err)) return failure(reply, 'forged', o.lang);
        throw err;
      }
    },
  );

  app.post(
    '/c/:token',
    {
      config,
      onRequest,
      // A customer gets a page in their language, not the API's JSON error: the handler answers a
      // form that doesn't match (after checking the token) with the same schema.
      attachValidation: true,
      schema: {
        ...doc,
        summary: 'Confirm or correct the address (O3); single use',
        consumes: ['application/x-www-form-urlencoded'],
        body: confirmFormSchema,
        response: {
          200: htmlPage('recorded'),
          400: htmlPage('the form is not valid (the page names the fields)'),
          404: htmlPage('the link is not valid'),
          409: htmlPage('already used, or the order no longer waits for a confirmation'),
          410: htmlPage('the link has expired'),
          ...errors(413, 429),
        },
      },
    },
    async (request, reply) => {
      const o = await open(request);
      if (!o.check.ok) return failure(reply, o.check.reason);
      const w = T[o.lang!];
      const posted = confirmFormSchema.safeParse(request.body ?? {});
      if (!posted.success) {
        const sent = (request.body ?? {}) as Record<string, unknown>;
        if (sent.action !== 'correct') return page(reply, 400, o.lang!, { message: w.invalid, error: true });
        // The correction form again, as sent, naming the fields to fix.
        const view = await o.handle!.query(orderStateQuery).catch((err: unknown) => {
          if (workflowNotFound(err)) return undefined;
          throw err;
        });
        if (!view) return failure(reply, 'forged', o.lang);
        const labels = [
          ...new Set(posted.error.issues.map((i) => w[String(i.path[0]) as 'line1'] ?? String(i.path[0]))),
        ];
        const asSent = Object.fromEntries(
          Object.entries(sent).filter(([k, v]) => k in view.address && typeof v === 'string'),
        );
        return page(reply, 400, o.lang!, {
          orderId: o.orderId!,
          address: { ...view.address, ...asSent } as Address,
          errors: labels,
        });
      }
      let corrected: Address | null = null;
      if (posted.data.action === 'correct') {
        const { action: _action, ...address } = posted.data;
        corrected = address;
      }
      try {
        const view = await o.handle!.executeUpdate(confirmAddressUpdate, {
          args: [{ nonce: o.nonce!, via: 'link', corrected }],
        });
        return page(reply, 200, o.lang!, { message: view.state === 'on_hold' ? w.held : w.done });
      } catch (err) {
        const refusal = updateRefusal(err);
        if (refusal) {
          const text =
            refusal.type === CONFIRMATION_USED
              ? w.used
              : refusal.type === CONFIRMATION_EXPIRED
                ? w.expired
                : w.notWaiting;
          return page(reply, refusal.type === CONFIRMATION_EXPIRED ? 410 : 409, o.lang!, { message: text });
        }
        if (workflowNotFound(err)) return failure(reply, 'forged', o.lang);
        throw err;
      }
    },
  );
}
