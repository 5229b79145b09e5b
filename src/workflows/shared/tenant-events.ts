// Raising a tenant event from a workflow (outbound webhooks, docs/webhooks.md): where a decision
// is taken (a dispatch's result changes, an order is held …), `publish` records the event once
// and starts one delivery workflow per endpoint subscribed to it (activity publishTenantEvent).
// A webhook must never stop a dispatch or an order: a failure is logged, not thrown.
import { ActivityFailure, log, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import type { TenantEventData, TenantEventType } from '../../domain/tenant-events';

type Activities = ReturnType<typeof createActivities>;

const { publishTenantEvent } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface PublishOptions {
  /**
   * Idempotency key of the event within the tenant; default a uuid4 of the workflow's
   * deterministic generator (the same on replay, new for each call).
   */
  eventId?: string;
}

/** The events of one tenant: `const events = tenantEvents(input.tenantId); await events.publish('order.held', { … })`. */
export function tenantEvents(tenantId: string) {
  return {
    async publish<T extends TenantEventType>(
      type: T,
      data: TenantEventData<T>,
      options: PublishOptions = {},
    ): Promise<void> {
      const eventId = options.eventId ?? uuid4();
      try {
        // Workflow time: the moment the decision was taken, the same on replay.
        await publishTenantEvent({ tenantId, type, data, eventId, occurredAt: new Date().toISOString() });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.warn('tenant event not published', { tenantId, type, eventId, error: err.cause?.message ?? err.message });
      }
    },
  };
}
