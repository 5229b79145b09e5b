// Calendar days in a tenant's time zone (D11: stored in UTC, shown where the tenant is). The
// dashboard counts by these days, the pages' date filters start and end on them.

/** YYYY-MM-DD naming a day that exists (2026-02-31 does not: JavaScript would read it as 3 March). */
export const isCalendarDay = (value: string): boolean => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.toISOString().slice(0, 10) === value;
};

/** An instant's calendar and clock fields in a time zone (year, month, day, hour, minute, second as strings). */
export const partsIn = (instant: Date, timeZone: string) =>
  Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );

/** The calendar day an instant falls on in a time zone. */
export function dayOf(instant: Date | number, timeZone: string): string {
  const p = partsIn(new Date(instant), timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** Midnight of a calendar day in a time zone, as a UTC instant. */
export function startOfDay(day: string, timeZone: string): Date {
  const utc = new Date(`${day}T00:00:00Z`);
  const p = partsIn(utc, timeZone);
  const asIfUtc = Date.UTC(
    Number(p.year),
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour),
    Number(p.minute),
    Number(p.second),
  );
  return new Date(utc.getTime() - (asIfUtc - utc.getTime()));
}

/** The last instant of a calendar day in a time zone (a day is 23 or 25 hours when the clocks change). */
export const endOfDay = (day: string, timeZone: string): Date =>
  new Date(startOfDay(addDays(day, 1), timeZone).getTime() - 1);

/** The day `n` days after (before, when negative) a calendar day. */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Whole days from one calendar day to another (negative when `to` is earlier). */
export const daysFrom = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/** Every day from `from` to `to`, both included, in order. */
export const daysBetween = (from: string, to: string): string[] =>
  Array.from({ length: Math.max(0, daysFrom(from, to) + 1) }, (_, i) => addDays(from, i));
