// The delivery dashboard's numbers (issue 21): what each dispatch, each document of 25 recipients
// and each order exception adds to its day's counters, the difference two states of one of them
// make, and what a period of days says (rates, reasons, domains, the median time to delivered,
// exceptions by age). Pure: the rollup fold (src/db/rollups.ts) and the page use these.
//
// Counters are flat paths (`results.delivered`, `failures.invalid_address`) summed per day
// document (`<day>`) or in the tenant's open-exception summary (`open`). A thing's contribution
// is a function of its state alone, so the fold adds the difference between what it counted
// before and what it sees now: counting twice what did not change adds nothing.
import type { DispatchResult, RecipientStatus } from './dispatch-status';
import type { ExceptionType } from './order';
import type { ReasonCode } from './reasons';
import { daysFrom } from './days';

/** Counter path → value. */
export type Counters = Record<string, number>;
/** Where counters go: a calendar day (YYYY-MM-DD), or OPEN_EXCEPTIONS. */
export type Contribution = Record<string, Counters>;
/** The tenant's exceptions still open, by the day each was opened: not a day of its own. */
export const OPEN_EXCEPTIONS = 'open';

/** A document dispatch as the log lists it: its day (when Relais accepted it, in the tenant's zone) and result. */
export interface DispatchFacts {
  day: string;
  result: DispatchResult;
}

/** One recipient as the dashboard counts it. */
export interface RecipientFacts {
  attempt: number;
  status: RecipientStatus;
  /** Whether a provider reports on it (SendGrid, Twilio); a tenant's own SMTP server does not (D10). */
  tracked: boolean;
  email: boolean;
  reasonCode: string | null;
  /** The domain its failure is counted under (its own, or OTHER_DOMAINS past the day's cap); null when none. */
  domain: string | null;
  /** Time-to-delivered bucket (ttdBucket) of this attempt, once delivered; null otherwise. */
  ttd: number | null;
}

/** The recipients of one document of 25 of a dispatch, on the dispatch's day. */
export interface PartFacts {
  day: string;
  recipients: RecipientFacts[];
}

/** An order exception: opened on a day, resolved on another (or not yet). */
export interface ExceptionFacts {
  type: ExceptionType;
  openedDay: string;
  resolvedDay: string | null;
}

/** Failures by recipient domain beyond the per-day cap are counted under this key. */
export const OTHER_DOMAINS = '(other)';
/** Distinct domains a day counts failures under before the rest go to OTHER_DOMAINS (keeps a day's document small). */
export const DOMAINS_PER_DAY = 200;

/**
 * Hard bounces (SendGrid's bounce rate, the 5 % ceiling of a healthy sender): an email address
 * or domain that does not exist. A full mailbox, a block as spam or a suppression are not.
 */
const HARD_BOUNCE_REASONS: ReadonlySet<string> = new Set<ReasonCode>(['invalid_address', 'domain_not_found']);
export const isHardBounce = (r: Pick<RecipientFacts, 'status' | 'email' | 'reasonCode'>) =>
  r.email && r.status === 'bounced' && HARD_BOUNCE_REASONS.has(r.reasonCode ?? '');
/** The hard-bounce rate above which the dashboard warns (SendGrid's own ceiling for a healthy sender). */
export const HARD_BOUNCE_WARNING = 0.05;

// ---- time to delivered -------------------------------------------------------------------
// A histogram with four buckets per doubling from 100 ms (each about 19 % wide): bucket b holds
// [100·2^(b/4), 100·2^((b+1)/4)) ms, bucket 0 everything under 119 ms. The median read from it is
// within a bucket's width of the true one, whatever the number of recipients.
const TTD_BASE_MS = 100;
const TTD_STEPS_PER_DOUBLING = 4;
/** The last bucket holds everything from about three years on. */
export const TTD_MAX_BUCKET = 120;

