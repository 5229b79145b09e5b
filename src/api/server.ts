// The HTTP surface: REST API for platforms, provider webhooks, health. Built from its
// dependencies so tests run it in-process against real servers.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import { z } from 'zod';
import { ApiError, sendError, unavailable, unavailableDependency } from './errors';
import { dispatchRoutes } from './routes/dispatches';
import { webhookRoutes } from './routes/webhooks';
import { tenantRoutes } from './routes/tenants';
import { settingsRoutes } from './routes/settings';
import { addressHealthRoutes } from './routes/address-health';
import { documentRoutes } from './routes/documents';
import { orderRoutes } from './routes/orders';
import { orderWorkspaceRoutes } from './routes/order-workspace';
import { confirmRoutes } from './routes/confirm';
import { acknowledgeRoutes } from './routes/acknowledge';
import { keyRoutes } from './routes/keys';
import { webhookEndpointRoutes } from './routes/webhook-endpoints';
import { exportRoutes } from './routes/exports';
import { proofRoutes } from './routes/proof';
import { attachmentRoutes } from './routes/attachments';
import { uiRoutes } from '../ui';
import { registerOpenApi, zodValidatorCompiler } from './openapi';
import { DEFAULT_LIMITS, type ApiLimits } from './limits';
import type { ApiDeps } from './deps';

export function buildServer(deps: ApiDeps): FastifyInstance {
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const app: FastifyInstance = Fastify({
    ...(deps.logger && typeof deps.logger === 'object'
      ? { loggerInstance: deps.logger as FastifyBaseLogger }
      : { logger: deps.logger ?? false }),
    bodyLimit: limits.bodyLimitBytes,
    // A "__proto__" key is dropped while parsing (never reaches an object), not a 400: the
    // contract lets unknown keys through (and ignores them), so refusing this one would refuse a
    // request the contract allows (found by the API fuzzer).
    onProtoPoisoning: 'remove',
    ...(deps.trustProxy !== undefined ? { trustProxy: deps.trustProxy } : {}),
    // Signed link tokens travel as path parameters.
    routerOptions: { maxParamLength: 2048 },
    // What the router refuses before any route runs (issue 14, finding 8): the one error shape, and
    // nothing of the URL echoed back (it can be kilobytes of anything).
    frameworkErrors: (error, _request, reply) => {
      const refusal =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ApiError(414, 'uri_too_long', 'a path parameter is longer than 2048 characters', {
              limitCharacters: 2048,
            })
          : error.code === 'FST_ERR_BAD_URL'
            ? new ApiError(
                400,
                'invalid_request',
                'the URL is not valid: a percent sign must start a %XX escape of UTF-8',
              )
            : new ApiError(400, 'invalid_request', 'the request could not be routed');
      void sendError(reply, refusal);
    },
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ApiError) return sendError(reply, error);
    const { statusCode: status, message } = error as { statusCode?: number; message?: string };
    if (status === 413) {
      const limit = request.routeOptions.bodyLimit ?? limits.bodyLimitBytes;
      return sendError(
        reply,
        new ApiError(413, 'payload_too_large', `the body is larger than this route's limit of ${limit} bytes`, {
          limitBytes: limit,
        }),
      );
    }
    if (status && status >= 400 && status < 500) {
      return sendError(reply, new ApiError(status, 'invalid_request', message ?? 'invalid request'));
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
  // The path is not echoed back (finding 8).
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new ApiError(404, 'not_found', `no route ${request.method} for this path`, { method: request.method }),
    ),
  );

  // Requests are validated by the zod schemas in each route's `schema` (the same ones the
  // OpenAPI document is generated from); responses are plain JSON, their schemas documentation
  // that the contract tests check against what is really sent.
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerOpenApi(app, { publicBaseUrl: deps.publicBaseUrl, serve: deps.docs ?? true });
  // Only routes that ask for it (config.rateLimit): the public pages and webhooks, per client address.
  app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        429,
        'rate_limited',
        `too many requests from this address: at most ${context.max} per ${context.after}; retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s`,
        { limit: context.max, window: context.after, retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
      ),
  });
  app.register(formbody);

  // In a plugin, like every route: registered once @fastify/swagger listens for routes.
  app.register(async (scope) => {
    operationRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await dispatchRoutes(scope, deps, limits);
  });
  app.register(async (scope) => {
    await tenantRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await webhookRoutes(scope, deps, limits);
  });
  app.register(async (scope) => {
    await settingsRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await documentRoutes(scope, deps, limits);
  });
  app.register(async (scope) => {
    await orderRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await orderWorkspaceRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await confirmRoutes(scope, deps, limits);
  });
  app.register(async (scope) => {
    await acknowledgeRoutes(scope, deps, limits);
  });
  app.register(async (scope) => {
    await keyRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await webhookEndpointRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await exportRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await proofRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await attachmentRoutes(scope, deps);
  });
  app.register(async (scope) => {
    await addressHealthRoutes(scope, deps);
  });
  app.register(
    async (scope) => {
      await uiRoutes(scope, deps);
    },
    { prefix: '/ui' },
  );
  return app;
}

function operationRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const operations = { tags: ['operations'] };
  scope.get(
    '/healthz',
    { schema: { ...operations, summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' }),
  );
  // Prometheus reads /metrics on the operations port (API_METRICS_PORT, src/metrics-http.ts), not here (issue 14, finding 12).
  scope.get(
    '/readyz',
    {
      schema: {
        ...operations,
        summary: 'Readiness: MongoDB and Temporal answer',
        response: {
          200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }),
          503: z.object({ status: z.literal('not_ready'), checks: z.record(z.string(), z.string()) }),
        },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, string> = {};
      await Promise.all([
        deps.db.connection
          .db!.admin()
          .ping()
          .then(
            () => {
              checks.mongodb = 'ok';
            },
            (e: Error) => {
              checks.mongodb = e.message;
            },
          ),
        deps.temporal.connection.workflowService.getSystemInfo({}).then(
          () => {
            checks.temporal = 'ok';
          },
          (e: Error) => {
            checks.temporal = e.message;
          },
        ),
      ]);
      const ready = Object.values(checks).every((v) => v === 'ok');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
}
