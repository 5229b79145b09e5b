// Days as the operator pages' date fields send them (YYYY-MM-DD), read in the tenant's time zone.
import { ApiError } from '../api/errors';

/** YYYY-MM-DD naming a day that exists (2026-02-31 does not: JavaScript would read it as 3 March). */
export const isCalendarDay = (value: string): boolean => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.toISOString().slice(0, 10) === value;
};

/** Midnight of a calendar day in a time zone, as a UTC instant. */
export function startOfDay(date: string, timeZone: string): Date {
  const utc = new Date(`${date}T00:00:00Z`);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(utc).map((p) => [p.type, p.value]));
  const asIfUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return new Date(utc.getTime() - (asIfUtc - utc.getTime()));
}

/** The last instant of a calendar day in a time zone. */
export const endOfDay = (date: string, timeZone: string): Date => new Date(startOfDay(date, timeZone).getTime() + 86_400_000 - 1);

/** A 400 naming the first of `from`/`to` that is not a real day, by its label in the tenant's words. */
export function checkDays(f: { from?: string; to?: string }, labels: { from: string; to: string }, invalid: string): void {
  for (const field of ['from', 'to'] as const) {
    const value = f[field];
    if (value && !isCalendarDay(value)) {
      const message = `${labels[field]}: "${value}" ${invalid}`;
      throw new ApiError(400, 'invalid_request', message, [{ field, message, value }]);
    }
  }
}
