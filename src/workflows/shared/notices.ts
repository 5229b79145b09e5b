// Starting a dispatch from a workflow: a notice (D3–D6, D9 from a dispatch; the order workflow's
// alerts, rule O9) or a document re-sent by SMS. Each is its own dispatch workflow, abandoned on
// the starter's close, recorded first by an activity (template, data, the person's address go to
// MongoDB, not into the dispatch's input). Workflow code: deterministic, activity types only.
import { ParentClosePolicy, patched, proxyActivities, startChild } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import type { NoticeRecordRequest } from '../../activities/dispatch';
import type { DispatchPolicy, Person } from '../../domain/dispatch';
import { DISPATCH_WORKFLOW, dispatchWorkflowId, type DispatchInput, type DispatchWorkflow } from '../dispatch/contract';
import { noticeRecipient, startDetachedDispatch as startDetachedDispatchV1 } from '../legacy/dispatch-v1';

const { recordNotice } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Dispatches started by workflows with this patch are recorded before they start (issue 15). */
export const RECORDED_NOTICES_PATCH = 'dispatch-notices-recorded-first';

/** What an activity records (the notice's template, data, person, channel …), and what its dispatch starts with. */
export interface NoticeRequest extends Omit<NoticeRecordRequest, 'sender'> {
  sender: Person & { outletId: string | null };
  policy: DispatchPolicy;
  /** Where people open what the notice is about (the order's page). */
  dispatchUrl: string;
}

/** Starts a dispatch that outlives whoever starts it: its own workflow, abandoned on the starter's close. */
export function startDetachedDispatch(input: DispatchInput) {
  return startChild<DispatchWorkflow>(DISPATCH_WORKFLOW, {
    workflowId: dispatchWorkflowId(input.tenantId, input.dispatchId),
    parentClosePolicy: ParentClosePolicy.ABANDON,
    args: [input],
  });
}

/** An order's notice: recorded, then started as a dispatch of one recipient. */
export async function startNotice(notice: NoticeRequest): Promise<void> {
  const {
    tenantId,
    dispatchId,
    template,
    data,
    locale,
    timeZone,
    tenantName,
    person,
    channel,
    sender,
    policy,
    dispatchUrl,
  } = notice;
  // A run that sent notices before this version replays the way it started them then.
  if (!patched(RECORDED_NOTICES_PATCH)) {
    await startDetachedDispatchV1({
      tenantId,
      dispatchId,
      kind: 'notification',
      ...noticeRecipient(person, channel),
      template,
      data,
      locale,
      timeZone,
      tenantName,
      document: null,
      sender,
      escalateTo: [],
      requestedBy: 'relais',
      policy,
      dispatchUrl,
    });
    return;
  }
  await recordNotice({
    tenantId,
    dispatchId,
    template,
    data,
    locale,
    timeZone,
    tenantName,
    person,
    channel,
    sender,
    parent: notice.parent,
    ...(notice.confirmation ? { confirmation: notice.confirmation } : {}),
  });
  const input: DispatchInput = {
    tenantId,
    dispatchId,
    kind: 'notification',
    template,
    channel,
    provider: channel === 'email' ? 'sendgrid' : 'twilio',
    locale,
    timeZone,
    document: null,
    sender,
    escalateTo: [],
    recipientCount: 1,
    policy,
    dispatchUrl,
    parentWorkflowId: notice.parent,
  };
  await startDetachedDispatch(input);
}
