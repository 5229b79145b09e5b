// Outbound webhook activities (docs/webhooks.md): record a tenant event and start its deliveries
// (publishTenantEvent), make one signed attempt (attemptWebhookDelivery), and record what the
// delivery workflow decided after a failed one (planWebhookRetry). Only here is an endpoint's
// secret opened, to sign; it is never returned, stored elsewhere or logged.
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Db } from '../db/models';
import { metrics } from '../metrics';
import { retryAfterMs } from '../domain/webhook-retry';
import { openEndpointSecret, webhookHeaders } from '../outbound/signing';
import type { DeliveryStarter } from '../outbound/deliveries';
import { publishTenantEvent, type PublishTenantEventRequest } from '../outbound/publish';
import { postWebhook, type Resolve } from '../outbound/post';

export interface WebhookActivityDeps {
  db: Db;
  linkSecret: string;
  previousLinkSecret?: string;
  /** Outbound webhooks; without it, publishing an event records it and starts nothing. */
  webhooks?: {
    starter: DeliveryStarter;
    /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: loopback and private addresses may be endpoints. */
    allowPrivateNetworks: boolean;
    /** WEBHOOK_TIMEOUT_MS: how long one POST may take. */
    timeoutMs: number;
    /** Name resolution (tests answer for their own names); dns.lookup by default. */
    resolve?: Resolve;
  };
}

export type { PublishTenantEventRequest };
export type AttemptResult =
  /** blocked: nothing can be sent (an address Relais does not send to, a secret that no longer opens). */
  | { outcome: 'delivered' | 'gone' | 'blocked' | 'cancelled'; statusCode: number | null }
  | { outcome: 'retry'; statusCode: number | null; retryAfterMs: number | null };

