// /v1/orders: start an order workflow (idempotent on orderId), send fulfilment events, release
// or cancel a held order (O4, role ops), and read an order with its exceptions and notifications (O10).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ApiDeps } from '../deps';
import { opsAction, readOrder, sendOrderEvent } from '../../app/orders';
import { updatePreferences } from '../../app/settings';
import { apiErrors, authenticated, browserRedirect, browsersToPage, requireRole } from '../auth';
import { ApiError } from '../errors';
import {
  createOrderSchema,
  opsActionSchema,
  orderEventSchema,
  orderTimelineQuery,
  preferencesSchema,
} from '../schemas';
import { ORDER_WORKFLOW, orderWorkflowId, type OrderInput, type OrderWorkflow } from '../../workflows/order/contract';
import { policyMs } from '../../domain/durations';
import type { Locale } from '../../domain/locale';
import { effectivePreferences } from '../../domain/preferences';
import { orderPagePath, pageUrl } from '../../ui/paths';
import { nextOrderNumber } from '../../db/order-list';
import { checkKnownBad } from '../../app/address-health';

const orderParams = z.object({ id: z.string().min(1).describe('the orderId given on creation') });
const accepted = z.object({
  orderId: z.string(),
  workflowId: z.string(),
  created: z.boolean(),
  warnings: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .describe("the customer's email or phone known bad (issue 20): notices may not reach them"),
});
const stateAnswer = z.object({ orderId: z.string(), state: z.string() }).loose();
const channelChoice = z.object({ enabled: z.boolean(), channels: z.array(z.string()) });
const preferencesView = z.object({
  sellerAlerts: z.record(z.string(), channelChoice),
  customerNotices: z.record(z.string(), channelChoice),
  sellerDigestMinutes: z.number().nullable(),
});
const tags = ['orders'];

