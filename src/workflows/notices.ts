// A notice from another workflow (the order workflow's alerts, rule O9) as its own dispatch:
// recorded first by an activity (template, data, the person's address go to MongoDB, not into
// the dispatch's input), then started. Workflow code: deterministic, activity types only.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { NoticeRecordRequest } from '../activities/dispatch';
import type { DispatchInput, DispatchPolicy, Person } from '../domain/dispatch';
import { startDetachedDispatch } from './dispatch';
import { noticeRecipient, startDetachedDispatch as startDetachedDispatchV1 } from './legacy/dispatch-v1';

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

export async function startNotice(notice: NoticeRequest): Promise<void> {
  const { tenantId, dispatchId, template, data, locale, timeZone, tenantName, person, channel, sender, policy, dispatchUrl } = notice;
  // A run that sent notices before this version replays the way it started them then.
  if (!patched(RECORDED_NOTICES_PATCH)) {
    await startDetachedDispatchV1({
      tenantId, dispatchId, kind: 'notification', ...noticeRecipient(person, channel), template, data, locale, timeZone, tenantName,
      document: null, sender, escalateTo: [], requestedBy: 'relais', policy, dispatchUrl,
    });
    return;
  }
  await recordNotice({
    tenantId, dispatchId, template, data, locale, timeZone, tenantName, person, channel, sender, parent: notice.parent,
    ...(notice.confirmation ? { confirmation: notice.confirmation } : {}),
  });
  const input: DispatchInput = {
    tenantId, dispatchId, kind: 'notification', template, channel, provider: channel === 'email' ? 'sendgrid' : 'twilio', locale, timeZone,
    document: null, sender, escalateTo: [], recipientCount: 1, policy, dispatchUrl, parentWorkflowId: notice.parent,
  };
  await startDetachedDispatch(input);
}
