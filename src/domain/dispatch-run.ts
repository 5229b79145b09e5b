// One dispatch run as its workflow drives it (src/workflows/dispatch/workflow.ts): the rules'
// state (src/domain/dispatch.ts) plus what changed since the last projection write, and the
// steps that move it — events, send outcomes, deadlines, the window's close. Pure: the workflow
// passes workflow time in and performs what the steps return (notices to start, writes to make).
import {
  acknowledgementCounts,
  applyEvents,
  applySendOutcome,
  closeListening,
  countByStatus,
  documentOf,
  dueAcknowledgementNotices,
  dueNotices,
  initialState,
  listenUntil,
  markDeferredOverdue,
  markRefused,
  markUnknown,
  needingAttention,
  nextAcknowledgementDeadline,
  nextDeferredDeadline,
  nextUnknownDeadline,
  noticeAudience,
  openedCount,
  overdueDeferredCount,
  recipientChange,
  type DecidedEntry,
  type NoticeAudience,
  type Person,
  type DispatchPolicy,
  type DispatchState,
  type HistoryBatches,
  type Notice,
  type RecipientChange,
  type RecipientEvents,
} from './dispatch';
import type { DispatchResult, RecipientStatus } from './dispatch-status';

/** Projection writes wait this long for more events (a burst becomes one write)… */
export const PROJECTION_DELAY_MS = 250;
/** …unless this many (document of recipients, event batch) pairs wait to join the histories. */
export const PROJECTION_MAX_BATCHES = 100;
/** The log names this many recipients that need attention. */
const LOG_FAILURES_NAMED = 5;

/** Why a send put nothing out (D9 `failed`). */
export type SendFailureCode = 'request_refused' | 'sending_gave_up';

/** What the provider said to one send: positions by outcome, and the event batch holding their history entries. */
export interface SendOutcome {
  batch: string;
  documents: number[];
  accepted: number[];
  sent: number[];
  notSent: number[];
}

/** One projection write: what changed since the last one, and the dispatch as it is now. */
export interface ProjectionWrite {
  version: number;
  recipients: RecipientChange[];
  histories: HistoryBatches[];
  decided: DecidedEntry[];
  dispatch: {
    result: DispatchResult;
    providerError: string | null;
    counts: Partial<Record<RecipientStatus, number>>;
    opened: number;
    attention: number[];
    overdueDeferred: number;
    sentAt?: number;
    completedAt?: number;
    markedSent?: { by: string; at: string; note: string; on?: string };
    /** Issue 20: when the dispatch asks for receipt acknowledgement. */
    acknowledgement?: { acknowledged: number; awaiting: number };
  };
  final?: true;
  refusal?: string;
}

export class DispatchRun {
  readonly state: DispatchState;
  /** Projection writes so far (carried across continue-as-new): an older write never replaces a newer one. */
  version: number;
  /** Why the first send put nothing out (D9 `failed`), for the notice. */
  notEmailed: SendFailureCode | undefined;
  /** Recipients changed since the last write (with a resend's new address). */
  private readonly changed = new Map<number, string | undefined>();
  /** Event batches to copy into the histories, by document of recipients. */
  private readonly histories = new Map<number, string[]>();
  /** Entries the rules decided (D3's `no_confirmation`, a refusal). */
  private decided: DecidedEntry[] = [];
  /** When the oldest change not yet written was made (workflow time), or null. */
  private pendingSince: number | null = null;
  private firstSentAt: number | undefined;
  private refusal: string | undefined;
  /**
   * Issue 20: the dispatch asks its recipients to acknowledge receipt (set by the workflow behind
   * its patch): the counts are written, and the policy's deadlines, when set, run.
   */
  acknowledging = false;

  constructor(
    recipientCount: number,
    private readonly policy: DispatchPolicy,
    carried?: { state: DispatchState; version: number },
  ) {
    this.state = carried?.state ?? initialState(recipientCount);
    this.version = carried?.version ?? 0;
  }

  /** Whether the dispatch still listens at `now` (D7), the provider having taken it. */
  listening(now: number): boolean {
    return now < listenUntil(this.state, now, this.policy.listenForMs) && this.state.providerError === null;
  }

