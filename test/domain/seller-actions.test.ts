// Issue 18 item 2 (rules O5–O8): the seller's actions from the orders workspace, as one function
// the order workflow's Update and the API both ask. Each row: the order as it stands, the action,
// and what it does (the event it amounts to, a resolution, a stuck flag, a notice) or why not.
import {
  planSellerAction,
  unreachableChannels,
  type ActionFacts,
  type ActionPlan,
  type SellerAction,
} from '../../src/domain/seller-actions';
import type { ExceptionType, OrderState } from '../../src/domain/order';

const facts = (
  state: OrderState,
  open: Array<[ExceptionType, string]> = [],
  extra: Partial<ActionFacts> = {},
): ActionFacts => ({
  state,
  ended: false,
  open: open.map(([type, reason]) => ({ type, reason })),
  documents: { label: false, invoice: false },
  customer: { email: 'chloe@example.test', phone: '+33612345670' },
  ...extra,
});
const doc = {
  documentId: '6650f0c2a1b2c3d4e5f60718',
  filename: 'label.pdf',
  contentType: 'application/pdf',
  bytes: 1200,
  at: '2026-11-20T08:00:00.000Z',
};
const A = {
  label: { type: 'upload_document', kind: 'label', document: doc },
  invoice: { type: 'upload_document', kind: 'invoice', document: { ...doc, filename: 'invoice.pdf' } },
  carrier: { type: 'change_carrier', carrier: 'DHL', note: null },
  dimensions: {
    type: 'fix_dimensions',
    dimensions: { lengthCm: 30, widthCm: 20, heightCm: 10, weightKg: 1.2 },
    note: null,
  },
  pickup: { type: 'request_pickup', note: 'partner called back' },
  delay: { type: 'tell_customer', notice: 'delivery_delay', channels: ['sms', 'email'], note: null },
  failed: { type: 'tell_customer', notice: 'delivery_failed', channels: ['whatsapp'], note: null },
  strike: { type: 'record_stuck_cause', cause: 'strike', note: 'carrier says the depot is on strike' },
  resolve: (exception: ExceptionType) =>
    ({ type: 'resolve', exception, note: 'dealt with on the sales channel' }) as const,
} satisfies Record<string, SellerAction | ((e: ExceptionType) => SellerAction)>;

