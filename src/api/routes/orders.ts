// /v1/orders: start an order workflow (idempotent on orderId), send fulfilment events, release
// or cancel a held order (O4, role ops), and read an order with its exceptions and notifications (O10).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Db } from '../../db/models';
import type { Principal } from '../../db/api-keys';
import type { ApiDeps } from '../server';
import { noticeRecipients } from '../dispatch-views';
import { actorOf, apiErrors, authenticated, browserRedirect, browsersToPage, requireRole } from '../auth';
import { ApiError, notFound } from '../errors';
import { createOrderSchema, opsActionSchema, orderEventSchema, preferencesSchema, type PreferencesBody } from '../schemas';
import {
  cancelUpdate, orderEventUpdate, orderStateQuery, orderWorkflowId, releaseUpdate, ORDER_WORKFLOW,
  type LegacyOrderView, type OrderInput, type OrderWorkflow, type TimelineEntry,
} from '../../workflows/order/contract';
import { isoDurationToMs } from '../../domain/durations';
import { FINISHED_STATES, holdRefusal, type ExceptionType, type OrderEventType, type OrderState } from '../../domain/order';
import { effectivePreferences } from '../../domain/preferences';
import { orderPagePath, pageUrl } from '../../ui/paths';
import { nextOrderNumber } from '../../db/order-list';

const orderParams = z.object({ id: z.string().min(1).describe('the orderId given on creation') });
export const orderTimelineQuery = z.object({
  historyCursor: z.coerce.number().int().min(1).optional().describe('the `historyCursor` of the previous answer: the page of events before it'),
  historyLimit: z.coerce.number().int().min(1).max(200).default(50).describe('events per page of the timeline'),
});
export type OrderTimelineQuery = z.infer<typeof orderTimelineQuery>;
const accepted = z.object({ orderId: z.string(), workflowId: z.string(), created: z.boolean() });
const stateAnswer = z.object({ orderId: z.string(), state: z.string() }).loose();
const channelChoice = z.object({ enabled: z.boolean(), channels: z.array(z.string()) });
const preferencesView = z.object({ sellerAlerts: z.record(z.string(), channelChoice), customerNotices: z.record(z.string(), channelChoice) });
const tags = ['orders'];

