// Rules O1–O8 as one table: which event each state accepts, where it leads, what it opens or resolves.
import { ORDER_STATES, transition, type OrderEvent, type OrderState } from '../../src/domain/order';
import { itemDetails, RESOLUTION_WORDS, resolutionWords } from '../../src/domain/order-words';

const E = {
  allocated: { type: 'allocated' }, packed: { type: 'packed' }, handed_over: { type: 'handed_over' }, delivered: { type: 'delivered' },
  label_uploaded: { type: 'label_uploaded' }, dimensions_fixed: { type: 'dimensions_fixed' }, pickup_requested: { type: 'pickup_requested' },
  carrier_changed: { type: 'carrier_changed', carrier: 'dhl' },
  tracking: { type: 'tracking_update', status: 'in transit', location: 'Lyon', at: '2026-11-22T10:00:00Z' },
  oos: { type: 'allocation_failed', sku: 'A', reason: 'out_of_stock' },
  rtsLabel: { type: 'rts_failed', reason: 'label_or_invoice_unavailable' },
  pickupRefused: { type: 'handover_failed', reason: 'pickup_refused' },
  customerCancelled: { type: 'handover_failed', reason: 'customer_cancelled' },
  refused: { type: 'delivery_failed', reason: 'refused' },
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
    ['handed_over', E.tracking, 'in_transit', undefined, undefined],
    ['in_transit', E.tracking, 'in_transit', undefined, ['stuck_in_transit']], // O7: an update clears the flag
    ['in_transit', E.refused, 'delivery_failed', 'delivery_failed', ['stuck_in_transit']], // O8
    ['delivery_failed', E.tracking, 'in_transit', undefined, ['delivery_failed']],
    ['in_transit', E.delivered, 'delivered', undefined, ['stuck_in_transit']],
  ])('%s + %j → %s', (state, event, next, opens, resolves) => {
    const r = transition(state, event, state === 'rts_failed' ? 'label_or_invoice_unavailable' : null);
    expect(r.ok && r.transition).toEqual({ next, ...(opens ? { opens } : {}), ...(resolves ? { resolves } : {}) });
  });
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
  const resolving = new Set(ORDER_STATES.flatMap((state) => Object.values(E).filter((e) => {
    const r = transition(state, e, 'label_or_invoice_unavailable');
    return r.ok && (r.transition.resolves ?? []).length > 0;
  }).map((e) => e.type)));
  expect([...resolving].sort()).toEqual(['delivered', 'delivery_failed', 'label_uploaded', 'pickup_requested', 'tracking_update']);
  for (const type of [...resolving, 'packed', 'carrier_changed', 'dimensions_fixed']) {
    for (const locale of ['fr', 'en'] as const) expect(resolutionWords(type, locale)).toBe(RESOLUTION_WORDS[type][locale]);
  }
  expect(resolutionWords('tracking_update', 'fr')).toBe('le transporteur a de nouveau mis à jour le suivi');
  // An operator's own words (release, cancel) are kept as they are.
  expect(resolutionWords('released by k1: checked by phone', 'fr')).toBe('released by k1: checked by phone');
});

test('O1: where the item is, in the seller\'s language', () => {
  expect(itemDetails('TSHIRT-M', 'A-12', 'fr')).toBe('SKU TSHIRT-M, emplacement A-12');
  expect(itemDetails('TSHIRT-M', 'A-12', 'en')).toBe('SKU TSHIRT-M, location A-12');
  expect(itemDetails('TSHIRT-M', null, 'fr')).toBe('SKU TSHIRT-M');
});