describe('what an accepted action does', () => {
  test.each<[string, ActionFacts, SellerAction, ActionPlan]>([
    // O5, label or invoice unavailable: the order moves on once both are uploaded.
    [
      'the label, the invoice still missing',
      facts('rts_failed', [['rts_failed', 'label_or_invoice_unavailable']]),
      A.label,
      {},
    ],
    [
      'the invoice, the label already here',
      facts('rts_failed', [['rts_failed', 'label_or_invoice_unavailable']], {
        documents: { label: true, invoice: false },
      }),
      A.invoice,
      { event: { type: 'label_uploaded' } },
    ],
    [
      'both documents on a PIN-code failure',
      facts('rts_failed', [['rts_failed', 'pincode_unserviceable']], { documents: { label: false, invoice: true } }),
      A.label,
      { event: { type: 'label_uploaded' } },
    ],
    [
      'a label for a dimension mismatch fixes nothing',
      facts('rts_failed', [['rts_failed', 'dimension_mismatch']], { documents: { label: false, invoice: true } }),
      A.label,
      {},
    ],
    ['a label uploaded ahead of time', facts('ready_to_ship'), A.label, {}],
    // O5, PIN code not serviceable: another carrier moves the order on.
    [
      'another carrier on a PIN-code failure',
      facts('rts_failed', [['rts_failed', 'pincode_unserviceable']]),
      A.carrier,
      { event: { type: 'carrier_changed', carrier: 'DHL' } },
    ],
    ['another carrier before packing', facts('allocated'), A.carrier, {}],
    // O5, dimension mismatch.
    [
      'dimensions fixed on a mismatch',
      facts('rts_failed', [['rts_failed', 'dimension_mismatch']]),
      A.dimensions,
      { event: { type: 'dimensions_fixed' } },
    ],
    ['dimensions fixed ahead of time', facts('ready_to_ship'), A.dimensions, {}],
    // O6: a new pickup after a refused one.
    [
      'a new pickup',
      facts('handover_failed', [['handover_failed', 'pickup_refused']]),
      A.pickup,
      { event: { type: 'pickup_requested' } },
    ],
    // O5, O8: the customer told, on the channels chosen.
    [
      'a delay, stuck in transit',
      facts('in_transit', [['stuck_in_transit', 'no_tracking_update']]),
      A.delay,
      { notice: { notice: 'delivery_delay', channels: ['sms', 'email'] } },
    ],
    [
      'a failed delivery',
      facts('delivery_failed', [['delivery_failed', 'customer_unavailable']]),
      A.failed,
      { notice: { notice: 'delivery_failed', channels: ['whatsapp'] } },
    ],
    // O7: why the parcel is stuck, after handover.
    [
      'a cause, stuck',
      facts('in_transit', [['stuck_in_transit', 'no_tracking_update']]),
      A.strike,
      { stuck: 'strike' },
    ],
    ['a cause before the timer', facts('handed_over'), A.strike, { stuck: 'strike' }],
    // Resolved with a note: where each exception leaves the order.
    [
      'unfulfillable resolved: the order ends',
      facts('unfulfillable', [['unfulfillable', 'out_of_stock']]),
      A.resolve('unfulfillable'),
      { resolve: { type: 'unfulfillable', next: 'unfulfillable', ends: true } },
    ],
    [
      'ready-to-ship failure resolved',
      facts('rts_failed', [['rts_failed', 'not_ready_in_time']]),
      A.resolve('rts_failed'),
      { resolve: { type: 'rts_failed', next: 'ready_to_ship', ends: false } },
    ],
    [
      'refused pickup resolved',
      facts('handover_failed', [['handover_failed', 'pickup_refused']]),
      A.resolve('handover_failed'),
      { resolve: { type: 'handover_failed', next: 'ready_to_ship', ends: false } },
    ],
    [
      'stuck resolved',
      facts('in_transit', [['stuck_in_transit', 'misrouted']]),
      A.resolve('stuck_in_transit'),
      { resolve: { type: 'stuck_in_transit', next: 'in_transit', ends: false } },
    ],
    [
      'failed delivery resolved',
      facts('delivery_failed', [['delivery_failed', 'refused']]),
      A.resolve('delivery_failed'),
      { resolve: { type: 'delivery_failed', next: 'delivery_failed', ends: false } },
    ],
  ])('%s', (_name, order, action, plan) => {
    expect(planSellerAction(order, action)).toEqual({ ok: true, plan });
  });
});

describe('what is refused, and why', () => {
  test.each<[string, ActionFacts, SellerAction, RegExp, string | null]>([
    ['anything on an ended order', facts('delivered', [], { ended: true }), A.label, /has ended \(delivered\)/, null],
    ['another carrier once handed over', facts('in_transit'), A.carrier, /already with the carrier/, null],
    ['dimensions once handed over', facts('handed_over'), A.dimensions, /already with the carrier/, null],
    ['a pickup nobody refused', facts('ready_to_ship'), A.pickup, /after the pickup partner refused/, null],
    [
      'a channel the customer cannot receive',
      facts('in_transit', [], { customer: { email: 'c@example.test', phone: null } }),
      A.delay,
      /no phone number for sms/,
      'channels',
    ],
    ['a failed delivery that is not open', facts('in_transit'), A.failed, /failed delivery while it is open/, 'notice'],
    ['a stuck cause before handover', facts('ready_to_ship'), A.strike, /once handed over/, null],
    [
      'a hold resolved by note',
      facts('on_hold', [['on_hold', 'address_or_contact']]),
      A.resolve('on_hold'),
      /released or cancelled/,
      'exception',
    ],
    [
      'an exception that is not open',
      facts('in_transit'),
      A.resolve('stuck_in_transit'),
      /no open stuck_in_transit/,
      'exception',
    ],
  ])('%s', (_name, order, action, message, field) => {
    const r = planSellerAction(order, action);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
    expect(!r.ok && r.field).toBe(field);
  });
});

test('the channels a customer cannot receive', () => {
  expect(unreachableChannels({ email: null, phone: '+33612345670' }, ['email', 'sms', 'whatsapp'])).toEqual(['email']);
  expect(unreachableChannels({ email: 'c@example.test', phone: null }, ['email', 'sms', 'whatsapp'])).toEqual([
    'sms',
    'whatsapp',
  ]);
  expect(unreachableChannels({ email: 'c@example.test', phone: '+33612345670' }, ['email', 'sms'])).toEqual([]);
});
