// The delivery log page's filters (L1), as its form sends them (dates as calendar days in the
// tenant's zone), and the API query they stand for: the log page and its CSV export use the same.
import { z } from 'zod';
import { parse } from '../api/errors';
import { listDispatchesQuery, type ListDispatchesQuery } from '../api/schemas';
import { DISPATCH_RESULTS } from '../domain/dispatch-status';
import { endOfDay, startOfDay } from '../domain/days';
import { checkDays } from './dates';
import type { Words } from './words';

/** A day as the date field sends it; whether it is a real calendar day is checked apart, to say so in the tenant's words. */
const day = z.string().max(40).optional();
export const logForm = z.object({
  show: z.enum(['failed', 'all']).optional(),
  result: z.union([z.literal(''), z.enum(DISPATCH_RESULTS)]).optional(),
  recipient: z.string().trim().max(320).optional(),
  document: z.string().trim().max(100).optional(),
  from: day,
  to: day,
  cursor: z.string().regex(/^\d*$/).optional(),
  kind: z.union([z.literal(''), z.enum(['all', 'document', 'notification'])]).optional(),
});
export type LogForm = z.infer<typeof logForm>;

/** The log's form as the API's query: days from the start of `from` to the end of `to` in the tenant's zone. */
export function logQuery(f: LogForm, timeZone: string, w: Words, limit: number): ListDispatchesQuery {
  checkDays(f, w, w.invalidDate);
  return parse(listDispatchesQuery, {
    result: f.result || (f.show === 'all' ? 'all' : 'failed'),
    recipient: f.recipient || undefined,
    document: f.document || undefined,
    from: f.from ? startOfDay(f.from, timeZone).toISOString() : undefined,
    to: f.to ? endOfDay(f.to, timeZone).toISOString() : undefined,
    cursor: f.cursor || undefined,
    limit,
    kind: f.kind || 'all',
  });
}
