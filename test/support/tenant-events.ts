// The publishing side of outbound webhooks for tests: the real activities (publishTenantEvent
// records an event and starts its deliveries on the stack's worker), called directly or
// registered on a worker of the test's own, as the dispatch and order workflows will call them.
import type { Client } from '@temporalio/client';
import { createWebhookActivities } from '../../src/activities/webhooks';
import { SANDBOX_SECRETS, type Stack } from './stack';

/** `client`: where delivery workflows start (a time-skipping environment's client, say); the stack's by default. */
export const webhookActivities = (stack: Stack, client: Client = stack.client) =>
  createWebhookActivities({
    db: stack.db,
    linkSecret: SANDBOX_SECRETS.linkSecret,
    webhooks: { starter: { client, taskQueue: stack.taskQueue }, allowPrivateNetworks: true, timeoutMs: 5_000 },
  });

/** An `order.held` event for `orderId`, published for the stack's tenant; resolves with the deliveries it started. */
export const publishHeld = (stack: Stack, orderId: string, options: { client?: Client; eventId?: string } = {}) =>
  webhookActivities(stack, options.client).publishTenantEvent({
    tenantId: stack.tenantId,
    type: 'order.held',
    eventId: options.eventId ?? `held-${orderId}`,
    occurredAt: new Date().toISOString(),
    data: { orderId, reason: 'address_or_contact', risk: 'high', customerAsked: true },
  });
