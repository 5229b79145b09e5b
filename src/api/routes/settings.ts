// /v1/settings: a tenant's policies (D3, D7 durations), locale, time zone, sender, outlets.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../server';
import { apiErrors, authenticated, requireRole } from '../server';
import { settingsSchema, type SettingsBody } from '../schemas';
import { refusePolicyProblems } from '../errors';
import type { Db } from '../../db/models';
import type { Principal } from '../../db/api-keys';

const PROJECTION = { name: 1, locale: 1, timeZone: 1, emailFrom: 1, outlets: 1, policies: 1, copyToSender: 1 } as const;

const settingsView = z.object({ tenantId: z.string(), name: z.string() }).loose();

export async function settingsRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const admin = requireRole(deps, 'admin');
  const doc = { tags: ['tenant'], ...authenticated };
  app.get('/v1/settings', { onRequest: admin, schema: { ...doc, summary: 'The tenant\'s settings and policies', response: { 200: settingsView, ...apiErrors() } } }, async (request) => {
    const tenant = await deps.db.Tenant.findById(request.principal!.tenantId, PROJECTION).lean();
    const { _id, ...settings } = tenant!;
    return { tenantId: _id, ...settings };
  });

  app.put('/v1/settings', {
    onRequest: admin,
    schema: { ...doc, summary: 'Change settings (D3/D7/O5/O7 durations, locale, time zone, sender, outlets, copy to the sender); only what is sent changes', body: settingsSchema, response: { 200: settingsView, ...apiErrors(422) } },
  }, async (request) => updateSettings(deps.db, request.principal!, request.body));
}

/** Only the fields sent change (audited); shared with the settings page (src/ui). */
export async function updateSettings(db: Db, principal: Principal, body: SettingsBody) {
  const tenantId = principal.tenantId!;
  if (body.policies) refusePolicyProblems(body.policies, (await db.Tenant.findById(tenantId, { policies: 1 }).lean())?.policies ?? {});
  const set: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'policies') for (const [p, v] of Object.entries(value as object)) set[`policies.${p}`] = v;
    else set[key] = value;
  }
  // updateOne then read: FerretDB's findAndModify takes no projection.
  await db.Tenant.updateOne({ _id: tenantId }, { $set: set }, { runValidators: true });
  const tenant = await db.Tenant.findById(tenantId, PROJECTION).lean();
  await db.Audit.create({ tenantId, actor: principal.keyId, action: 'settings.update', target: tenantId, at: new Date(), details: body });
  const { _id, ...settings } = tenant!;
  return { tenantId: _id, ...settings };
}
