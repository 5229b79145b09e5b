// Recipient statuses and the dispatch result (rules D2, D3, D6, D7, D9, D10).
// Pure functions: the dispatch workflow and the delivery log both derive from these.
import type { ProviderEvent, ProviderEventType } from '../providers/types';

export const RECIPIENT_STATUSES = [
  'queued',
  'processed',
  'deferred',
  'unknown',
  'delivered',
  'bounced',
  'dropped',
  'sent',
  'not_sent',
] as const;
export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];

export const DISPATCH_RESULTS = [
  'failed',
  'queued',
  'processed',
  'unknown',
  'delivered',
  'alert',
  'error',
  'sent',
] as const;
export type DispatchResult = (typeof DISPATCH_RESULTS)[number];

/**
 * A recipient's status as the delivery log shows it (D2, L1): `opened` stands for a delivered
 * recipient whose mailbox showed the message's images, as the log of the source documents has it.
 */
export type ShownStatus = RecipientStatus | 'opened';
/** Most telling first: failures, then what nobody confirmed, then what is under way, then received. */
export const SHOWN_STATUSES: readonly ShownStatus[] = [
  'bounced',
  'dropped',
  'not_sent',
  'unknown',
  'deferred',
  'queued',
  'processed',
  'sent',
  'delivered',
  'opened',
];
export const shownStatus = (status: RecipientStatus, opened: boolean | undefined): ShownStatus =>
  status === 'delivered' && opened ? 'opened' : status;

/** The log's Status column: each status the dispatch's recipients are in, most telling first, with how many. */
export function statusSummary(
  recipients: ReadonlyArray<{ status: RecipientStatus; opened?: boolean }>,
): Array<{ status: ShownStatus; count: number }> {
  const counts: Partial<Record<RecipientStatus, number>> = {};
  let opened = 0;
  for (const r of recipients) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (shownStatus(r.status, r.opened) === 'opened') opened += 1;
  }
  return statusSummaryOfCounts(counts, opened);
}

/** The same from counts by status and the number of delivered recipients that opened (what a dispatch's record keeps). */
export function statusSummaryOfCounts(
  counts: Partial<Record<string, number>>,
  opened: number,
): Array<{ status: ShownStatus; count: number }> {
  const shown = new Map<ShownStatus, number>(
    Object.entries(counts).map(([status, n]) => [status as ShownStatus, n ?? 0]),
  );
  if (opened > 0) {
    shown.set('delivered', (shown.get('delivered') ?? 0) - opened);
    shown.set('opened', opened);
  }
  return SHOWN_STATUSES.filter((s) => (shown.get(s) ?? 0) > 0).map((status) => ({ status, count: shown.get(status)! }));
}

/** Results an operator must look at; the delivery log shows only these by default (L1). */
export const FAILED_RESULTS: readonly DispatchResult[] = ['failed', 'alert', 'error', 'unknown'];

/** A recipient's provider gave up: no message will reach them without a resend. */
export const isFailure = (s: RecipientStatus): boolean => s === 'bounced' || s === 'dropped' || s === 'not_sent';
/** No further event is expected (a late bounce can still follow `delivered`, rule D7). */
export const isFinal = (s: RecipientStatus): boolean => s === 'delivered' || s === 'sent' || isFailure(s);

/**
 * How far along a status is. Events only move a recipient forward (late, out-of-order
 * callbacks never undo `delivered`); a bounce after `delivered` is the one backward-looking
 * step the providers really make (asynchronous bounce, D7), so failures rank highest.
 */
const RANK: Record<RecipientStatus, number> = {
  queued: 0,
  processed: 1,
  unknown: 2,
  deferred: 3,
  sent: 4,
  delivered: 4,
  not_sent: 5,
  bounced: 5,
  dropped: 5,
};

/** D3: statuses that become `unknown` when the confirmation deadline passes (deferred stays "temporarily failed", D6). */
export const awaitsConfirmation = (s: RecipientStatus): boolean => s === 'queued' || s === 'processed';

/** The status an event means for the recipient, or undefined when it changes no status (open, click …). */
export function statusForEvent(type: ProviderEventType): RecipientStatus | undefined {
  switch (type) {
    case 'queued':
      return 'queued';
    case 'processed':
    case 'sent':
      return 'processed';
    case 'deferred':
      return 'deferred';
    // An open, click or WhatsApp read proves delivery even when it outruns the `delivered` event.
    case 'delivered':
    case 'read':
    case 'open':
    case 'click':
      return 'delivered';
    case 'bounce':
    case 'undelivered':
    case 'failed':
      return 'bounced';
    case 'dropped':
      return 'dropped';
    default:
      return undefined;
  }
}

/** Applies an event's status to a recipient's current one; returns the current one when the event is stale. */
export function nextStatus(current: RecipientStatus, incoming: RecipientStatus): RecipientStatus {
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/** Engagement events recorded on top of `delivered` (D2): they imply the message arrived. */
export const isEngagement = (type: ProviderEventType): boolean =>
  type === 'open' || type === 'click' || type === 'read';

/**
 * D9: the dispatch result, from its recipients' statuses alone.
 * `providerRefused` is true when the provider refused the request itself (bad body, auth, size).
 */
export function dispatchResult(statuses: readonly RecipientStatus[], providerRefused = false): DispatchResult {
  if (providerRefused) return 'failed';
  if (statuses.length === 0) return 'queued';
  const failed = statuses.filter(isFailure).length;
  if (failed === statuses.length) return 'error';
  if (failed > 0) {
    // D5 is "some failed, at least one received it". While the others are still under way it
    // may yet become D4's `error`: wait. Only `unknown` left means nobody will tell us more.
    const stillUnderWay = statuses.some((s) => s === 'queued' || s === 'processed' || s === 'deferred');
    const received = statuses.some((s) => s === 'delivered' || s === 'sent');
    return received || !stillUnderWay ? 'alert' : 'processed';
  }
  if (statuses.includes('unknown')) return 'unknown';
  if (statuses.every((s) => s === 'sent')) return 'sent';
  if (statuses.every((s) => s === 'delivered' || s === 'sent')) return 'delivered';
  if (statuses.some((s) => s !== 'queued')) return 'processed';
  return 'queued';
}

export type { ProviderEvent };