export function ttdBucket(ms: number): number {
  if (!(ms >= TTD_BASE_MS * 2 ** (1 / TTD_STEPS_PER_DOUBLING))) return 0;
  return Math.min(TTD_MAX_BUCKET, Math.floor(TTD_STEPS_PER_DOUBLING * Math.log2(ms / TTD_BASE_MS)));
}
/** Where a bucket starts (0 for the first). */
export const ttdBucketStart = (b: number): number => (b <= 0 ? 0 : TTD_BASE_MS * 2 ** (b / TTD_STEPS_PER_DOUBLING));
export const ttdBucketEnd = (b: number): number => TTD_BASE_MS * 2 ** ((b + 1) / TTD_STEPS_PER_DOUBLING);

/** The median of a histogram of buckets → counts, interpolated inside its bucket; null when empty. */
export function medianOf(histogram: ReadonlyMap<number, number>): number | null {
  const buckets = [...histogram].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  let below = 0;
  for (const [b, n] of buckets) {
    if (below + n >= total / 2) {
      const share = (total / 2 - below) / n;
      const start = ttdBucketStart(b);
      const end = ttdBucketEnd(b);
      // Geometric inside a bucket (they grow geometrically), linear in the first one (it starts at 0).
      return b === 0 ? end * share : start * (end / start) ** share;
    }
    below += n;
  }
  return null;
}

// ---- contributions -----------------------------------------------------------------------
const add = (into: Contribution, where: string, path: string, n = 1) => {
  const counters = (into[where] ??= {});
  counters[path] = (counters[path] ?? 0) + n;
};

export function dispatchContribution(f: DispatchFacts | null): Contribution {
  const c: Contribution = {};
  if (!f) return c;
  add(c, f.day, 'dispatches');
  add(c, f.day, `results.${f.result}`);
  return c;
}

export function partContribution(f: PartFacts | null): Contribution {
  const c: Contribution = {};
  if (!f) return c;
  for (const r of f.recipients) {
    add(c, f.day, 'recipients');
    add(c, f.day, `statuses.${r.status}`);
    if (!r.tracked) continue;
    add(c, f.day, 'tracked');
    if (r.email) add(c, f.day, 'emailTracked');
    if (r.status === 'delivered') {
      add(c, f.day, 'delivered');
      if (r.ttd !== null) add(c, f.day, `ttd.${r.ttd}`);
    }
    if (r.status === 'bounced' || r.status === 'dropped') {
      add(c, f.day, `failures.${r.reasonCode ?? 'unclassified'}`);
      if (r.domain) add(c, f.day, `domains.${domainKey(r.domain)}`);
    }
    if (isHardBounce(r)) add(c, f.day, 'hardBounces');
  }
  return c;
}

export function exceptionContribution(f: ExceptionFacts | null): Contribution {
  const c: Contribution = {};
  if (!f) return c;
  add(c, f.openedDay, `opened.${f.type}`);
  if (f.resolvedDay) add(c, f.resolvedDay, `resolved.${f.type}`);
  else add(c, OPEN_EXCEPTIONS, `${f.openedDay}.${f.type}`);
  return c;
}

/** What moving from one contribution to another changes: only the counters that differ. */
export function difference(before: Contribution, after: Contribution): Contribution {
  const d: Contribution = {};
  for (const where of new Set([...Object.keys(before), ...Object.keys(after)])) {
    for (const path of new Set([...Object.keys(before[where] ?? {}), ...Object.keys(after[where] ?? {})])) {
      const n = (after[where]?.[path] ?? 0) - (before[where]?.[path] ?? 0);
      if (n !== 0) add(d, where, path, n);
    }
  }
  return d;
}

/** Sums contributions (the changes of one fold, per day document). */
export function sum(...contributions: Contribution[]): Contribution {
  const total: Contribution = {};
  for (const c of contributions)
    for (const [where, counters] of Object.entries(c))
      for (const [path, n] of Object.entries(counters)) add(total, where, path, n);
  for (const where of Object.keys(total)) {
    for (const path of Object.keys(total[where])) if (total[where][path] === 0) delete total[where][path];
    if (Object.keys(total[where]).length === 0) delete total[where];
  }
  return total;
}

