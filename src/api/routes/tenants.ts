// /v1/tenants: a platform key creates tenants and their first admin key, and gives a tenant left
// without any admin key a new one (docs/security.md, "A locked-out tenant").
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../deps';
import { apiErrors, authenticated, requireRole } from '../auth';
import { ApiError, refusePolicyProblems } from '../errors';
import { createTenantSchema, recoverAdminKeySchema } from '../schemas';
import { createApiKey } from '../../db/api-keys';

export async function tenantRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  app.post(
    '/v1/tenants',
    {
      onRequest: requireRole(deps, 'platform'),
      schema: {
        tags: ['tenant'],
        ...authenticated,
        summary: 'Create a tenant and its first admin key (role platform)',
        body: createTenantSchema,
        response: {
          201: z.object({ tenant: z.object({ id: z.string(), name: z.string() }), apiKey: z.string() }),
          ...apiErrors(409, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      refusePolicyProblems(body.policies);
      if (await deps.db.Tenant.exists({ _id: body.id }))
        throw new ApiError(409, 'conflict', `tenant ${body.id} exists`);
      await deps.db.Tenant.create({ _id: body.id, ...body });
      const { key } = await createApiKey(deps.db, { tenantId: body.id, roles: ['admin'], label: 'first admin key' });
      return reply.status(201).send({ tenant: { id: body.id, name: body.name }, apiKey: key });
    },
  );

  app.post(
    '/v1/tenants/:id/keys',
    {
      onRequest: requireRole(deps, 'platform'),
      schema: {
        tags: ['tenant'],
        ...authenticated,
        summary: 'Give a tenant that has no admin key left a new one (role platform; audited)',
        params: z.object({ id: z.string().min(1).describe('the tenant') }),
        body: recoverAdminKeySchema,
        response: {
          201: z.object({
            tenantId: z.string(),
            id: z.string(),
            key: z.string(),
            roles: z.array(z.string()),
            label: z.string().nullable(),
          }),
          ...apiErrors(404, 409),
        },
      },
    },
    async (request, reply) => {
      const tenantId = request.params.id;
      const { db } = deps;
      if (!(await db.Tenant.exists({ _id: tenantId }))) throw new ApiError(404, 'not_found', `no tenant ${tenantId}`);
      // Only a locked-out tenant: one that still has an admin key manages its own keys (POST /v1/keys).
      if (await db.ApiKey.exists({ tenantId, roles: 'admin' })) {
        throw new ApiError(
          409,
          'tenant_has_admin_key',
          `tenant ${tenantId} still has an admin key: its admin creates keys with POST /v1/keys`,
        );
      }
      const label = request.body.label ?? 'recovery admin key';
      const { key, keyId } = await createApiKey(db, { tenantId, roles: ['admin'], label });
      await db.Audit.create({
        tenantId,
        actor: request.principal!.keyId,
        action: 'key.recover',
        target: keyId,
        reason: request.body.reason,
        at: new Date(),
        details: { roles: ['admin'], label },
      });
      return reply.status(201).send({ tenantId, id: keyId, key, roles: ['admin'], label });
    },
  );
}
