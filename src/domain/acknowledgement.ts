// Receipt acknowledgement (issue 20): what a recipient may write when they confirm they received a
// document — a name, a delivery date, a note — and the bounds of each. Pure: the acknowledgement
// page checks a form with it (in the tenant's language), the dispatch workflow's validator again.
import { addDays, isCalendarDay } from './days';

export const ACKNOWLEDGEMENT_LIMITS = {
  /** Characters of the name typed. */
  name: 120,
  /** Characters of the note. */
  note: 1000,
  /** A delivery date at most this many days before the day it is given (a late answer about yesterday's delivery)… */
  deliveryDaysBefore: 7,
  /** …and at most this many after (a purchase order is not delivered in three years). */
  deliveryDaysAfter: 730,
} as const;

/** Characters no one types in a form: control characters other than line breaks and tabs. */
// eslint-disable-next-line no-control-regex -- refusing them is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export interface AcknowledgementFields {
  name: string | null;
  deliveryDate: string | null;
  note: string | null;
}

export type AcknowledgementProblem = {
  field: keyof AcknowledgementFields;
  reason: 'too_long' | 'control_characters' | 'not_a_day' | 'too_early' | 'too_late';
  message: string;
  value: string;
};

/**
 * The first field that is not acceptable, or undefined. `today` (YYYY-MM-DD in the tenant's zone)
 * bounds the delivery date; without it only its shape is checked (the workflow's validator).
 */
export function acknowledgementFieldProblem(
  fields: AcknowledgementFields,
  today?: string,
): AcknowledgementProblem | undefined {
  const texts: Array<[keyof AcknowledgementFields, number]> = [
    ['name', ACKNOWLEDGEMENT_LIMITS.name],
    ['note', ACKNOWLEDGEMENT_LIMITS.note],
  ];
  for (const [field, max] of texts) {
    const value = fields[field];
    if (value === null) continue;
    if (value.length > max)
      return { field, reason: 'too_long', message: `at most ${max} characters (got ${value.length})`, value };
    if (CONTROL.test(value))
      return { field, reason: 'control_characters', message: 'must not contain control characters', value };
  }
  const day = fields.deliveryDate;
  if (day === null) return undefined;
  if (!isCalendarDay(day))
    return { field: 'deliveryDate', reason: 'not_a_day', message: 'a day that exists, as YYYY-MM-DD', value: day };
  if (today !== undefined) {
    const earliest = addDays(today, -ACKNOWLEDGEMENT_LIMITS.deliveryDaysBefore);
    const latest = addDays(today, ACKNOWLEDGEMENT_LIMITS.deliveryDaysAfter);
    if (day < earliest)
      return { field: 'deliveryDate', reason: 'too_early', message: `not before ${earliest}`, value: day };
    if (day > latest) return { field: 'deliveryDate', reason: 'too_late', message: `not after ${latest}`, value: day };
  }
  return undefined;
}

/** A typed value as kept: trimmed, line breaks as \n; blank is null. */
export function typedValue(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.replace(/\r\n?/g, '\n').trim();
  return trimmed === '' ? null : trimmed;
}

/** The kind of signed link (src/links.ts) a receipt acknowledgement goes through. */
export const RECEIPT_LINK_KIND = 'receipt' as const;

/** What a receipt link names: one attempt of one recipient of one dispatch. */
export const receiptTarget = (dispatchId: string, index: number, attempt: number): string =>
  `${dispatchId}:${index}.${attempt}`;

export function parseReceiptTarget(target: string): { dispatchId: string; index: number; attempt: number } | undefined {
  const m = /^(.+):(\d{1,4})\.(\d{1,4})$/.exec(target);
  return m ? { dispatchId: m[1], index: Number(m[2]), attempt: Number(m[3]) } : undefined;
}

/** The delivery date and the note in one text (the outbound event's `note`, the CSV export), or null. */
export function acknowledgementNote(a: { deliveryDate: string | null; note: string | null }): string | null {
  const parts = [...(a.deliveryDate ? [`delivery date: ${a.deliveryDate}`] : []), ...(a.note ? [a.note] : [])];
  return parts.length ? parts.join('; ') : null;
}

/** The history entry's words: who acknowledged, and what they wrote. */
export function acknowledgementWords(a: {
  by: string;
  name: string | null;
  deliveryDate: string | null;
  note: string | null;
}): string {
  const who = a.name ? `${a.name} <${a.by}>` : a.by;
  const note = acknowledgementNote(a);
  return `receipt acknowledged by ${who}${note ? `; ${note}` : ''}`;
}
