// /v1/tenants: a platform key creates tenants and their first admin key.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../server';
import { apiErrors, authenticated, requireRole } from '../server';
import { ApiError } from '../errors';
import { createTenantSchema } from '../schemas';
import { createApiKey } from '../../db/api-keys';

export async function tenantRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  app.post('/v1/tenants', {
    onRequest: requireRole(deps, 'platform'),
    schema: {
      tags: ['tenant'], ...authenticated, summary: 'Create a tenant and its first admin key (role platform)',
      body: createTenantSchema,
      response: { 201: z.object({ tenant: z.object({ id: z.string(), name: z.string() }), apiKey: z.string() }), ...apiErrors(409) },
    },
  }, async (request, reply) => {
    const body = request.body;
    if (await deps.db.Tenant.exists({ _id: body.id })) throw new ApiError(409, 'conflict', `tenant ${body.id} exists`);
    await deps.db.Tenant.create({ _id: body.id, ...body });
    const { key } = await createApiKey(deps.db, { tenantId: body.id, roles: ['admin'], label: 'first admin key' });
    return reply.status(201).send({ tenant: { id: body.id, name: body.name }, apiKey: key });
  });
}
