// One per seller and channel, `alert-digest/<tenant>/<key>`: at most one alert message per window
// (src/domain/alert-digest.ts). The first alert after a quiet window goes at once; the next ones
// wait for the window's end and go as one message. A quiet window ends the workflow; the next alert
// starts it again (signalWithStart), so nothing runs for a seller with nothing to say.
import { condition, continueAsNew, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { addAlert, digestMessage, emptyPending, nextSendAt, type DigestPending } from '../../domain/alert-digest';
import { startNotice } from '../shared/notices';
import { alertQueuedSignal, type AlertDigestInput } from './contract';

/** Messages sent before continuing as new (each starts a child: a few events in the history). */
const MESSAGES_PER_RUN = 200;

export async function sellerAlertDigest(input: AlertDigestInput): Promise<void> {
  let pending = input.pending ?? emptyPending();
  let lastSentAt = input.lastSentAt ?? null;
  setHandler(alertQueuedSignal, (alert) => {
    pending = addAlert(pending, alert);
  });
  const waiting = () => pending.alerts.length + pending.more > 0;
  for (let messages = 0; ;) {
    // After a message, a window with nothing new ends the workflow. Checked again after the wait:
    // an alert signalled in the activation the window ends in is handled before the timer.
    const quiet = lastSentAt === null ? 0 : Math.max(0, lastSentAt + input.everyMs - Date.now());
    if (!waiting() && !(await condition(waiting, quiet)) && !waiting()) return;
    const due = nextSendAt(lastSentAt, input.everyMs, Date.now());
    if (due > Date.now()) await sleep(due - Date.now());
    const taken = pending;
    pending = emptyPending();
    messages += 1;
    lastSentAt = Date.now();
    await send(input, taken, lastSentAt);
    if (messages >= MESSAGES_PER_RUN || workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof sellerAlertDigest>({ ...input, pending, lastSentAt });
  }
}

/** One message per window, so its workflow time names it uniquely, across runs too. */
function send(input: AlertDigestInput, pending: DigestPending, at: number) {
  const { template, data } = digestMessage(pending, input.seller.name, input.ordersUrl);
  return startNotice({
    tenantId: input.tenantId,
    dispatchId: `${input.key}~${template}-${at}`,
    template,
    data,
    locale: input.locale,
    timeZone: input.timeZone,
    tenantName: input.tenantName,
    person: input.seller,
    channel: input.channel,
    sender: { ...input.seller, outletId: null },
    policy: input.policy,
    dispatchUrl: template === 'order_alert_digest' ? input.ordersUrl : (pending.alerts[0]?.orderUrl ?? input.ordersUrl),
    parent: workflowInfo().workflowId,
  });
}
