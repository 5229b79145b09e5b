// The dispatch workflow: one email (or SMS/WhatsApp message) to its recipients, followed until
// the provider says each one arrived or not (rules D1–D11). Deterministic code only: every
// effect is an activity, every rule decision a pure function from src/domain.
//
// Its state is what the rules need (src/domain/dispatch.ts: a few dozen bytes per recipient);
// the dispatch itself is recorded in MongoDB before it starts, provider events are stored and
// deduplicated where they are received and signalled in a compact form, and each projection
// write sends only the recipients that changed. Every payload stays small at 1000 recipients
// (issue 15). Runs started by the first version of this workflow keep running it (legacy/).
import {
  allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, defineUpdate, ParentClosePolicy,
  patched, proxyActivities, setHandler, startChild, workflowInfo, ActivityFailure, TimeoutFailure,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  applyEvents, applySendOutcome, closeListening, countByStatus, documentOf, dueNotices, initialState, isUrgentNotice, listenUntil, markDeferredOverdue,
  markRefused, markUnknown, needingAttention, nextDeferredDeadline, nextUnknownDeadline, NOTICE_TEMPLATES, openedCount, overdueDeferredCount,
  recipientChange, resendRefusal, startAttempt,
  type DecidedEntry, type DispatchInput, type DispatchState, type Notice, type Person, type RecipientEvents,
} from '../domain/dispatch';
import type { DispatchResult, RecipientStatus } from '../domain/dispatch-status';
import type { Channel } from '../providers/types';
import { dispatchV1, type DispatchOutcome as DispatchOutcomeV1 } from './legacy/dispatch-v1';
import type { DispatchInput as DispatchInputV1, DispatchState as DispatchStateV1 } from '../domain/legacy/dispatch-v1';
import { carriesSecrets, NO_RESEND_OF_SECRETS } from '../domain/secrets';
import { E164_EXAMPLE, E164_PATTERN } from '../domain/phone';
import { FINISHED, invalidField, REFUSED, refuseUpdate } from './failure-types';

type Activities = ReturnType<typeof createActivities>;

