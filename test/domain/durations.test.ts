import { durationInWords, isIsoDuration, isoDurationToMs } from '../../src/domain/durations';

test.each([
  ['PT30M', 1_800_000],
  ['P3D', 259_200_000],
  ['PT48H', 172_800_000],
  ['P1DT2H', 93_600_000],
  ['PT1.5S', 1500],
  ['PT2S', 2000],
])('%s = %d ms', (iso, ms) => {
  expect(isIsoDuration(iso)).toBe(true);
  expect(isoDurationToMs(iso)).toBe(ms);
});

test.each(['', 'P', 'PT', '30M', 'P1M', 'P1Y', 'PT-5M', 'abc'])('%j is refused', (value) => {
  expect(isIsoDuration(value)).toBe(false);
  expect(() => isoDurationToMs(value)).toThrow(RangeError);
});

test.each([
  [1_800_000, 'en', '30 minutes'],
  [1_800_000, 'fr', '30 minutes'],
  [259_200_000, 'fr', '3 jours'],
  [3_600_000, 'en', '1 hour'],
] as const)('%d ms in %s = %s', (ms, locale, words) => {
  expect(durationInWords(ms, locale)).toBe(words);
});
