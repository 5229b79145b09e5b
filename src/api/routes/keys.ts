// /v1/keys: a tenant's admin lists, creates and revokes the tenant's API keys — how keys are
// rotated (docs/security.md): create the new key, switch the platform to it, revoke the old one.
// The secret is shown once, at creation; only its hash is kept.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server';
import { requireRole } from '../server';
import { ApiError, parse } from '../errors';
import { createKeySchema } from '../schemas';
import { createApiKey } from '../../db/api-keys';

const view = (k: { _id: string; roles: string[]; label?: string | null; createdAt?: Date }) =>
  ({ id: k._id, roles: k.roles, label: k.label ?? null, createdAt: k.createdAt?.toISOString() ?? null });

export async function keyRoutes(app: FastifyInstance, deps: ApiDeps) {
  const admin = requireRole(deps, 'admin');
  const { db } = deps;
  /** The caller's tenant: a platform key manages no tenant's keys. */
  const caller = (request: { principal?: { tenantId: string | null; keyId: string } }) => {
    const { tenantId, keyId } = request.principal!;
    if (!tenantId) throw new ApiError(403, 'forbidden', 'a platform key has no tenant keys to manage');
    return { tenantId, actor: keyId };
  };

  app.get('/v1/keys', { preHandler: admin }, async (request) => {
    const keys = await db.ApiKey.find({ tenantId: caller(request).tenantId }, { roles: 1, label: 1, createdAt: 1 }).sort({ createdAt: 1 }).lean();
    return { keys: keys.map(view) };
  });

  app.post('/v1/keys', { preHandler: admin }, async (request, reply) => {
    const { tenantId, actor } = caller(request);
    const body = parse(createKeySchema, request.body);
    const { key, keyId } = await createApiKey(db, { tenantId, roles: body.roles, label: body.label ?? undefined });
    await db.Audit.create({ tenantId, actor, action: 'key.create', target: keyId, at: new Date(), details: { roles: body.roles, label: body.label } });
    return reply.status(201).send({ id: keyId, key, roles: body.roles, label: body.label });
  });

  app.delete<{ Params: { id: string } }>('/v1/keys/:id', { preHandler: admin }, async (request, reply) => {
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
