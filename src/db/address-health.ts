// Issue 20, item 2: the address-health registry of each tenant (rules: src/domain/address-health.ts).
// Two collections: `address_health_facts`, each outcome stored once under a unique `_id` (an
// insert is atomic on both MongoDB and FerretDB: storing is the deduplication), and
// `address_health`, each address's record as its facts add up to. FerretDB applies an update as
// read-modify-write, so a record is never updated piecemeal: it is rebuilt whole from the facts,
// then checked against them, and rebuilt again until it has folded every fact stored (a writer
// that lost a race to an older rebuild puts the newer one back).
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';
import type { Db } from './models';
import {
  CONDITIONS,
  foldHealth,
  HEALTH_STATES,
  normalizeAddress,
  type AddressKind,
  type Fact,
  type Health,
  type HealthState,
} from '../domain/address-health';

const factSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    address: { type: String, required: true },
    addressKind: { type: String, enum: ['email', 'phone'], required: true },
    kind: { type: String, enum: [...CONDITIONS, 'success', 'opted_in', 'cleared'], required: true },
    at: { type: Date, required: true },
    code: { type: String, default: null },
    reason: { type: String, default: null },
    dispatchId: { type: String, default: null },
    orderId: { type: String, default: null },
    actor: { type: String, default: null },
    recordedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
factSchema.index({ tenantId: 1, address: 1 });
factSchema.index({ address: 1 });

const conditionSchema = new Schema(
  {
    condition: { type: String, required: true },
    count: { type: Number, required: true },
    firstSeen: { type: Date, required: true },
    lastSeen: { type: Date, required: true },
    code: { type: String, default: null },
    reason: { type: String, default: null },
    dispatchId: { type: String, default: null },
    orderId: { type: String, default: null },
  },
  { _id: false },
);

const recordSchema = new Schema(
  {
    _id: { type: String, required: true }, // `<tenantId>/<address>`
    tenantId: { type: String, required: true },
    address: { type: String, required: true },
    addressKind: { type: String, enum: ['email', 'phone'], required: true },
    state: { type: String, enum: HEALTH_STATES, required: true },
    conditions: { type: [conditionSchema], default: [] },
    since: { type: Date, default: null },
    lastSuccessAt: { type: Date, default: null },
    cleared: { type: new Schema({ at: Date, by: String }, { _id: false }), default: null },
    firstSeen: { type: Date, default: null },
    lastSeen: { type: Date, default: null },
    /** How many facts this record was rebuilt from: fewer than are stored means a newer rebuild is due. */
    folded: { type: Number, required: true },
  },
  { versionKey: false },
);
recordSchema.index({ tenantId: 1, lastSeen: -1 });

type FactDoc = Fact & {
  _id: string;
  tenantId: string;
  address: string;
  addressKind: AddressKind;
  actor: string | null;
  recordedAt: Date;
};
export type HealthRecord = Health & { tenantId: string; address: string; addressKind: AddressKind; folded: number };

interface Models {
  Fact: Model<FactDoc>;
  Record: Model<HealthRecord & { _id: string }>;
}
const bound = new WeakMap<Db, Promise<Models>>();

/** The registry's models on this connection (their indexes built once). */
function models(db: Db): Promise<Models> {
  let m = bound.get(db);
  if (!m) {
    const c = db.connection;
    const Fact = (c.models.AddressHealthFact ??
      c.model('AddressHealthFact', factSchema, 'address_health_facts')) as unknown as Model<FactDoc>;
    const Record = (c.models.AddressHealth ??
      c.model('AddressHealth', recordSchema, 'address_health')) as unknown as Models['Record'];
    m = Promise.all([Fact.init(), Record.init()]).then(() => ({ Fact, Record }));
    bound.set(db, m);
  }
  return m;
}

export type KnownBadPolicy = 'warn' | 'refuse';

/** The tenant's choice for known-bad addresses (settings `knownBadAddresses`); warn by default. */
export async function knownBadPolicy(db: Db, tenantId: string): Promise<KnownBadPolicy> {
  const tenant = await db.Tenant.findById(tenantId, { knownBadAddresses: 1 }).lean();
  return (tenant?.knownBadAddresses as KnownBadPolicy | undefined) ?? 'warn';
}

export const recordKey = (tenantId: string, address: string) => `${tenantId}/${address}`;

/** An outcome to record: `key` identifies it (the same outcome, recorded again, is stored once). */
export interface NewFact extends Omit<Fact, 'actor'> {
  tenantId: string;
  address: string;
  key: string;
  actor?: string | null;
}

