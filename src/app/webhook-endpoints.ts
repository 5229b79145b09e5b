// Outbound webhooks (docs/webhooks.md), the same for /v1/webhook-endpoints and /ui/webhooks: a
// tenant's endpoints (created, changed, secret rotated, deleted: audited) and their deliveries
// (read, replayed). An endpoint's secret is shown once, when created or rotated; what is kept is
// sealed and never returned.
import { z } from 'zod';
import type { AppDeps } from './deps';
import { ApiError, notFound, unprocessable } from '../api/errors';
import type { CreateWebhookEndpointBody, ListWebhookDeliveriesQuery, UpdateWebhookEndpointBody } from '../api/schemas';
import type { Db, WebhookDeliveryDoc } from '../db/models';
import type { Principal } from '../db/api-keys';
import { endpointUrlProblem } from '../domain/endpoint-url';
import { isoDurationToMs } from '../domain/durations';
import { newEndpointId, newEndpointSecret, replayDeliveryId, sealEndpointSecret } from '../outbound/signing';
import { startDelivery } from '../outbound/deliveries';

/** Endpoints per tenant: each event is one delivery workflow per subscribed endpoint. */
export const MAX_ENDPOINTS_PER_TENANT = 50;

/** The longest a replaced secret may keep signing beside the new one. */
export const MAX_SECRET_OVERLAP_MS = 7 * 86_400_000;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export const endpointView = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z
      .string()
      .nullable()
      .describe('gone (the receiver answered 410 Gone), operator (disabled by hand), or null'),
    disabledAt: z.string().nullable(),
    secretRotatedAt: z.string().nullable(),
    previousSecretUntil: z
      .string()
      .nullable()
      .describe('during a rotation: until when the previous secret still signs beside the new one'),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookEndpoint' });
