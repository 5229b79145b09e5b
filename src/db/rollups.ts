// The delivery dashboard's rollups (issue 21): per tenant and calendar day (in the tenant's zone)
// one small document of counters, `dispatch_daily` `<tenant>/<yyyy-mm-dd>`, and one summary of the
// exceptions still open, `<tenant>/open`. The page reads a period by `_id`, whatever the number of
// dispatches stored (FerretDB serves nothing else without reading every matching document).
//
// Why a fold with one writer, not `$inc` from each dispatch's projection: FerretDB v1 applies an
// update by reading the document, changing it in Go and writing it back, not atomically, so two
// dispatches incrementing one day at once would lose one increment. The tenant's rollup workflow
// (src/workflows/rollup.ts) is the only writer of its days: it folds the dispatches and orders
// that changed, one fold at a time. A fold counts each thing by difference — what it contributes
// now (read from the records) minus what it was counted as (its tally) — so counting something
// whose state did not change adds nothing; and a fold is planned once (`rollup_plans`) then
// applied under a sequence number, so a retried fold neither recounts nor loses anything.
import type { Db } from './models';
import { batchKey } from './dispatch-events';
import { dispatchKey, recipientsKey } from './dispatch-records';
import { RECIPIENTS_PER_DOCUMENT } from '../domain/dispatch';
import type { DispatchResult, RecipientStatus } from '../domain/dispatch-status';
import type { ExceptionType } from '../domain/order';
import {
  difference,
  dispatchContribution,
  domainKey,
  domainOf,
  DOMAINS_PER_DAY,
  exceptionContribution,
  OPEN_EXCEPTIONS,
  OTHER_DOMAINS,
  partContribution,
  sum,
  ttdBucket,
  type Contribution,
  type DayCounters,
  type DispatchFacts,
  type ExceptionFacts,
  type PartFacts,
  type RecipientFacts,
} from '../domain/dashboard';
import { dayOf } from '../domain/days';

export const DAILY_COLLECTION = 'dispatch_daily';
const TALLIES = 'rollup_tallies';
const PLANS = 'rollup_plans';

export const dailyKey = (tenantId: string, day: string) => `${tenantId}/${day}`;
const openKey = (tenantId: string) => `${tenantId}/${OPEN_EXCEPTIONS}`;
const dispatchTallyKey = (tenantId: string, dispatchId: string) => `dispatch:${tenantId}/${dispatchId}`;
const orderTallyKey = (tenantId: string, orderId: string) => `order:${tenantId}/${orderId}`;

/** What changed since the last fold: dispatches with the documents of recipients touched (by number), orders with their exceptions (by number). */
export interface FoldBatch {
  dispatches: Array<{ dispatchId: string; parts: number[] }>;
  orders: Array<{ orderId: string; exceptions: number[] }>;
}

/** What a dispatch or an order was last counted as. */
interface Tally {
  _id: string;
  tenantId: string;
  seq: number;
  dispatch?: DispatchFacts | null;
  /** Documents of recipients by number. */
  parts?: Record<string, PartFacts>;
  /** Exceptions by number. */
  exceptions?: Record<string, ExceptionFacts>;
}

/** A fold, decided once: the counters to add and the tallies to write after. */
export interface Plan {
  _id: string;
  tenantId: string;
  seq: number;
  /** Field names may not hold dots (a counter's path), so the changes are a list. */
  changes: Array<{ where: string; path: string; n: number }>;
  /** Each tally's fields to set, by path (a list too). */
  tallies: Array<{ _id: string; set: Array<{ path: string; value: unknown }> }>;
  createdAt: Date;
}

/** A day's document as stored: the counters (nested by path) and the fold that last changed it. */
type DailyDoc = DayCounters & { _id: string; tenantId: string; day: string; applied: number };
type OpenDoc = { _id: string; tenantId: string; applied: number; days?: Record<string, Record<string, number>> };

const collections = (db: Db) => ({
  daily: db.connection.db!.collection<DailyDoc>(DAILY_COLLECTION),
  open: db.connection.db!.collection<OpenDoc>(DAILY_COLLECTION),
  tallies: db.connection.db!.collection<Tally>(TALLIES),
  plans: db.connection.db!.collection<Plan>(PLANS),
});

