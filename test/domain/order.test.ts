// Rules O1–O8 as one table: which event each state accepts, where it leads, what it opens or resolves.
import {
  ORDER_STATES,
  addressLine,
  REASONS,
  STUCK_CAUSES,
  holdRefusal,
  transition,
  type OrderEvent,
  type OrderState,
  type Transition,
} from '../../src/domain/order';
import {
  itemDetails,
  REASON_WORDS,
  RESOLUTION_WORDS,
  actionWords,
  reasonWords,
  resolutionWords,
} from '../../src/domain/order-words';

const E = {
  allocated: { type: 'allocated' },
  packed: { type: 'packed' },
  handed_over: { type: 'handed_over' },
  delivered: { type: 'delivered' },
  label_uploaded: { type: 'label_uploaded' },
  dimensions_fixed: { type: 'dimensions_fixed' },
  pickup_requested: { type: 'pickup_requested' },
  carrier_changed: { type: 'carrier_changed', carrier: 'dhl' },
  tracking: { type: 'tracking_update', status: 'in transit', location: 'Lyon', at: '2026-11-22T10:00:00Z' },
  oos: { type: 'allocation_failed', sku: 'A', reason: 'out_of_stock' },
  rtsLabel: { type: 'rts_failed', reason: 'label_or_invoice_unavailable' },
  pickupRefused: { type: 'handover_failed', reason: 'pickup_refused' },
  customerCancelled: { type: 'handover_failed', reason: 'customer_cancelled' },
  refused: { type: 'delivery_failed', reason: 'refused' },
  lost: {
    type: 'tracking_update',
    status: 'parcel damaged',
    location: 'Lyon hub',
    at: '2026-11-22T10:00:00Z',
    stuckCause: 'lost_or_damaged',
  },
} satisfies Record<string, OrderEvent>;

describe('O1–O8: which event each state accepts, where it leads, what it opens and resolves', () => {
  test.each<[OrderState, OrderEvent, OrderState, string | undefined, string[] | undefined]>([
    ['placed', E.allocated, 'allocated', undefined, undefined],
    ['placed', E.oos, 'unfulfillable', 'unfulfillable', undefined], // O1
    ['allocated', E.packed, 'ready_to_ship', undefined, undefined],
    ['allocated', E.rtsLabel, 'rts_failed', 'rts_failed', undefined], // O5
    ['rts_failed', E.label_uploaded, 'ready_to_ship', undefined, ['rts_failed']],
    ['ready_to_ship', E.handed_over, 'handed_over', undefined, undefined],
    ['ready_to_ship', E.pickupRefused, 'handover_failed', 'handover_failed', undefined], // O6
    ['ready_to_ship', E.customerCancelled, 'cancelled', 'handover_failed', undefined], // O6: return, restocked
    ['handover_failed', E.pickup_requested, 'ready_to_ship', undefined, ['handover_failed']],
    ['handed_over', E.tracking, 'in_transit', undefined, ['stuck_in_transit']], // O7 after handover: the first scan clears the flag
    ['in_transit', E.tracking, 'in_transit', undefined, ['stuck_in_transit']], // O7: an update clears the flag
    ['in_transit', E.refused, 'delivery_failed', 'delivery_failed', ['stuck_in_transit']], // O8
    ['delivery_failed', E.tracking, 'in_transit', undefined, ['delivery_failed']],
    ['in_transit', E.delivered, 'delivered', undefined, ['stuck_in_transit']],
  ])('%s + %j → %s', (state, event, next, opens, resolves) => {
    const r = transition(state, event, state === 'rts_failed' ? 'label_or_invoice_unavailable' : null);
    expect(r.ok && r.transition).toEqual({ next, ...(opens ? { opens } : {}), ...(resolves ? { resolves } : {}) });
  });
});

