// /v1/address-health (issue 20, item 2): a tenant's address-health registry — every address and
// number it sent to that a provider said something about — read by `log:read` or `ops`, cleared
// by `ops` (audited).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../deps';
import { apiErrors, authenticated, requireRole } from '../auth';
import { clearAddressHealthSchema } from '../schemas';
import {
  clearAddressHealth,
  listAddressHealth,
  listAddressHealthQuery,
  readAddressHealth,
  recordView,
} from '../../app/address-health';

export async function addressHealthRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const read = requireRole(deps, 'log:read', 'ops');
  const ops = requireRole(deps, 'ops');
  const doc = { tags: ['address-health'], ...authenticated };
  const params = z.object({
    address: z.string().min(3).max(320).describe('an email address or a +E.164 phone number (URL-encoded)'),
  });

  app.get(
    '/v1/address-health',
    {
      onRequest: read,
      schema: {
        ...doc,
        summary: "The tenant's address-health registry, most recently seen first",
        querystring: listAddressHealthQuery,
        response: {
          200: z.object({ records: z.array(recordView), nextCursor: z.number().int().nullable() }),
          ...apiErrors(),
        },
      },
    },
    async (request) => listAddressHealth(deps.db, request.principal!.tenantId!, request.query),
  );

  app.get(
    '/v1/address-health/:address',
    {
      onRequest: read,
      schema: {
        ...doc,
        summary: "One address's health: its state, and each condition with its reason, counts, first and last seen",
        params,
        response: { 200: recordView, ...apiErrors(404) },
      },
    },
    async (request) => readAddressHealth(deps.db, request.principal!.tenantId!, request.params.address),
  );

  app.delete(
    '/v1/address-health/:address',
    {
      onRequest: ops,
      schema: {
        ...doc,
        summary: "Clear an address's record (role ops; audited): it starts afresh, its history kept",
        params,
        body: clearAddressHealthSchema,
        response: { 200: recordView, ...apiErrors(404) },
      },
    },
    async (request) => clearAddressHealth(deps.db, request.principal!, request.params.address, request.body.reason),
  );
}