  /** When the run must wake up with nothing coming in: a deadline (D3, D7) or a write due. */
  wakeAt(now: number): number {
    const { unknownAfterMs, listenForMs } = this.policy;
    const unknownAt = Math.min(
      nextUnknownDeadline(this.state, unknownAfterMs) ?? Infinity,
      nextDeferredDeadline(this.state, unknownAfterMs) ?? Infinity,
    );
    const flushAt = this.pendingSince !== null ? this.pendingSince + PROJECTION_DELAY_MS : Infinity;
    const acknowledgeAt = this.acknowledgementDeadlines()
      ? (nextAcknowledgementDeadline(this.state, ...this.acknowledgementDeadlines()!) ?? Infinity)
      : Infinity;
    return Math.min(listenUntil(this.state, now, listenForMs), unknownAt, flushAt, acknowledgeAt);
  }

  /** Issue 20: the two acknowledgement periods, when the dispatch asks for it and the tenant set a deadline. */
  private acknowledgementDeadlines(): [number, number] | undefined {
    const { acknowledgeWithinMs, acknowledgeEscalateAfterMs } = this.policy;
    if (!this.acknowledging || acknowledgeWithinMs === undefined) return undefined;
    return [acknowledgeWithinMs, acknowledgeEscalateAfterMs ?? acknowledgeWithinMs];
  }

  /** Issue 20: a recipient acknowledged receipt at workflow time `now` (the update's validator checked it may). */
  acknowledged(index: number, now: number): void {
    this.state.recipients[index].acknowledgedAt = now;
    this.touch(index, now);
  }

  /** Whether a write is due: a burst waited long enough, or many batches wait. */
  writeDue(now: number): boolean {
    const waiting = [...this.histories.values()].reduce((n, list) => n + list.length, 0);
    return (
      waiting >= PROJECTION_MAX_BATCHES ||
      (this.pendingSince !== null && now >= this.pendingSince + PROJECTION_DELAY_MS)
    );
  }

  /** Marks a recipient for the next write (`address`: where a resend went). */
  touch(index: number, now: number, address?: string): void {
    if (this.pendingSince === null) this.pendingSince = now;
    if (address !== undefined || !this.changed.has(index)) this.changed.set(index, address ?? this.changed.get(index));
  }

  /** Provider events as signalled (D2, D6, D7). */
  applySignal(signal: RecipientEvents, now: number): void {
    const { about, changed } = applyEvents(this.state, signal.events);
    for (const index of changed) this.touch(index, now);
    this.addHistory(signal.batch, [...about].map(documentOf), now);
  }

  /** What the provider said to a send of these recipients, at workflow time `now` (deadlines D3, D7 run on it). */
  sent(outcome: SendOutcome, first: boolean, now: number): void {
    for (const [kind, list] of [
      ['accepted', outcome.accepted],
      ['sent', outcome.sent],
      ['not_sent', outcome.notSent],
    ] as const)
      applySendOutcome(this.state, list, kind, now);
    this.addHistory(outcome.batch, outcome.documents, now);
    if (first) this.firstSentAt = now;
  }

  /** The provider refused the request, or sending gave up after a day (D9 `failed`): nothing was sent, nothing will arrive. */
  sendFailed(
    indexes: readonly number[],
    first: boolean,
    failure: { code: SendFailureCode; cause: string },
    now: number,
  ): void {
    if (first) {
      this.state.providerError = failure.cause;
      this.notEmailed = failure.code;
    }
    this.refusal = failure.cause;
    markRefused(this.state, indexes, failure.code);
    for (const index of indexes)
      this.decided.push({
        index,
        attempt: this.state.recipients[index].attempt,
        event: 'refused',
        at: now,
        reasonCode: failure.code,
      });
  }

