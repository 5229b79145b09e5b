// Tenant policy durations are ISO-8601 (PT30M, P3D); Temporal timers take milliseconds.

/** Days, hours, minutes, seconds (PT30M, P3D, P1DT12H); the API's schemas carry it as their pattern. */
export const ISO_DURATION_PATTERN = /^P(?!$)(?:([0-9]+)D)?(?:T(?=[0-9])(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?)?$/;

export function isIsoDuration(value: string): boolean {
  return ISO_DURATION_PATTERN.test(value);
}

/** Milliseconds in an ISO-8601 duration of days, hours, minutes and seconds (no months or years: their length varies). */
export function isoDurationToMs(value: string): number {
  const m = ISO_DURATION_PATTERN.exec(value);
  if (!m) throw new RangeError(`not an ISO-8601 duration of days/hours/minutes/seconds: ${value}`);
  const [, d, h, min, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Math.round(Number(s ?? 0) * 1000);
}

/** "30 minutes", "3 jours" …: a duration in words for messages. */
export function durationInWords(ms: number, locale: 'fr' | 'en'): string {
  const units: Array<[number, string, string, string, string]> = [
    [86_400_000, 'day', 'days', 'jour', 'jours'],
    [3_600_000, 'hour', 'hours', 'heure', 'heures'],
    [60_000, 'minute', 'minutes', 'minute', 'minutes'],
    [1000, 'second', 'seconds', 'seconde', 'secondes'],
  ];
  for (const [size, en1, enN, fr1, frN] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${locale === 'fr' ? (n > 1 ? frN : fr1) : (n > 1 ? enN : en1)}`;
    }
  }
  return locale === 'fr' ? `${Math.round(ms / 1000)} secondes` : `${Math.round(ms / 1000)} seconds`;
}
