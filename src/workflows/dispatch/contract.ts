// The dispatch workflow's contract: its name and id, its input and outcome, the signal that
// brings provider events, the query and the updates. The API, activities, pages and tests import
// this module, never the workflow (workflow.ts). It runs on the worker's one task queue
// (TEMPORAL_TASK_QUEUE). Runs of the first version answer to the same names with their own
// shapes (../legacy/dispatch-v1-contract.ts, re-exported at the end).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DispatchPolicy, DispatchState, Locale, Person, RecipientEvents } from '../../domain/dispatch';
import type { DispatchResult, RecipientStatus } from '../../domain/dispatch-status';
import type { Channel } from '../../providers/types';
import type {
  DispatchInput as DispatchInputV1,
  DispatchState as DispatchStateV1,
} from '../../domain/legacy/dispatch-v1';
import type { DispatchOutcome as DispatchOutcomeV1 } from '../legacy/dispatch-v1';

/** The workflow type (the function's name, workflow.ts). */
export const DISPATCH_WORKFLOW = 'dispatch';
/** One workflow per dispatch, notices included: `dispatch/<tenant>/<dispatchId>`. */
export const dispatchWorkflowId = (tenantId: string, dispatchId: string) => `dispatch/${tenantId}/${dispatchId}`;

/**
 * What a dispatch workflow starts with. The dispatch itself (rendered copy, recipients, template
 * data, attachments) is recorded in MongoDB before the workflow starts.
 */
export interface DispatchInput {
  tenantId: string;
  dispatchId: string;
  kind: 'document' | 'notification';
  channel: Channel;
  provider: 'sendgrid' | 'smtp' | 'twilio';
  /** The template it was rendered from (a notice carrying a customer's link or code is never resent). */
  template: string;
  locale: Locale;
  timeZone: string;
  document: { type: string; number: string } | null;
  sender: Person & { outletId: string | null };
  /** D4: who is told at once when every recipient failed (the sender and their outlet's purchasing manager). */
  escalateTo: Person[];
  recipientCount: number;
  policy: DispatchPolicy;
  /** Where people open this dispatch (sent in notifications). */
  dispatchUrl: string;
  /** Issue 20: each recipient is asked to acknowledge receipt through a signed link of its own. */
  acknowledge?: true;
  parentWorkflowId: string | null;
}

export interface DispatchOutcome {
  result: DispatchResult;
  counts: Partial<Record<RecipientStatus, number>>;
}

/** What continues across continue-as-new: the rules' state and the projection's version. */
export interface Carried {
  state: DispatchState;
  version: number;
}

/** How a client starts it (`client.workflow.start<DispatchWorkflow>(DISPATCH_WORKFLOW, …)`); first-version runs keep their own shapes. */
export type DispatchWorkflow = (
  input: DispatchInput | DispatchInputV1,
  carried?: Carried | DispatchStateV1,
) => Promise<DispatchOutcome | DispatchOutcomeV1>;

/** Provider events, stored and deduplicated by the webhook handler (at most MAX_EVENTS_PER_SIGNAL each). */
export const recipientEventsSignal = defineSignal<[RecipientEvents]>('recipientEvents');
export const dispatchStateQuery = defineQuery<DispatchState>('state');

/** D8: send one recipient again, to the same address or another. */
export interface ResendRecipientRequest {
  index: number;
  /** How the operator named the recipient (its id), for refusals. */
  recipientId: string;
  address: string;
  requestedBy: string;
}
export interface ResendRecipientResult {
  index: number;
  attempt: number;
  status: RecipientStatus;
}
export const resendRecipientUpdate = defineUpdate<ResendRecipientResult, [ResendRecipientRequest]>('resendRecipient');

/** D8: an emailed document sent again as a link over SMS or WhatsApp (a dispatch of its own). */
export interface ResendViaRequest {
  channel: 'sms' | 'whatsapp';
  phone: string;
  requestedBy: string;
}
export interface ResendViaResult {
  dispatchId: string;
  channel: 'sms' | 'whatsapp';
  phone: string;
  expiresAt: string;
}
export const resendViaUpdate = defineUpdate<ResendViaResult, [ResendViaRequest]>('resendVia');

/** D11: who sent it by other means and when (`on`: the day chosen, in the tenant's zone, when no time was given). */
export interface MarkSentRequest {
  by: string;
  at: string;
  note: string;
  on?: string;
}
export const markSentUpdate = defineUpdate<MarkSentRequest, [MarkSentRequest]>('markSent');

/**
 * Issue 20: a recipient acknowledges receipt through the link sent to them (the link names its
 * position and attempt; the token itself never reaches the workflow). Single use.
 */
export interface AcknowledgeReceiptRequest {
  index: number;
  attempt: number;
  /** The name the person typed, if any. */
  name: string | null;
  /** A calendar day (YYYY-MM-DD), e.g. when a purchase order will be delivered. */
  deliveryDate: string | null;
  note: string | null;
}
export interface AcknowledgeReceiptResult {
  index: number;
  /** ISO 8601, UTC. */
  acknowledgedAt: string;
}
export const acknowledgeReceiptUpdate = defineUpdate<AcknowledgeReceiptResult, [AcknowledgeReceiptRequest]>(
  'acknowledgeReceipt',
);

export { dispatchStateQueryV1, providerEventsSignal, resendRecipientUpdateV1 } from '../legacy/dispatch-v1-contract';
