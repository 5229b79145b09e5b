// FROZEN: the dispatch rules' state as the first version of the dispatch workflow carried it
// (whole recipients with their histories and a seen-set), kept only so that dispatches started by
// that version finish as they began (src/workflows/legacy/dispatch-v1.ts, docs/deploy.md says when
// it can go). Do not change its behaviour; new code uses src/domain/dispatch.ts.
import type { Channel, ProviderEvent } from '../../providers/types';
import {
  awaitsConfirmation,
  dispatchResult,
  isEngagement,
  isFailure,
  nextStatus,
  statusForEvent,
  type DispatchResult,
  type RecipientStatus,
} from '../dispatch-status';
import { reasonCode, type ReasonCode } from '../reasons';
import type { Locale, Person } from '../dispatch';

export { documentLabel } from '../dispatch';
export type { Locale, Person };

export interface DispatchInput {
  tenantId: string;
  dispatchId: string;
  kind: 'document' | 'notification';
  channel: Channel;
  provider: 'sendgrid' | 'smtp' | 'twilio';
  template: string;
  data: Record<string, unknown>;
  locale: Locale;
  timeZone: string;
  tenantName: string;
  document: { type: string; number: string } | null;
  /** Names only: the content is stored beside the dispatch (attachments collection). */
  attachments?: Array<{ filename: string; contentType: string }>;
  sender: Person & { outletId: string | null };
  /** D4: who is told at once when every recipient failed (the sender and their outlet's purchasing manager). */
  escalateTo: Person[];
  recipients: Array<{ recipientId: string; address: string; name: string | null }>;
  requestedBy: string;
  policy: { unknownAfterMs: number; listenForMs: number };
  /** Where people open this dispatch (sent in notifications). */
  dispatchUrl: string;
  parentWorkflowId: string | null;
}

export interface StatusEntry {
  status: RecipientStatus;
  event: string;
  at: string;
  eventId: string | null;
  reason: string | null;
  response: string | null;
  reasonCode: ReasonCode | null;
}

export interface RecipientState {
  recipientId: string;
  address: string;
  name: string | null;
  status: RecipientStatus;
  opened: boolean;
  attempt: number;
  sentAt: string | null;
  reasonCode: ReasonCode | null;
  rawReason: string | null;
  providerMessageId: string | null;
  wasDeferred: boolean;
  history: StatusEntry[];
}

/** What has been told already, so each notice goes once. */
export interface NoticesSent {
  escalations: string[]; // keys of failure sets already escalated (D4)
  partialFailures: string[]; // recipient attempts already reported (D5)
  unknown: string[]; // recipient attempts already reported unknown (D3)
  deliveredUpdates: string[]; // recipient attempts already reported delivered after deferral (D6)
  count: number; // notification dispatches started, for their ids
}

export interface DispatchState {
  /** The rendered subject (set once recorded), quoted in notices. */
  subject: string | null;
  result: DispatchResult;
  providerError: string | null;
  recipients: RecipientState[];
  notices: NoticesSent;
  /** Provider event ids already applied (bounded; carried across continue-as-new). */
  seen: string[];
  /** D11: marked as sent by hand (posted …), by whom and when. */
  markedSent: { by: string; at: string; note: string } | null;
  /** D8: the document re-sent over SMS/WhatsApp, each as its own dispatch. */
  resentVia: Array<{
    dispatchId: string;
    channel: 'sms' | 'whatsapp';
    address: string;
    at: string;
    requestedBy: string;
  }>;
  version: number;
  completed: boolean;
  /** Workflow time when it stopped listening (D7). */
  completedAt: string | null;
}

export const SEEN_LIMIT = 20_000;

/** Routing id sent to the provider for one attempt of one recipient: events of an older attempt don't move the new one. */
export const routingId = (r: Pick<RecipientState, 'recipientId' | 'attempt'>): string =>
  `${r.recipientId}.${r.attempt}`;

export function parseRoutingId(value: string): { recipientId: string; attempt: number } | undefined {
  const m = /^(.+)\.(\d+)$/.exec(value);
  return m ? { recipientId: m[1], attempt: Number(m[2]) } : undefined;
}

export function initialState(input: Pick<DispatchInput, 'recipients'>): DispatchState {
  return {
    subject: null,
    result: 'queued',
    providerError: null,
    recipients: input.recipients.map((r) => ({
      recipientId: r.recipientId,
      address: r.address,
      name: r.name,
      status: 'queued',
      opened: false,
      attempt: 1,
      sentAt: null,
      reasonCode: null,
      rawReason: null,
      providerMessageId: null,
      wasDeferred: false,
      history: [],
    })),
    notices: { escalations: [], partialFailures: [], unknown: [], deliveredUpdates: [], count: 0 },
    seen: [],
    resentVia: [],
    markedSent: null,
    version: 0,
    completed: false,
    completedAt: null,
  };
}