  /**
   * Deadlines passed at `now` (D3: unknown; with `deferredRule`, issue 16: still deferred) and the
   * notices the state now calls for (D4–D6), marked as sent.
   */
  deadlines(now: number, deferredRule: boolean): Notice[] {
    const { overdue, fresh } = markUnknown(this.state, now, this.policy.unknownAfterMs);
    for (const index of overdue) {
      this.touch(index, now);
      this.decided.push({ index, attempt: this.state.recipients[index].attempt, event: 'no_confirmation', at: now });
    }
    const deferred = deferredRule ? markDeferredOverdue(this.state, now, this.policy.unknownAfterMs) : [];
    const acknowledgement = this.acknowledgementDeadlines();
    return [
      ...(fresh.length ? [{ kind: 'unknown' as const, pending: fresh }] : []),
      ...(deferred.length ? [{ kind: 'deferred' as const, deferred }] : []),
      ...dueNotices(this.state),
      ...(acknowledgement ? dueAcknowledgementNotices(this.state, now, ...acknowledgement) : []),
    ];
  }

  /** D7: the window closed; whoever has no final status gets one. The notices the rules call for then (D3–D5). */
  closeWindow(now: number): Notice[] {
    const closed = closeListening(this.state);
    for (const index of [...closed.unknown, ...closed.dropped]) this.touch(index, now);
    for (const index of closed.unknown)
      this.decided.push({ index, attempt: this.state.recipients[index].attempt, event: 'no_confirmation', at: now });
    return [
      ...(closed.fresh.length ? [{ kind: 'unknown' as const, pending: closed.fresh }] : []),
      ...dueNotices(this.state),
    ];
  }

  /** The dispatches that carry a notice, one per person and channel (`<dispatchId>~<kind>-<n>`, numbered across the run). */
  noticeChildren(
    dispatchId: string,
    notice: Notice,
    sender: Person,
    escalateTo: readonly Person[],
  ): Array<NoticeAudience & { dispatchId: string }> {
    return noticeAudience(notice.kind, sender, escalateTo).map((to) => {
      this.state.notices += 1;
      return { dispatchId: `${dispatchId}~${notice.kind}-${this.state.notices}`, ...to };
    });
  }

  /** D7: listening is over; every recipient's history says where it ended. */
  complete(now: number): void {
    this.state.completedAt = now;
    this.state.recipients.forEach((_, index) => this.touch(index, now));
  }

  /**
   * Takes what changed since the last write, as the next write: the recipients that changed and
   * the dispatch's result and counts (at 1000 recipients, all of them changed, about 70 KB).
   */
  takeWrite(extra: { markedSent?: ProjectionWrite['dispatch']['markedSent']; final?: true } = {}): ProjectionWrite {
    const recipients = [...this.changed].map(([index, address]) => recipientChange(this.state, index, address));
    const histories = [...this.histories].map(([document, batches]) => ({ document, batches }));
    const decided = this.decided.splice(0);
    this.changed.clear();
    this.histories.clear();
    this.pendingSince = null;
    this.version += 1;
    const s = this.state;
    return {
      version: this.version,
      recipients,
      histories,
      decided,
      dispatch: {
        result: s.result,
        providerError: s.providerError,
        counts: countByStatus(s),
        opened: openedCount(s),
        attention: needingAttention(s, LOG_FAILURES_NAMED),
        overdueDeferred: overdueDeferredCount(s),
        ...(this.firstSentAt !== undefined ? { sentAt: this.firstSentAt } : {}),
        ...(s.completedAt !== null ? { completedAt: s.completedAt } : {}),
        ...(extra.markedSent ? { markedSent: extra.markedSent } : {}),
        ...(this.acknowledging ? { acknowledgement: acknowledgementCounts(s) } : {}),
      },
      ...(extra.final ? { final: true } : {}),
      ...(this.refusal !== undefined && decided.some((e) => e.event === 'refused') ? { refusal: this.refusal } : {}),
    };
  }

  /** New history entries are in `batch`, for the recipients of these documents. */
  private addHistory(batch: string, documents: Iterable<number>, now: number): void {
    if (this.pendingSince === null) this.pendingSince = now;
    for (const document of new Set(documents))
      this.histories.set(document, [...(this.histories.get(document) ?? []), batch]);
  }
}