/** Rebuilds an address's record from its facts until it has folded every one stored. */
async function rebuild(
  m: Models,
  tenantId: string,
  address: string,
  addressKind: AddressKind,
): Promise<HealthRecord | null> {
  const _id = recordKey(tenantId, address);
  for (let round = 0; round < 10; round += 1) {
    const facts = await m.Fact.find({ tenantId, address }).lean();
    if (!facts.length) return null;
    const health = foldHealth(facts.map((f) => ({ ...f, actor: f.actor ?? null })));
    const record: HealthRecord = { tenantId, address, addressKind, ...health, folded: facts.length };
    const written = await m.Record.replaceOne({ _id }, { _id, ...record }, { upsert: true }).then(
      () => true,
      (err: { code?: number }) => {
        if (err.code !== 11000) throw err; // a concurrent first insert won: replaced on the next round
        return false;
      },
    );
    // A fact stored meanwhile means another writer rebuilds too, and ours may have landed after its
    // newer one: whoever folded fewer than are stored rebuilds again, so the last write folds all.
    if (written && (await m.Fact.countDocuments({ tenantId, address })) === facts.length) return record;
  }
  throw new Error(`address health of ${address} did not settle`);
}

/**
 * Stores outcomes (each once) and rebuilds the record of each address they change, once per call.
 * A success writes nothing where the address has no record, or one with no condition: a healthy
 * address is not written for every message it gets (the registry holds what went wrong, and what
 * lifted it). An address whose facts were all stored before (a provider's retried event, a retried
 * write) is not rebuilt: the writer that stored them did. With `verifyDuplicates` (a retried write,
 * whose first attempt may have stopped between storing and rebuilding), such an address is rebuilt
 * if its record has not folded them all.
 */
export async function recordFacts(db: Db, facts: NewFact[], { verifyDuplicates = true } = {}): Promise<void> {
  if (!facts.length) return;
  const m = await models(db);
  const recordedAt = new Date();
  const byAddress = new Map<string, FactDoc[]>();
  const keys = new Set<string>();
  for (const f of facts) {
    const id = recordKey(f.tenantId, f.address);
    // The same outcome twice in one call (a message's repeated deferrals) is one fact, stored now.
    const key = `${id}/${f.key}`;
    if (keys.has(key)) continue;
    keys.add(key);
    byAddress.set(id, [
      ...(byAddress.get(id) ?? []),
      {
        _id: key,
        tenantId: f.tenantId,
        address: f.address,
        addressKind: normalizeAddress(f.address).kind,
        kind: f.kind,
        at: f.at,
        code: f.code,
        reason: f.reason?.slice(0, 1000) ?? null,
        dispatchId: f.dispatchId,
        orderId: f.orderId,
        actor: f.actor ?? null,
        recordedAt,
      },
    ]);
  }
  // Where only successes were heard, the record says whether they lift anything. A phone's first
  // success opens its record all the same: an inbound STOP is recorded for the tenants that know
  // the number (tenantsKnowing), and the registry is how Relais knows them.
  const onlySuccesses = [...byAddress].filter(([, mine]) => mine.every((d) => d.kind === 'success'));
  const records = new Map(
    await inParallel(onlySuccesses, async ([id, mine]) => {
      const record = await m.Record.findById(id, { conditions: 1 }).lean();
      return [id, record ? record.conditions.length > 0 : mine[0].addressKind === 'phone'] as const;
    }),
  );
  const worth = [...byAddress].filter(([id]) => records.get(id) ?? true);
  if (!worth.length) return;
  const storedBefore = await insertEach(
    m.Fact,
    worth.flatMap(([, mine]) => mine),
  );
  await inParallel(worth, async ([id, mine]) => {
    const { tenantId, address, addressKind } = mine[0];
    if (mine.every((d) => storedBefore.has(d._id))) {
      if (!verifyDuplicates) return;
      const [stored, count] = await Promise.all([
        m.Record.findById(id, { folded: 1 }).lean(),
        m.Fact.countDocuments({ tenantId, address }),
      ]);
      if (stored && stored.folded === count) return;
    }
    await rebuild(m, tenantId, address, addressKind);
  });
}