export async function orderRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const { db, temporal } = deps;
  const canWrite = requireRole(deps, 'orders:write');
  const canRead = requireRole(deps, 'orders:write', 'ops', 'log:read');
  const ops = requireRole(deps, 'ops');

  app.post('/v1/orders', {
    onRequest: canWrite,
    schema: {
      tags, ...authenticated, summary: 'Start an order workflow (risk check, holds, exceptions); idempotent on orderId',
      body: createOrderSchema,
      response: { 200: accepted.describe('already started earlier (same orderId)'), 202: accepted.describe('the order workflow has started'), ...apiErrors(413) },
    },
  }, async (request, reply) => {
    const tenantId = request.principal!.tenantId!;
    const body = request.body;
    const tenant = await db.Tenant.findById(tenantId).lean();
    if (!tenant) throw new ApiError(403, 'forbidden', 'this key belongs to no tenant');
    const seller = tenant.seller ?? { name: tenant.name, email: tenant.emailFrom?.email ?? 'seller@relais.localhost', phone: null, smsOptIn: false, whatsappOptIn: false };
    const p = tenant.policies ?? {};
    const input: OrderInput = {
      tenantId, orderId: body.orderId,
      order: { items: body.items, customer: body.customer, payment: body.payment, salesChannel: body.salesChannel, carrier: body.carrier },
      locale: tenant.locale as 'fr' | 'en', timeZone: tenant.timeZone, tenantName: tenant.name,
      seller: { name: seller.name, email: seller.email, phone: seller.phone ?? null, smsOptIn: seller.smsOptIn ?? false, whatsappOptIn: seller.whatsappOptIn ?? false },
      policy: {
        stuckAfterMs: isoDurationToMs(p.stuckAfter ?? 'P2D'), linkTtlMs: isoDurationToMs(p.confirmationLinkTtl ?? 'P2D'),
        readyToShipWithinMs: isoDurationToMs(p.readyToShipWithin ?? 'P1D'),
        unknownAfterMs: isoDurationToMs(p.unknownAfter ?? 'PT30M'), listenForMs: isoDurationToMs(p.listenFor ?? 'P3D'),
      },
      // Seller alerts link to the operator page (sign-in leads back to it), not to this JSON API.
      orderUrl: pageUrl(deps.publicBaseUrl, orderPagePath(body.orderId)),
      // Its place in the orders list, oldest first (a retried creation only leaves a gap).
      number: await nextOrderNumber(db, tenantId),
    };
    const workflowId = orderWorkflowId(tenantId, body.orderId);
    try {
      await temporal.workflow.start<OrderWorkflow>(ORDER_WORKFLOW, { workflowId, taskQueue: deps.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return reply.status(200).send({ orderId: body.orderId, workflowId, created: false });
    }
    return reply.status(202).send({ orderId: body.orderId, workflowId, created: true });
  });

  app.get('/v1/orders/:id', {
    onRequest: [browsersToPage(orderPagePath), canRead],
    schema: {
      tags, ...authenticated, summary: 'An order: state, exceptions, notifications and a page of its timeline, newest events last (O10)',
      params: orderParams, querystring: orderTimelineQuery, response: { 200: z.object({ orderId: z.string(), state: z.string() }).loose(), ...browserRedirect, ...apiErrors(404) },
    },
  }, async (request) => readOrder(deps, request.principal!.tenantId!, request.params.id, request.query));

  app.post('/v1/orders/:id/events', {
    onRequest: canWrite,
    schema: {
      tags, ...authenticated, summary: 'A fulfilment event (allocated, packed, tracking_update, delivered, …)',
      params: orderParams, body: orderEventSchema,
      response: { 200: z.object({ orderId: z.string(), state: z.string(), stuck: z.boolean() }), ...apiErrors(404, 409) },
    },
  }, async (request) => {
    const tenantId = request.principal!.tenantId!;
    const event = request.body;
    const view = await update(deps, tenantId, request.params.id, (h) => h.executeUpdate(orderEventUpdate, { args: [event] }), async (refusal) => {
      // An order started before these refusals said what lifts a hold: the same words, from its record (issue 18 item 6).
      if (refusal.details) return refusal;
      const doc = await db.Order.findOne({ tenantId, orderId: request.params.id }, { state: 1, hold: 1, view: 1 }).lean();
      const hold = (doc?.hold ?? (doc?.view as LegacyOrderView | undefined)?.hold) as { reason: string; since: string } | null | undefined;
      if (doc?.state !== 'on_hold' || !hold) return refusal;
      return holdRefusal({ message: refusal.message, details: { state: 'on_hold', event: event.type as OrderEventType, allowed: [] } }, hold, request.params.id);
    });
    return { orderId: request.params.id, state: view.state, stuck: view.stuck };
  });

  for (const action of ['release', 'cancel'] as const) {
    app.post(`/v1/orders/:id/${action}`, {
      onRequest: ops,
      schema: {
        tags, ...authenticated, summary: `${action === 'release' ? 'Release' : 'Cancel'} a held order, with a reason (O4; role ops)`,
        params: orderParams, body: opsActionSchema, response: { 200: stateAnswer, ...apiErrors(404, 409) },
      },
    }, async (request) => opsAction(deps, request.principal!, request.params.id, action, request.body));
  }

  const preferences = { tags: ['tenant'], ...authenticated };
  app.get('/v1/preferences', {
    onRequest: requireRole(deps, 'admin'),
    schema: { ...preferences, summary: 'Alert preferences (O9)', response: { 200: preferencesView, ...apiErrors() } },
  }, async (request) => {
    const tenant = await db.Tenant.findById(request.principal!.tenantId, { preferences: 1 }).lean();
    return effectivePreferences(tenant?.preferences as never);
  });

  app.put('/v1/preferences', {
    onRequest: requireRole(deps, 'admin'),
    schema: { ...preferences, summary: 'Change alert preferences (O9); only what is sent changes', body: preferencesSchema, response: { 200: preferencesView, ...apiErrors() } },
  }, async (request) => updatePreferences(db, request.principal!, request.body));
}

// The actions behind the routes, shared with the operator pages (src/ui): one way to do each.

/** Why the workflow refused an Update: its message, and the details it gave (state, allowed events, hold …), if any. */
export interface UpdateRefusal { message: string; details: Record<string, unknown> | null }

/**
 * Runs an Update; a refused one is a 409 naming why (the validator's message, its details in
 * `details`; `explain` may say more), a missing order a 404, a finished one a 409 with its state.
 */
export async function update<T>(
  deps: Pick<ApiDeps, 'db' | 'temporal'>, tenantId: string, orderId: string, run: (handle: WorkflowHandle) => Promise<T>,
  explain?: (refusal: UpdateRefusal) => Promise<UpdateRefusal | ApiError>,
): Promise<T> {
  try {
    return await run(deps.temporal.workflow.getHandle(orderWorkflowId(tenantId, orderId)));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      // A finished order's workflow is closed; it still exists, and accepts nothing more.
      const finished = await deps.db.Order.findOne({ tenantId, orderId }, { state: 1 }).lean();
      if (finished) throw new ApiError(409, 'conflict', `the order is ${finished.state} and accepts no more events or actions`, { state: finished.state, ended: true });
      throw notFound(`order ${orderId}`);
    }
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause;
      const details = cause instanceof ApplicationFailure && cause.details?.[0] && typeof cause.details[0] === 'object' ? cause.details[0] as Record<string, unknown> : null;
      const refusal: UpdateRefusal = { message: cause?.message ?? err.message, details };
      const said = explain ? await explain(refusal) : refusal;
      if (said instanceof ApiError) throw said;
      throw new ApiError(409, 'conflict', said.message, said.details);
    }
    throw err;
  }
}

