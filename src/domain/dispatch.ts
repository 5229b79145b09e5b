// Dispatch shapes shared by the API, the workflow and the activities, and the pure steps of
// the dispatch rules (D3–D8): what an event changes, what the deadlines are, whom to tell.
// No I/O here.
//
// What the workflow keeps is what these rules need, a few dozen bytes per recipient (issue 15):
// a recipient is its position in the dispatch (`index`), its attempt, status, send time, last
// reason code and a few flags. Addresses, names, template data, reasons in words and the
// status history live in MongoDB, written by activities; they never travel through Temporal.
import type { Channel, ProviderEventType } from '../providers/types';
import {
  awaitsConfirmation,
  dispatchResult,
  isEngagement,
  isFailure,
  nextStatus,
  statusForEvent,
  type DispatchResult,
  type RecipientStatus,
} from './dispatch-status';
import type { ReasonCode } from './reasons';

import type { Locale } from './locale';
export type { Locale };

export interface Person {
  name: string;
  email: string;
  phone: string | null;
  smsOptIn: boolean;
  whatsappOptIn: boolean;
}

export interface DispatchPolicy {
  unknownAfterMs: number;
  listenForMs: number;
  /**
   * Receipt acknowledgement (issue 20): the sender is told of recipients who have not acknowledged
   * this long after their send, and it is escalated (as D4) `acknowledgeEscalateAfterMs` later.
   * Absent: no deadline (the dispatch may still ask for acknowledgement).
   */
  acknowledgeWithinMs?: number;
  acknowledgeEscalateAfterMs?: number;
}

/** Notices that already reported a recipient's current attempt (bits of `RecipientState.told`). */
export const TOLD = {
  unknown: 1,
  failure: 2,
  deliveredUpdate: 4,
  escalation: 8,
  /** Issue 20: the sender was told this recipient has not acknowledged in time. */
  unacknowledged: 16,
  /** Issue 20: and it was escalated. */
  acknowledgementEscalated: 32,
} as const;

/** One recipient as the rules see it. Optional fields are left out while unset, to keep the state small. */
export interface RecipientState {
  status: RecipientStatus;
  attempt: number;
  /** Workflow time (epoch ms) this attempt was handed to the provider. */
  sentAt?: number;
  reasonCode?: ReasonCode;
  opened?: true;
  /** D6: this attempt was temporarily failed at some point. */
  wasDeferred?: true;
  /** TOLD bits. */
  told?: number;
  /**
   * Issue 20: workflow time the recipient acknowledged receipt (who and their note are in MongoDB).
   * Beside the status, never instead of it: a later bounce still counts (docs/operators.md).
   */
  acknowledgedAt?: number;
}

export interface DispatchState {
  result: DispatchResult;
  /** The provider refused the request itself (D9 `failed`): its message, kept short. */
  providerError: string | null;
  /** By index: the recipient's position in the dispatch. */
  recipients: RecipientState[];
  /** Notification dispatches started so far, for their ids. */
  notices: number;
  /** Workflow time when it stopped listening (D7). */
  completedAt: number | null;
}

/**
 * A provider event as the webhook handler signals it, once it is stored: position, attempt,
 * type, time, reason code. About 70 bytes: no addresses, no words.
 */
export interface RecipientEvent {
  index: number;
  attempt: number;
  type: ProviderEventType;
  /** Provider time, epoch ms. */
  at: number;
  reasonCode?: ReasonCode;
}

/** A signal: events stored together (`batch`: their entries in `dispatch_event_batches`, read by the projection). */
export interface RecipientEvents {
  batch: string;
  events: RecipientEvent[];
}

/** At most this many events per signal: a signal stays under 100 KiB. */
export const MAX_EVENTS_PER_SIGNAL = 1000;