export const withSecret = endpointView.extend({
  secret: z.string().describe('whsec_…: shown this once; verify signatures with it'),
});
const attemptView = z.object({
  at: z.string(),
  statusCode: z.number().nullable(),
  durationMs: z.number(),
  error: z.string().nullable(),
  response: z.string().nullable().describe("the start of the receiver's answer"),
});
export const deliveryView = z
  .object({
    id: z.string(),
    number: z.number(),
    endpointId: z.string(),
    url: z.string(),
    type: z.string(),
    eventId: z.string(),
    webhookId: z.string().describe('the webhook-id header: the same on every retry and replay of this event'),
    status: z.enum(['pending', 'retrying', 'delivered', 'failed', 'cancelled']),
    reason: z
      .string()
      .nullable()
      .describe(
        'why it ended: gone, gave_up, blocked_address, secret_unreadable, event_expired, endpoint_deleted, endpoint_disabled, endpoint_gone',
      ),
    attempts: z.array(attemptView),
    nextAttemptAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    replayOf: z.string().nullable(),
    requestedBy: z.string(),
    createdAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
export const deliveryDetail = deliveryView.extend({
  payload: z.unknown().describe('the body sent: { type, timestamp, data }'),
});

type EndpointDoc = {
  _id: string;
  url: string;
  description?: string | null;
  events: string[];
  enabled: boolean;
  disabledReason?: string | null;
  disabledAt?: Date | null;
  secretRotatedAt?: Date | null;
  previousSecretUntil?: Date | null;
  createdAt?: Date;
  updatedAt?: Date;
};
export const viewEndpoint = (e: EndpointDoc): z.infer<typeof endpointView> => ({
  id: e._id,
  url: e.url,
  description: e.description ?? null,
  events: e.events,
  enabled: e.enabled,
  disabledReason: e.disabledReason ?? null,
  disabledAt: iso(e.disabledAt),
  secretRotatedAt: iso(e.secretRotatedAt),
  previousSecretUntil:
    e.previousSecretUntil && e.previousSecretUntil.getTime() > Date.now() ? e.previousSecretUntil.toISOString() : null,
  createdAt: iso(e.createdAt),
  updatedAt: iso(e.updatedAt),
});

type DeliveryDoc = WebhookDeliveryDoc & { _id: string; createdAt?: Date };
export const viewDelivery = (d: DeliveryDoc): z.infer<typeof deliveryView> => ({
  id: d._id,
  number: d.number,
  endpointId: d.endpointId,
  url: d.url,
  type: d.type,
  eventId: d.eventId,
  webhookId: d.webhookId,
  status: d.status as z.infer<typeof deliveryView>['status'],
  reason: d.reason ?? null,
  attempts: d.attempts.map((a) => ({
    at: a.at.toISOString(),
    statusCode: a.statusCode ?? null,
    durationMs: a.durationMs,
    error: a.error ?? null,
    response: a.response ?? null,
  })),
  nextAttemptAt: iso(d.nextAttemptAt),
  finishedAt: iso(d.finishedAt),
  replayOf: d.replayOf ?? null,
  requestedBy: d.requestedBy,
  createdAt: iso(d.createdAt),
});

const sealingKey = (deps: Pick<AppDeps, 'linkSecret'>) => {
  if (!deps.linkSecret)
    throw new ApiError(503, 'not_configured', 'LINK_SECRET is not set: endpoint secrets are sealed with it');
  return deps.linkSecret;
};

/** 422 naming `url` when it points where Relais does not send (SSRF policy). */
function checkUrl(deps: Pick<AppDeps, 'webhooks'>, url: string) {
  const problem = endpointUrlProblem(url, deps.webhooks?.allowPrivateNetworks ?? false);
  if (problem) throw unprocessable(`url ${problem}`, 'url', url);
}

export async function findEndpoint(db: Db, tenantId: string, id: string) {
  const endpoint = await db.WebhookEndpoint.findOne({ _id: id, tenantId }).lean();
  if (!endpoint) throw notFound(`webhook endpoint ${id}`);
  return endpoint;
}

const audit = (db: Db, principal: Principal, action: string, target: string, details: unknown = null) =>
  db.Audit.create({ tenantId: principal.tenantId!, actor: principal.keyId, action, target, at: new Date(), details });

export async function createEndpoint(
  deps: Pick<AppDeps, 'db' | 'linkSecret' | 'webhooks'>,
  principal: Principal,
  body: CreateWebhookEndpointBody,
) {
  const tenantId = principal.tenantId!;
  checkUrl(deps, body.url);
  const key = sealingKey(deps);
  // Two creations racing may both pass the count: the limit holds within one.
  if ((await deps.db.WebhookEndpoint.countDocuments({ tenantId })) >= MAX_ENDPOINTS_PER_TENANT) {
    throw new ApiError(
      409,
      'endpoint_limit',
      `this tenant has ${MAX_ENDPOINTS_PER_TENANT} endpoints already, the most it may have: delete one first`,
      { limit: MAX_ENDPOINTS_PER_TENANT },
    );
  }
  const id = newEndpointId();
  const secret = newEndpointSecret();
  const now = new Date();
  await deps.db.WebhookEndpoint.create({
    _id: id,
    tenantId,
    url: body.url,
    description: body.description,
    events: body.events,
    enabled: body.enabled,
    disabledReason: body.enabled ? null : 'operator',
    disabledAt: body.enabled ? null : now,
    secret: sealEndpointSecret(key, tenantId, id, secret),
    secretRotatedAt: null,
  });
  await audit(deps.db, principal, 'webhook_endpoint.create', id, {
    url: body.url,
    events: body.events,
    enabled: body.enabled,
  });
  return { ...viewEndpoint(await findEndpoint(deps.db, tenantId, id)), secret };
}

export async function listEndpoints(db: Db, tenantId: string) {
  const endpoints = await db.WebhookEndpoint.find({ tenantId }).sort({ createdAt: 1 }).lean();
  return endpoints.map(viewEndpoint);
}

export async function readEndpoint(db: Db, tenantId: string, id: string) {
  return viewEndpoint(await findEndpoint(db, tenantId, id));
}

export async function updateEndpoint(
  deps: Pick<AppDeps, 'db' | 'webhooks'>,
  principal: Principal,
  id: string,
  body: UpdateWebhookEndpointBody,
) {
  const tenantId = principal.tenantId!;
  const current = await findEndpoint(deps.db, tenantId, id);
  if (body.url !== undefined) checkUrl(deps, body.url);
  const set: Record<string, unknown> = {};
  if (body.url !== undefined) set.url = body.url;
  if (body.events !== undefined) set.events = body.events;
  if (body.description !== undefined) set.description = body.description;
  if (body.enabled !== undefined && body.enabled !== current.enabled) {
    Object.assign(
      set,
      body.enabled
        ? { enabled: true, disabledReason: null, disabledAt: null }
        : { enabled: false, disabledReason: 'operator', disabledAt: new Date() },
    );
  }
  if (Object.keys(set).length) {
    await deps.db.WebhookEndpoint.updateOne({ _id: id, tenantId }, { $set: set });
    await audit(deps.db, principal, 'webhook_endpoint.update', id, body);
  }
  return readEndpoint(deps.db, tenantId, id);
}

export async function rotateSecret(
  deps: Pick<AppDeps, 'db' | 'linkSecret'>,
  principal: Principal,
  id: string,
  previousSecretFor: string,
) {
  const tenantId = principal.tenantId!;
  const overlapMs = isoDurationToMs(previousSecretFor);
  if (overlapMs > MAX_SECRET_OVERLAP_MS)
    throw unprocessable('previousSecretFor: at most P7D (a week)', 'previousSecretFor', previousSecretFor);
  const key = sealingKey(deps);
  const current = await deps.db.WebhookEndpoint.findOne({ _id: id, tenantId }).select('+secret').lean();
  if (!current) throw notFound(`webhook endpoint ${id}`);
  const secret = newEndpointSecret();
  const now = new Date();
  // The sealed value moves as it is: it is bound to this endpoint, not to its field.
  await deps.db.WebhookEndpoint.updateOne(
    { _id: id, tenantId },
    {
      $set: {
        secret: sealEndpointSecret(key, tenantId, id, secret),
        secretRotatedAt: now,
        previousSecret: overlapMs > 0 ? current.secret : null,
        previousSecretUntil: overlapMs > 0 ? new Date(now.getTime() + overlapMs) : null,
      },
    },
  );
  await audit(deps.db, principal, 'webhook_endpoint.rotate_secret', id, { previousSecretFor });
  return { ...(await readEndpoint(deps.db, tenantId, id)), secret };
}

export async function deleteEndpoint(db: Db, principal: Principal, id: string) {
  const removed = await db.WebhookEndpoint.deleteOne({ _id: id, tenantId: principal.tenantId! });
  if (removed.deletedCount !== 1) throw notFound(`webhook endpoint ${id}`);
  await audit(db, principal, 'webhook_endpoint.delete', id);
}

export async function listDeliveries(db: Db, tenantId: string, query: ListWebhookDeliveriesQuery) {
  const filter: Record<string, unknown> = { tenantId };
  if (query.endpointId) filter.endpointId = query.endpointId;
  if (query.status) filter.status = query.status;
  if (query.cursor) filter.number = { $lt: query.cursor };
  const found = await db.WebhookDelivery.find(filter)
    .sort({ number: -1 })
    .limit(query.limit + 1)
    .lean();
  const page = found.slice(0, query.limit);
  return {
    deliveries: page.map(viewDelivery),
    nextCursor: found.length > query.limit ? page[page.length - 1].number : null,
  };
}

export async function readDelivery(db: Db, tenantId: string, id: string) {
  const delivery = await db.WebhookDelivery.findOne({ _id: id, tenantId }).lean();
  if (!delivery) throw notFound(`webhook delivery ${id}`);
  const event = await db.TenantEvent.findById(`${tenantId}/${delivery.eventId}`, { body: 1 }).lean();
  return { ...viewDelivery(delivery), payload: event ? JSON.parse(event.body) : null };
}

/** A new delivery of the same event (same webhook-id) to the endpoint as it is now. */
export async function replayDelivery(
  deps: Pick<AppDeps, 'db' | 'temporal' | 'taskQueue'>,
  principal: Principal,
  id: string,
) {
  const tenantId = principal.tenantId!;
  const original = await deps.db.WebhookDelivery.findOne({ _id: id, tenantId }).lean();
  if (!original) throw notFound(`webhook delivery ${id}`);
  const endpoint = await deps.db.WebhookEndpoint.findOne(
    { _id: original.endpointId, tenantId },
    { url: 1, enabled: 1 },
  ).lean();
  if (!endpoint)
    throw new ApiError(
      409,
      'endpoint_deleted',
      `the endpoint ${original.endpointId} was deleted: register it again, then publish anew`,
    );
  if (!endpoint.enabled)
    throw new ApiError(
      409,
      'endpoint_disabled',
      `the endpoint ${endpoint._id} is disabled: enable it first (PATCH enabled: true)`,
    );
  if (!(await deps.db.TenantEvent.exists({ _id: `${tenantId}/${original.eventId}` }))) {
    throw new ApiError(409, 'event_expired', `the event ${original.eventId} is older than the 30 days events are kept`);
  }
  const deliveryId = replayDeliveryId();
  await startDelivery(
    deps.db,
    { client: deps.temporal, taskQueue: deps.taskQueue },
    {
      tenantId,
      deliveryId,
      endpoint,
      event: { eventId: original.eventId, webhookId: original.webhookId, type: original.type },
      replayOf: original._id,
      requestedBy: principal.keyId,
    },
  );
  await audit(deps.db, principal, 'webhook_delivery.replay', original._id, { deliveryId });
  return viewDelivery((await deps.db.WebhookDelivery.findById(deliveryId).lean())!);
}
