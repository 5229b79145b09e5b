// /c/:token — the customer's address confirmation page (rule O3): server-rendered, no
// JavaScript, French or English, readable on a phone. The link is signed and expiring; the
// order workflow makes it single-use and re-checks a corrected address.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { linkSecrets } from '../../links';
import { checkLink } from '../link-check';
import { confirmFormSchema } from '../schemas';
import { confirmAddressUpdate, orderStateQuery, orderWorkflowId, type Address } from '../../workflows/order-contract';
import { errors, htmlPage, type ZodRequestTypes } from '../openapi';
import { perTenantLinkLimit, type ApiLimits } from '../limits';
import { securePublicPages } from '../public-pages';
import { updateRefusal, workflowNotFound } from '../../app/workflow-errors';
import { CONFIRMATION_EXPIRED, CONFIRMATION_USED } from '../../workflows/failure-types';

const T = {
  fr: {
    title: 'Confirmez votre adresse de livraison', intro: (o: string) => `Avant d'expédier votre commande ${o}, merci de vérifier l'adresse :`,
    confirm: 'Cette adresse est correcte', correct: 'Corriger l\'adresse', line1: 'Adresse', line2: 'Complément (facultatif)', city: 'Ville', postalCode: 'Code postal', country: 'Pays (code à 2 lettres)',
    done: 'Merci ! Votre adresse est confirmée, votre commande va être préparée.', held: 'Merci. Nous devons encore vérifier cette adresse ; le vendeur vous contactera.',
    used: 'Ce lien a déjà été utilisé. Votre réponse a bien été prise en compte.', expired: 'Ce lien a expiré. Contactez le vendeur pour confirmer votre adresse.',
    invalid: 'Ce lien n\'est pas valide. Vérifiez que vous l\'avez copié en entier.', notWaiting: 'Cette commande n\'attend plus de confirmation d\'adresse.', fix: 'Merci de corriger :',
  },
  en: {
    title: 'Confirm your delivery address', intro: (o: string) => `Before we ship your order ${o}, please check the address:`,
    confirm: 'This address is right', correct: 'Correct the address', line1: 'Address', line2: 'Address line 2 (optional)', city: 'City', postalCode: 'Postal code', country: 'Country (2-letter code)',
    done: 'Thank you! Your address is confirmed and your order will be prepared.', held: 'Thank you. We still need to check this address; the seller will contact you.',
    used: 'This link was already used. Your answer has been recorded.', expired: 'This link has expired. Please contact the seller to confirm your address.',
    invalid: 'This link is not valid. Check that you copied all of it.', notWaiting: 'This order is no longer waiting for an address confirmation.', fix: 'Please correct:',
  },
};
type Words = (typeof T)['en'];

const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(reply: FastifyReply, status: number, lang: 'fr' | 'en', body: string) {
  // Headers: securePublicPages (no framing, no sniffing, no caching, no referrer).
  return reply.status(status).type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(T[lang].title)}</title><style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1a1a1a}
