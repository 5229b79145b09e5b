// The effects of one dispatch run (workflow.ts): sending, telling people, writing the projection.
// What each step decides is in src/domain/dispatch-run.ts; here it is performed through
// activities, in order. Deterministic code only: workflow time, activity types.
import { ActivityFailure, patched, proxyActivities, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { NOTICE_TEMPLATES, type Notice, type RecipientEvents } from '../../domain/dispatch';
import type { DispatchRun, ProjectionWrite, SendFailureCode } from '../../domain/dispatch-run';
import type { Channel } from '../../providers/types';
import { serialWriter } from '../shared/serial-writer';
import { startDetachedDispatch } from '../shared/notices';
import type { DispatchInput } from './contract';

type Activities = ReturnType<typeof createActivities>;

const { projectDispatch, recordDispatchNotice } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Sending: provider 4xx is non-retryable (thrown as such by the provider layer), 429 waits for
// the provider's reset, 5xx and network errors wait as long as the send has been failing (the
// activity sets each delay, domain/retry.ts); after a day we stop and say so. The policy's own
// backoff is left for attempts that time out: a send that outlives the provider's own 30-second
// timeout means the worker died, so the next attempt comes within a minute whatever its number.
const { sendRecipients } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Issue 20: each projection write records what its event batches say about their addresses in
 * the address-health registry (off the webhook request). Runs that wrote before keep their writes.
 */
export const ADDRESS_HEALTH_FROM_PROJECTION = 'dispatch-address-health-from-projection';

/** The provider's refusal kept in the state (and quoted in the log), at most. */
const MAX_PROVIDER_ERROR = 1000;

/** What the run holds besides its rules' state: signals not applied yet, resends asked for and done, the writer. */
export class DispatchSteps {
  readonly inbox: RecipientEvents[] = [];
  /** D8: resends asked for and not yet sent, by index. */
  readonly resends = new Map<number, { address: string; requestedBy: string }>();
  /** Resends sent and written, which their update handlers wait for. */
  readonly resent = new Set<number>();
  /** Every projection write and document link goes through this, one at a time. */
  readonly serialize = serialWriter();

  constructor(
    readonly input: DispatchInput,
    readonly run: DispatchRun,
  ) {}

  /** Writes what changed since the last write (`markedSent`: D11; `final`: D7). */
  flush(extra: Parameters<DispatchRun['takeWrite']>[0] = {}): Promise<void> {
    return this.serialize(() => projectDispatch(this.projection(this.run.takeWrite(extra))));
  }

  /** Sends the first time (all recipients) or the resends waiting, and records what the provider said. */
  async send(first: boolean): Promise<void> {
    const { input, run } = this;
    const batch = first
      ? []
      : [...this.resends.entries()].map(([index, r]) => ({
          index,
          attempt: run.state.recipients[index].attempt,
          ...r,
        }));
    this.resends.clear();
    const indexes = first ? run.state.recipients.map((_, i) => i) : batch.map((r) => r.index);
    for (const r of batch) run.touch(r.index, Date.now(), r.address);
    try {
      const sent = await sendRecipients({
        tenantId: input.tenantId,
        dispatchId: input.dispatchId,
        ...(first ? { first: true } : { resends: batch }),
        // Issue 20: each recipient's link is signed by the activity; it stays valid while the dispatch listens (D7).
        ...(run.acknowledging ? { receiptLinksExpireAt: Date.now() + input.policy.listenForMs } : {}),
      });
      run.sent(sent, first, Date.now()); // deadlines (D3, D7) run on workflow time, not on the activity host's clock
    } catch (err) {
      run.sendFailed(indexes, first, sendFailure(err), Date.now());
    }
    for (const index of indexes) run.touch(index, Date.now());
    // A resend is answered once its new address is in the log (the operator reads it next).
    await this.flush();
    for (const r of batch) this.resent.add(r.index);
  }

  /** Applies what came in and the deadlines passed; tells whom the rules say; writes when due (a notice is built from the log: written first). */
  async step(deferredRule: boolean): Promise<void> {
    for (const signal of this.inbox.splice(0)) this.run.applySignal(signal, Date.now());
    const now = Date.now();
    const notices = this.run.deadlines(now, deferredRule);
    if (notices.length || this.run.writeDue(now)) await this.flush();
    for (const notice of notices) await this.notify(notice);
  }

  /** D7: the window closed; whoever has no final status gets one, and the rules tell whom they say (D3–D5). */
  async closeWindow(): Promise<void> {
    const notices = this.run.closeWindow(Date.now());
    if (!notices.length) return;
    await this.flush();
    for (const notice of notices) await this.notify(notice);
  }

  /** A notice, recorded (its words are built from the log), then one dispatch per person and channel. */
  async notify(notice: Notice): Promise<void> {
    const { input } = this;
    if (input.kind === 'notification') return; // nobody is told about a notice's own delivery; it is in the log
    const children = this.run.noticeChildren(input.dispatchId, notice, input.sender, input.escalateTo);
    await recordDispatchNotice({
      tenantId: input.tenantId,
      dispatchId: input.dispatchId,
      workflowId: workflowInfo().workflowId,
      locale: input.locale,
      timeZone: input.timeZone,
      dispatchUrl: input.dispatchUrl,
      senderName: input.sender.name,
      unknownAfterMs: input.policy.unknownAfterMs,
      listenForMs: input.policy.listenForMs,
      ...(input.policy.acknowledgeWithinMs !== undefined
        ? { acknowledgeWithinMs: input.policy.acknowledgeWithinMs }
        : {}),
      notice,
      children,
    });
    await Promise.all(
      children.map((c) =>
        startDetachedDispatch(noticeInput(input, c.dispatchId, NOTICE_TEMPLATES[notice.kind], c.channel)),
      ),
    );
  }

  private projection(write: ProjectionWrite) {
    const addressHealth = write.histories.length > 0 && patched(ADDRESS_HEALTH_FROM_PROJECTION);
    return {
      tenantId: this.input.tenantId,
      dispatchId: this.input.dispatchId,
      ...write,
      ...(addressHealth ? { addressHealth: true as const } : {}),
    };
  }
}

/** The notice dispatch a workflow starts for one person on one channel. */
function noticeInput(parent: DispatchInput, dispatchId: string, template: string, channel: Channel): DispatchInput {
  return {
    ...parent,
    dispatchId,
    kind: 'notification',
    template,
    channel,
    provider: channel === 'email' ? 'sendgrid' : 'twilio',
    document: null,
    escalateTo: [],
    recipientCount: 1,
    parentWorkflowId: workflowInfo().workflowId,
  };
}

/**
 * Why a send put nothing out (D9 `failed`), and its words: the provider's refusal (a non-retryable
 * failure), or a day of failures, when the next retry would pass the activity's schedule-to-close
 * (the server then ends it with its last failure, or a timeout).
 */
function sendFailure(err: unknown): { code: SendFailureCode; cause: string } {
  const failure = err instanceof ActivityFailure && err.cause ? err.cause : (err as Error);
  const gaveUp =
    failure instanceof TimeoutFailure ||
    (err instanceof ActivityFailure && (err.retryState === 'TIMEOUT' || err.retryState === 'MAXIMUM_ATTEMPTS_REACHED'));
  if (gaveUp) {
    const last = failure instanceof TimeoutFailure ? failure.cause?.message : failure.message;
    return {
      code: 'sending_gave_up',
      cause: `no answer after a day of trying${last ? `; last error: ${last}` : ''}`.slice(0, MAX_PROVIDER_ERROR),
    };
  }
  return { code: 'request_refused', cause: failure.message.slice(0, MAX_PROVIDER_ERROR) };
}
