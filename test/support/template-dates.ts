// Dates in messages (rule N2, issue 16 item 9): every date a template shows is in the tenant's
// time zone and in words, never as a program writes it.
import type { Templates } from '../../src/templates';
import type { Locale } from '../../src/domain/locale';

/** A date or time as a program writes it (2026-03-01, T09:30, 09:30:00, a Z after a time): never in a message. */
export const RAW_DATE = /\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}|\d{2}:\d{2}:\d{2}|\d{2}:\d{2}Z/;

/** The time zone the date tests render in: not UTC, not the suite's usual Europe/Paris, and with a DST change in March. */
export const DATE_TEST_ZONE = 'America/Toronto';

/** The sample instants and calendar days of the template tests, as people in Toronto read them. */
export const IN_TORONTO: Record<string, Record<Locale, string>> = {
  '2026-03-01T09:30:00Z': { fr: '1er mars 2026 à 04:30', en: '1 March 2026 at 04:30' },
  '2026-03-01T21:45:00Z': { fr: '1er mars 2026 à 16:45', en: '1 March 2026 at 16:45' },
  '2026-03-04T09:30:00Z': { fr: '4 mars 2026 à 04:30', en: '4 March 2026 at 04:30' },
  // Daylight saving time has begun (08:00 UTC that day): UTC-4.
  '2026-03-08T09:30:00Z': { fr: '8 mars 2026 à 05:30', en: '8 March 2026 at 05:30' },
  '2026-03-05': { fr: '5 mars 2026', en: '5 March 2026' },
  '2026-03-31': { fr: '31 mars 2026', en: '31 March 2026' },
};

/**
 * Checks one template rendered with `data` (whose `timeZone` is DATE_TEST_ZONE): each variable it
 * shows with {{datetime}} holds one of IN_TORONTO's samples and reads as its words in every part
 * but the subject; no part holds a date as a program writes it. Returns the date variables checked.
 */
export function expectDatesInWords(
  templates: Templates,
  channel: 'email' | 'sms' | 'whatsapp',
  type: string,
  locale: Locale,
  data: Record<string, unknown>,
  parts: Record<string, string>,
): string[] {
  expect(data.timeZone).toBe(DATE_TEST_ZONE);
  const variables = [...templates.datetimeVariables(channel, type, locale)].sort();
  for (const variable of variables) {
    const at = (node: unknown) =>
      variable.split('.').reduce<unknown>((n, key) => (n as Record<string, unknown> | null | undefined)?.[key], node);
    // A variable inside {{#each}} is named from its item (failedBefore.since of each of failures): read in every list's items.
    const values = [
      at(data),
      ...Object.values(data)
        .filter(Array.isArray)
        .flatMap((list) => list.map(at)),
    ].filter((v) => v !== undefined);
    expect({ variable, found: values.length > 0 }).toEqual({ variable, found: true });
    // A nullable date left out (null): the template drops its line (tested elsewhere).
    for (const value of values.filter((v) => v !== null)) {
      expect({ variable, sample: typeof value === 'string' && value in IN_TORONTO }).toEqual({
        variable,
        sample: true,
      });
      for (const [part, out] of Object.entries(parts)) {
        if (part !== 'subject')
          expect({ part, variable, shows: out.includes(IN_TORONTO[value as string][locale]) }).toEqual({
            part,
            variable,
            shows: true,
          });
      }
    }
  }
  for (const [part, out] of Object.entries(parts))
    expect({ part, raw: RAW_DATE.exec(out)?.[0] ?? null }).toEqual({ part, raw: null });
  return variables;
}
