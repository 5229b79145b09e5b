// The order workflow's contract: its name and id, its input, the state it keeps and answers with,
// its query and updates, and the timeline entries it appends. Activities, routes, pages and tests
// import this module, never the workflow, and so do both versions of the workflow (workflow.ts
// and ../legacy/order-v1.ts). It runs on the worker's one task queue (TEMPORAL_TASK_QUEUE).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ExceptionType, OrderEvent, OrderState, StuckCause } from '../../domain/order';
import type { Dimensions, DocumentRef, SellerAction } from '../../domain/seller-actions';
import type { Locale } from '../../domain/order-words';
import type { RiskAssessment } from '../../domain/risk';
import type { NoticeChannel } from '../../domain/preferences';
import type { Person } from '../../domain/dispatch';

/** The workflow type (the function's name, src/workflows/order/workflow.ts). */
export const ORDER_WORKFLOW = 'order';
/** One workflow per order: `order/<tenant>/<orderId>`. */
export const orderWorkflowId = (tenantId: string, orderId: string) => `order/${tenantId}/${orderId}`;

export interface Address {
  line1: string;
  line2: string | null;
  city: string;
  postalCode: string;
  country: string;
}
export interface OrderDetails {
  items: Array<{ sku: string; quantity: number; location: string }>;
  /** `timeZone`: the customer's, for quiet hours (issue 20); absent, the tenant's. */
  customer: { name: string; phone: string | null; email: string | null; address: Address; timeZone?: string };
  payment: { method: 'prepaid' | 'cash_on_delivery'; amount: string | null };
  salesChannel: string;
  carrier: string;
  /** Issue 20: an order about to ship; its address confirmation is not held by quiet hours. */
  urgentAddressConfirmation?: boolean;
}

export interface OrderInput {
  tenantId: string;
  orderId: string;
  order: OrderDetails;
  locale: Locale;
  timeZone: string;
  tenantName: string;
  seller: Person;
  policy: {
    stuckAfterMs: number;
    linkTtlMs: number;
    readyToShipWithinMs: number;
    unknownAfterMs: number;
    listenForMs: number;
  };
  orderUrl: string;
  /** Its number in the tenant's placing order (issue 18: the orders list reads by it); absent for orders started before. */
  number?: number;
}

/** An exception still open, as the workflow keeps it (resolved ones live only in MongoDB). */
export interface OpenException {
  /** Its number within the order, from 1: the key of its record in `order_exceptions`. */
  n: number;
  type: ExceptionType;
  reason: string;
  details: string | null;
  openedAt: string;
  /** A stuck exception: why the parcel is held up, once the carrier or the seller said (O7). */
  cause?: StuckCause | null;
}

/**
 * What the order workflow keeps, carries across continue-as-new and answers with: only what its
 * rules need, a few hundred bytes whatever the number of events. The timeline (events,
 * notifications sent) and resolved exceptions are appended to MongoDB as they happen.
 */
export interface OrderSummary {
  /** Shape tag: a carried legacy view has none (legacy/order-v1.ts). */
  shape: 2;
  state: OrderState;
  /** When `state` was entered: the ready-to-ship deadline and the stuck rule count from it. */
  stateSince: string;
  address: Address;
  risk: RiskAssessment | null;
  hold: { reason: string; since: string } | null;
  stuck: boolean;
  lastTrackingAt: string | null;
  openExceptions: OpenException[];
  confirmation: { nonce: string; expiresAt: string; used: boolean } | null;
  restocked: boolean;
  /** How many timeline entries, exceptions and notifications the order has had: the next keys. */
  counters: { timeline: number; exceptions: number; notifications: number };
  /** Projection writes so far: an older write never overwrites a newer one. */
  version: number;
  /**
   * The rules the order runs under (src/domain/order.ts, `Lifecycle`): 3 for orders started since
   * issue 18 (patch 'order-workspace-v3'); absent for runs started before, which keep lifecycle 2.
   */
  lifecycle?: 3;
  /** Lifecycle 3: the order has ended (its workflow completes); no exception is left open. */
  ended?: boolean;
  /** The label and invoice the seller uploaded (the latest of each; the files are in GridFS). */
  documents?: { label: DocumentRef | null; invoice: DocumentRef | null };
  /** The carrier now, when the seller changed it (the order's own otherwise). */
  carrier?: string;
  dimensions?: Dimensions | null;
  /** Why the parcel is stuck, while it is (O7). */
  stuckCause?: StuckCause | null;
  /** When the seller last resolved a stuck exception: the stuck rule counts from here too. */
  clockFrom?: string | null;
}

