import { sendRetryDelayMs } from '../../src/domain/retry';

test.each([
  ['the first failure', 0, 2_000],
  ['a failure 1 s after the first', 1_000, 2_000],
  ['failing for 2 s', 2_000, 2_000],
  ['failing for 30 s', 30_000, 30_000],
  ['failing for a minute of 429s (the 12th attempt)', 60_000, 60_000],
  ['failing for 4 min 59 s', 299_000, 299_000],
  ['failing for an hour', 3_600_000, 300_000],
  ['a clock that went backwards', -5_000, 2_000],
])('%s (failing for %d ms): next attempt in %d ms', (_case, failingForMs, delayMs) => {
  expect(sendRetryDelayMs(failingForMs)).toBe(delayMs);
});

test('a steady outage doubles the wait, as the exponential policy it replaces (2, 4, 8 … s up to 5 min)', () => {
  const starts = [0];
  while (starts.length < 10) starts.push(starts[starts.length - 1] + sendRetryDelayMs(starts[starts.length - 1]));
  expect(starts.map((t) => t / 1000)).toEqual([0, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
});
