// /v1/keys: a tenant's admin lists, creates and revokes the tenant's API keys — how keys are
// rotated (docs/security.md): create the new key, switch the platform to it, revoke the old one.
// The secret is shown once, at creation; only its hash is kept.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../server';
import { apiErrors, authenticated, requireRole } from '../server';
import { ApiError } from '../errors';
import { createKeySchema } from '../schemas';
import type { ZodRequestTypes } from '../openapi';
import { createApiKey } from '../../db/api-keys';

const view = (k: { _id: string; roles: string[]; label?: string | null; createdAt?: Date }) =>
  ({ id: k._id, roles: k.roles, label: k.label ?? null, createdAt: k.createdAt?.toISOString() ?? null });

const keyView = z.object({ id: z.string(), roles: z.array(z.string()), label: z.string().nullable(), createdAt: z.string().nullable() });
export async function keyRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const doc = { tags: ['tenant'], ...authenticated };
  const admin = requireRole(deps, 'admin');
  const { db } = deps;
  /** The caller's tenant: a platform key manages no tenant's keys. */
  const caller = (request: { principal?: { tenantId: string | null; keyId: string } }) => {
    const { tenantId, keyId } = request.principal!;
    if (!tenantId) throw new ApiError(403, 'forbidden', 'a platform key has no tenant keys to manage');
    return { tenantId, actor: keyId };
  };

  app.get('/v1/keys', {
    onRequest: admin,
    schema: { ...doc, summary: 'The tenant\'s API keys (never their secrets)', response: { 200: z.object({ keys: z.array(keyView) }), ...apiErrors() } },
  }, async (request) => {
    const keys = await db.ApiKey.find({ tenantId: caller(request).tenantId }, { roles: 1, label: 1, createdAt: 1 }).sort({ createdAt: 1 }).lean();
    return { keys: keys.map(view) };
  });

  app.post('/v1/keys', {
    onRequest: admin,
    schema: {
      ...doc, summary: 'Create a key for this tenant; its secret is shown once', body: createKeySchema,
      response: { 201: z.object({ id: z.string(), key: z.string(), roles: z.array(z.string()), label: z.string().nullable() }), ...apiErrors() },
    },
  }, async (request, reply) => {
    const { tenantId, actor } = caller(request);
    const body = request.body;
    const { key, keyId } = await createApiKey(db, { tenantId, roles: body.roles, label: body.label ?? undefined });
    await db.Audit.create({ tenantId, actor, action: 'key.create', target: keyId, at: new Date(), details: { roles: body.roles, label: body.label } });
    return reply.status(201).send({ id: keyId, key, roles: body.roles, label: body.label });
  });

  app.delete('/v1/keys/:id', {
    onRequest: admin,
    schema: {
      ...doc, summary: 'Revoke a key (never the tenant\'s last admin key)', params: z.object({ id: z.string().min(1) }),
      response: { 204: z.null().describe('revoked'), ...apiErrors(404, 409) },
    },
  }, async (request, reply) => {
    const { tenantId, actor } = caller(request);
    const target = await db.ApiKey.findOne({ _id: request.params.id, tenantId }, { roles: 1 }).lean();
    if (!target) throw new ApiError(404, 'not_found', `no key ${request.params.id}`);
    // Never lock a tenant out: its last admin key stays until another admin key exists.
    if (target.roles.includes('admin') && await db.ApiKey.countDocuments({ tenantId, roles: 'admin' }) <= 1) {
      throw new ApiError(409, 'last_admin_key', 'this is the tenant\'s last admin key: create another admin key first');
    }
    await db.ApiKey.deleteOne({ _id: target._id, tenantId });
    await db.Audit.create({ tenantId, actor, action: 'key.revoke', target: target._id, at: new Date(), details: null });
    return reply.status(204).send();
  });
}