label{display:block;margin-top:.75rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:4px}
button{margin-top:1rem;width:100%;padding:.8rem;font-size:1rem;border:0;border-radius:4px;background:#1d4ed8;color:#fff}
button.secondary{background:#fff;color:#1d4ed8;border:2px solid #1d4ed8}address{font-style:normal;background:#f4f4f5;padding:.75rem;border-radius:4px}
.error{color:#b91c1c}</style></head><body><main>${body}</main></body></html>`);
}

function form(w: Words, orderId: string, address: Address, errors: string[] = []) {
  const field = (name: keyof Address, label: string, required = true) =>
    `<label for="${name}">${esc(label)}</label><input id="${name}" name="${name}" value="${esc(address[name] ?? '')}"${required ? ' required' : ''} autocomplete="${name === 'postalCode' ? 'postal-code' : name === 'country' ? 'country' : name === 'city' ? 'address-level2' : name === 'line1' ? 'address-line1' : 'address-line2'}">`;
  return `<h1>${esc(w.title)}</h1><p>${esc(w.intro(orderId))}</p>
<address>${esc(address.line1)}<br>${address.line2 ? `${esc(address.line2)}<br>` : ''}${esc(address.postalCode)} ${esc(address.city)}<br>${esc(address.country)}</address>
<form method="post"><input type="hidden" name="action" value="confirm"><button type="submit">${esc(w.confirm)}</button></form>
<h2>${esc(w.correct)}</h2>${errors.length ? `<p class="error" role="alert">${esc(w.fix)} ${errors.map(esc).join(', ')}</p>` : ''}
<form method="post"><input type="hidden" name="action" value="correct">
${field('line1', w.line1)}${field('line2', w.line2, false)}${field('postalCode', w.postalCode)}${field('city', w.city)}${field('country', w.country)}
<button type="submit" class="secondary">${esc(w.correct)}</button></form>`;
}

const tokenParams = z.object({ token: z.string().min(1).describe('the signed, expiring link token sent to the customer') });

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
    const lang = (tenant?.locale ?? 'en') as 'fr' | 'en';
    return { check, orderId, nonce, lang, handle: deps.temporal.workflow.getHandle(orderWorkflowId(check.claims.tenantId, orderId)) } as const;
  }

  const failure = (reply: FastifyReply, reason: 'malformed' | 'forged' | 'expired', lang: 'fr' | 'en' = 'en') =>
    page(reply, reason === 'expired' ? 410 : 404, lang, `<h1>${esc(T[lang].title)}</h1><p>${esc(reason === 'expired' ? T[lang].expired : T[lang].invalid)}</p>`);

  app.get('/c/:token', {
    config, onRequest,
    schema: {
      ...doc, summary: 'The customer\'s address confirmation page (O3)',
      response: { 200: htmlPage('the form, or where the confirmation stands'), 404: htmlPage('the link is not valid'), 410: htmlPage('the link has expired'), ...errors(429) },
    },
  }, async (request, reply) => {
    const o = await open(request);
    if (!o.check.ok) return failure(reply, o.check.reason);
    const w = T[o.lang!];
    try {
      const view = await o.handle!.query(orderStateQuery);
      const c = view.confirmation;
      if (c && c.nonce === o.nonce && c.used) return page(reply, 200, o.lang!, `<h1>${esc(w.title)}</h1><p>${esc(w.used)}</p>`);
      if (view.state !== 'on_hold' || c?.nonce !== o.nonce) return page(reply, 200, o.lang!, `<h1>${esc(w.title)}</h1><p>${esc(w.notWaiting)}</p>`);
      return page(reply, 200, o.lang!, form(w, o.orderId!, view.address));
    } catch (err) {
      if (workflowNotFound(err)) return failure(reply, 'forged', o.lang);
      throw err;
    }
  });

  app.post('/c/:token', {
    config, onRequest,
    // A customer gets a page in their language, not the API's JSON error: the handler answers a
    // form that doesn't match (after checking the token) with the same schema.
    attachValidation: true,
    schema: {
      ...doc, summary: 'Confirm or correct the address (O3); single use', consumes: ['application/x-www-form-urlencoded'], body: confirmFormSchema,
      response: {
        200: htmlPage('recorded'), 400: htmlPage('the form is not valid (the page names the fields)'), 404: htmlPage('the link is not valid'),
        409: htmlPage('already used, or the order no longer waits for a confirmation'), 410: htmlPage('the link has expired'), ...errors(413, 429),
      },
    },
  }, async (request, reply) => {
    const o = await open(request);
    if (!o.check.ok) return failure(reply, o.check.reason);
    const w = T[o.lang!];
    const posted = confirmFormSchema.safeParse(request.body ?? {});
    if (!posted.success) {
      const sent = (request.body ?? {}) as Record<string, unknown>;
      if (sent.action !== 'correct') return page(reply, 400, o.lang!, `<h1>${esc(w.title)}</h1><p class="error">${esc(w.invalid)}</p>`);
      // The correction form again, as sent, naming the fields to fix.
      const view = await o.handle!.query(orderStateQuery).catch((err: unknown) => {
        if (workflowNotFound(err)) return undefined;
        throw err;
      });
      if (!view) return failure(reply, 'forged', o.lang);
      const labels = [...new Set(posted.error.issues.map((i) => w[String(i.path[0]) as 'line1'] ?? String(i.path[0])))];
      const asSent = Object.fromEntries(Object.entries(sent).filter(([k, v]) => k in view.address && typeof v === 'string'));
      return page(reply, 400, o.lang!, form(w, o.orderId!, { ...view.address, ...asSent } as Address, labels));
    }
    let corrected: Address | null = null;
    if (posted.data.action === 'correct') {
      const { action: _action, ...address } = posted.data;
      corrected = address;
    }
    try {
      const view = await o.handle!.executeUpdate(confirmAddressUpdate, { args: [{ nonce: o.nonce!, via: 'link', corrected }] });
      return page(reply, 200, o.lang!, `<h1>${esc(w.title)}</h1><p>${esc(view.state === 'on_hold' ? w.held : w.done)}</p>`);
    } catch (err) {
      const refusal = updateRefusal(err);
      if (refusal) {
        const text = refusal.type === CONFIRMATION_USED ? w.used : refusal.type === CONFIRMATION_EXPIRED ? w.expired : w.notWaiting;
        return page(reply, refusal.type === CONFIRMATION_EXPIRED ? 410 : 409, o.lang!, `<h1>${esc(w.title)}</h1><p>${esc(text)}</p>`);
      }
      if (workflowNotFound(err)) return failure(reply, 'forged', o.lang);
      throw err;
    }
  });
}
