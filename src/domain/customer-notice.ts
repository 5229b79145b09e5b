// Customer notices by channel order (issue 20, items 3 and 4): a notice goes on one channel at a
// time, in the tenant's order for its type; it moves to the next when the channel fails or stays
// silent past the tenant's delay, and stops as soon as one is delivered (or read). SMS and WhatsApp
// wait for the customer's send window (quiet hours); email does not. Pure rules; the workflow
// (src/workflows/customer-notice) holds the timers and records the path.
import { partsIn } from './days';
import type { RecipientStatus } from './dispatch-status';
import type { NoticeChannel } from './preferences';

/** When SMS and WhatsApp may reach a customer, in the customer's zone: `from` included, `to` excluded (HH:MM); equal: always. */
export interface SendWindow {
  from: string;
  to: string;
}
export const DEFAULT_SEND_WINDOW: SendWindow = { from: '08:00', to: '21:00' };
export const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/**
 * How often the workflow reads its dispatches' statuses while it waits (a failure moves on at the
 * next read): every 5 s in a channel's first minute, when most reports come, then every 30 s.
 * At most 40 reads per channel at the default delay.
 */
export const STATUS_READ_EVERY_MS = 30_000;
export const FIRST_MINUTE_READ_EVERY_MS = 5_000;

/** What a dispatch of the notice has come to, for the cascade. */
export type AttemptOutcome = 'pending' | 'delivered' | 'failed';

/**
 * A recipient status as the cascade reads it: delivered (read counts: the dispatch records it as
 * delivered) or handed to the tenant's own mail server stops it; a bounce, a drop, a Twilio
 * failed/undelivered or a send that did not go moves on; anything else is still under way.
 */
export function attemptOutcome(status: RecipientStatus | null): AttemptOutcome {
  switch (status) {
    case 'delivered':
    case 'sent':
      return 'delivered';
    case 'bounced':
    case 'dropped':
    case 'not_sent':
      return 'failed';
    default:
      return 'pending';
  }
}

/** One read of the notice's dispatches: each one's status and provider reason (null before its first projection). */
export interface AttemptStatus {
  dispatchId: string;
  status: RecipientStatus | null;
  reasonCode: string | null;
}

export type CascadeStep =
  | { kind: 'stop'; dispatchId: string }
  | { kind: 'next'; why: 'failed'; reason: string | null }
  | { kind: 'next'; why: 'silent' }
  | { kind: 'wait'; ms: number };

/**
 * What the cascade does after a read: any of its dispatches delivered (a silent channel may
 * deliver after the next one went) stops it; the current one failed moves on at once; silent past
 * the delay moves on; otherwise it waits until the next read or the delay's end, whichever first.
 */
export function cascadeStep(
  statuses: readonly AttemptStatus[],
  current: string,
  sentAt: number,
  now: number,
  moveOnAfterMs: number,
): CascadeStep {
  const delivered = deliveredAttempt(statuses);
  if (delivered) return { kind: 'stop', dispatchId: delivered.dispatchId };
  const mine = statuses.find((s) => s.dispatchId === current);
  if (mine && attemptOutcome(mine.status) === 'failed') return { kind: 'next', why: 'failed', reason: mine.reasonCode };
  const left = sentAt + moveOnAfterMs - now;
  if (left <= 0) return { kind: 'next', why: 'silent' };
  const every = now - sentAt < 60_000 ? FIRST_MINUTE_READ_EVERY_MS : STATUS_READ_EVERY_MS;
  return { kind: 'wait', ms: Math.min(every, left) };
}

/** The first of the notice's dispatches that was delivered, if any. */
export const deliveredAttempt = (statuses: readonly AttemptStatus[]): AttemptStatus | undefined =>
  statuses.find((s) => attemptOutcome(s.status) === 'delivered');

/** The channels of the order the customer can receive, in order (a phone for SMS and WhatsApp, an email address for email). */
export function channelOrder(
  order: readonly NoticeChannel[],
  customer: { email: string | null; phone: string | null },
): NoticeChannel[] {
  return [...new Set(order)].filter((c) => (c === 'email' ? Boolean(customer.email) : Boolean(customer.phone)));
}

/** Email is not held: quiet hours are for the phone in someone's pocket. */
export const heldByQuietHours = (channel: NoticeChannel): boolean => channel !== 'email';

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const wallClock = (instant: number, timeZone: string) => {
  const p = partsIn(new Date(instant), timeZone);
  const asIfUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return { day: `${p.year}-${p.month}-${p.day}`, minutes: +p.hour * 60 + +p.minute, offsetMs: asIfUtc - instant };
};

/**
 * The instant a wall-clock time of a calendar day has in a zone. Corrected twice: the offset of a
 * day the clocks change differs before and after; a time the spring change skips comes out an hour later.
 */
export function zonedInstant(day: string, minutes: number, timeZone: string): number {
  const asIfUtc = Date.parse(`${day}T00:00:00Z`) + minutes * 60_000;
  const first = asIfUtc - wallClock(asIfUtc, timeZone).offsetMs;
  const second = asIfUtc - wallClock(first, timeZone).offsetMs;
  if (wallClock(second, timeZone).minutes === minutes) return second;
  return wallClock(first, timeZone).minutes === minutes ? first : Math.max(first, second);
}

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * When a message may go at `now` in the customer's zone: `now` inside the window, otherwise the
 * window's next opening (today's or tomorrow's `from`). A window whose `from` is after its `to`
 * runs over midnight (21:00–08:00: nights only); one whose `from` equals its `to` is always open (no quiet hours).
 */
export function sendWindowOpensAt(now: number, timeZone: string, window: SendWindow): number {
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  const { day, minutes } = wallClock(now, timeZone);
  const inside = from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
  if (inside || from === to) return now;
  return zonedInstant(minutes < from ? day : nextDay(day), from, timeZone);
}

/** One step of a notice's path, as the order page and the API show it. */
export interface NoticePathEntry {
  /** When (ISO, workflow time). */
  at: string;
  channel: NoticeChannel;
  event: 'held' | 'sent' | 'skipped' | 'failed' | 'silent' | 'delivered';
  dispatchId?: string;
  /** Why it moved on or was skipped: a reason code (src/domain/reasons.ts) or the cascade's words. */
  reason?: string;
  /** Held until (ISO). */
  until?: string;
}

/** Where the notice stands: going through its channels, delivered on one, or every channel tried without a delivery. */
export type NoticeState = 'running' | 'delivered' | 'exhausted';