const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

/** Promise.all in slices: the embedded store slows down under hundreds of parallel lookups. */
async function inSlices<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/** How many history batches of a document of recipients are read, newest first, to find when a recipient was delivered. */
const BATCHES_SEARCHED = 20;

/**
 * Counts what changed (the batch) into the tenant's rollups, exactly once for this `seq`:
 * a plan left by an earlier fold that did not finish is applied first, then this fold's plan is
 * made (or found, when this is a retry) and applied. Called by the tenant's rollup workflow only.
 */
export async function foldRollups(
  db: Db,
  tenantId: string,
  seq: number,
  batch: FoldBatch,
): Promise<{ changes: number }> {
  for (const left of await collections(db)
    .plans.find({ tenantId, seq: { $lt: seq } })
    .toArray())
    await applyPlan(db, left);
  const plan = await planFold(db, tenantId, seq, batch);
  await applyPlan(db, plan);
  return { changes: plan.changes.length };
}

/** The plan of fold `seq`: the one stored, if an earlier attempt made it, or a new one, stored before anything is applied. */
export async function planFold(db: Db, tenantId: string, seq: number, batch: FoldBatch): Promise<Plan> {
  const { plans } = collections(db);
  const _id = `${tenantId}/${seq}`;
  const stored = await plans.findOne({ _id });
  if (stored) return stored;
  const plan = await makePlan(db, tenantId, seq, batch);
  try {
    await plans.insertOne(plan);
    return plan;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return (await plans.findOne({ _id }))!;
  }
}

/** Adds a plan's changes to the days it names (each day once per plan), writes its tallies, and forgets it. */
export async function applyPlan(db: Db, plan: Plan): Promise<void> {
  const { daily, open, tallies, plans } = collections(db);
  const byWhere = new Map<string, Record<string, number>>();
  for (const c of plan.changes) byWhere.set(c.where, { ...byWhere.get(c.where), [c.path]: c.n });
  await inSlices([...byWhere], 10, async ([where, inc]) => {
    try {
      if (where === OPEN_EXCEPTIONS) {
        await open.updateOne(
          { _id: openKey(plan.tenantId), applied: { $lt: plan.seq } },
          {
            $inc: Object.fromEntries(Object.entries(inc).map(([path, n]) => [`days.${path}`, n])),
            $set: { applied: plan.seq },
            $setOnInsert: { tenantId: plan.tenantId },
          },
          { upsert: true },
        );
      } else {
        await daily.updateOne(
          { _id: dailyKey(plan.tenantId, where), applied: { $lt: plan.seq } },
          {
            $inc: inc,
            $set: { applied: plan.seq },
            $setOnInsert: { tenantId: plan.tenantId, day: where },
          },
          { upsert: true },
        );
      }
    } catch (err) {
      // Applied already (by the attempt this one retries): the guard did not match, the upsert found the _id taken.
      if (!isDuplicateKey(err)) throw err;
    }
  });
  if (byWhere.has(OPEN_EXCEPTIONS)) await pruneOpen(db, plan.tenantId);
  await inSlices(plan.tallies, 20, (t) =>
    tallies
      .updateOne(
        { _id: t._id, seq: { $lt: plan.seq } },
        {
          $set: { ...Object.fromEntries(t.set.map((f) => [f.path, f.value])), seq: plan.seq },
          $setOnInsert: { tenantId: plan.tenantId },
        },
        { upsert: true },
      )
      .catch((err) => {
        if (!isDuplicateKey(err)) throw err;
      }),
  );
  await plans.deleteOne({ _id: plan._id });
}

/** Days of the open summary with nothing open left are removed, so the summary stays as small as what is open. */
async function pruneOpen(db: Db, tenantId: string) {
  const { open } = collections(db);
  const doc = await open.findOne({ _id: openKey(tenantId) });
  const empty = Object.entries(doc?.days ?? {})
    .filter(([, types]) => Object.values(types).every((n) => !n))
    .map(([day]) => `days.${day}`);
  if (empty.length)
    await open.updateOne({ _id: openKey(tenantId) }, { $unset: Object.fromEntries(empty.map((path) => [path, ''])) });
}

