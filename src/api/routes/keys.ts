// /v1/keys: a tenant's admin lists, creates and revokes the tenant's API keys — how keys are
// rotated (docs/security.md): create the new key, switch the platform to it, revoke the old one.
// The secret is shown once, at creation; only its hash is kept.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { apiErrors, authenticated, requireRole } from '../auth';
import { ApiError } from '../errors';
import { createKeySchema } from '../schemas';
import type { ZodRequestTypes } from '../openapi';
import { createApiKey } from '../../db/api-keys';
import type { ApiKeyDoc, Db } from '../../db/models';

const view = (k: { _id: string; roles: string[]; label?: string | null; createdAt?: Date }) => ({
  id: k._id,
  roles: k.roles,
  label: k.label ?? null,
  createdAt: k.createdAt?.toISOString() ?? null,
});

const keyView = z.object({
  id: z.string(),
  roles: z.array(z.string()),
  label: z.string().nullable(),
  createdAt: z.string().nullable(),
});
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

  app.get(
    '/v1/keys',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: "The tenant's API keys (never their secrets)",
        response: { 200: z.object({ keys: z.array(keyView) }), ...apiErrors() },
      },
    },
    async (request) => {
      const keys = await db.ApiKey.find({ tenantId: caller(request).tenantId }, { roles: 1, label: 1, createdAt: 1 })
        .sort({ createdAt: 1 })
        .lean();
      return { keys: keys.map(view) };
    },
  );

  app.post(
    '/v1/keys',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: 'Create a key for this tenant; its secret is shown once',
        body: createKeySchema,
        response: {
          201: z.object({ id: z.string(), key: z.string(), roles: z.array(z.string()), label: z.string().nullable() }),
          ...apiErrors(),
        },
      },
    },
    async (request, reply) => {
      const { tenantId, actor } = caller(request);
      const body = request.body;
      const { key, keyId } = await createApiKey(db, { tenantId, roles: body.roles, label: body.label ?? undefined });
      await db.Audit.create({
        tenantId,
        actor,
        action: 'key.create',
        target: keyId,
        at: new Date(),
        details: { roles: body.roles, label: body.label },
      });
      return reply.status(201).send({ id: keyId, key, roles: body.roles, label: body.label });
    },
  );

  app.delete(
    '/v1/keys/:id',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: "Revoke a key (never the tenant's last admin key)",
        params: z.object({ id: z.string().min(1) }),
        response: { 204: z.null().describe('revoked'), ...apiErrors(404, 409) },
      },
    },
    async (request, reply) => {
      const { tenantId, actor } = caller(request);
      const target = await db.ApiKey.findOne({ _id: request.params.id, tenantId }).lean();
      if (!target) throw new ApiError(404, 'not_found', `no key ${request.params.id}`);
      if (!(await revokeKeepingAnAdmin(db, target))) {
        throw new ApiError(
          409,
          'last_admin_key',
          "this is the tenant's last admin key: create another admin key first",
        );
      }
      await db.Audit.create({
        tenantId,
        actor,
        action: 'key.revoke',
        target: target._id,
        at: new Date(),
        details: null,
      });
      return reply.status(204).send();
    },
  );
}

/**
 * Revokes a key unless that leaves its tenant without an admin key (issue 14, finding 2): false
 * when refused. Neither FerretDB v1 (no transactions; an update reads, changes and writes back a
 * document without atomicity) nor a check-then-delete can make "count, then delete" one step, so:
 * delete the key (a single-document delete by id: atomic on both servers, and `deletedCount` says
 * whether this request removed it), then count the admin keys left; none left → put the key back
 * and refuse. Why no interleaving of concurrent revokes can leave zero: take the revoke whose
 * delete completed last. Every other delete completed before its count began, so that count sees
 * them all. If it sees no admin key, it restores its own, and nothing deletes that key again (a
 * later delete would have completed after the last one). If it sees one, that key was never
 * deleted or was put back by another request, and for the same reason stays. Two requests may
 * both refuse where one could have succeeded; never may both succeed where one must fail.
 * A restored key is briefly absent: requests made with it in that window get 401.
 */
export async function revokeKeepingAnAdmin(db: Db, key: ApiKeyDoc & { _id: string }): Promise<boolean> {
  const removed = await db.ApiKey.deleteOne({ _id: key._id, tenantId: key.tenantId });
  if (removed.deletedCount !== 1) throw new ApiError(404, 'not_found', `no key ${key._id}`); // revoked meanwhile
  if (!key.roles.includes('admin') || (await db.ApiKey.countDocuments({ tenantId: key.tenantId, roles: 'admin' })) > 0)
    return true;
  await db.ApiKey.create(key).catch((err: { code?: number }) => {
    if (err.code !== 11000) throw err;
  });
  return false;
}
