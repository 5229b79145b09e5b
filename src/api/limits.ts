// Limits of the HTTP surface (docs/api.md, "Limits"): how large a body each route takes and how
// often a client address may call the public routes. Configured in src/config.ts.
import type { Config } from '../config';
import { isoDurationToMs } from '../domain/durations';

export interface ApiLimits {
  /** Any JSON body, unless the route says otherwise. */
  bodyLimitBytes: number;
  /** POST /v1/dispatches: attachments travel base64-encoded (MAX_ATTACHMENT_BYTES, 4/3 larger). */
  dispatchBodyLimitBytes: number;
  /** Provider webhooks: a SendGrid batch holds up to a few thousand events. */
  webhookBodyLimitBytes: number;
  /** Customer pages (/c/:token, /d/:token), per client address. */
  publicRate: { max: number; windowMs: number };
  /** Provider webhooks, per client address (they carry no tenant we can trust before the signature). */
  webhookRate: { max: number; windowMs: number };
}

export const DEFAULT_LIMITS: ApiLimits = {
  bodyLimitBytes: 1024 * 1024,
  dispatchBodyLimitBytes: 12 * 1024 * 1024,
  webhookBodyLimitBytes: 10 * 1024 * 1024,
  publicRate: { max: 60, windowMs: 60_000 },
  webhookRate: { max: 1200, windowMs: 60_000 },
};

export function limitsFromConfig(config: Config): ApiLimits {
  const windowMs = isoDurationToMs(config.RATE_LIMIT_WINDOW);
  return {
    bodyLimitBytes: config.API_BODY_LIMIT_BYTES,
    dispatchBodyLimitBytes: config.API_DISPATCH_BODY_LIMIT_BYTES,
    webhookBodyLimitBytes: config.API_WEBHOOK_BODY_LIMIT_BYTES,
    publicRate: { max: config.RATE_LIMIT_PUBLIC_MAX, windowMs },
    webhookRate: { max: config.RATE_LIMIT_WEBHOOK_MAX, windowMs },
  };
}
