// The order workflow's contract: its input, the state it keeps and answers with, its query and
// updates, and the timeline entries it appends. Activities, routes and pages import this module,
// not the workflow, and so do both versions of the workflow (order.ts and legacy/order-v1.ts).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ExceptionType, OrderEvent, OrderState } from '../domain/order';
import type { Locale } from '../domain/order-words';
import type { RiskAssessment } from '../domain/risk';
import type { NoticeChannel } from '../domain/preferences';
import type { Person } from '../domain/dispatch';

export interface Address { line1: string; line2: string | null; city: string; postalCode: string; country: string }
export interface OrderDetails {
  items: Array<{ sku: string; quantity: number; location: string }>;
  customer: { name: string; phone: string | null; email: string | null; address: Address };
  payment: { method: 'prepaid' | 'cash_on_delivery'; amount: string | null };
  salesChannel: string;
  carrier: string;
}

export interface OrderInput {
  tenantId: string;
  orderId: string;
  order: OrderDetails;
  locale: Locale;
  timeZone: string;
  tenantName: string;
  seller: Person;
  policy: { stuckAfterMs: number; linkTtlMs: number; readyToShipWithinMs: number; unknownAfterMs: number; listenForMs: number };
  orderUrl: string;
}

/** An exception still open, as the workflow keeps it (resolved ones live only in MongoDB). */
export interface OpenException {
  /** Its number within the order, from 1: the key of its record in `order_exceptions`. */
  n: number;
  type: ExceptionType;
  reason: string;
  details: string | null;
  openedAt: string;
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
}

/** One line of an order's timeline, appended once to `order_timeline`, never rewritten. */
export type TimelineEntry =
  | { seq: number; at: string; kind: 'event'; event: string; by: string | null; reason: string | null; details: Record<string, unknown> | null }
  | { seq: number; at: string; kind: 'notification'; dispatchId: string; audience: 'seller' | 'customer'; channel: NoticeChannel; template: string };

/** What an Update answers (both versions of the workflow give at least this). */
export interface OrderAnswer { state: OrderState; stuck: boolean }

/** What the `state` query answers: an OrderSummary; a legacy run answers its whole view, which has these fields too. */
export type OrderStateAnswer = Pick<OrderSummary, 'state' | 'stuck' | 'address' | 'risk' | 'hold' | 'lastTrackingAt' | 'confirmation' | 'restocked' | 'version'> & Partial<OrderSummary>;
export const orderStateQuery = defineQuery<OrderStateAnswer>('state');
export const orderEventUpdate = defineUpdate<OrderAnswer, [OrderEvent]>('orderEvent');
export interface OpsAction { by: string; reason: string }
export const releaseUpdate = defineUpdate<OrderAnswer, [OpsAction]>('release');
export const cancelUpdate = defineUpdate<OrderAnswer, [OpsAction]>('cancel');
export interface AddressConfirmation { nonce: string; via: 'link' | 'whatsapp' | 'sms'; corrected: Address | null }
export const confirmAddressUpdate = defineUpdate<OrderAnswer, [AddressConfirmation]>('confirmAddress');

/** The patch that separates runs of the bounded-state workflow from those of legacy/order-v1.ts. */
export const ORDER_STATE_V2 = 'order-state-v2';
