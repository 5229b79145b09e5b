// What the seller does about an order's exceptions from the orders workspace (issue 18; rules
// O5–O8 and the order-exception seed): upload the label or invoice, change the carrier, fix the
// dimensions, request a new pickup, tell the customer, record why a parcel is stuck, resolve an
// exception with a note. Each action is an Update of the order workflow; its validator and the
// API ask `planSellerAction`, so a refusal reads the same on the page and in the API.
import { BEFORE_HANDOVER, type ExceptionType, type OrderEvent, type OrderState, type StuckCause } from './order';
import type { NoticeChannel } from './preferences';

export const DOCUMENT_KINDS = ['label', 'invoice'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** What the seller can tell the customer from the page: a delay, or a failed delivery and what happens next (O5, O8). */
export const TOLD_NOTICES = ['delivery_delay', 'delivery_failed'] as const;
export type ToldNotice = (typeof TOLD_NOTICES)[number];

/** A parcel's measures as the seller corrects them (O5, dimension mismatch). */
export interface Dimensions {
  lengthCm: number;
  widthCm: number;
  heightCm: number;
  weightKg: number;
}

/** A stored upload, as the workflow and the order's document keep it (the file itself is in GridFS). */
export interface DocumentRef {
  documentId: string;
  filename: string;
  contentType: string;
  bytes: number;
  at: string;
}

export type SellerAction =
  | { type: 'upload_document'; kind: DocumentKind; document: DocumentRef }
  | { type: 'change_carrier'; carrier: string; note: string | null }
  | { type: 'fix_dimensions'; dimensions: Dimensions; note: string | null }
  | { type: 'request_pickup'; note: string | null }
  | { type: 'tell_customer'; notice: ToldNotice; channels: NoticeChannel[]; urgent?: boolean; note: string | null }
  | { type: 'record_stuck_cause'; cause: StuckCause; note: string | null }
  | { type: 'resolve'; exception: ExceptionType; note: string };

export type SellerActionType = SellerAction['type'];
export const SELLER_ACTION_TYPES: readonly SellerActionType[] = [
  'upload_document',
  'change_carrier',
  'fix_dimensions',
  'request_pickup',
  'tell_customer',
  'record_stuck_cause',
  'resolve',
];

/** What an action needs to know about the order. */
export interface ActionFacts {
  state: OrderState;
  ended: boolean;
  open: ReadonlyArray<{ type: ExceptionType; reason: string }>;
  documents: { label: boolean; invoice: boolean };
  customer: { email: string | null; phone: string | null };
}

/** What an accepted action does, beyond recording itself in the order's timeline. */
export interface ActionPlan {
  /** The fulfilment event it amounts to, applied as the platform's would be (it moves the order on). */
  event?: OrderEvent;
  /** Resolve an open exception with the seller's note: the state that follows, whether the order ends. */
  resolve?: { type: ExceptionType; next: OrderState; ends: boolean };
  /** Flag the parcel stuck with this cause (the exception opens if it is not open yet). */
  stuck?: StuckCause;
  /** Tell the customer on these channels. */
  notice?: { notice: ToldNotice; channels: NoticeChannel[]; urgent?: boolean };
}

export type PlanResult = { ok: true; plan: ActionPlan } | { ok: false; message: string; field: string | null };

/** Where each exception leaves the order once the seller resolves it with a note. */
const AFTER_RESOLVE: Record<
  Exclude<ExceptionType, 'on_hold'>,
  (state: OrderState) => { next: OrderState; ends: boolean }
> = {
  // O1: nothing to ship; the seller dealt with it (cancelled and refunded on the sales channel…).
  unfulfillable: () => ({ next: 'unfulfillable', ends: true }),
  // O5, O6: the seller says the order is ready to go again.
  rts_failed: () => ({ next: 'ready_to_ship', ends: false }),
  handover_failed: () => ({ next: 'ready_to_ship', ends: false }),
  // O7, O8: the parcel is still the carrier's; its next event moves the order on.
  stuck_in_transit: (state) => ({ next: state, ends: false }),
  delivery_failed: (state) => ({ next: state, ends: false }),
};

/** Which of the chosen channels the customer cannot receive (no email address, no phone). */
export function unreachableChannels(
  customer: ActionFacts['customer'],
  channels: readonly NoticeChannel[],
): NoticeChannel[] {
  return channels.filter((c) => (c === 'email' ? !customer.email : !customer.phone));
}

export function planSellerAction(facts: ActionFacts, action: SellerAction): PlanResult {
  const refuse = (message: string, field: string | null = null): PlanResult => ({ ok: false, message, field });
  const { state } = facts;
  if (facts.ended) return refuse(`the order has ended (${state}) and accepts no more actions`);
  const rtsReason = facts.open.find((e) => e.type === 'rts_failed')?.reason ?? null;
  const beforeHandover = BEFORE_HANDOVER.includes(state);
  switch (action.type) {
    case 'upload_document': {
      // O5: once the sales channel's label and invoice are both here, the order is ready to ship.
      const documents = { ...facts.documents, [action.kind]: true };
      const fixes =
        state === 'rts_failed' &&
        (rtsReason === 'label_or_invoice_unavailable' || rtsReason === 'pincode_unserviceable');
      return {
        ok: true,
        plan: fixes && documents.label && documents.invoice ? { event: { type: 'label_uploaded' } } : {},
      };
    }
    case 'change_carrier':
      if (!beforeHandover)
        return refuse(
          `the parcel is already with the carrier (the order is ${state}): the carrier can change only before handover`,
        );
      return {
        ok: true,
        plan:
          state === 'rts_failed' && rtsReason === 'pincode_unserviceable'
            ? { event: { type: 'carrier_changed', carrier: action.carrier } }
            : {},
      };
    case 'fix_dimensions':
      if (!beforeHandover)
        return refuse(
          `the parcel is already with the carrier (the order is ${state}): the dimensions can change only before handover`,
        );
      return {
        ok: true,
        plan:
          state === 'rts_failed' && rtsReason === 'dimension_mismatch' ? { event: { type: 'dimensions_fixed' } } : {},
      };
    case 'request_pickup':
      if (
        state !== 'handover_failed' ||
        !facts.open.some((e) => e.type === 'handover_failed' && e.reason === 'pickup_refused')
      ) {
        return refuse(`a new pickup is requested after the pickup partner refused one; this order is ${state}`);
      }
      return { ok: true, plan: { event: { type: 'pickup_requested' } } };
    case 'tell_customer': {
      const unreachable = unreachableChannels(facts.customer, action.channels);
      if (unreachable.length)
        return refuse(
          `the customer has no ${unreachable.includes('email') ? 'email address' : 'phone number'} for ${unreachable.join(', ')}`,
          'channels',
        );
      if (action.notice === 'delivery_failed' && !facts.open.some((e) => e.type === 'delivery_failed')) {
        return refuse(`the customer is told of a failed delivery while it is open; this order is ${state}`, 'notice');
      }
      const urgent = action.urgent ? { urgent: true } : {};
      return { ok: true, plan: { notice: { notice: action.notice, channels: action.channels, ...urgent } } };
    }
    case 'record_stuck_cause':
      if (state !== 'handed_over' && state !== 'in_transit')
        return refuse(`a parcel is stuck in transit once handed over to the carrier; this order is ${state}`);
      return { ok: true, plan: { stuck: action.cause } };
    case 'resolve': {
      if (action.exception === 'on_hold')
        return refuse('a held order is released or cancelled (ops), with a reason', 'exception');
      if (!facts.open.some((e) => e.type === action.exception))
        return refuse(`this order has no open ${action.exception} exception`, 'exception');
      return { ok: true, plan: { resolve: { type: action.exception, ...AFTER_RESOLVE[action.exception](state) } } };
    }
  }
}
