// A tiny workflow that raises tenant events as the dispatch and order workflows will
// (src/workflows/tenant-events.ts), for the outbound webhook tests.
import { tenantEvents } from '../../src/workflows/shared/tenant-events';
import type { TenantEventType } from '../../src/domain/tenant-events';

export interface PublishRequest {
  tenantId: string;
  events: Array<{ type: TenantEventType; data: unknown; eventId?: string }>;
}

export async function publishEvents(request: PublishRequest): Promise<void> {
  const events = tenantEvents(request.tenantId);
  for (const e of request.events)
    await events.publish(e.type, e.data as never, e.eventId ? { eventId: e.eventId } : {});
}
