// Limits of the HTTP surface (docs/api.md, "Limits"): how large a body each route takes and how
// often a client address may call the public routes. Configured in src/config.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config';
import { checkLink } from './link-check';
import { ApiError } from './errors';
import { isoDurationToMs } from '../domain/durations';
import type { InboxBound } from './webhook-inbox';

export interface ApiLimits {
  /** Any JSON body, unless the route says otherwise. */
  bodyLimitBytes: number;
  /** POST /v1/dispatches: attachments travel base64-encoded (MAX_ATTACHMENT_BYTES, 4/3 larger). */
  dispatchBodyLimitBytes: number;
  /** Provider webhooks: a SendGrid batch holds up to a few thousand events. */
  webhookBodyLimitBytes: number;
  /**
   * Issue 15: accepted SendGrid requests one API process holds unapplied before it answers 503
   * with Retry-After (src/api/webhook-inbox.ts): bounds its memory when the store or Temporal is
   * slower than the provider. The bytes are the request bodies; parsed, they take a few times more.
   */
  webhookInbox: InboxBound;
  /** Customer pages (/c/:token, /d/:token), per client address. */
  publicRate: { max: number; windowMs: number };
  /** Provider webhooks, per client address (they carry no tenant we can trust before the signature). */
  webhookRate: { max: number; windowMs: number };
  /**
   * Customer pages, per tenant (the tenant of a link whose signature holds): one business's
   * flood of clicks, or a leaked link replayed from many addresses, cannot crowd out the others.
   */
  tenantPublicRate: { max: number; windowMs: number };
}

export const DEFAULT_LIMITS: ApiLimits = {
  bodyLimitBytes: 1024 * 1024,
  dispatchBodyLimitBytes: 12 * 1024 * 1024,
  webhookBodyLimitBytes: 10 * 1024 * 1024,
  webhookInbox: { maxPendingRequests: 1000, maxPendingBytes: 32 * 1024 * 1024 },
  publicRate: { max: 60, windowMs: 60_000 },
  webhookRate: { max: 1200, windowMs: 60_000 },
  tenantPublicRate: { max: 600, windowMs: 60_000 },
};

export function limitsFromConfig(config: Config): ApiLimits {
  const windowMs = isoDurationToMs(config.RATE_LIMIT_WINDOW);
  return {
    bodyLimitBytes: config.API_BODY_LIMIT_BYTES,
    dispatchBodyLimitBytes: config.API_DISPATCH_BODY_LIMIT_BYTES,
    webhookBodyLimitBytes: config.API_WEBHOOK_BODY_LIMIT_BYTES,
    webhookInbox: DEFAULT_LIMITS.webhookInbox,
    publicRate: { max: config.RATE_LIMIT_PUBLIC_MAX, windowMs },
    webhookRate: { max: config.RATE_LIMIT_WEBHOOK_MAX, windowMs },
    tenantPublicRate: { max: config.RATE_LIMIT_TENANT_PUBLIC_MAX, windowMs },
  };
}

/**
 * The per-tenant limit of a customer page (/c/:token, /d/:token), beside its per-address one
 * (an onRequest hook: the rate-limit plugin runs one limiter per request, so this one counts
 * through `createRateLimit` and answers 429 itself). Keyed by the tenant of a link whose
 * signature verifies; a link that does not verify is only the per-address limit's business (a
 * forged token must not spend a real tenant's allowance).
 */
export function perTenantLinkLimit(
  app: FastifyInstance,
  limits: ApiLimits,
  secrets: readonly string[],
  kind: 'confirm' | 'document' | 'attachment' | 'receipt',
) {
  const tenantOf = (request: FastifyRequest) => {
    const check = checkLink(request, secrets, kind);
    return check.ok ? check.claims.tenantId : undefined;
  };
  const count = app.createRateLimit({
    max: limits.tenantPublicRate.max,
    timeWindow: limits.tenantPublicRate.windowMs,
    keyGenerator: (request) => `${kind}:${tenantOf(request)}`,
  });
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!tenantOf(request)) return;
    const { isExceeded, max, ttlInSeconds } = (await count(request)) as {
      isExceeded?: boolean;
      max?: number;
      ttlInSeconds?: number;
    };
    if (!isExceeded) return;
    const retryAfterSeconds = Math.max(1, ttlInSeconds ?? 1);
    const window = `${Math.round(limits.tenantPublicRate.windowMs / 1000)} s`;
    reply.header('retry-after', String(retryAfterSeconds));
    throw new ApiError(
      429,
      'rate_limited',
      `too many requests to this business's links: at most ${max} per ${window}; retry in ${retryAfterSeconds} s`,
      { limit: max, window, retryAfterSeconds },
    );
  };
}