/** Relais's own entries in a recipient's history, beside the providers' events. */
export const RELAIS_EVENTS = [
  'accepted',
  'sent',
  'not_sent',
  'refused',
  'resent',
  'no_confirmation',
  'final',
  /** Issue 20: the send went through the other email provider (which one, and why, in its reason). */
  'failover',
  /** Issue 20: the recipient confirmed receipt (beside the status, which it does not change). */
  'acknowledged',
] as const;
export type RelaisEvent = (typeof RELAIS_EVENTS)[number];

/** How a send ended for one recipient attempt: one of these per attempt (the `send` entry). */
const SEND_OUTCOMES: readonly RelaisEvent[] = ['accepted', 'sent', 'not_sent', 'refused'];

/**
 * The `_id` of a Relais entry: one send outcome, one resend, one `no_confirmation`, one `final`
 * per recipient attempt, so a retried write adds nothing.
 */
export const relaisEventId = (
  tenantId: string,
  dispatchId: string,
  index: number,
  attempt: number,
  event: RelaisEvent,
) => `relais:${tenantId}/${dispatchId}/${index}.${attempt}:${SEND_OUTCOMES.includes(event) ? 'send' : event}`;

/** Routing id sent to the provider for one attempt of one recipient: events of an older attempt don't move the new one. */
export const routingId = (index: number, attempt: number): string => `${index}.${attempt}`;

export function parseRoutingId(value: string): { index: number; attempt: number } | undefined {
  const m = /^(\d{1,4})\.(\d{1,4})$/.exec(value);
  return m ? { index: Number(m[1]), attempt: Number(m[2]) } : undefined;
}

/**
 * Recipients are stored RECIPIENTS_PER_DOCUMENT to a document (`dispatch_recipients`): a write
 * touches one document per 25 recipients that changed, a page of the log reads one or two.
 */
export const RECIPIENTS_PER_DOCUMENT = 25;
export const documentOf = (index: number) => Math.floor(index / RECIPIENTS_PER_DOCUMENT);

/** Event batches whose history entries belong to the recipients of one document. */
export interface HistoryBatches {
  document: number;
  batches: string[];
}

/** A Relais entry the workflow decides (D3's `no_confirmation`, a refusal), which the projection writes. */
export interface DecidedEntry {
  index: number;
  attempt: number;
  event: 'no_confirmation' | 'refused';
  at: number;
  reasonCode?: ReasonCode;
}

/** What a recipient is now, written for those that changed since the last projection write. */
export interface RecipientChange {
  index: number;
  status: RecipientStatus;
  attempt: number;
  reasonCode?: ReasonCode;
  opened?: true;
  sentAt?: number;
  /** D8: the address a resend went to. */
  address?: string;
}

/** A recipient's change as the projection writes it: its state now. */
export function recipientChange(state: DispatchState, index: number, address?: string): RecipientChange {
  const r = state.recipients[index];
  // D6: a deferred recipient's reason is "refused for now" (its provider's words are in its history); not kept in the state.
  const reasonCode = r.reasonCode ?? (r.status === 'deferred' ? 'temporarily_refused' : undefined);
  return {
    index,
    status: r.status,
    attempt: r.attempt,
    ...(reasonCode ? { reasonCode } : {}),
    ...(r.opened ? { opened: true as const } : {}),
    ...(r.sentAt !== undefined ? { sentAt: r.sentAt } : {}),
    ...(address ? { address } : {}),
  };
}

/**
 * The one place a recipient's status changes (a new attempt starts afresh: startAttempt). A
 * failure, D3's unknown and D7's drop carry their reason; any other status keeps none.
 */
export function moveRecipient(recipient: RecipientState, status: RecipientStatus, reasonCode?: ReasonCode): void {
  recipient.status = status;
  if (reasonCode) recipient.reasonCode = reasonCode;
  else delete recipient.reasonCode;
}

export function initialState(recipientCount: number): DispatchState {
  return {
    result: 'queued',
    providerError: null,
    recipients: Array.from({ length: recipientCount }, () => ({ status: 'queued' as const, attempt: 1 })),
    notices: 0,
    completedAt: null,
  };
}

