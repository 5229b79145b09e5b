// The outbound webhook retry schedule (docs/webhooks.md, "Retries"): Standard Webhooks' example
// schedule, at least 24 hours in all, a little jitter, Retry-After honoured when longer.
import { retryAfterMs, webhookRetryDelayMs, WEBHOOK_MAX_ATTEMPTS } from '../../src/domain/webhook-retry';

const s = 1000;
const min = 60 * s;
const h = 60 * min;

test.each([
  [1, 0, null, 5 * s],
  [2, 0, null, 5 * min],
  [3, 0, null, 30 * min],
  [4, 0, null, 2 * h],
  [5, 0, null, 5 * h],
  [6, 0, null, 10 * h],
  [7, 0, null, 14 * h],
  [8, 0, null, null], // the 8th attempt was the last
  [0, 0, null, null],
  [1, 0.5, null, 5_250], // jitter stretches by up to 10 %
  [7, 0.999, null, Math.round(14 * h * 1.0999)],
  [1, 0, 120 * s, 120 * s], // Retry-After longer than the schedule wins
  [3, 0, 10 * s, 30 * min], // shorter: the schedule wins
  [2, 0, 3 * 24 * h, 24 * h], // capped at a day
])('after %d failed attempts (random %d, Retry-After %s ms): wait %s ms', (attempts, random, retryAfter, expected) => {
  expect(webhookRetryDelayMs(attempts, random, retryAfter)).toBe(expected);
});

test('the last attempt comes more than 24 hours after the first, whatever the jitter', () => {
  for (const random of [0, 0.5, 0.999]) {
    let at = 0;
    for (let made = 1; made < WEBHOOK_MAX_ATTEMPTS; made += 1) at += webhookRetryDelayMs(made, random)!;
    expect(at).toBeGreaterThan(24 * h);
    expect(at).toBeLessThan(36 * h);
  }
});

test.each([
  ['120', 120 * s],
  [' 5 ', 5 * s],
  ['Wed, 21 Oct 2026 07:28:30 GMT', 30 * s],
  ['Wed, 21 Oct 2026 07:27:00 GMT', 0], // already past
  ['soon', null],
  ['', null],
  [undefined, null],
])('Retry-After %j → %s ms', (header, expected) => {
  expect(retryAfterMs(header, Date.parse('2026-10-21T07:28:00Z'))).toBe(expected);
});