/** One line of an order's timeline, appended once to `order_timeline`, never rewritten. */
export type TimelineEntry =
  | {
      seq: number;
      at: string;
      kind: 'event';
      event: string;
      by: string | null;
      reason: string | null;
      details: Record<string, unknown> | null;
    }
  | {
      seq: number;
      at: string;
      kind: 'notification';
      /** Null for an alert queued in the seller's digest (`digest`), whose message goes later. */
      dispatchId: string | null;
      digest?: true;
      /** Issue 20: a customer notice going through its channels one at a time: `noticeId` names it, `channel` is its first. */
      noticeId?: string;
      audience: 'seller' | 'customer';
      channel: NoticeChannel;
      template: string;
    };

/** What an Update answers (both versions of the workflow give at least this). */
export interface OrderAnswer {
  state: OrderState;
  stuck: boolean;
}

/** What the `state` query answers: an OrderSummary; a legacy run answers its whole view, which has these fields too. */
export type OrderStateAnswer = Pick<
  OrderSummary,
  'state' | 'stuck' | 'address' | 'risk' | 'hold' | 'lastTrackingAt' | 'confirmation' | 'restocked' | 'version'
> &
  Partial<OrderSummary>;
export const orderStateQuery = defineQuery<OrderStateAnswer>('state');
export const orderEventUpdate = defineUpdate<OrderAnswer, [OrderEvent]>('orderEvent');
export interface OpsAction {
  by: string;
  reason: string;
}
export const releaseUpdate = defineUpdate<OrderAnswer, [OpsAction]>('release');
export const cancelUpdate = defineUpdate<OrderAnswer, [OpsAction]>('cancel');
/** A seller's action (src/domain/seller-actions.ts) and who took it: a person's name from the operator session, or the API key's id. */
export interface SellerActionRequest {
  by: string;
  action: SellerAction;
}
export const sellerActionUpdate = defineUpdate<OrderAnswer, [SellerActionRequest]>('sellerAction');
export interface AddressConfirmation {
  nonce: string;
  via: 'link' | 'whatsapp' | 'sms';
  corrected: Address | null;
}
export const confirmAddressUpdate = defineUpdate<OrderAnswer, [AddressConfirmation]>('confirmAddress');

/** How a client starts it (`client.workflow.start<OrderWorkflow>(ORDER_WORKFLOW, …)`); a run continued as new carries its summary. */
export type OrderWorkflow = (
  input: OrderInput,
  carried?: OrderSummary | LegacyOrderView,
) => Promise<OrderSummary | LegacyOrderView>;

// Runs of the first version (../legacy/order-v1.ts), FROZEN with it: what they carry and answer.
export interface LegacyOrderException {
  type: ExceptionType;
  reason: string;
  details: string | null;
  openedAt: string;
  resolvedAt: string | null;
  resolution: string | null;
}

/** The view a legacy run carries and writes (continue-as-new input included). */
export interface LegacyOrderView {
  state: OrderState;
  address: Address;
  risk: RiskAssessment | null;
  hold: { reason: string; since: string } | null;
  stuck: boolean;
  lastTrackingAt: string | null;
  exceptions: LegacyOrderException[];
  history: Array<{
    event: string;
    at: string;
    by: string | null;
    reason: string | null;
    details: Record<string, unknown> | null;
  }>;
  notifications: Array<{
    dispatchId: string;
    audience: 'seller' | 'customer';
    channel: NoticeChannel;
    template: string;
    at: string;
  }>;
  confirmation: { nonce: string; expiresAt: string; used: boolean } | null;
  restocked: boolean;
  version: number;
}

/** The patch that separates runs of the bounded-state workflow from those of legacy/order-v1.ts. */
export const ORDER_STATE_V2 = 'order-state-v2';
/** The patch that starts lifecycle 3 (issue 18): runs without it keep the rules they started with. */
export const ORDER_WORKSPACE_V3 = 'order-workspace-v3';