export function refreshResult(state: DispatchState): void {
  state.result = dispatchResult(
    state.recipients.map((r) => r.status),
    state.providerError !== null,
  );
}

/**
 * Applies provider events (D2, D6, D7): statuses only move forward, a late bounce after
 * `delivered` counts. Applying the same event again changes nothing, so a re-signalled event
 * (its first signal failed and the provider retried) is harmless: no seen-set is needed here.
 * Returns the recipients the events were about (their histories grow; an older attempt's event
 * too, without moving the recipient) and those whose state changed (to be written).
 */
export function applyEvents(
  state: DispatchState,
  events: readonly RecipientEvent[],
): { about: Set<number>; changed: Set<number> } {
  const about = new Set<number>();
  const changed = new Set<number>();
  for (const event of events) {
    const recipient = state.recipients[event.index];
    if (!recipient) continue;
    about.add(event.index);
    if (event.attempt !== recipient.attempt) continue; // kept in the history, but an older attempt never moves the new one
    const before = JSON.stringify(recipient);
    if (isEngagement(event.type)) recipient.opened = true;
    const incoming = statusForEvent(event.type);
    if (incoming === 'deferred') recipient.wasDeferred = true;
    const status = incoming ? nextStatus(recipient.status, incoming) : recipient.status;
    if (status !== recipient.status) {
      // One that moved on keeps no earlier reason (no stale "no confirmation yet"); a deferred one's is implied (recipientChange).
      moveRecipient(recipient, status, isFailure(status) ? (event.reasonCode ?? 'unclassified') : undefined);
    }
    if (JSON.stringify(recipient) !== before) changed.add(event.index);
  }
  refreshResult(state);
  return { about, changed };
}

/** The provider took (or, over SMTP, handed over or refused) an attempt at workflow time `now`. */
export function applySendOutcome(
  state: DispatchState,
  indexes: readonly number[],
  outcome: 'accepted' | 'sent' | 'not_sent',
  now: number,
): void {
  for (const index of indexes) {
    const recipient = state.recipients[index];
    recipient.sentAt = now;
    moveRecipient(
      recipient,
      outcome === 'accepted' ? 'queued' : outcome,
      outcome === 'not_sent' ? 'not_sent_to_server' : undefined,
    );
  }
  refreshResult(state);
}

/**
 * The provider refused the request itself, or sending gave up (`reasonCode` says which): nothing
 * was sent to these recipients, nothing will arrive.
 */
export function markRefused(
  state: DispatchState,
  indexes: readonly number[],
  reasonCode: ReasonCode = 'not_sent_to_server',
): void {
  for (const index of indexes) {
    const recipient = state.recipients[index];
    moveRecipient(recipient, 'not_sent', reasonCode);
  }
  refreshResult(state);
}

/**
 * D8: a new attempt for a recipient, told nothing yet. `afresh` (issue 17): nothing of the attempt
 * before carries over, not even "opened" (a delivered document sent again is tracked on its own).
 */
export function startAttempt(state: DispatchState, index: number, afresh = false): RecipientState {
  const previous = state.recipients[index];
  const next: RecipientState = {
    status: 'queued',
    attempt: previous.attempt + 1,
    ...(previous.opened && !afresh ? { opened: true as const } : {}),
    // Issue 20: the document was acknowledged once; sending it again does not take that back.
    ...(previous.acknowledgedAt !== undefined ? { acknowledgedAt: previous.acknowledgedAt } : {}),
  };
  state.recipients[index] = next;
  refreshResult(state);
  return next;
}

/**
 * D8: a failed, unknown or temporarily failed recipient can be resent; with `delivered` (issue 17:
 * "my customer says it never arrived"), a delivered or handed-over one too. One still waiting for
 * the provider's first answer cannot. The reason otherwise.
 */
