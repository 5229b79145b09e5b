// Publishing a tenant event (docs/webhooks.md): recorded once by its event id, then one delivery
// workflow per enabled endpoint subscribed to its type. Called by the activity of that name and by
// the activities that change what the events report (the dispatch projection, a dispatch's
// escalation, the order's record), so an event leaves with the write that makes it true.
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import type { Db } from '../db/models';
import { parseTenantEvent, type TenantEventData, type TenantEventType } from '../domain/tenant-events';
import { webhookIdOf, deliveryIdOf } from './signing';
import { startDelivery, type DeliveryStarter } from './deliveries';

export interface PublishTenantEventRequest {
  tenantId: string;
  type: string;
  data: unknown;
  eventId: string;
  occurredAt: string;
}

/** An event of the catalogue, typed by its type, with the id that makes publishing it twice a no-op. */
export interface TenantEvent<T extends TenantEventType = TenantEventType> {
  type: T;
  eventId: string;
  data: TenantEventData<T>;
}

/**
 * Records the event once (by tenant and eventId; the first body recorded is the one every
 * delivery sends) and starts a delivery to each enabled endpoint subscribed to its type.
 * Idempotent: a retried or repeated publish starts nothing twice.
 */
export async function publishTenantEvent(
  db: Db,
  starter: DeliveryStarter | undefined,
  request: PublishTenantEventRequest,
): Promise<{ deliveries: string[] }> {
  const { tenantId, eventId } = request;
  const parsed = parseTenantEvent(request.type, request.data);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.problem, 'InvalidTenantEvent');
  const _id = `${tenantId}/${eventId}`;
  await db.TenantEvent.updateOne(
    { _id },
    {
      $setOnInsert: {
        tenantId,
        eventId,
        webhookId: webhookIdOf(tenantId, eventId),
        type: request.type,
        occurredAt: new Date(request.occurredAt),
        body: JSON.stringify({ type: request.type, timestamp: request.occurredAt, data: parsed.data }),
      },
    },
    { upsert: true },
  ).catch((err: { code?: number }) => {
    if (err.code !== 11000) throw err;
  });
  const event = (await db.TenantEvent.findById(_id).lean())!;
  if (!starter) return { deliveries: [] };
  const endpoints = await db.WebhookEndpoint.find({ tenantId, enabled: true, events: event.type }, { url: 1 }).lean();
  const deliveries: string[] = [];
  for (const endpoint of endpoints) {
    const deliveryId = deliveryIdOf(tenantId, endpoint._id, eventId);
    await startDelivery(db, starter, { tenantId, deliveryId, endpoint, event, replayOf: null, requestedBy: 'relais' });
    deliveries.push(deliveryId);
  }
  return { deliveries };
}

/**
 * Publishes events derived from a write, as happening now, from inside the activity making that
 * write: a store or Temporal failure throws (the activity is retried, the event ids make the retry
 * publish each once); an event its own schema refuses — a bug in the derivation — is logged and
 * skipped, so a webhook never stops a dispatch or an order.
 */
export async function publishAll(
  db: Db,
  starter: DeliveryStarter | undefined,
  tenantId: string,
  events: TenantEvent[],
  at = new Date(),
): Promise<void> {
  for (const e of events) {
    try {
      await publishTenantEvent(db, starter, {
        tenantId,
        type: e.type,
        eventId: e.eventId,
        data: e.data,
        occurredAt: at.toISOString(),
      });
    } catch (err) {
      if (!(err instanceof ApplicationFailure && err.type === 'InvalidTenantEvent')) throw err;
      log.error('tenant event refused by its own schema: not published', {
        tenantId,
        eventId: e.eventId,
        problem: err.message,
      });
    }
  }
}
