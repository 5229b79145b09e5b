// /v1/settings: a tenant's policies (D3, D7 durations), locale, time zone, sender, outlets.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../deps';
import { apiErrors, authenticated, requireRole } from '../auth';
import { settingsSchema } from '../schemas';
import { readSettings, updateSettings } from '../../app/settings';

const settingsView = z.object({ tenantId: z.string(), name: z.string() }).loose();

export async function settingsRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const admin = requireRole(deps, 'admin');
  const doc = { tags: ['tenant'], ...authenticated };
  app.get(
    '/v1/settings',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: "The tenant's settings and policies",
        response: { 200: settingsView, ...apiErrors() },
      },
    },
    async (request) => {
      return readSettings(deps.db, request.principal!.tenantId!);
    },
  );

  app.put(
    '/v1/settings',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary:
          'Change settings (D3/D7/O5/O7 durations, locale, time zone, sender, outlets, copy to the sender); only what is sent changes',
        body: settingsSchema,
        response: { 200: settingsView, ...apiErrors(422) },
      },
    },
    async (request) => updateSettings(deps.db, request.principal!, request.body),
  );
}