export function resendRefusal(
  state: DispatchState,
  index: number,
  label: string,
  delivered = false,
): string | undefined {
  const recipient = state.recipients[index];
  if (!recipient) return `no recipient ${label} in this dispatch`;
  if (state.completedAt !== null) return 'this dispatch has finished listening; start a new dispatch';
  if (delivered && (recipient.status === 'delivered' || recipient.status === 'sent')) return undefined;
  if (!isFailure(recipient.status) && recipient.status !== 'unknown' && recipient.status !== 'deferred') {
    return delivered
      ? `recipient ${label} is ${recipient.status}: wait for the provider's answer before sending it again`
      : `recipient ${label} is ${recipient.status}; only a failed, unknown or temporarily failed recipient can be resent`;
  }
  return undefined;
}

/**
 * D3: recipients whose confirmation deadline has passed become `unknown`. Returns every one
 * that did (`overdue`, for their history) and those no notice reported yet (`fresh`).
 */
export function markUnknown(
  state: DispatchState,
  now: number,
  unknownAfterMs: number,
): { overdue: number[]; fresh: number[] } {
  const overdue: number[] = [];
  const fresh: number[] = [];
  state.recipients.forEach((r, index) => {
    if (r.sentAt === undefined || !awaitsConfirmation(r.status) || r.sentAt + unknownAfterMs > now) return;
    moveRecipient(r, 'unknown', 'no_confirmation');
    overdue.push(index);
    if (!((r.told ?? 0) & TOLD.unknown)) {
      r.told = (r.told ?? 0) | TOLD.unknown;
      fresh.push(index);
    }
  });
  refreshResult(state);
  return { overdue, fresh };
}

/** The next moment a recipient's confirmation deadline passes, if any is still ahead. */
export function nextUnknownDeadline(state: DispatchState, unknownAfterMs: number): number | undefined {
  let next: number | undefined;
  for (const r of state.recipients) {
    if (r.sentAt === undefined || !awaitsConfirmation(r.status)) continue;
    const deadline = r.sentAt + unknownAfterMs;
    if (next === undefined || deadline < next) next = deadline;
  }
  return next;
}

/** D7: the dispatch listens until the window has passed since its last send (an unsent recipient keeps it open). */
export function listenUntil(state: DispatchState, now: number, listenForMs: number): number {
  let last = 0;
  for (const r of state.recipients) last = Math.max(last, r.sentAt ?? now);
  return last + listenForMs;
}

/** Whom a notice is about, by recipient index. */
export type Notice =
  | { kind: 'escalation'; failed: number[] }
  | { kind: 'partial_failure'; failed: number[]; delivered: number[] }
  | { kind: 'delivered_update'; delivered: number[] }
  | { kind: 'unknown'; pending: number[] }
  /** D3 for a temporarily failed recipient: still deferred when the delay passed. */
  | { kind: 'deferred'; deferred: number[] }
  /** D9 `failed`: nothing was emailed (the provider refused the request, or sending gave up); every recipient. */
  | { kind: 'failed'; reasonCode: 'request_refused' | 'sending_gave_up'; recipientCount: number }
  /** Issue 20: recipients who have not acknowledged receipt within `acknowledgeWithin` (to the sender). */
  | { kind: 'unacknowledged'; pending: number[] }
  /** Issue 20: still not acknowledged after the second period (escalated as D4). */
  | { kind: 'acknowledgement_escalation'; pending: number[] };

/** The template of each notice (D3–D6, D9). */
export const NOTICE_TEMPLATES: Record<Notice['kind'], string> = {
  escalation: 'dispatch_escalation',
  partial_failure: 'dispatch_partial_failure',
  delivered_update: 'dispatch_delivered_update',
  unknown: 'dispatch_unknown',
  deferred: 'dispatch_deferred',
  failed: 'dispatch_failed',
  unacknowledged: 'dispatch_unacknowledged',
  acknowledgement_escalation: 'dispatch_acknowledgement_escalation',
};