interface OrderFacts {
  state: OrderState; address: unknown; risk: unknown; hold: { reason: string; since: string } | null; stuck: boolean;
  lastTrackingAt: string | null; restocked: boolean; confirmation: { expiresAt: string; used: boolean } | null;
  /** Issue 18: whether it has ended; the documents uploaded; the carrier and dimensions the seller set; why it is stuck. */
  ended?: boolean; documents?: unknown; carrier?: string | null; dimensions?: unknown; stuckCause?: string | null; placedAt?: string | null;
}
type HistoryLine = { event: string; at: string; by: string | null; reason: string | null; details: Record<string, unknown> | null };
type Notification = { dispatchId: string; audience: string; channel: string; template: string; at: string };

/**
 * O10: an order of the tenant, its exceptions (open and resolved), every notification with its
 * delivery status, and one page of its timeline in time order (the newest by default;
 * `historyCursor` names the next older page); 404 otherwise.
 */
export async function readOrder(deps: Pick<ApiDeps, 'db' | 'temporal'>, tenantId: string, orderId: string, page: Partial<OrderTimelineQuery> = {}) {
  const { db } = deps;
  const limit = page.historyLimit ?? 50;
  const doc = await db.Order.findOne({ tenantId, orderId }).lean();
  let facts: OrderFacts;
  let exceptions: Array<{ type: ExceptionType; reason: string; details: string | null; cause?: string | null; openedAt: string; resolvedAt: string | null; resolution: string | null }>;
  let notifications: Notification[];
  let history: HistoryLine[];
  let historyCursor: number | null = null;
  const legacy = doc?.view as LegacyOrderView | undefined;
  if (legacy) {
    // An order started before issue 15: its whole view is one field, paged here.
    facts = { ...legacy, ended: FINISHED_STATES.includes(legacy.state), confirmation: legacy.confirmation && { expiresAt: legacy.confirmation.expiresAt, used: legacy.confirmation.used } };
    ({ exceptions, notifications } = legacy);
    const end = Math.min(legacy.history.length, (page.historyCursor ?? legacy.history.length + 1) - 1);
    history = legacy.history.slice(Math.max(0, end - limit), end);
    historyCursor = end - limit > 0 ? end - limit + 1 : null;
  } else {
    if (doc) {
      facts = {
        state: doc.state as OrderState, address: doc.address, risk: doc.risk ?? null, hold: doc.hold ?? null, stuck: doc.stuck ?? false,
        lastTrackingAt: doc.lastTrackingAt ?? null, restocked: doc.restocked ?? false, confirmation: doc.confirmation ?? null,
        ended: doc.ended ?? FINISHED_STATES.includes(doc.state as OrderState), documents: doc.documents ?? { label: null, invoice: null },
        carrier: doc.carrier ?? null, dimensions: doc.dimensions ?? null, stuckCause: doc.stuckCause ?? null,
        placedAt: (doc.placedAt ?? doc.createdAt)?.toISOString() ?? null,
      };
    } else {
      // Accepted, not yet recorded by the worker: answer from the workflow itself.
      try {
        const s = await deps.temporal.workflow.getHandle(orderWorkflowId(tenantId, orderId)).query(orderStateQuery);
        facts = { ...s, ended: s.ended ?? FINISHED_STATES.includes(s.state), confirmation: s.confirmation && { expiresAt: s.confirmation.expiresAt, used: s.confirmation.used } };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound(`order ${orderId}`);
        throw err;
      }
    }
    const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
    const [exceptionDocs, notificationDocs, events] = await Promise.all([
      db.OrderException.find({ tenantId, orderId }).lean(),
      db.OrderTimeline.find({ tenantId, orderId, kind: 'notification' }).lean(),
      db.OrderTimeline.find({ tenantId, orderId, kind: 'event', ...(page.historyCursor ? { seq: { $lt: page.historyCursor } } : {}) }).sort({ seq: -1 }).limit(limit + 1).lean(),
    ]);
    exceptions = exceptionDocs.sort((a, b) => a.n - b.n).map((e) => ({
      type: e.type as ExceptionType, reason: e.reason, details: e.details ?? null, cause: e.cause ?? null, openedAt: e.openedAt.toISOString(), resolvedAt: iso(e.resolvedAt), resolution: e.resolution ?? null,
    }));
    notifications = (notificationDocs as unknown as Array<Extract<TimelineEntry, { kind: 'notification' }> & { at: Date }>).sort((a, b) => a.seq - b.seq)
      .map((n) => ({ dispatchId: n.dispatchId, audience: n.audience, channel: n.channel, template: n.template, at: n.at.toISOString() }));
    const lines = events.slice(0, limit).reverse() as unknown as Array<Extract<TimelineEntry, { kind: 'event' }> & { at: Date }>;
    history = lines.map((h) => ({ event: h.event, at: h.at.toISOString(), by: h.by ?? null, reason: h.reason ?? null, details: h.details ?? null }));
    historyCursor = events.length > limit ? lines[0].seq : null;
  }
  const dispatches = await noticeRecipients(db, tenantId, notifications.map((n) => n.dispatchId));
  return {
    orderId, ...facts, exceptions, history, historyCursor,
    notifications: notifications.map((n) => {
      const d = dispatches.get(n.dispatchId);
      return { ...n, result: d?.result ?? 'queued', to: d?.to ?? null, status: d?.status ?? 'queued' };
    }),
  };
}