/** Inserts documents each under its `_id`; returns the ids already stored (the rest are new). */
async function insertEach(
  model: { collection: { insertMany(docs: never[], options: { ordered: boolean }): Promise<unknown> } },
  docs: Array<{ _id: string }>,
): Promise<Set<string>> {
  if (!docs.length) return new Set();
  try {
    await model.collection.insertMany(docs as never[], { ordered: false });
    return new Set();
  } catch (err) {
    const errors = (err as { writeErrors?: Array<{ index: number; code?: number }> }).writeErrors;
    if (!errors?.length || !errors.every((e) => e.code === 11000)) throw err;
    return new Set(errors.map((e) => docs[e.index]._id));
  }
}

/** How many addresses a webhook batch reads or rebuilds at once (a batch may name thousands). */
const PARALLEL = 16;
async function inParallel<T, R>(items: T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL)
    results.push(...(await Promise.all(items.slice(i, i + PARALLEL).map(run))));
  return results;
}

/** The records of a tenant's addresses, by address (those with none are absent). */
export async function readRecords(db: Db, tenantId: string, addresses: string[]): Promise<Map<string, HealthRecord>> {
  const m = await models(db);
  const keys = [...new Set(addresses.map((a) => normalizeAddress(a).address))];
  // One lookup per address by `_id`: FerretDB pushes an equality down, not an `$in`.
  const found = await Promise.all(keys.map((a) => m.Record.findById(recordKey(tenantId, a)).lean()));
  return new Map(found.filter((r) => r !== null).map((r) => [r.address, withoutId(r)]));
}

const withoutId = (r: HealthRecord & { _id?: string }): HealthRecord => {
  const { _id, ...rest } = r;
  return rest;
};

export async function readRecord(db: Db, tenantId: string, address: string): Promise<HealthRecord | null> {
  return (await readRecords(db, tenantId, [address])).get(normalizeAddress(address).address) ?? null;
}

/** A tenant's registry, most recently seen first, filtered by state and kind; `cursor` is the number of records skipped. */
export async function listRecords(
  db: Db,
  tenantId: string,
  query: { state?: HealthState; kind?: AddressKind; cursor: number; limit: number },
) {
  const m = await models(db);
  const filter = {
    tenantId,
    ...(query.state ? { state: query.state } : {}),
    ...(query.kind ? { addressKind: query.kind } : {}),
  };
  const rows = await m.Record.find(filter)
    .sort({ lastSeen: -1, _id: 1 })
    .skip(query.cursor)
    .limit(query.limit + 1)
    .lean();
  return {
    records: rows.slice(0, query.limit).map(withoutId),
    nextCursor: rows.length > query.limit ? query.cursor + query.limit : null,
  };
}

/** Failures of an address before a dispatch (other dispatches' facts): how many, and since when. */
export async function failedBefore(
  db: Db,
  tenantId: string,
  address: string,
  dispatchId: string,
): Promise<{ since: Date; times: number } | null> {
  const m = await models(db);
  const facts = await m.Fact.find({ tenantId, address: normalizeAddress(address).address }).lean();
  const lastClear = Math.max(0, ...facts.filter((f) => f.kind === 'cleared').map((f) => f.at.getTime()));
  const failures = facts.filter(
    (f) =>
      f.dispatchId !== dispatchId &&
      f.at.getTime() > lastClear &&
      ['invalid_address', 'unknown_number', 'landline', 'opted_out', 'soft_failure'].includes(f.kind),
  );
  if (!failures.length) return null;
  return { since: new Date(Math.min(...failures.map((f) => f.at.getTime()))), times: failures.length };
}

/** An operator clears a record (its facts stay, for the audit): the address starts afresh. */
export async function clearRecord(
  db: Db,
  tenantId: string,
  address: string,
  actor: string,
  reason: string | null,
): Promise<HealthRecord | null> {
  const normalized = normalizeAddress(address).address;
  if (!(await readRecord(db, tenantId, normalized))) return null;
  await recordFacts(db, [
    {
      tenantId,
      address: normalized,
      key: `cleared/${randomUUID()}`,
      kind: 'cleared',
      at: new Date(),
      code: null,
      reason,
      dispatchId: null,
      orderId: null,
      actor,
    },
  ]);
  return readRecord(db, tenantId, normalized);
}

/** The tenants that have a record of this phone (an inbound STOP or START is about every one of them). */
export async function tenantsKnowing(db: Db, address: string): Promise<string[]> {
  const m = await models(db);
  return [
    ...new Set(
      (await m.Fact.find({ address: normalizeAddress(address).address }, { tenantId: 1 }).lean()).map(
        (f) => f.tenantId,
      ),
    ),
  ];
}