/**
 * Notices that call for action now (D4, D9 `failed`): they go to the sender and the purchasing
 * manager of the sender's outlet, by SMS/WhatsApp too to those who opted in; the others to the sender, by email.
 */
export const isUrgentNotice = (kind: Notice['kind']): boolean =>
  kind === 'escalation' || kind === 'failed' || kind === 'acknowledgement_escalation';

/** A notice goes to one person on one channel, as a dispatch of its own. */
export interface NoticeAudience {
  person: Person;
  channel: Channel;
}

/**
 * Whom a notice goes to, on which channels: an "act now" notice (D4, D9 `failed`) to the sender
 * and the purchasing manager (`escalateTo`), by SMS/WhatsApp too to those who opted in; the
 * others to the sender, by email.
 */
export function noticeAudience(kind: Notice['kind'], sender: Person, escalateTo: readonly Person[]): NoticeAudience[] {
  const urgent = isUrgentNotice(kind);
  return (urgent ? escalateTo : [sender]).flatMap((person) => {
    const channels: Channel[] = ['email'];
    if (urgent && person.phone) {
      if (person.smsOptIn) channels.push('sms');
      if (person.whatsappOptIn) channels.push('whatsapp');
    }
    return channels.map((channel) => ({ person, channel }));
  });
}

const tell = (r: RecipientState, bits: number) => {
  r.told = (r.told ?? 0) | bits;
};
const told = (r: RecipientState, bit: number) => Boolean((r.told ?? 0) & bit);

/**
 * D4, D5, D6: which notices the current state calls for that were not sent yet, marking them sent.
 * D4 goes again only when a failure no escalation reported yet joins (e.g. a resent address failed too).
 */
export function dueNotices(state: DispatchState): Notice[] {
  const notices: Notice[] = [];
  const failed: number[] = [];
  const delivered: number[] = [];
  state.recipients.forEach((r, i) => {
    if (isFailure(r.status)) failed.push(i);
    else if (r.status === 'delivered' || r.status === 'sent') delivered.push(i);
  });
  // A notice lists every failure, the ones no notice reported yet first (a long list is cut after the first few).
  const newFirst = (bit: number) => [
    ...failed.filter((i) => !told(state.recipients[i], bit)),
    ...failed.filter((i) => told(state.recipients[i], bit)),
  ];
  if (state.result === 'error' && failed.some((i) => !told(state.recipients[i], TOLD.escalation))) {
    const listed = newFirst(TOLD.escalation);
    for (const i of failed) tell(state.recipients[i], TOLD.escalation | TOLD.failure);
    notices.push({ kind: 'escalation', failed: listed });
  } else if (state.result === 'alert' && failed.some((i) => !told(state.recipients[i], TOLD.failure))) {
    const listed = newFirst(TOLD.failure);
    for (const i of failed) tell(state.recipients[i], TOLD.failure);
    notices.push({ kind: 'partial_failure', failed: listed, delivered });
  }
  const recovered = delivered.filter((i) => {
    const r = state.recipients[i];
    return r.wasDeferred && r.status === 'delivered' && !told(r, TOLD.deliveredUpdate);
  });
  if (recovered.length) {
    for (const i of recovered) tell(state.recipients[i], TOLD.deliveredUpdate);
    notices.push({ kind: 'delivered_update', delivered: recovered });
  }
  return notices;
}