/** O4: ops release or cancel a held order with a reason (audited). */
export async function opsAction(deps: Pick<ApiDeps, 'db' | 'temporal'>, principal: Principal, orderId: string, action: 'release' | 'cancel', body: { reason: string }) {
  const tenantId = principal.tenantId!;
  const by = actorOf(principal);
  const def = action === 'release' ? releaseUpdate : cancelUpdate;
  const view = await update(deps, tenantId, orderId, (h) => h.executeUpdate(def, { args: [{ by, reason: body.reason }] }));
  await deps.db.Audit.create({ tenantId, actor: by, action: `order.${action}`, target: orderId, reason: body.reason, at: new Date() });
  return { orderId, state: view.state };
}

/** O9: the choices sent, over the current ones (audited). */
export async function updatePreferences(db: Db, principal: Principal, body: PreferencesBody) {
  const tenantId = principal.tenantId!;
  const tenant = await db.Tenant.findById(tenantId, { preferences: 1 }).lean();
  const current = effectivePreferences(tenant?.preferences as never);
  const next = {
    sellerAlerts: { ...current.sellerAlerts, ...(body.sellerAlerts ?? {}) },
    customerNotices: { ...current.customerNotices, ...(body.customerNotices ?? {}) },
  };
  await db.Tenant.updateOne({ _id: tenantId }, { $set: { preferences: next } });
  await db.Audit.create({ tenantId, actor: principal.keyId, action: 'preferences.update', target: tenantId, at: new Date(), details: body });
  return next;
}
