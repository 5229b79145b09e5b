// The HTTP surface: REST API for platforms, provider webhooks, health. Built from its
// dependencies so tests run it in-process against real servers.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { registry } from '../metrics';
import formbody from '@fastify/formbody';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Db } from '../db/models';
import { verifyApiKey, type Principal, type Role } from '../db/api-keys';
import type { Templates } from '../templates';
import { ApiError, sendError, unavailable, unavailableDependency } from './errors';
import { dispatchRoutes } from './routes/dispatches';
import { webhookRoutes } from './routes/webhooks';
import { tenantRoutes } from './routes/tenants';
import { settingsRoutes } from './routes/settings';
import { documentRoutes } from './routes/documents';
import { orderRoutes } from './routes/orders';
import { confirmRoutes } from './routes/confirm';
import { uiRoutes } from '../ui';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  templates: Templates;
  taskQueue: string;
  publicBaseUrl: string;
  sendgridWebhookPublicKey?: string;
  twilioAuthToken?: string;
  /** HMAC key of signed links (LINK_SECRET). */
  linkSecret?: string;
  logger?: Logger | boolean;
}

declare module 'fastify' {
  interface FastifyRequest { principal?: Principal }
}

export function buildServer(deps: ApiDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    ...(deps.logger && typeof deps.logger === 'object' ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: deps.logger ?? false }),
    bodyLimit: 5 * 1024 * 1024,
    // Signed link tokens travel as path parameters.
    routerOptions: { maxParamLength: 2048 },
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ApiError) return sendError(reply, error);
    const { statusCode: status, message } = error as { statusCode?: number; message?: string };
    if (status && status >= 400 && status < 500) {
      return sendError(reply, new ApiError(status, status === 413 ? 'payload_too_large' : 'invalid_request', message ?? 'invalid request'));
    }
    // A dependency down (MongoDB, Temporal) is the caller's cue to retry, not a bug: 503, logged as a warning.
    const down = unavailableDependency(error);
    if (down) {
      request.log.warn({ err: error, dependency: down }, 'dependency unavailable');
      return sendError(reply, unavailable(down));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, new ApiError(500, 'internal', 'internal error; the request was not applied, retry it'));
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new ApiError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`)));

  app.register(formbody);

  app.get('/healthz', async () => ({ status: 'ok' }));
  // Prometheus: Relais's counters and the process's (docs/deploy.md, "Metrics").
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    await Promise.all([
      deps.db.connection.db!.admin().ping().then(() => { checks.mongodb = 'ok'; }, (e: Error) => { checks.mongodb = e.message; }),
      deps.temporal.connection.workflowService.getSystemInfo({}).then(() => { checks.temporal = 'ok'; }, (e: Error) => { checks.temporal = e.message; }),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.register(async (scope) => { await dispatchRoutes(scope, deps); });
  app.register(async (scope) => { await tenantRoutes(scope, deps); });
  app.register(async (scope) => { await webhookRoutes(scope, deps); });
  app.register(async (scope) => { await settingsRoutes(scope, deps); });
  app.register(async (scope) => { await documentRoutes(scope, deps); });
  app.register(async (scope) => { await orderRoutes(scope, deps); });
  app.register(async (scope) => { await confirmRoutes(scope, deps); });
  app.register(async (scope) => { await uiRoutes(scope, deps); }, { prefix: '/ui' });
  return app;
}

/** Whether a principal holds one of the roles (an `admin` key has them all within its tenant). */
export const allows = (principal: Principal, roles: readonly Role[]): boolean =>
  roles.some((r) => principal.roles.includes(r)) || (principal.tenantId !== null && principal.roles.includes('admin'));

/** Pre-handler: a Bearer key with one of the roles (an `admin` key has them all within its tenant). */
export function requireRole(deps: Pick<ApiDeps, 'db'>, ...roles: Role[]) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(header);
    if (!m) throw new ApiError(401, 'unauthenticated', 'send an API key as "Authorization: Bearer <key>"');
    const principal = await verifyApiKey(deps.db, m[1]);
    if (!principal) throw new ApiError(401, 'unauthenticated', 'unknown or revoked API key');
    if (!allows(principal, roles)) throw new ApiError(403, 'forbidden', `this key lacks the role ${roles.join(' or ')}`);
    request.principal = principal;
  };
}