describe('lifecycle 3 (orders started since issue 18): every order ends, and ends with nothing open', () => {
  test.each<[OrderState, OrderEvent, Transition]>([
    // O1: an unfulfillable order waits for the seller; allocated again once restocked.
    ['unfulfillable', E.allocated, { next: 'allocated', resolves: ['unfulfillable'] }],
    // O6 / issue 18 item 4: a cancellation between packing and handover ends as handover failed, a return.
    [
      'ready_to_ship',
      E.customerCancelled,
      { next: 'handover_failed', opens: 'handover_failed', ends: true, restocks: true },
    ],
    [
      'handover_failed',
      E.customerCancelled,
      { next: 'handover_failed', opens: 'handover_failed', resolves: ['handover_failed'], ends: true, restocks: true },
    ],
    ['handed_over', E.delivered, { next: 'delivered', resolves: ['stuck_in_transit'], ends: true }],
    ['in_transit', E.delivered, { next: 'delivered', resolves: ['stuck_in_transit'], ends: true }],
    ['delivery_failed', E.delivered, { next: 'delivered', resolves: ['delivery_failed'], ends: true }],
    ['handed_over', E.tracking, { next: 'in_transit', resolves: ['stuck_in_transit'] }],
  ])('%s + %j → %j', (state, event, expected) => {
    const r = transition(state, event, null, 3);
    expect(r.ok && r.transition).toEqual(expected);
  });

  test('lifecycle 2 keeps its steps: the same cancellation ends cancelled, unfulfillable accepts nothing', () => {
    const cancelled = transition('ready_to_ship', E.customerCancelled);
    expect(cancelled.ok && cancelled.transition).toEqual({ next: 'cancelled', opens: 'handover_failed' });
    expect(transition('unfulfillable', E.allocated).ok).toBe(false);
    expect(transition('handover_failed', E.customerCancelled).ok).toBe(false);
  });

  test('a pickup refused twice is not a new exception: the seller requests a new one', () => {
    const r = transition('handover_failed', E.pickupRefused, null, 3);
    expect(!r.ok && r.message).toMatch(/request a new pickup/);
  });
});

describe("O7: a carrier's update that reports why the parcel is stuck moves it on and keeps the flag", () => {
  test.each<[OrderState, OrderState]>([
    ['handed_over', 'in_transit'],
    ['in_transit', 'in_transit'],
  ])('%s → %s', (state, next) => {
    const r = transition(state, E.lost, null, 3);
    expect(r.ok && r.transition).toEqual({ next });
  });
  test('each cause is a stuck reason, worded in both languages with what to do', () => {
    for (const cause of STUCK_CAUSES) {
      expect(REASONS.stuck_in_transit).toContain(cause);
      for (const locale of ['fr', 'en'] as const) {
        expect(reasonWords(cause, locale)).toBe(REASON_WORDS[cause].reason[locale]);
        expect(actionWords(cause, locale).length).toBeGreaterThan(10);
      }
    }
    expect(reasonWords('misrouted', 'fr')).toBe('le colis a été mal acheminé vers une mauvaise destination');
    expect(reasonWords('not_scanned_since_handover', 'en')).toBe(
      'the carrier has not scanned the parcel since it was handed over',
    );
  });
});