export function createWebhookActivities({ db, linkSecret, previousLinkSecret, webhooks }: WebhookActivityDeps) {
  const linkSecrets = [linkSecret, previousLinkSecret].filter((s): s is string => Boolean(s));
  const finish = async (
    tenantId: string,
    deliveryId: string,
    status: 'delivered' | 'failed' | 'cancelled',
    reason: string | null,
  ) => {
    await db.WebhookDelivery.updateOne(
      { _id: deliveryId, tenantId },
      { $set: { status, reason, nextAttemptAt: null, finishedAt: new Date() } },
    );
    if (status === 'failed') metrics.outboundWebhookFailures.inc({ reason: reason ?? 'unknown' });
  };

  return {
    /**
     * Records the event once (by tenant and eventId; the first body recorded is the one every
     * delivery sends) and starts a delivery to each enabled endpoint subscribed to its type.
     * Idempotent: a retried or repeated publish starts nothing twice.
     */
    async publishTenantEvent(request: PublishTenantEventRequest): Promise<{ deliveries: string[] }> {
      return publishTenantEvent(db, webhooks?.starter, request);
    },

    /** One signed POST to the endpoint, logged (time, status code, duration, the start of the answer). */
    async attemptWebhookDelivery(request: { tenantId: string; deliveryId: string }): Promise<AttemptResult> {
      const { tenantId, deliveryId } = request;
      if (!webhooks)
        throw ApplicationFailure.nonRetryable('outbound webhooks are not configured on this worker', 'NotConfigured');
      const delivery = await db.WebhookDelivery.findOne({ _id: deliveryId, tenantId }).lean();
      if (!delivery) throw ApplicationFailure.nonRetryable(`no webhook delivery ${deliveryId}`, 'NotFound');
      const endpoint = await db.WebhookEndpoint.findOne({ _id: delivery.endpointId, tenantId })
        .select('+secret +previousSecret')
        .lean();
      // Deleted or disabled while the delivery waited: it stops (a replay sends it again once re-enabled).
      if (!endpoint || !endpoint.enabled) {
        await finish(
          tenantId,
          deliveryId,
          'cancelled',
          !endpoint ? 'endpoint_deleted' : endpoint.disabledReason === 'gone' ? 'endpoint_gone' : 'endpoint_disabled',
        );
        return { outcome: 'cancelled', statusCode: null };
      }
      const event = await db.TenantEvent.findById(`${tenantId}/${delivery.eventId}`).lean();
      // Expired (30 days) under a replay that started just before: said on the delivery.
      if (!event) {
        await finish(tenantId, deliveryId, 'failed', 'event_expired');
        return { outcome: 'blocked', statusCode: null };
      }
      let secrets: string[];
      try {
        const now = Date.now();
        secrets = [
          endpoint.secret,
          endpoint.previousSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil.getTime() > now
            ? endpoint.previousSecret
            : null,
        ]
          .filter((s): s is string => Boolean(s))
          .map((sealed) => openEndpointSecret(linkSecrets, tenantId, endpoint._id, sealed));
      } catch (err) {
        // Sealed under a LINK_SECRET no longer configured (docs/security.md): nothing can sign it
        // until the tenant rotates the endpoint's secret. Said on the delivery, not retried.
        Context.current().log.error('webhook secret does not open', {
          deliveryId,
          endpointId: endpoint._id,
          error: (err as Error).message,
        });
        await finish(tenantId, deliveryId, 'failed', 'secret_unreadable');
        return { outcome: 'blocked', statusCode: null };
      }
      const at = new Date();
      const sent = await postWebhook({
        url: endpoint.url,
        body: event.body,
        timeoutMs: webhooks.timeoutMs,
        allowPrivateNetworks: webhooks.allowPrivateNetworks,
        resolve: webhooks.resolve,
        headers: webhookHeaders(secrets, event.webhookId, Math.floor(at.getTime() / 1000), event.body),
      });
      const attempt = {
        at,
        statusCode: sent.statusCode,
        durationMs: sent.durationMs,
        error: sent.error,
        response: sent.response,
      };
      await db.WebhookDelivery.updateOne(
        { _id: deliveryId, tenantId },
        { $push: { attempts: attempt }, $set: { url: endpoint.url } },
      );
      Context.current().log.info('webhook attempt', {
        deliveryId,
        type: event.type,
        statusCode: sent.statusCode,
        durationMs: sent.durationMs,
        error: sent.error,
      });
      const code = sent.statusCode;
      metrics.outboundWebhookAttempts.inc({
        outcome:
          code !== null && code >= 200 && code < 300
            ? 'delivered'
            : code === 410
              ? 'gone'
              : sent.blocked
                ? 'blocked'
                : 'retry',
      });
      if (code !== null && code >= 200 && code < 300) {
        await finish(tenantId, deliveryId, 'delivered', null);
        return { outcome: 'delivered', statusCode: code };
      }
      if (code === 410) {
        // 410 Gone: the receiver wants no more (Standard Webhooks: disable the endpoint). Only an enabled one is touched.
        await db.WebhookEndpoint.updateOne(
          { _id: endpoint._id, tenantId, enabled: true },
          { $set: { enabled: false, disabledReason: 'gone', disabledAt: at } },
        );
        await finish(tenantId, deliveryId, 'failed', 'gone');
        return { outcome: 'gone', statusCode: code };
      }
      if (sent.blocked) {
        await finish(tenantId, deliveryId, 'failed', 'blocked_address');
        return { outcome: 'blocked', statusCode: null };
      }
      return { outcome: 'retry', statusCode: code, retryAfterMs: retryAfterMs(sent.retryAfter, at.getTime()) };
    },

    /** After a failed attempt: when the next one comes, or (null) that there will be none. */
    async planWebhookRetry(request: {
      tenantId: string;
      deliveryId: string;
      nextAttemptAt: string | null;
    }): Promise<void> {
      if (request.nextAttemptAt === null) await finish(request.tenantId, request.deliveryId, 'failed', 'gave_up');
      else
        await db.WebhookDelivery.updateOne(
          { _id: request.deliveryId, tenantId: request.tenantId },
          { $set: { status: 'retrying', nextAttemptAt: new Date(request.nextAttemptAt) } },
        );
    },
  };
}