/**
 * A domain as a key of the stored counters: a dot would be read as a path and a leading `$` as an
 * operator, so both are escaped (as `%` itself).
 */
export const domainKey = (domain: string) => domain.replace(/%/g, '%25').replace(/\./g, '%2E').replace(/\$/g, '%24');
export const domainOfKey = (key: string) => key.replace(/%2E/g, '.').replace(/%24/g, '$').replace(/%25/g, '%');

/** The domain of an email address, lower-cased (null for a phone number). */
export const domainOf = (address: string): string | null => {
  const at = address.lastIndexOf('@');
  return at > 0 && at < address.length - 1 ? address.slice(at + 1).toLowerCase() : null;
};

// ---- a period ----------------------------------------------------------------------------
/** One day's counters as stored: nested objects (results: { delivered: 3 }), numbers at the leaves. */
export interface DayCounters {
  dispatches?: number;
  recipients?: number;
  tracked?: number;
  emailTracked?: number;
  delivered?: number;
  hardBounces?: number;
  results?: Record<string, number>;
  statuses?: Record<string, number>;
  failures?: Record<string, number>;
  domains?: Record<string, number>;
  ttd?: Record<string, number>;
  opened?: Record<string, number>;
  resolved?: Record<string, number>;
}

export interface PeriodSummary {
  days: Array<{
    day: string;
    dispatches: number;
    results: Record<string, number>;
    tracked: number;
    delivered: number;
    opened: Record<string, number>;
    resolved: Record<string, number>;
  }>;
  dispatches: number;
  results: Record<string, number>;
  recipients: number;
  tracked: number;
  delivered: number;
  /** delivered ÷ tracked recipients; null when nothing was tracked. */
  deliveryRate: number | null;
  emailTracked: number;
  hardBounces: number;
  hardBounceRate: number | null;
  /** The hard-bounce rate is over HARD_BOUNCE_WARNING. */
  warnHardBounces: boolean;
  /** Bounced or dropped recipients by reason, most first. */
  reasons: Array<{ reason: string; count: number }>;
  /** Bounced or dropped recipients by domain, the 10 with most (OTHER_DOMAINS among them if it is). */
  domains: Array<{ domain: string; count: number }>;
  medianTtdMs: number | null;
  /** Recipients delivered with a known time to delivered. */
  timed: number;
  opened: Record<string, number>;
  resolved: Record<string, number>;
}

const total = (into: Record<string, number>, from: Record<string, number> | undefined) => {
  for (const [k, n] of Object.entries(from ?? {})) if (n) into[k] = (into[k] ?? 0) + n;
};
const ranked = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b));

