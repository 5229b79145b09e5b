// Which tenant events (outbound webhooks, src/domain/tenant-events.ts) one write of an order's
// record reports: the exceptions it opens and resolves, a hold, a release, a cancellation. Each
// event id is derived from what it reports, so writing (or publishing) the same change twice
// raises it once.
import type { TenantEvent } from '../outbound/publish';
import type { OpenException } from '../workflows/order/contract';
import type { OrderChanges } from '../activities/orders';

export interface ResolvedException extends Omit<OpenException, 'n'> {
  n: number;
  resolvedAt: string;
  resolution: string;
}

export interface OrderWrite {
  orderId: string;
  changes: Pick<OrderChanges, 'timeline' | 'opened' | 'set'>;
  /** The exceptions this write resolves, as recorded when they opened. */
  resolved: ResolvedException[];
  /** The order's state and risk level before this write (null: its first write). */
  before: { state: string | null; riskLevel: 'low' | 'medium' | 'high' | null };
}

const exceptionData = (e: Omit<OpenException, 'n'>) => ({
  type: e.type,
  reason: e.reason,
  details: e.details,
  openedAt: e.openedAt,
});

export function orderTenantEvents({ orderId, changes, resolved, before }: OrderWrite): TenantEvent[] {
  const events: TenantEvent[] = [];
  const entries = changes.timeline.flatMap((e) => (e.kind === 'event' ? [e] : []));
  for (const e of changes.opened) {
    events.push({
      type: 'order.exception_opened',
      eventId: `order/${orderId}/exception/${e.n}/opened`,
      data: { orderId, exception: exceptionData(e) },
    });
  }
  for (const e of resolved) {
    events.push({
      type: 'order.exception_resolved',
      eventId: `order/${orderId}/exception/${e.n}/resolved`,
      data: { orderId, exception: { ...exceptionData(e), resolvedAt: e.resolvedAt, resolution: e.resolution } },
    });
  }
  const { hold } = changes.set;
  if (hold) {
    const risk = changes.set.risk?.level ?? before.riskLevel ?? 'high';
    events.push({
      type: 'order.held',
      eventId: `order/${orderId}/held/${hold.since}`,
      data: {
        orderId,
        reason: hold.reason as 'address_or_contact' | 'suspicious_behaviour',
        risk,
        customerAsked: Boolean(changes.set.confirmation),
      },
    });
  }
  for (const e of entries) {
    if (e.event === 'released') {
      events.push({
        type: 'order.released',
        eventId: `order/${orderId}/released/${e.seq}`,
        data: { orderId, by: 'ops', actor: e.by, reason: e.reason },
      });
    } else if (
      (e.event === 'address_confirmed' || e.event === 'address_corrected') &&
      'hold' in changes.set &&
      changes.set.hold === null
    ) {
      events.push({
        type: 'order.released',
        eventId: `order/${orderId}/released/${e.seq}`,
        data: { orderId, by: 'customer', actor: null, reason: e.event },
      });
    }
  }
  if (changes.set.state === 'cancelled' && before.state !== 'cancelled') {
    const by = entries.find((e) => e.event === 'cancelled');
    events.push({
      type: 'order.cancelled',
      eventId: `order/${orderId}/cancelled`,
      data: { orderId, previousState: before.state ?? 'placed', actor: by?.by ?? null, reason: by?.reason ?? null },
    });
  }
  return events;
}