const { projectDispatch, recordDispatchNotice, recordDocumentLink } = proxyActivities<Activities>({
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

/** Provider events, stored and deduplicated by the webhook handler (at most MAX_EVENTS_PER_SIGNAL each). */
export const recipientEventsSignal = defineSignal<[RecipientEvents]>('recipientEvents');
export const dispatchStateQuery = defineQuery<DispatchState>('state');

export interface ResendRecipientRequest {
  index: number;
  /** How the operator named the recipient (its id), for refusals. */
  recipientId: string;
  address: string;
  requestedBy: string;
}
export interface ResendRecipientResult { index: number; attempt: number; status: RecipientStatus }
export const resendRecipientUpdate = defineUpdate<ResendRecipientResult, [ResendRecipientRequest]>('resendRecipient');

export interface ResendViaRequest { channel: 'sms' | 'whatsapp'; phone: string; requestedBy: string }
export interface ResendViaResult { dispatchId: string; channel: 'sms' | 'whatsapp'; phone: string; expiresAt: string }
export const resendViaUpdate = defineUpdate<ResendViaResult, [ResendViaRequest]>('resendVia');

/** D11: who sent it by other means and when (`on`: the day chosen, in the tenant's zone, when no time was given). */
export interface MarkSentRequest { by: string; at: string; note: string; on?: string }
export const markSentUpdate = defineUpdate<MarkSentRequest, [MarkSentRequest]>('markSent');

export interface DispatchOutcome { result: DispatchResult; counts: Partial<Record<RecipientStatus, number>> }

/** What continues across continue-as-new: the rules' state and the projection's version. */
export interface Carried { state: DispatchState; version: number }

/** How long a document link sent over SMS/WhatsApp stays valid. */
const DOCUMENT_LINK_TTL_MS = 7 * 24 * 3_600_000;
/** Projection writes wait this long for more events (a burst becomes one write)… */
const PROJECTION_DELAY_MS = 250;
/** …unless this many (document of recipients, event batch) pairs wait to join the histories. */
const PROJECTION_MAX_BATCHES = 100;

/** The log names this many recipients that need attention. */
const LOG_FAILURES_NAMED = 5;
/** The provider's refusal kept in the state (and quoted in the log), at most. */
const MAX_PROVIDER_ERROR = 1000;

/**
 * Issue 16: a dispatch never emailed alerts the sender and the purchasing manager (D9 `failed`), a
 * recipient still deferred after the delay is reported (D3), the listening window's end makes
 * every recipient final (D7). Runs that got past those points on earlier code keep their path.
 */
const EVERY_FAILURE_TOLD = 'dispatch-every-failure-told';

/**
 * Issue 17: a delivered recipient can be sent again (to the same address or another) as a new
 * attempt that starts afresh. Runs started before keep refusing it, as they did.
 */
const RESEND_DELIVERED = 'dispatch-resend-delivered';

/** Runs started by the first version carry every recipient in their input. */
const isFirstVersion = (input: DispatchInput | DispatchInputV1): input is DispatchInputV1 => 'recipients' in input;

/** The notice dispatch a workflow starts for one person on one channel: its own workflow, abandoned on the starter's close. */
export function noticeInput(parent: DispatchInput, dispatchId: string, template: string, channel: Channel): DispatchInput {
  return {
    ...parent, dispatchId, kind: 'notification', template, channel, provider: channel === 'email' ? 'sendgrid' : 'twilio',
    document: null, escalateTo: [], recipientCount: 1, parentWorkflowId: workflowInfo().workflowId,
  };
}

/**
 * Why a send put nothing out (D9 `failed`), and its words: the provider's refusal (a non-retryable
 * failure), or a day of failures, when the next retry would pass the activity's schedule-to-close
 * (the server then ends it with its last failure, or a timeout).
 */
function sendFailure(err: unknown): { code: 'request_refused' | 'sending_gave_up'; cause: string } {
  const failure = err instanceof ActivityFailure && err.cause ? err.cause : (err as Error);
  const gaveUp = failure instanceof TimeoutFailure || (err instanceof ActivityFailure && (err.retryState === 'TIMEOUT' || err.retryState === 'MAXIMUM_ATTEMPTS_REACHED'));
  if (gaveUp) {
    const last = failure instanceof TimeoutFailure ? failure.cause?.message : failure.message;
    return { code: 'sending_gave_up', cause: `no answer after a day of trying${last ? `; last error: ${last}` : ''}`.slice(0, MAX_PROVIDER_ERROR) };
  }
  return { code: 'request_refused', cause: failure.message.slice(0, MAX_PROVIDER_ERROR) };
}

export function startDetachedDispatch(input: DispatchInput) {
  return startChild(dispatch, {
    workflowId: `dispatch/${input.tenantId}/${input.dispatchId}`,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    args: [input],
  });
}

export async function dispatch(input: DispatchInput | DispatchInputV1, carried?: Carried | DispatchStateV1): Promise<DispatchOutcome | DispatchOutcomeV1> {
  if (isFirstVersion(input)) return dispatchV1(input, carried as DispatchStateV1 | undefined);
  return dispatchBounded(input, carried as Carried | undefined);
}

async function dispatchBounded(input: DispatchInput, carried?: Carried): Promise<DispatchOutcome> {
  const state: DispatchState = carried?.state ?? initialState(input.recipientCount);
  let version = carried?.version ?? 0;
  const inbox: RecipientEvents[] = [];
  /** D8: resends asked for and not yet sent, by index. */
  const resends = new Map<number, { address: string; requestedBy: string }>();
  /** Resends sent and written, which their update handlers wait for. */
  const resent = new Set<number>();
  /** What changed since the last projection write: recipients (with a resend's new address), event batches to copy into their histories, entries the rules decided. */
  const changed = new Map<number, string | undefined>();
  const histories = new Map<number, string[]>();
  const decided: DecidedEntry[] = [];
  /** New history entries are in `batch`, for the recipients of these documents. */
  const addHistory = (batch: string, documents: Iterable<number>) => {
    if (pendingSince === null) pendingSince = Date.now();
    for (const document of new Set(documents)) histories.set(document, [...(histories.get(document) ?? []), batch]);
  };
  let pendingSince: number | null = null;
  let firstSentAt: number | undefined;
  let refusal: string | undefined;
  /** Why the first send put nothing out (D9 `failed`), for the notice. */
  let notEmailed: 'request_refused' | 'sending_gave_up' | undefined;

  const touch = (index: number, address?: string) => {
    if (pendingSince === null) pendingSince = Date.now();
    if (address !== undefined || !changed.has(index)) changed.set(index, address ?? changed.get(index));
  };

  setHandler(recipientEventsSignal, (signal) => { inbox.push(signal); });
  setHandler(dispatchStateQuery, () => state);

  // One projection write at a time, in order: handlers and the main loop both write, and a
  // MongoDB-wire server without atomic updates (FerretDB) would otherwise let an older write win.
  let writing: Promise<unknown> = Promise.resolve();
  const serialize = <T>(write: () => Promise<T>): Promise<T> => {
    const next = writing.then(write);
    writing = next.catch(() => undefined);
    return next;
  };
  /**
   * Writes what changed since the last write: the recipients that changed and the dispatch's
   * result and counts (at 1000 recipients, all of them changed, about 70 KB).
   */
  const flush = (extra: { markedSent?: MarkSentRequest; final?: true } = {}) => serialize(async () => {
    const recipients = [...changed].map(([index, address]) => recipientChange(state, index, address));
    const batches = [...histories].map(([document, list]) => ({ document, batches: list }));
    const entries = decided.splice(0);
    changed.clear();
    histories.clear();
    pendingSince = null;
    version += 1;
    await projectDispatch({
      tenantId: input.tenantId, dispatchId: input.dispatchId, version, recipients, histories: batches, decided: entries,
      dispatch: {
        result: state.result, providerError: state.providerError, counts: countByStatus(state), opened: openedCount(state), attention: needingAttention(state, LOG_FAILURES_NAMED),
        overdueDeferred: overdueDeferredCount(state),
        ...(firstSentAt !== undefined ? { sentAt: firstSentAt } : {}),
        ...(state.completedAt !== null ? { completedAt: state.completedAt } : {}),
        ...(extra.markedSent ? { markedSent: extra.markedSent } : {}),
      },
      ...(extra.final ? { final: true } : {}),
      ...(refusal !== undefined && entries.some((e) => e.event === 'refused') ? { refusal } : {}),
    });
  });

  const resendsDelivered = patched(RESEND_DELIVERED);
  setHandler(resendRecipientUpdate, async (request) => {
    startAttempt(state, request.index, resendsDelivered);
    resends.set(request.index, { address: request.address, requestedBy: request.requestedBy });
    await condition(() => resent.has(request.index));
    resent.delete(request.index);
    const r = state.recipients[request.index];
    return { index: request.index, attempt: r.attempt, status: r.status };
  }, {
    validator: (request) => {
      if (carriesSecrets(input.template)) throw refuseUpdate(REFUSED, NO_RESEND_OF_SECRETS);
      const refused = resendRefusal(state, request.index, request.recipientId, resendsDelivered);
      if (refused) throw refuseUpdate(REFUSED, refused);
      if (resends.has(request.index)) throw refuseUpdate(REFUSED, `recipient ${request.recipientId} is being resent already`);
    },
  });

  setHandler(resendViaUpdate, async (request) => {
    state.notices += 1;
    const childId = `${input.dispatchId}~${request.channel}-${state.notices}`;
    const { expiresAt } = await serialize(() => recordDocumentLink({
      tenantId: input.tenantId, dispatchId: input.dispatchId, childId, channel: request.channel, phone: request.phone,
      requestedBy: request.requestedBy, ttlMs: DOCUMENT_LINK_TTL_MS, workflowId: workflowInfo().workflowId,
    }));
    await startDetachedDispatch({
      ...input, dispatchId: childId, kind: 'document', template: 'document_link', channel: request.channel, provider: 'twilio', document: input.document,
      escalateTo: [input.sender], recipientCount: 1, parentWorkflowId: workflowInfo().workflowId,
    });
    return { dispatchId: childId, channel: request.channel, phone: request.phone, expiresAt };
  }, {
    validator: (request) => {
      if (input.channel !== 'email' || input.kind !== 'document') throw refuseUpdate(REFUSED, 'only an emailed document can be re-sent over SMS or WhatsApp');
      if (state.completedAt !== null) throw refuseUpdate(FINISHED, 'this dispatch has finished listening; start a new dispatch');
      if (!E164_PATTERN.test(request.phone)) throw invalidField('phone', `must be ${E164_EXAMPLE} (got ${request.phone})`, request.phone);
    },
  });

  // D11: sent by other means (posted, handed over), recorded by the workflow so its projection keeps it.
  setHandler(markSentUpdate, async (request) => {
    await flush({ markedSent: request });
    return request;
  });

  /** Sends the first time (all recipients) or the resends waiting, and records what the provider said. */
  const send = async (first: boolean) => {
    const batch = first ? [] : [...resends.entries()].map(([index, r]) => ({ index, attempt: state.recipients[index].attempt, ...r }));
    resends.clear();
    const indexes = first ? state.recipients.map((_, i) => i) : batch.map((r) => r.index);
    for (const r of batch) touch(r.index, r.address);
    try {
      const sent = await sendRecipients({ tenantId: input.tenantId, dispatchId: input.dispatchId, ...(first ? { first: true } : { resends: batch }) });
      // Deadlines (D3, D7) run on workflow time, not on the activity host's clock.
      const now = Date.now();
      for (const [outcome, list] of [['accepted', sent.accepted], ['sent', sent.sent], ['not_sent', sent.notSent]] as const) {
        applySendOutcome(state, list, outcome, now);
      }
      addHistory(sent.batch, sent.documents);
      if (first) firstSentAt = now;
    } catch (err) {
      // The provider refused the request itself, or sending gave up after a day (D9 `failed`): nothing was sent, so nothing will arrive.
      const { code, cause } = sendFailure(err);
      if (first) {
        state.providerError = cause;
        notEmailed = code;
      }
      refusal = cause;
      markRefused(state, indexes, code);
      for (const index of indexes) decided.push({ index, attempt: state.recipients[index].attempt, event: 'refused', at: Date.now(), reasonCode: code });
    }
    for (const index of indexes) touch(index);
    // A resend is answered once its new address is in the log (the operator reads it next).
    await flush();
    for (const r of batch) resent.add(r.index);
  };

  const notify = async (notice: Notice) => {
    if (input.kind === 'notification') return; // nobody is told about a notice's own delivery; it is in the log
    const people: Person[] = isUrgentNotice(notice.kind) ? input.escalateTo : [input.sender];
    const children: Array<{ dispatchId: string; person: Person; channel: Channel }> = [];
    for (const person of people) {
      const channels: Channel[] = ['email'];
      // D4 (and D9 `failed`): an "act now" notice also goes by SMS/WhatsApp to those who opted in.
      if (isUrgentNotice(notice.kind) && person.phone) {
        if (person.smsOptIn) channels.push('sms');
        if (person.whatsappOptIn) channels.push('whatsapp');
      }
      for (const channel of channels) {
        state.notices += 1;
        children.push({ dispatchId: `${input.dispatchId}~${notice.kind}-${state.notices}`, person, channel });
      }
    }
    await recordDispatchNotice({
      tenantId: input.tenantId, dispatchId: input.dispatchId, workflowId: workflowInfo().workflowId, locale: input.locale, timeZone: input.timeZone,
      dispatchUrl: input.dispatchUrl, senderName: input.sender.name, unknownAfterMs: input.policy.unknownAfterMs, listenForMs: input.policy.listenForMs, notice, children,
    });
    await Promise.all(children.map((c) => startDetachedDispatch(noticeInput(input, c.dispatchId, NOTICE_TEMPLATES[notice.kind], c.channel))));
  };

  /** Applies what came in: events, deadlines passed; tells whom the rules say; writes when due. */
  const step = async () => {
    for (const signal of inbox.splice(0)) {
      const { about, changed: moved } = applyEvents(state, signal.events);
      for (const index of moved) touch(index);
      addHistory(signal.batch, [...about].map(documentOf));
    }
    const now = Date.now();
    const { overdue, fresh } = markUnknown(state, now, input.policy.unknownAfterMs);
    for (const index of overdue) {
      touch(index);
      decided.push({ index, attempt: state.recipients[index].attempt, event: 'no_confirmation', at: now });
    }
    const deferred = patched(EVERY_FAILURE_TOLD) ? markDeferredOverdue(state, now, input.policy.unknownAfterMs) : [];
    const notices: Notice[] = [
      ...(fresh.length ? [{ kind: 'unknown' as const, pending: fresh }] : []), ...(deferred.length ? [{ kind: 'deferred' as const, deferred }] : []), ...dueNotices(state),
    ];
    // A notice is built from the log: the log is written first. Otherwise a burst of events is written at once.
    const waiting = [...histories.values()].reduce((n, list) => n + list.length, 0);
    if (notices.length || waiting >= PROJECTION_MAX_BATCHES || (pendingSince !== null && now >= pendingSince + PROJECTION_DELAY_MS)) await flush();
    for (const notice of notices) await notify(notice);
  };

  /** D7: the window closed; whoever has no final status gets one, and the rules tell whom they say (D3–D5). */
  const closeWindow = async () => {
    const closed = closeListening(state);
    const now = Date.now();
    for (const index of [...closed.unknown, ...closed.dropped]) touch(index);
    for (const index of closed.unknown) decided.push({ index, attempt: state.recipients[index].attempt, event: 'no_confirmation', at: now });
    const notices: Notice[] = [...(closed.fresh.length ? [{ kind: 'unknown' as const, pending: closed.fresh }] : []), ...dueNotices(state)];
    if (!notices.length) return;
    await flush();
    for (const notice of notices) await notify(notice);
  };

  if (!carried) {
    await send(true);
    // D9 `failed`: nothing was emailed; the sender and the purchasing manager hear it at once, with the reason.
    if (notEmailed && patched(EVERY_FAILURE_TOLD)) await notify({ kind: 'failed', reasonCode: notEmailed, recipientCount: input.recipientCount });
  }

  while (Date.now() < listenUntil(state, Date.now(), input.policy.listenForMs) && state.providerError === null) {
    const unknownAt = Math.min(nextUnknownDeadline(state, input.policy.unknownAfterMs) ?? Infinity, nextDeferredDeadline(state, input.policy.unknownAfterMs) ?? Infinity);
    const flushAt = pendingSince !== null ? pendingSince + PROJECTION_DELAY_MS : Infinity;
    const wakeAt = Math.min(listenUntil(state, Date.now(), input.policy.listenForMs), unknownAt, flushAt);
    await condition(() => inbox.length > 0 || resends.size > 0, Math.max(1, wakeAt - Date.now()));
    if (resends.size) await send(false);
    await step();

    if (workflowInfo().continueAsNewSuggested && inbox.length === 0) {
      await condition(() => resends.size === 0 && allHandlersFinished());
      // Events that came in meanwhile are applied first: continuing as new would drop them.
      if (inbox.length === 0) {
        await flush(); // nothing pending is carried: the new run starts with the log up to date
        await continueAsNew<typeof dispatch>(input, { state, version });
      }
    }
  }

  await condition(allHandlersFinished);
  await step(); // what came in while the last pass ran
  if (state.providerError === null && patched(EVERY_FAILURE_TOLD)) await closeWindow();
  state.completedAt = Date.now();
  // D7: the listening window is over; each recipient's history says where it ended.
  state.recipients.forEach((_, index) => touch(index));
  await flush({ final: true });
  return { result: state.result, counts: countByStatus(state) };
}