test('issue 18 item 6: an event refused on a held order says the hold is temporary and what lifts it; the state is in details', () => {
  const refused = transition('on_hold', E.allocated, null, 3);
  expect(refused.ok).toBe(false);
  if (refused.ok) return;
  expect(refused.details).toEqual({ state: 'on_hold', event: 'allocated', allowed: [] });
  const address = holdRefusal(refused, { reason: 'address_or_contact', since: '2026-11-20T08:00:00.000Z' }, 'A 1');
  expect(address.message).toMatch(
    /a hold is temporary: allocated is accepted once it lifts, when the customer confirms or corrects the address .* when ops release it \(POST \/v1\/orders\/A%201\/release/,
  );
  expect(address.details).toEqual({
    state: 'on_hold',
    event: 'allocated',
    allowed: [],
    hold: { reason: 'address_or_contact', since: '2026-11-20T08:00:00.000Z' },
    liftedBy: ['customer_confirmation', 'release', 'cancel'],
    release: '/v1/orders/A%201/release',
  });
  // A hold for the customer's history is lifted by ops only.
  const behaviour = holdRefusal(refused, { reason: 'suspicious_behaviour', since: '2026-11-20T08:00:00.000Z' }, 'A1');
  expect(behaviour.details.liftedBy).toEqual(['release', 'cancel']);
  expect(behaviour.message).not.toMatch(/customer confirms/);
});

test.each<[OrderState, OrderEvent, RegExp]>([
  ['placed', E.delivered, /not allowed while the order is placed/],
  ['on_hold', E.allocated, /while the order is on_hold/],
  ['delivered', E.tracking, /accepts no more events/],
  ['cancelled', E.packed, /accepts no more events/],
  ['in_transit', E.packed, /allowed: tracking_update, delivered, delivery_failed/],
])('%s refuses %j', (state, event, message) => {
  const r = transition(state, event);
  expect(r.ok).toBe(false);
  expect(!r.ok && r.message).toMatch(message);
});

test.each([
  ['dimension_mismatch', E.label_uploaded, false],
  ['dimension_mismatch', E.dimensions_fixed, true],
  ['pincode_unserviceable', E.carrier_changed, true],
  ['label_or_invoice_unavailable', E.dimensions_fixed, false],
  ['not_ready_in_time', E.packed, true],
] as const)('O5: after %s, %j fixes it: %s', (reason, fix, ok) => {
  expect(transition('rts_failed', fix, reason).ok).toBe(ok);
});

test('every state is covered by the table or finished', () => {
  for (const state of ORDER_STATES) {
    const anyAccepted = Object.values(E).some((e) => transition(state, e, 'label_or_invoice_unavailable').ok);
    expect([anyAccepted, ['on_hold', 'delivered', 'cancelled', 'unfulfillable'].includes(state)]).toContain(true);
  }
});

test('every event that resolves an exception says how in both languages, never by its name', () => {
  const resolving = new Set(
    ORDER_STATES.flatMap((state) =>
      Object.values(E)
        .filter((e) => {
          const r = transition(state, e, 'label_or_invoice_unavailable');
          return r.ok && (r.transition.resolves ?? []).length > 0;
        })
        .map((e) => e.type),
    ),
  );
  expect([...resolving].sort()).toEqual([
    'delivered',
    'delivery_failed',
    'label_uploaded',
    'pickup_requested',
    'tracking_update',
  ]);
  for (const type of [
    ...resolving,
    'packed',
    'carrier_changed',
    'dimensions_fixed',
    'allocated',
    'returned',
    'order_ended',
  ]) {
    for (const locale of ['fr', 'en'] as const)
      expect(resolutionWords(type, locale)).toBe(RESOLUTION_WORDS[type][locale]);
  }
  expect(resolutionWords('tracking_update', 'fr')).toBe('le transporteur a de nouveau mis à jour le suivi');
  // An operator's or a seller's own words are kept, introduced in the reader's language.
  expect(resolutionWords('released by k1: checked by phone', 'fr')).toBe('libérée par k1 : checked by phone');
  expect(resolutionWords('released by k1: checked by phone', 'en')).toBe('released by k1: checked by phone');
  expect(resolutionWords('resolved by Sam (key k1): refunded: on Shopify', 'fr')).toBe(
    'résolue par Sam (key k1) : refunded: on Shopify',
  );
});

test("O1: where the item is, in the seller's language", () => {
  expect(itemDetails('TSHIRT-M', 'A-12', 'fr')).toBe('SKU TSHIRT-M, emplacement A-12');
  expect(itemDetails('TSHIRT-M', 'A-12', 'en')).toBe('SKU TSHIRT-M, location A-12');
  expect(itemDetails('TSHIRT-M', null, 'fr')).toBe('SKU TSHIRT-M');
});

// rule O3: the address a confirmation notice shows, on one line, with only the parts it has.
test.each([
  [
    { line1: '12 rue de la Paix', line2: null, postalCode: '75002', city: 'Paris', country: 'FR' },
    '12 rue de la Paix, 75002 Paris, FR',
  ],
  [{ line1: 'rue', line2: 'Bât. B', postalCode: '7', city: '', country: 'FR' }, 'rue, Bât. B, 7, FR'],
  [{ line1: 'rue', line2: null, postalCode: null, city: 'Lyon', country: 'FR' }, 'rue, Lyon, FR'],
  [{ line1: 'rue', line2: null, postalCode: '', city: '', country: 'FR' }, 'rue, FR'],
])('addressLine(%p) → %p', (address, line) => {
  expect(addressLine(address)).toBe(line);
});