/** What the dashboard says of a period: each day in order (a day with nothing counted is zeros), and the totals. */
export function summarize(days: readonly string[], stored: ReadonlyMap<string, DayCounters>): PeriodSummary {
  const s: PeriodSummary = {
    days: [],
    dispatches: 0,
    results: {},
    recipients: 0,
    tracked: 0,
    delivered: 0,
    deliveryRate: null,
    emailTracked: 0,
    hardBounces: 0,
    hardBounceRate: null,
    warnHardBounces: false,
    reasons: [],
    domains: [],
    medianTtdMs: null,
    timed: 0,
    opened: {},
    resolved: {},
  };
  const reasons: Record<string, number> = {};
  const domains: Record<string, number> = {};
  const ttd = new Map<number, number>();
  for (const day of days) {
    const d = stored.get(day) ?? {};
    const results: Record<string, number> = {};
    total(results, d.results);
    const opened: Record<string, number> = {};
    total(opened, d.opened);
    const resolved: Record<string, number> = {};
    total(resolved, d.resolved);
    s.days.push({
      day,
      dispatches: d.dispatches ?? 0,
      results,
      tracked: d.tracked ?? 0,
      delivered: d.delivered ?? 0,
      opened,
      resolved,
    });
    s.dispatches += d.dispatches ?? 0;
    total(s.results, d.results);
    s.recipients += d.recipients ?? 0;
    s.tracked += d.tracked ?? 0;
    s.delivered += d.delivered ?? 0;
    s.emailTracked += d.emailTracked ?? 0;
    s.hardBounces += d.hardBounces ?? 0;
    total(reasons, d.failures);
    total(domains, d.domains);
    total(s.opened, d.opened);
    total(s.resolved, d.resolved);
    for (const [b, n] of Object.entries(d.ttd ?? {})) if (n) ttd.set(Number(b), (ttd.get(Number(b)) ?? 0) + n);
  }
  s.deliveryRate = s.tracked ? s.delivered / s.tracked : null;
  s.hardBounceRate = s.emailTracked ? s.hardBounces / s.emailTracked : null;
  s.warnHardBounces = s.hardBounceRate !== null && s.hardBounceRate > HARD_BOUNCE_WARNING;
  s.reasons = ranked(reasons).map(([reason, count]) => ({ reason, count }));
  s.domains = ranked(domains)
    .slice(0, 10)
    .map(([key, count]) => ({ domain: domainOfKey(key), count }));
  s.medianTtdMs = medianOf(ttd);
  s.timed = [...ttd.values()].reduce((a, n) => a + n, 0);
  return s;
}

// ---- exceptions and holds by age ----------------------------------------------------------
/** Age groups of open exceptions (in days since the day each was opened) and of held orders (hours). */
export const EXCEPTION_AGES = [
  { key: 'today', minDays: 0 },
  { key: 'days1to2', minDays: 1 },
  { key: 'days3to6', minDays: 3 },
  { key: 'week', minDays: 7 },
] as const;
export type ExceptionAge = (typeof EXCEPTION_AGES)[number]['key'];

export const exceptionAge = (openedDay: string, today: string): ExceptionAge =>
  [...EXCEPTION_AGES].reverse().find((a) => daysFrom(openedDay, today) >= a.minDays)?.key ?? 'today';

/** Open exceptions (the summary: opened day → type → count) by age group and type. */
export function openByAge(open: Record<string, Record<string, number>>, today: string) {
  const byAge = Object.fromEntries(EXCEPTION_AGES.map((a) => [a.key, {} as Record<string, number>])) as Record<
    ExceptionAge,
    Record<string, number>
  >;
  let count = 0;
  let oldest: string | null = null;
  for (const [day, types] of Object.entries(open)) {
    for (const [type, n] of Object.entries(types)) {
      if (!(n > 0)) continue;
      const age = exceptionAge(day, today);
      byAge[age][type] = (byAge[age][type] ?? 0) + n;
      count += n;
      if (!oldest || day < oldest) oldest = day;
    }
  }
  return { byAge, count, oldest };
}

export const HOLD_AGES = [
  { key: 'hour', minMs: 0 },
  { key: 'day', minMs: 3_600_000 },
  { key: 'days', minMs: 86_400_000 },
  { key: 'longer', minMs: 3 * 86_400_000 },
] as const;
export type HoldAge = (typeof HOLD_AGES)[number]['key'];

/** Held orders by how long they have waited: under an hour, under a day, under three days, longer. */
export function holdsByAge(since: ReadonlyArray<Date>, now: Date) {
  const byAge = Object.fromEntries(HOLD_AGES.map((a) => [a.key, 0])) as Record<HoldAge, number>;
  for (const s of since) {
    const waited = now.getTime() - s.getTime();
    byAge[[...HOLD_AGES].reverse().find((a) => waited >= a.minMs)?.key ?? 'hour'] += 1;
  }
  return byAge;
}