async function makePlan(db: Db, tenantId: string, seq: number, batch: FoldBatch): Promise<Plan> {
  const { tallies, daily } = collections(db);
  const tenant = await db.Tenant.findById(tenantId, { timeZone: 1 }).lean();
  const timeZone = tenant?.timeZone ?? 'UTC';
  const contributions: Contribution[] = [];
  const written: Plan['tallies'] = [];

  // Failures by domain: a day counts at most DOMAINS_PER_DAY distinct domains (the others under OTHER_DOMAINS).
  const domainsOfDay = new Map<string, Set<string>>();
  const domainsOf = async (day: string) => {
    if (!domainsOfDay.has(day)) {
      const doc = await daily.findOne({ _id: dailyKey(tenantId, day) }, { projection: { domains: 1 } });
      domainsOfDay.set(day, new Set(Object.keys(doc?.domains ?? {})));
    }
    return domainsOfDay.get(day)!;
  };
  const countedDomain = async (day: string, domain: string) => {
    const known = await domainsOf(day);
    if (known.has(domainKey(domain))) return domain;
    if (known.size >= DOMAINS_PER_DAY) return OTHER_DOMAINS;
    known.add(domainKey(domain));
    return domain;
  };

  await inSlices(batch.dispatches, 10, async ({ dispatchId, parts }) => {
    const key = dispatchTallyKey(tenantId, dispatchId);
    const [header, tally] = await Promise.all([
      db.Dispatch.findById(dispatchKey(tenantId, dispatchId), {
        kind: 1,
        result: 1,
        createdAt: 1,
        provider: 1,
        channel: 1,
      }).lean(),
      tallies.findOne({ _id: key }),
    ]);
    // Only documents are counted (the log lists those); a dispatch recorded in the first version's shape is not here.
    if (!header || header.kind !== 'document') return;
    const day = tally?.dispatch?.day ?? dayOf((header as { createdAt: Date }).createdAt, timeZone);
    const facts: DispatchFacts = { day, result: header.result as DispatchResult };
    contributions.push(difference(dispatchContribution(tally?.dispatch ?? null), dispatchContribution(facts)));
    const set: Plan['tallies'][number]['set'] = [{ path: 'dispatch', value: facts }];
    for (const n of [...new Set(parts)]) {
      const before = tally?.parts?.[n] ?? null;
      const doc = await db.DispatchRecipients.findById(
        recipientsKey(tenantId, dispatchId, n * RECIPIENTS_PER_DOCUMENT),
      ).lean();
      if (!doc) continue;
      const after = await partFacts(db, {
        tenantId,
        dispatchId,
        n,
        day,
        channel: header.channel,
        provider: header.provider,
        before,
        doc,
        countedDomain,
      });
      contributions.push(difference(partContribution(before), partContribution(after)));
      set.push({ path: `parts.${n}`, value: after });
    }
    written.push({ _id: key, set });
  });

  await inSlices(batch.orders, 10, async ({ orderId, exceptions }) => {
    const key = orderTallyKey(tenantId, orderId);
    const tally = await tallies.findOne({ _id: key });
    const set: Plan['tallies'][number]['set'] = [];
    for (const n of [...new Set(exceptions)]) {
      const doc = await db.OrderException.findById(`${tenantId}/${orderId}/${n}`).lean();
      if (!doc) continue;
      const before = tally?.exceptions?.[n] ?? null;
      const after: ExceptionFacts = {
        type: doc.type as ExceptionType,
        openedDay: before?.openedDay ?? dayOf(doc.openedAt, timeZone),
        resolvedDay: doc.resolvedAt ? (before?.resolvedDay ?? dayOf(doc.resolvedAt, timeZone)) : null,
      };
      contributions.push(difference(exceptionContribution(before), exceptionContribution(after)));
      set.push({ path: `exceptions.${n}`, value: after });
    }
    if (set.length) written.push({ _id: key, set });
  });

  const changes = Object.entries(sum(...contributions)).flatMap(([where, counters]) =>
    Object.entries(counters).map(([path, n]) => ({ where, path, n })),
  );
  return { _id: `${tenantId}/${seq}`, tenantId, seq, changes, tallies: written, createdAt: new Date() };
}