/** Recipients by status, for the delivery log: only the statuses some recipient has. */
export function countByStatus(state: DispatchState): Partial<Record<RecipientStatus, number>> {
  const counts: Partial<Record<RecipientStatus, number>> = {};
  for (const r of state.recipients) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Delivered recipients whose mailbox showed the message (the log shows them as Opened, D2). */
export const openedCount = (state: DispatchState): number =>
  state.recipients.filter((r) => r.status === 'delivered' && r.opened).length;

/** Recipients an operator must look at (failed, unknown, or deferred past the delay): the first `limit`, named in the log. */
export function needingAttention(state: DispatchState, limit: number): number[] {
  const indexes: number[] = [];
  for (let i = 0; i < state.recipients.length && indexes.length < limit; i += 1) {
    const s = state.recipients[i].status;
    if (isFailure(s) || s === 'unknown' || isOverdueDeferred(state.recipients[i])) indexes.push(i);
  }
  return indexes;
}

/** A recipient still temporarily failed after the confirmation delay: the sender was told (D3), the log marks it. */
const isOverdueDeferred = (r: RecipientState): boolean => r.status === 'deferred' && told(r, TOLD.unknown);

/** How many recipients are still deferred after the delay (the failed-only log lists the dispatch, with its own marker). */
export const overdueDeferredCount = (state: DispatchState): number => state.recipients.filter(isOverdueDeferred).length;

/**
 * D3 for a temporarily failed recipient (issue 16 item 3): still `deferred` when the delay has
 * passed since it was sent, it stays Deferred (the provider keeps trying, D6) and the sender is
 * told once, with the provider's latest reply. Returns the recipients no notice reported yet.
 */
export function markDeferredOverdue(state: DispatchState, now: number, unknownAfterMs: number): number[] {
  const fresh: number[] = [];
  state.recipients.forEach((r, index) => {
    if (r.status !== 'deferred' || r.sentAt === undefined || r.sentAt + unknownAfterMs > now || told(r, TOLD.unknown))
      return;
    tell(r, TOLD.unknown);
    fresh.push(index);
  });
  return fresh;
}

/** The next moment a deferred recipient nobody was told about reaches the delay, if any. */
export function nextDeferredDeadline(state: DispatchState, unknownAfterMs: number): number | undefined {
  let next: number | undefined;
  for (const r of state.recipients) {
    if (r.status !== 'deferred' || r.sentAt === undefined || told(r, TOLD.unknown)) continue;
    const deadline = r.sentAt + unknownAfterMs;
    if (next === undefined || deadline < next) next = deadline;
  }
  return next;
}

/**
 * D7: the listening window closed (the provider's own retry horizon) and no final status came.
 * A recipient still `deferred` becomes `dropped`, "the provider stopped trying" (Sage's word for
 * it), with reason `retries_expired`: it will not arrive, so D4/D5 apply to it as to any failure.
 * One that never answered (`queued`, `processed`) becomes `unknown` as D3 would have made it
 * (`unknown` stays: nothing says it failed, and the sender was told to check). Returns the
 * recipients made unknown (`unknown`, for their history; `fresh`: no notice reported them) and dropped.
 */
export function closeListening(state: DispatchState): { unknown: number[]; fresh: number[]; dropped: number[] } {
  const unknown: number[] = [];
  const fresh: number[] = [];
  const dropped: number[] = [];
  state.recipients.forEach((r, index) => {
    if (r.status === 'deferred') {
      moveRecipient(r, 'dropped', 'retries_expired');
      dropped.push(index);
    } else if (awaitsConfirmation(r.status) && r.sentAt !== undefined) {
      moveRecipient(r, 'unknown', 'no_confirmation');
      unknown.push(index);
      if (!told(r, TOLD.unknown)) {
        tell(r, TOLD.unknown);
        fresh.push(index);
      }
    }
  });
  refreshResult(state);
  return { unknown, fresh, dropped };
}

/**
 * Issue 20: whether a recipient still owes an acknowledgement: sent, not acknowledged, and not
 * failed (a bounced or dropped recipient never got the document; D4/D5 report it).
 */
export const awaitsAcknowledgement = (r: RecipientState): boolean =>
  r.sentAt !== undefined && r.acknowledgedAt === undefined && !isFailure(r.status);

/** Issue 20: how many recipients acknowledged, and how many still owe it (the log and the list filter read these). */
export function acknowledgementCounts(state: DispatchState): { acknowledged: number; awaiting: number } {
  let acknowledged = 0;
  let awaiting = 0;
  for (const r of state.recipients) {
    if (r.acknowledgedAt !== undefined) acknowledged += 1;
    else if (!isFailure(r.status)) awaiting += 1;
  }
  return { acknowledged, awaiting };
}

/**
 * Issue 20: why a recipient's receipt cannot be acknowledged now, or undefined. The link names
 * the attempt it was sent with: a newer email replaced it (its own link is the one to use).
 */
export function acknowledgementRefusal(
  state: DispatchState,
  index: number,
  attempt: number,
): { code: 'unknown' | 'replaced' | 'already' | 'finished'; message: string } | undefined {
  const r = state.recipients[index];
  if (!r) return { code: 'unknown', message: `no recipient ${index} in this dispatch` };
  if (r.acknowledgedAt !== undefined)
    return { code: 'already', message: `acknowledged already at ${new Date(r.acknowledgedAt).toISOString()}` };
  if (r.attempt !== attempt)
    return { code: 'replaced', message: `this link was replaced by a newer email (attempt ${r.attempt})` };
  if (state.completedAt !== null) return { code: 'finished', message: 'this dispatch has finished listening' };
  return undefined;
}

/**
 * Issue 20: the acknowledgement deadlines passed at `now`, as notices not sent yet (marked sent):
 * the sender is told of recipients who have not acknowledged `withinMs` after their send, and it
 * is escalated `escalateAfterMs` after that. A recipient that acknowledged or failed is never named.
 */
export function dueAcknowledgementNotices(
  state: DispatchState,
  now: number,
  withinMs: number,
  escalateAfterMs: number,
): Notice[] {
  const late: number[] = [];
  const escalated: number[] = [];
  state.recipients.forEach((r, i) => {
    if (!awaitsAcknowledgement(r)) return;
    const due = r.sentAt! + withinMs;
    if (due <= now && !told(r, TOLD.unacknowledged)) {
      tell(r, TOLD.unacknowledged);
      late.push(i);
    }
    if (due + escalateAfterMs <= now && !told(r, TOLD.acknowledgementEscalated)) {
      tell(r, TOLD.acknowledgementEscalated);
      escalated.push(i);
    }
  });
  return [
    ...(late.length ? [{ kind: 'unacknowledged' as const, pending: late }] : []),
    ...(escalated.length ? [{ kind: 'acknowledgement_escalation' as const, pending: escalated }] : []),
  ];
}

/** Issue 20: the next acknowledgement deadline still ahead, if any. */
export function nextAcknowledgementDeadline(
  state: DispatchState,
  withinMs: number,
  escalateAfterMs: number,
): number | undefined {
  let next: number | undefined;
  for (const r of state.recipients) {
    if (!awaitsAcknowledgement(r)) continue;
    const deadline = told(r, TOLD.unacknowledged)
      ? told(r, TOLD.acknowledgementEscalated)
        ? undefined
        : r.sentAt! + withinMs + escalateAfterMs
      : r.sentAt! + withinMs;
    if (deadline !== undefined && (next === undefined || deadline < next)) next = deadline;
  }
  return next;
}

const DOCUMENT_WORDS: Record<string, { fr: string; en: string }> = {
  purchase_order: { fr: 'bon de commande', en: 'purchase order' },
  invoice: { fr: 'facture', en: 'invoice' },
  quote: { fr: 'devis', en: 'quote' },
  credit_note: { fr: 'avoir', en: 'credit note' },
};

export function documentLabel(
  document: { type?: string | null; number?: string | null } | null,
  subject: string | null,
  locale: Locale,
): string {
  if (!document?.type) return subject ?? '';
  const words = DOCUMENT_WORDS[document.type]?.[locale] ?? document.type.replace(/_/g, ' ');
  return `${words} ${document.number}`;
}
