// FROZEN with legacy/dispatch-v1.ts: the signal, query and updates of the first version of the
// dispatch workflow, for the API to reach the runs it still has (their names are the current
// version's too; their argument and answer shapes are the first version's).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DispatchState, RecipientState } from '../../domain/legacy/dispatch-v1';
import type { ProviderEvent } from '../../providers/types';

export const providerEventsSignal = defineSignal<[ProviderEvent[]]>('providerEvents');
export const dispatchStateQueryV1 = defineQuery<DispatchState>('state');
export interface ResendRecipientRequest {
  recipientId: string;
  address: string;
  requestedBy: string;
}
export const resendRecipientUpdateV1 = defineUpdate<RecipientState, [ResendRecipientRequest]>('resendRecipient');

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
export const resendViaUpdateV1 = defineUpdate<ResendViaResult, [ResendViaRequest]>('resendVia');

export interface MarkSentRequest {
  by: string;
  at: string;
  note: string;
}
export const markSentUpdateV1 = defineUpdate<DispatchState['markedSent'], [MarkSentRequest]>('markSent');
