// Who may call a route (API keys and their roles) and what every authenticated route documents.
// Kept apart from server.ts so that routes can import it without importing the server that
// registers them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/models';
import { verifyApiKey, type Principal, type Role } from '../db/api-keys';
import { ApiError } from './errors';
import { errors } from './openapi';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Whether a principal holds one of the roles. A tenant's `admin` key has every role within its
 * tenant, never `platform` (creating tenants is outside any one tenant: found by the API fuzzer).
 */
export const allows = (principal: Principal, roles: readonly Role[]): boolean =>
  roles.some(
    (r) =>
      principal.roles.includes(r) ||
      (r !== 'platform' && principal.tenantId !== null && principal.roles.includes('admin')),
  );

/**
 * Who did something, as audits and an order's timeline record it: the person's name given at the
 * operator pages' sign-in with the key's id, or the API key's id alone.
 */
export const actorOf = (principal: Principal): string =>
  principal.person ? `${principal.person} (key ${principal.keyId})` : principal.keyId;

/** An actor as `actorOf` wrote it: the key's id, and the person's name when one was given. */
export function actorParts(actor: string): { keyId: string; person: string | null } {
  const m = /^(.*) \(key ([^\s()]+)\)$/.exec(actor);
  return m ? { keyId: m[2], person: m[1] } : { keyId: actor, person: null };
}

/** What every route behind an API key documents: the key, and the errors auth and validation may give. */
export const authenticated = { security: [{ apiKey: [] }] };
export const apiErrors = (...more: number[]) => errors(400, 401, 403, ...more);

/**
 * onRequest hook of the two reads a notice used to link to (`/v1/dispatches/<id>`,
 * `/v1/orders/<id>`, in notices sent before they linked to /ui): a browser following such a link
 * (no API key, asks for HTML) is sent to the operator page, where sign-in leads back to it.
 * API clients are not affected: with a key, or without asking for HTML, the route answers JSON.
 */
export function browsersToPage(pagePath: (id: string) => string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.authorization !== undefined || !/\btext\/html\b/i.test(request.headers.accept ?? '')) return;
    return reply.redirect(pagePath((request.params as { id: string }).id), 303);
  };
}

/** How the routes with browsersToPage document it (z.null(): a response without a body). */
export const browserRedirect = {
  303: z
    .null()
    .describe(
      'A browser without a key (Accept: text/html, no Authorization) is sent to the operator page (Location: /ui/…)',
    ),
};

/** onRequest hook (before the body is read or validated, so 401/403 come first): a Bearer key with one of the roles (an `admin` key has them all within its tenant). */
export function requireRole(deps: { db: Db }, ...roles: Role[]) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(header);
    if (!m) throw new ApiError(401, 'unauthenticated', 'send an API key as "Authorization: Bearer <key>"');
    const principal = await verifyApiKey(deps.db, m[1]);
    if (!principal) throw new ApiError(401, 'unauthenticated', 'unknown or revoked API key');
    if (!allows(principal, roles))
      throw new ApiError(403, 'forbidden', `this key lacks the role ${roles.join(' or ')}`);
    request.principal = principal;
  };
}
