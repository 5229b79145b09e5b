// A customer link (/c/:token, /d/:token) is verified once per request: first by the per-tenant
// rate limit, which needs the link's tenant, then read again by the page itself.
import type { FastifyRequest } from 'fastify';
import { verifyLink, type LinkCheck } from '../links';

const checks = new WeakMap<FastifyRequest, LinkCheck>();

/** The check of the request's `:token` against `secrets` (none configured: every link is forged). */
export function checkLink(
  request: FastifyRequest,
  secrets: readonly string[],
  kind: 'confirm' | 'document' | 'attachment' | 'receipt',
): LinkCheck {
  let check = checks.get(request);
  if (!check) {
    const token = (request.params as { token?: string }).token ?? '';
    check = secrets.length ? verifyLink(secrets, token, kind) : { ok: false, reason: 'forged' };
    checks.set(request, check);
  }
  return check;
}