export async function orderRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const { db, temporal } = deps;
  const canWrite = requireRole(deps, 'orders:write');
  const canRead = requireRole(deps, 'orders:write', 'ops', 'log:read');
  const ops = requireRole(deps, 'ops');

  app.post(
    '/v1/orders',
    {
      onRequest: canWrite,
      schema: {
        tags,
        ...authenticated,
        summary: 'Start an order workflow (risk check, holds, exceptions); idempotent on orderId',
        body: createOrderSchema,
        response: {
          200: accepted.describe('already started earlier (same orderId)'),
          202: accepted.describe('the order workflow has started'),
          ...apiErrors(413),
        },
      },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId!;
      const body = request.body;
      const tenant = await db.Tenant.findById(tenantId).lean();
      if (!tenant) throw new ApiError(403, 'forbidden', 'this key belongs to no tenant');
      const seller = tenant.seller ?? {
        name: tenant.name,
        email: tenant.emailFrom?.email ?? 'seller@relais.localhost',
        phone: null,
        smsOptIn: false,
        whatsappOptIn: false,
      };
      const { stuckAfterMs, confirmationLinkTtlMs, readyToShipWithinMs, unknownAfterMs, listenForMs } = policyMs(
        tenant.policies,
      );
      const input: OrderInput = {
        tenantId,
        orderId: body.orderId,
        order: {
          items: body.items,
          customer: body.customer,
          payment: body.payment,
          salesChannel: body.salesChannel,
          carrier: body.carrier,
          ...(body.urgentAddressConfirmation ? { urgentAddressConfirmation: true } : {}),
        },
        locale: tenant.locale as Locale,
        timeZone: tenant.timeZone,
        tenantName: tenant.name,
        seller: {
          name: seller.name,
          email: seller.email,
          phone: seller.phone ?? null,
          smsOptIn: seller.smsOptIn ?? false,
          whatsappOptIn: seller.whatsappOptIn ?? false,
        },
        policy: { stuckAfterMs, linkTtlMs: confirmationLinkTtlMs, readyToShipWithinMs, unknownAfterMs, listenForMs },
        // Seller alerts link to the operator page (sign-in leads back to it), not to this JSON API.
        orderUrl: pageUrl(deps.publicBaseUrl, orderPagePath(body.orderId)),
        // Its place in the orders list, oldest first (a retried creation only leaves a gap).
        number: await nextOrderNumber(db, tenantId),
      };
      const workflowId = orderWorkflowId(tenantId, body.orderId);
      // Issue 20: the customer's contacts known bad are pointed out (an order is never refused for them; its notices are, by policy).
      const { email, phone } = body.customer;
      const warnings = await checkKnownBad(
        db,
        tenantId,
        [
          ...(email ? [{ field: 'customer.email', address: email, channel: 'email' as const }] : []),
          ...(phone ? [{ field: 'customer.phone', address: phone, channel: 'sms' as const }] : []),
        ],
        false,
      );
      try {
        await temporal.workflow.start<OrderWorkflow>(ORDER_WORKFLOW, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        return reply.status(200).send({ orderId: body.orderId, workflowId, created: false, warnings });
      }
      return reply.status(202).send({ orderId: body.orderId, workflowId, created: true, warnings });
    },
  );

  app.get(
    '/v1/orders/:id',
    {
      onRequest: [browsersToPage(orderPagePath), canRead],
      schema: {
        tags,
        ...authenticated,
        summary: 'An order: state, exceptions, notifications and a page of its timeline, newest events last (O10)',
        params: orderParams,
        querystring: orderTimelineQuery,
        response: {
          200: z.object({ orderId: z.string(), state: z.string() }).loose(),
          ...browserRedirect,
          ...apiErrors(404),
        },
      },
    },
    async (request) => readOrder(deps, request.principal!.tenantId!, request.params.id, request.query),
  );

  app.post(
    '/v1/orders/:id/events',
    {
      onRequest: canWrite,
      schema: {
        tags,
        ...authenticated,
        summary: 'A fulfilment event (allocated, packed, tracking_update, delivered, …)',
        params: orderParams,
        body: orderEventSchema,
        response: {
          200: z.object({ orderId: z.string(), state: z.string(), stuck: z.boolean() }),
          ...apiErrors(404, 409),
        },
      },
    },
    async (request) => {
      const view = await sendOrderEvent(deps, request.principal!.tenantId!, request.params.id, request.body);
      return { orderId: request.params.id, state: view.state, stuck: view.stuck };
    },
  );

  for (const action of ['release', 'cancel'] as const) {
    app.post(
      `/v1/orders/:id/${action}`,
      {
        onRequest: ops,
        schema: {
          tags,
          ...authenticated,
          summary: `${action === 'release' ? 'Release' : 'Cancel'} a held order, with a reason (O4; role ops)`,
          params: orderParams,
          body: opsActionSchema,
          response: { 200: stateAnswer, ...apiErrors(404, 409) },
        },
      },
      async (request) => opsAction(deps, request.principal!, request.params.id, action, request.body),
    );
  }

  const preferences = { tags: ['tenant'], ...authenticated };
  app.get(
    '/v1/preferences',
    {
      onRequest: requireRole(deps, 'admin'),
      schema: { ...preferences, summary: 'Alert preferences (O9)', response: { 200: preferencesView, ...apiErrors() } },
    },
    async (request) => {
      const tenant = await db.Tenant.findById(request.principal!.tenantId, { preferences: 1 }).lean();
      return effectivePreferences(tenant?.preferences as never);
    },
  );

  app.put(
    '/v1/preferences',
    {
      onRequest: requireRole(deps, 'admin'),
      schema: {
        ...preferences,
        summary: 'Change alert preferences (O9); only what is sent changes',
        body: preferencesSchema,
        response: { 200: preferencesView, ...apiErrors() },
      },
    },
    async (request) => updatePreferences(db, request.principal!, request.body),
  );
}
