// The order lifecycle (rules O1–O8): states, the events that move them, the six exceptions
// and their reasons. One table decides every transition; the workflow only asks it.

export const ORDER_STATES = [
  'placed', 'on_hold', 'allocated', 'unfulfillable', 'ready_to_ship', 'rts_failed',
  'handed_over', 'handover_failed', 'in_transit', 'delivered', 'delivery_failed', 'cancelled',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export const FINISHED_STATES: readonly OrderState[] = ['delivered', 'cancelled', 'unfulfillable'];

export const EXCEPTION_TYPES = ['unfulfillable', 'on_hold', 'rts_failed', 'handover_failed', 'stuck_in_transit', 'delivery_failed'] as const;
export type ExceptionType = (typeof EXCEPTION_TYPES)[number];

export const REASONS = {
  unfulfillable: ['out_of_stock', 'not_found_at_location'],
  on_hold: ['address_or_contact', 'suspicious_behaviour'],
  rts_failed: ['label_or_invoice_unavailable', 'pincode_unserviceable', 'dimension_mismatch', 'not_ready_in_time'],
  handover_failed: ['customer_cancelled', 'pickup_refused'],
  stuck_in_transit: ['no_tracking_update'],
  delivery_failed: ['customer_unavailable', 'refused', 'cancelled', 'cod_not_ready', 'address_incorrect', 'unreachable'],
} as const satisfies Record<ExceptionType, readonly string[]>;

export type OrderEvent =
  | { type: 'allocated' }
  | { type: 'allocation_failed'; sku: string; reason: 'out_of_stock' | 'not_found_at_location'; location?: string }
  | { type: 'packed' }
  | { type: 'rts_failed'; reason: 'label_or_invoice_unavailable' | 'pincode_unserviceable' | 'dimension_mismatch' }
  | { type: 'label_uploaded' }
  | { type: 'carrier_changed'; carrier: string }
  | { type: 'dimensions_fixed' }
  | { type: 'handed_over' }
  | { type: 'handover_failed'; reason: 'customer_cancelled' | 'pickup_refused' }
  | { type: 'pickup_requested' }
  | { type: 'tracking_update'; status: string; location: string; at: string }
  | { type: 'delivered' }
  | { type: 'delivery_failed'; reason: (typeof REASONS.delivery_failed)[number] };

export type OrderEventType = OrderEvent['type'];

export interface Transition {
  next: OrderState;
  /** An exception this event opens (its reason comes from the event). */
  opens?: ExceptionType;
  /** Exceptions this event resolves. */
  resolves?: ExceptionType[];
}

/** Which events each state accepts, and where they lead. Anything else is refused with the state named. */
const TABLE: Partial<Record<OrderState, Partial<Record<OrderEventType, Transition>>>> = {
  placed: {
    allocated: { next: 'allocated' },
    allocation_failed: { next: 'unfulfillable', opens: 'unfulfillable' },
  },
  allocated: {
    packed: { next: 'ready_to_ship' },
    allocation_failed: { next: 'unfulfillable', opens: 'unfulfillable' },
    rts_failed: { next: 'rts_failed', opens: 'rts_failed' },
  },
  ready_to_ship: {
    rts_failed: { next: 'rts_failed', opens: 'rts_failed' },
    handed_over: { next: 'handed_over' },
    handover_failed: { next: 'handover_failed', opens: 'handover_failed' },
  },
  rts_failed: {
    packed: { next: 'ready_to_ship', resolves: ['rts_failed'] },
    label_uploaded: { next: 'ready_to_ship', resolves: ['rts_failed'] },
    carrier_changed: { next: 'ready_to_ship', resolves: ['rts_failed'] },
    dimensions_fixed: { next: 'ready_to_ship', resolves: ['rts_failed'] },
  },
  handover_failed: {
    pickup_requested: { next: 'ready_to_ship', resolves: ['handover_failed'] },
  },
  handed_over: {
    tracking_update: { next: 'in_transit' },
    delivered: { next: 'delivered' },
    delivery_failed: { next: 'delivery_failed', opens: 'delivery_failed' },
  },
  in_transit: {
    tracking_update: { next: 'in_transit', resolves: ['stuck_in_transit'] },
    delivered: { next: 'delivered', resolves: ['stuck_in_transit'] },
    delivery_failed: { next: 'delivery_failed', opens: 'delivery_failed', resolves: ['stuck_in_transit'] },
  },
  delivery_failed: {
    tracking_update: { next: 'in_transit', resolves: ['delivery_failed'] },
    delivered: { next: 'delivered', resolves: ['delivery_failed'] },
  },
};

export type TransitionResult = { ok: true; transition: Transition } | { ok: false; message: string };

/** `rtsReason`: why ready-to-ship failed, when it did; the fix must match it. */
export function transition(state: OrderState, event: OrderEvent, rtsReason: string | null = null): TransitionResult {
  const t = TABLE[state]?.[event.type];
  if (!t) {
    const allowed = Object.keys(TABLE[state] ?? {});
    return {
      ok: false,
      message: `event ${event.type} is not allowed while the order is ${state}` +
        (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (the order accepts no more events)'),
    };
  }
  // A customer who cancels after packing: treated as a return and restocked (O6), the order ends cancelled.
  if (event.type === 'handover_failed' && event.reason === 'customer_cancelled') return { ok: true, transition: { next: 'cancelled', opens: 'handover_failed' } };
  // A fix must match what failed: a new label does not fix wrong product dimensions.
  if (state === 'rts_failed' && rtsReason && !RTS_FIX[rtsReason]?.includes(event.type)) {
    return { ok: false, message: `ready-to-ship failed because of ${rtsReason}; ${event.type} does not fix it (expected: ${RTS_FIX[rtsReason].join(' or ')})` };
  }
  return { ok: true, transition: t };
}

/** The fix each ready-to-ship failure needs (O5). */
export const RTS_FIX: Record<string, OrderEventType[]> = {
  label_or_invoice_unavailable: ['label_uploaded'],
  pincode_unserviceable: ['carrier_changed', 'label_uploaded'],
  dimension_mismatch: ['dimensions_fixed'],
  not_ready_in_time: ['packed'],
};

export const eventReason = (event: OrderEvent): string | null => ('reason' in event ? event.reason : null);

export const isFinished = (state: OrderState) => FINISHED_STATES.includes(state);
