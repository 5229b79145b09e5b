// /v1/webhook-endpoints and /v1/webhook-deliveries: a tenant's admin registers the endpoints of
// its own system and the events each wants (outbound webhooks, docs/webhooks.md), rotates their
// signing secrets, reads every delivery with its attempts, and replays one. An endpoint's secret
// is shown once, when created or rotated; what is kept is sealed and never returned.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../deps';
import { apiErrors, authenticated, requireRole } from '../auth';
import {
  createEndpoint,
  deleteEndpoint,
  deliveryDetail,
  deliveryView,
  endpointView,
  findEndpoint,
  listDeliveries,
  listEndpoints,
  readDelivery,
  replayDelivery,
  rotateSecret,
  updateEndpoint,
  viewEndpoint,
  withSecret,
} from '../../app/webhook-endpoints';
import {
  createWebhookEndpointSchema,
  listWebhookDeliveriesQuery,
  rotateSecretSchema,
  updateWebhookEndpointSchema,
} from '../schemas';

const endpointParams = z.object({ id: z.string().min(1).max(100).describe('the endpoint id (we_…)') });
const deliveryParams = z.object({ id: z.string().min(1).max(100).describe('the delivery id (wd_…)') });

export async function webhookEndpointRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const admin = requireRole(deps, 'admin');
  const doc = { tags: ['outbound webhooks'], ...authenticated };

  app.post(
    '/v1/webhook-endpoints',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary:
          'Register an endpoint and the events it receives (at most 50 per tenant); its signing secret is shown once',
        body: createWebhookEndpointSchema,
        response: { 201: withSecret, ...apiErrors(409, 422, 503) },
      },
    },
    async (request, reply) => reply.status(201).send(await createEndpoint(deps, request.principal!, request.body)),
  );

  app.get(
    '/v1/webhook-endpoints',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: "The tenant's endpoints (never their secrets)",
        response: { 200: z.object({ endpoints: z.array(endpointView) }), ...apiErrors() },
      },
    },
    async (request) => ({ endpoints: await listEndpoints(deps.db, request.principal!.tenantId!) }),
  );

  app.get(
    '/v1/webhook-endpoints/:id',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: 'One endpoint',
        params: endpointParams,
        response: { 200: endpointView, ...apiErrors(404) },
      },
    },
    async (request) => viewEndpoint(await findEndpoint(deps.db, request.principal!.tenantId!, request.params.id)),
  );

  app.patch(
    '/v1/webhook-endpoints/:id',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: "Change an endpoint's URL, events, description, or enable/disable it; only what is sent changes",
        params: endpointParams,
        body: updateWebhookEndpointSchema,
        response: { 200: endpointView, ...apiErrors(404, 422) },
      },
    },
    async (request) => updateEndpoint(deps, request.principal!, request.params.id, request.body),
  );

  app.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary:
          'A new signing secret, shown once; the previous one keeps signing beside it for previousSecretFor (default P1D, at most P7D); body {} for the default',
        params: endpointParams,
        body: rotateSecretSchema,
        response: { 200: withSecret, ...apiErrors(404, 422, 503) },
      },
    },
    async (request) => rotateSecret(deps, request.principal!, request.params.id, request.body.previousSecretFor),
  );

  app.delete(
    '/v1/webhook-endpoints/:id',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: 'Delete an endpoint; deliveries waiting for a retry stop (cancelled), the log of past ones stays',
        params: endpointParams,
        response: { 204: z.null().describe('deleted'), ...apiErrors(404) },
      },
    },
    async (request, reply) => {
      await deleteEndpoint(deps.db, request.principal!, request.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/webhook-deliveries',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: 'Deliveries, newest first, with every attempt',
        querystring: listWebhookDeliveriesQuery,
        response: {
          200: z.object({ deliveries: z.array(deliveryView), nextCursor: z.number().nullable() }),
          ...apiErrors(),
        },
      },
    },
    async (request) => listDeliveries(deps.db, request.principal!.tenantId!, request.query),
  );

  app.get(
    '/v1/webhook-deliveries/:id',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary: 'One delivery: its attempts and the body it sends',
        params: deliveryParams,
        response: { 200: deliveryDetail, ...apiErrors(404) },
      },
    },
    async (request) => readDelivery(deps.db, request.principal!.tenantId!, request.params.id),
  );

  app.post(
    '/v1/webhook-deliveries/:id/replay',
    {
      onRequest: admin,
      schema: {
        ...doc,
        summary:
          "Send the same event again to the endpoint's current URL, as a new delivery with the same webhook-id (receivers dedupe on it)",
        params: deliveryParams,
        body: z.object({}).strict().describe('{}: nothing to say'),
        response: { 202: deliveryView, ...apiErrors(404, 409) },
      },
    },
    async (request, reply) => reply.status(202).send(await replayDelivery(deps, request.principal!, request.params.id)),
  );
}
