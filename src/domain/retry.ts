// How long a send waits before its next attempt after an ordinary failure (a provider's 5xx, a
// network error, MongoDB unreachable). Rate limits wait for the provider's own reset instead.

const SEND_RETRY_MIN_MS = 2_000;
const SEND_RETRY_MAX_MS = 5 * 60_000;

/**
 * As long as the send has been failing, between 2 seconds and 5 minutes: a steady outage is
 * retried after 2, 4, 8 … seconds, the same doubling as an exponential policy. It is measured in
 * time, not in attempts, because Temporal counts every attempt, rate-limited ones included: after
 * a minute of 429s every 5 seconds, one 500 would otherwise wait the full 5 minutes.
 */
export function sendRetryDelayMs(failingForMs: number): number {
  return Math.min(SEND_RETRY_MAX_MS, Math.max(SEND_RETRY_MIN_MS, Math.round(failingForMs)));
}
