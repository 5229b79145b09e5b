// /v1/tenants: a platform key creates tenants and their first admin key.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server';
import { requireRole } from '../server';
import { ApiError, parse } from '../errors';
import { createTenantSchema } from '../schemas';
import { createApiKey } from '../../db/api-keys';

export async function tenantRoutes(app: FastifyInstance, deps: ApiDeps) {
  app.post('/v1/tenants', { preHandler: requireRole(deps, 'platform') }, async (request, reply) => {
    const body = parse(createTenantSchema, request.body);
    if (await deps.db.Tenant.exists({ _id: body.id })) throw new ApiError(409, 'conflict', `tenant ${body.id} exists`);
    await deps.db.Tenant.create({ _id: body.id, ...body });
    const { key } = await createApiKey(deps.db, { tenantId: body.id, roles: ['admin'], label: 'first admin key' });
    return reply.status(201).send({ tenant: { id: body.id, name: body.name }, apiKey: key });
  });
}