/** Applies provider events (D2, D6, D7): deduped by event id, statuses only forward. Returns true when anything changed. */
export function applyEvents(state: DispatchState, events: readonly ProviderEvent[]): boolean {
  let changed = false;
  const seen = new Set(state.seen);
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    state.seen.push(event.eventId);
    const target = parseRoutingId(event.recipientId);
    const recipient = target && state.recipients.find((r) => r.recipientId === target.recipientId);
    if (!recipient || !target) continue;
    const incoming = statusForEvent(event.type);
    const failing = incoming !== undefined && isFailure(incoming);
    const code = failing ? reasonCode(event) : null;
    const current = target.attempt === recipient.attempt;
    const entryStatus = current && incoming ? nextStatus(recipient.status, incoming) : recipient.status;
    recipient.history.push({
      status: incoming ?? recipient.status,
      event: current ? event.type : `${event.type} (attempt ${target.attempt})`,
      at: event.at,
      eventId: event.eventId,
      reason: event.reason ?? null,
      response: event.response ?? null,
      reasonCode: code,
    });
    changed = true;
    if (!current) continue; // kept in the history, but an older attempt's event never moves the new one
    if (event.providerMessageId) recipient.providerMessageId = event.providerMessageId;
    if (isEngagement(event.type)) recipient.opened = true;
    if (incoming === 'deferred') recipient.wasDeferred = true;
    if (entryStatus !== recipient.status) {
      recipient.status = entryStatus;
      if (failing) {
        recipient.reasonCode = code;
        recipient.rawReason = [event.response, event.reason].filter(Boolean).join(' — ') || event.errorCode || null;
      }
    }
  }
  if (state.seen.length > SEEN_LIMIT) state.seen.splice(0, state.seen.length - SEEN_LIMIT);
  state.result = dispatchResult(
    state.recipients.map((r) => r.status),
    state.providerError !== null,
  );
  return changed;
}

/** D3: recipients whose confirmation deadline has passed become `unknown`; returns them (not yet reported). */
export function markUnknown(state: DispatchState, now: number, unknownAfterMs: number): RecipientState[] {
  const overdue = state.recipients.filter(
    (r) => r.sentAt !== null && awaitsConfirmation(r.status) && Date.parse(r.sentAt) + unknownAfterMs <= now,
  );
  for (const r of overdue) {
    r.status = 'unknown';
    r.reasonCode = 'no_confirmation';
    r.history.push({
      status: 'unknown',
      event: 'no_confirmation',
      at: new Date(now).toISOString(),
      eventId: null,
      reason: null,
      response: null,
      reasonCode: 'no_confirmation',
    });
  }
  const fresh = overdue.filter((r) => !state.notices.unknown.includes(routingId(r)));
  state.notices.unknown.push(...fresh.map(routingId));
  state.result = dispatchResult(
    state.recipients.map((r) => r.status),
    state.providerError !== null,
  );
  return fresh;
}

/** The next moment a recipient's confirmation deadline passes, if any is still ahead. */
export function nextUnknownDeadline(state: DispatchState, unknownAfterMs: number): number | undefined {
  const deadlines = state.recipients
    .filter((r) => r.sentAt !== null && awaitsConfirmation(r.status))
    .map((r) => Date.parse(r.sentAt!) + unknownAfterMs);
  return deadlines.length ? Math.min(...deadlines) : undefined;
}

export type Notice =
  | { kind: 'escalation'; failed: RecipientState[] }
  | { kind: 'partial_failure'; failed: RecipientState[]; delivered: RecipientState[] }
  | { kind: 'delivered_update'; delivered: RecipientState[] };

/**
 * D4, D5, D6: which notices the current state calls for that were not sent yet.
 * D4 goes again only when the set of failures changes (e.g. a resent address failed too).
 */
export function dueNotices(state: DispatchState): Notice[] {
  const notices: Notice[] = [];
  const failed = state.recipients.filter((r) => isFailure(r.status));
  const delivered = state.recipients.filter((r) => r.status === 'delivered' || r.status === 'sent');
  if (state.result === 'error') {
    const key = failed.map(routingId).sort().join(',');
    if (!state.notices.escalations.includes(key)) {
      state.notices.escalations.push(key);
      state.notices.partialFailures.push(
        ...failed.map(routingId).filter((k) => !state.notices.partialFailures.includes(k)),
      );
      notices.push({ kind: 'escalation', failed });
    }
  } else if (state.result === 'alert') {
    const fresh = failed.filter((r) => !state.notices.partialFailures.includes(routingId(r)));
    if (fresh.length) {
      state.notices.partialFailures.push(...fresh.map(routingId));
      notices.push({ kind: 'partial_failure', failed, delivered });
    }
  }
  const recovered = state.recipients.filter(
    (r) => r.wasDeferred && r.status === 'delivered' && !state.notices.deliveredUpdates.includes(routingId(r)),
  );
  if (recovered.length) {
    state.notices.deliveredUpdates.push(...recovered.map(routingId));
    notices.push({ kind: 'delivered_update', delivered: recovered });
  }
  return notices;
}
