// The order lifecycle (rules O1–O8): states, the events that move them, the six exceptions
// and their reasons. One table decides every transition; the workflow only asks it.
//
// Two generations of rules share the table (`Lifecycle`): 2 for orders started before issue 18
// (and the frozen legacy code), which must replay step for step, and 3 for orders started since:
// an unfulfillable order waits for the seller (restock and allocate again, or resolve it), a
// customer's cancellation between packing and handover ends as handover failed with the return,
// and an order ends with no exception left open.

export const ORDER_STATES = [
  'placed',
  'on_hold',
  'allocated',
  'unfulfillable',
  'ready_to_ship',
  'rts_failed',
  'handed_over',
  'handover_failed',
  'in_transit',
  'delivered',
  'delivery_failed',
  'cancelled',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** The states where an order of lifecycle 2 ends (lifecycle 3 says so per transition: `ends`). */
export const FINISHED_STATES: readonly OrderState[] = ['delivered', 'cancelled', 'unfulfillable'];

/** 2: orders started before issue 18 (their histories replay as they ran); 3: orders started since. */
export type Lifecycle = 2 | 3;

export const EXCEPTION_TYPES = [
  'unfulfillable',
  'on_hold',
  'rts_failed',
  'handover_failed',
  'stuck_in_transit',
  'delivery_failed',
] as const;
export type ExceptionType = (typeof EXCEPTION_TYPES)[number];

export const REASONS = {
  unfulfillable: ['out_of_stock', 'not_found_at_location'],
  on_hold: ['address_or_contact', 'no_valid_contact', 'suspicious_behaviour'],
  rts_failed: ['label_or_invoice_unavailable', 'pincode_unserviceable', 'dimension_mismatch', 'not_ready_in_time'],
  handover_failed: ['customer_cancelled', 'pickup_refused'],
  stuck_in_transit: [
    'no_tracking_update',
    'not_scanned_since_handover',
    'misrouted',
    'natural_disaster',
    'strike',
    'operational',
    'untraceable',
    'lost_or_damaged',
  ],
  delivery_failed: [
    'customer_unavailable',
    'refused',
    'cancelled',
    'cod_not_ready',
    'address_incorrect',
    'unreachable',
  ],
} as const satisfies Record<ExceptionType, readonly string[]>;

/**
 * Why a parcel is held up in transit (O7), the causes of the order-exception seed: recorded from a
 * carrier's tracking event (`tracking_update` with `stuckCause`) or by the seller.
 */
export const STUCK_CAUSES = [
  'misrouted',
  'natural_disaster',
  'strike',
  'operational',
  'untraceable',
  'lost_or_damaged',
] as const;
export type StuckCause = (typeof STUCK_CAUSES)[number];

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
  | { type: 'tracking_update'; status: string; location: string; at: string; stuckCause?: StuckCause }
  | { type: 'delivered' }
  | { type: 'delivery_failed'; reason: (typeof REASONS.delivery_failed)[number] };

export type OrderEventType = OrderEvent['type'];

export interface Transition {
  next: OrderState;
  /** An exception this event opens (its reason comes from the event). */
  opens?: ExceptionType;
  /** Exceptions this event resolves. */
  resolves?: ExceptionType[];
  /** Lifecycle 3: the order ends here (its workflow completes once every exception is resolved). */
  ends?: true;
  /** The items come back to stock: a return (O6). */
  restocks?: true;
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
  // After handover the order may be flagged stuck before any scan (lifecycle 3): the first
  // update clears it. With lifecycle 2 nothing is open here to resolve.
  handed_over: {
    tracking_update: { next: 'in_transit', resolves: ['stuck_in_transit'] },
    delivered: { next: 'delivered', resolves: ['stuck_in_transit'] },
    delivery_failed: { next: 'delivery_failed', opens: 'delivery_failed', resolves: ['stuck_in_transit'] },
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

/** What lifecycle 3 changes in the table; everything else is shared. */
const TABLE_V3: Partial<Record<OrderState, Partial<Record<OrderEventType, Transition>>>> = {
  // O1: the seller restocks or finds the item, and the platform allocates again.
  unfulfillable: { allocated: { next: 'allocated', resolves: ['unfulfillable'] } },
  // O6: the customer may still cancel while a refused pickup waits for a new one.
  handover_failed: {
    ...TABLE.handover_failed,
    handover_failed: { next: 'handover_failed', opens: 'handover_failed', resolves: ['handover_failed'] },
  },
  handed_over: { ...TABLE.handed_over, delivered: { next: 'delivered', resolves: ['stuck_in_transit'], ends: true } },
  in_transit: { ...TABLE.in_transit, delivered: { next: 'delivered', resolves: ['stuck_in_transit'], ends: true } },
  delivery_failed: {
    ...TABLE.delivery_failed,
    delivered: { next: 'delivered', resolves: ['delivery_failed'], ends: true },
  },
};

/** The events a state accepts under a lifecycle. */
export const allowedEvents = (state: OrderState, lifecycle: Lifecycle = 2): OrderEventType[] =>
  Object.keys((lifecycle === 3 && TABLE_V3[state]) || TABLE[state] || {}) as OrderEventType[];

/** Why an event was refused, for people (`message`) and programs (`details`: the state, the event, what it accepts). */
export interface Refusal {
  message: string;
  details: { state: OrderState; event: OrderEventType; allowed: OrderEventType[] };
}

export type TransitionResult = { ok: true; transition: Transition } | ({ ok: false } & Refusal);

/**
 * `rtsReason`: why ready-to-ship failed, when it did; the fix must match it. `lifecycle`: the
 * rules the order started under (2 by default: the legacy code and runs started before issue 18).
 */
export function transition(
  state: OrderState,
  event: OrderEvent,
  rtsReason: string | null = null,
  lifecycle: Lifecycle = 2,
): TransitionResult {
  const t = ((lifecycle === 3 && TABLE_V3[state]) || TABLE[state])?.[event.type];
  const allowed = allowedEvents(state, lifecycle);
  const refuse = (message: string): TransitionResult => ({
    ok: false,
    message,
    details: { state, event: event.type, allowed },
  });
  if (!t) {
    return refuse(
      `event ${event.type} is not allowed while the order is ${state}` +
        (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (the order accepts no more events)'),
    );
  }
  // A customer who cancels after packing is treated as a return and restocked (O6): under
  // lifecycle 2 the order ends cancelled; under 3 it ends as handover failed, the exception resolved.
  if (event.type === 'handover_failed' && event.reason === 'customer_cancelled') {
    return {
      ok: true,
      transition:
        lifecycle === 3 ? { ...t, ends: true, restocks: true } : { next: 'cancelled', opens: 'handover_failed' },
    };
  }
  if (lifecycle === 3 && state === 'handover_failed' && event.type === 'handover_failed') {
    return refuse(
      "the pickup was already refused: request a new pickup (pickup_requested), or report the customer's cancellation (reason customer_cancelled)",
    );
  }
  // A fix must match what failed: a new label does not fix wrong product dimensions.
  if (state === 'rts_failed' && rtsReason && !RTS_FIX[rtsReason]?.includes(event.type)) {
    return refuse(
      `ready-to-ship failed because of ${rtsReason}; ${event.type} does not fix it (expected: ${RTS_FIX[rtsReason].join(' or ')})`,
    );
  }
  // A carrier's update that reports a problem (O7) moves the parcel on but does not clear the flag.
  if (event.type === 'tracking_update' && event.stuckCause) {
    const resolves = (t.resolves ?? []).filter((x) => x !== 'stuck_in_transit');
    const { resolves: _all, ...rest } = t;
    return { ok: true, transition: { ...rest, ...(resolves.length ? { resolves } : {}) } };
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

/** Lifecycle 2: whether the order has ended (lifecycle 3 carries `ended`, set by the transition that ends it). */
export const isFinished = (state: OrderState) => FINISHED_STATES.includes(state);

/** The states before the parcel is handed over: the carrier, the dimensions may still change. */
export const BEFORE_HANDOVER: readonly OrderState[] = [
  'placed',
  'on_hold',
  'allocated',
  'ready_to_ship',
  'rts_failed',
  'handover_failed',
  'unfulfillable',
];

/** What the refusal of an event on a held order adds: the hold, and what lifts it. */
export interface HoldRefusal extends Refusal {
  details: Refusal['details'] & {
    hold: { reason: string; since: string };
    /** What lifts the hold: the customer's confirmation (address or contact holds), ops releasing it; ops may also cancel. */
    liftedBy: Array<'customer_confirmation' | 'release' | 'cancel'>;
    release: string;
  };
}

/**
 * An event refused while the order is on hold (O2–O4): the hold is temporary, so the message
 * says what lifts it and that the event is accepted afterwards; the state and the hold travel
 * in `details` for programs.
 */
export function holdRefusal(refusal: Refusal, hold: { reason: string; since: string }, orderId: string): HoldRefusal {
  const release = `/v1/orders/${encodeURIComponent(orderId)}/release`;
  const byCustomer = hold.reason === 'address_or_contact';
  return {
    message:
      `the order is on hold (${hold.reason}) since ${hold.since}; a hold is temporary: ${refusal.details.event} is accepted once it lifts, ` +
      `${byCustomer ? 'when the customer confirms or corrects the address through the link or reply they were sent, or ' : ''}` +
      `when ops release it (POST ${release}, with a reason); ops may also cancel it`,
    details: {
      ...refusal.details,
      hold,
      liftedBy: [...(byCustomer ? ['customer_confirmation' as const] : []), 'release', 'cancel'],
      release,
    },
  };
}

/** An address on one line, as a notice shows it: its parts that are there, never an empty one ("rue, 7 , FR"). */
export function addressLine(a: {
  line1?: string | null;
  line2?: string | null;
  postalCode?: string | null;
  city?: string | null;
  country?: string | null;
}): string {
  const town = [a.postalCode, a.city].filter(Boolean).join(' ');
  return [a.line1, a.line2, town, a.country].filter(Boolean).join(', ');
}
