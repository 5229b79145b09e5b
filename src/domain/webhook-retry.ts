// When an outbound webhook is tried again (docs/webhooks.md, "Retries"): the schedule the
// Standard Webhooks specification gives as its example — immediately, then 5 s, 5 min, 30 min,
// 2 h, 5 h, 10 h, 14 h — so the last of 8 attempts comes 31 h 35 min after the first, past the 24
// hours a receiver's outage may last; then the delivery is failed. Each wait is stretched by up to
// 10 % at random, so deliveries that failed together (the receiver was down) do not all come
// back in the same second. A receiver's Retry-After (429, 503) is honoured when longer, up to a day.

export const WEBHOOK_RETRY_DELAYS_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
] as const;
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_MS.length + 1;
const JITTER = 0.1;
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * How long to wait after `attemptsMade` failed attempts, or null when that was the last one.
 * `random` is in [0, 1) (the workflow's deterministic Math.random); `retryAfterMs` the receiver's
 * Retry-After, when it sent one.
 */
export function webhookRetryDelayMs(
  attemptsMade: number,
  random: number,
  retryAfterMs: number | null = null,
): number | null {
  if (attemptsMade < 1 || attemptsMade >= WEBHOOK_MAX_ATTEMPTS) return null;
  const scheduled = Math.round(
    WEBHOOK_RETRY_DELAYS_MS[attemptsMade - 1] * (1 + JITTER * Math.min(Math.max(random, 0), 1)),
  );
  return retryAfterMs !== null && retryAfterMs > scheduled ? Math.min(retryAfterMs, MAX_RETRY_AFTER_MS) : scheduled;
}

/** A Retry-After header in milliseconds: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