interface PartSource {
  tenantId: string;
  dispatchId: string;
  n: number;
  day: string;
  channel: string;
  provider: string;
  before: PartFacts | null;
  doc: {
    recipients: Array<{
      index: number;
      status: string;
      attempt?: number | null;
      reasonCode?: string | null;
      address: string;
      sentAt?: Date | null;
    }>;
    batches: string[];
  };
  countedDomain(day: string, domain: string): Promise<string>;
}

/** A document of recipients as the dashboard counts it now; what it counted before is kept where the recipient's attempt is the same. */
async function partFacts(db: Db, s: PartSource): Promise<PartFacts> {
  const email = s.channel === 'email';
  const tracked = s.provider !== 'smtp';
  let deliveredAt: Map<string, number> | undefined;
  /** When each recipient attempt was first delivered, from the document's newest history batches (read once, when needed). */
  const deliveredTimes = async () => {
    if (!deliveredAt) {
      deliveredAt = new Map();
      const batches = await Promise.all(
        s.doc.batches
          .slice(-BATCHES_SEARCHED)
          .map((b) => db.EventBatch.findById(batchKey(s.tenantId, s.dispatchId, s.n, b)).lean()),
      );
      for (const entry of batches.flatMap(
        (b) => (b?.entries ?? []) as Array<{ index: number; attempt: number; status?: string | null; at: Date }>,
      )) {
        if (entry.status !== 'delivered') continue;
        const k = `${entry.index}.${entry.attempt}`;
        const at = new Date(entry.at).getTime();
        if (!deliveredAt.has(k) || at < deliveredAt.get(k)!) deliveredAt.set(k, at);
      }
    }
    return deliveredAt;
  };
  const recipients: RecipientFacts[] = [];
  for (const r of s.doc.recipients) {
    const attempt = r.attempt ?? 1;
    const status = r.status as RecipientStatus;
    const was = s.before?.recipients[r.index % RECIPIENTS_PER_DOCUMENT];
    const same = was && was.attempt === attempt;
    let ttd: number | null = null;
    if (status === 'delivered' && tracked) {
      if (same && was.status === 'delivered' && was.ttd !== null) ttd = was.ttd;
      else {
        const at = (await deliveredTimes()).get(`${r.index}.${attempt}`);
        if (at !== undefined && r.sentAt) ttd = ttdBucket(Math.max(0, at - new Date(r.sentAt).getTime()));
      }
    }
    let domain: string | null = null;
    const domainOfAddress = email ? domainOf(r.address) : null;
    if ((status === 'bounced' || status === 'dropped') && domainOfAddress) {
      domain =
        same && was.domain && (was.domain === domainOfAddress || was.domain === OTHER_DOMAINS)
          ? was.domain
          : await s.countedDomain(s.day, domainOfAddress);
    }
    recipients.push({ attempt, status, tracked, email, reasonCode: r.reasonCode ?? null, domain, ttd });
  }
  return { day: s.day, recipients };
}

// ---- reading --------------------------------------------------------------------------

/** The stored counters of these days (a day with nothing counted is absent). */
export async function readDays(db: Db, tenantId: string, days: readonly string[]): Promise<Map<string, DayCounters>> {
  const { daily } = collections(db);
  const docs = await inSlices(days, 16, (day) => daily.findOne({ _id: dailyKey(tenantId, day) }));
  return new Map(docs.filter((d): d is NonNullable<typeof d> => d !== null).map((d) => [d.day, d]));
}

/** Exceptions still open: opened day → type → count. */
export async function readOpenExceptions(db: Db, tenantId: string): Promise<Record<string, Record<string, number>>> {
  const doc = await collections(db).open.findOne({ _id: openKey(tenantId) });
  return doc?.days ?? {};
}
