// The address-health registry as the API and the operator pages use it (issue 20, item 2): its
// views, reading and clearing a record (audited), and the check POST /v1/dispatches and
// POST /v1/orders make against it. Routes: src/api/routes/address-health.ts; pages: src/ui/address-health.ts.
import { z } from 'zod';
import { actorOf } from '../api/auth';
import { ApiError, notFound } from '../api/errors';
import type { Db } from '../db/models';
import type { Principal } from '../db/api-keys';
import {
  clearRecord,
  knownBadPolicy,
  listRecords,
  readRecord,
  readRecords,
  type HealthRecord,
} from '../db/address-health';
import { badAddressMessage, badFor, CONDITIONS, HEALTH_STATES, normalizeAddress } from '../domain/address-health';
import type { Channel } from '../providers/types';

export const listAddressHealthQuery = z
  .object({
    state: z.enum(HEALTH_STATES).optional().describe('ok, soft (failed temporarily), bad, opted_out'),
    kind: z.enum(['email', 'phone']).optional(),
    cursor: z.coerce.number().int().min(0).max(1_000_000).default(0).describe('nextCursor of the previous page'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

const conditionView = z.object({
  condition: z.enum(CONDITIONS),
  count: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  code: z.string().nullable(),
  reason: z.string().nullable(),
  dispatchId: z.string().nullable(),
  orderId: z.string().nullable(),
});
export const recordView = z.object({
  address: z.string(),
  kind: z.enum(['email', 'phone']),
  state: z.enum(HEALTH_STATES),
  since: z.string().nullable(),
  conditions: z.array(conditionView),
  lastSuccessAt: z.string().nullable(),
  firstSeen: z.string().nullable(),
  lastSeen: z.string().nullable(),
  cleared: z.object({ at: z.string(), by: z.string().nullable() }).nullable(),
});
export type RecordView = z.infer<typeof recordView>;

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
export const viewOf = (r: HealthRecord): RecordView => ({
  address: r.address,
  kind: r.addressKind,
  state: r.state,
  since: iso(r.since),
  conditions: r.conditions.map((c) => ({
    ...c,
    firstSeen: iso(c.firstSeen)!,
    lastSeen: iso(c.lastSeen)!,
    code: c.code ?? null,
    reason: c.reason ?? null,
    dispatchId: c.dispatchId ?? null,
    orderId: c.orderId ?? null,
  })),
  lastSuccessAt: iso(r.lastSuccessAt),
  firstSeen: iso(r.firstSeen),
  lastSeen: iso(r.lastSeen),
  cleared: r.cleared ? { at: iso(r.cleared.at)!, by: r.cleared.by ?? null } : null,
});

export type Warning = { field: string; message: string };

/**
 * Warnings for addresses the registry knows bad for their channel, naming why and since when;
 * under the tenant's `refuse` policy (`refuse: true`), a 422 naming every such field instead.
 */
export async function checkKnownBad(
  db: Db,
  tenantId: string,
  entries: Array<{ field: string; address: string; channel: Channel }>,
  refusable: boolean,
): Promise<Warning[]> {
  const records = await readRecords(
    db,
    tenantId,
    entries.map((e) => e.address),
  );
  const warnings = entries.flatMap((e) => {
    const record = records.get(normalizeAddress(e.address).address);
    const bad = record ? badFor(record, e.channel) : [];
    return bad.length ? [{ field: e.field, message: badAddressMessage(e.address, bad) }] : [];
  });
  if (warnings.length && refusable && (await knownBadPolicy(db, tenantId)) === 'refuse') {
    throw new ApiError(
      422,
      'known_bad_address',
      `${warnings[0].field}: ${warnings[0].message} (the tenant refuses known-bad addresses: settings knownBadAddresses)`,
      warnings.map((w) => ({ ...w, value: entries.find((e) => e.field === w.field)!.address })),
    );
  }
  return warnings;
}

export async function listAddressHealth(db: Db, tenantId: string, query: z.infer<typeof listAddressHealthQuery>) {
  const page = await listRecords(db, tenantId, query);
  return { records: page.records.map(viewOf), nextCursor: page.nextCursor };
}

export async function readAddressHealth(db: Db, tenantId: string, address: string): Promise<RecordView> {
  const record = await readRecord(db, tenantId, address);
  if (!record) throw notFound(`address-health record of ${address}`);
  return viewOf(record);
}

/** Clears a record (audited, with the operator and the reason); its facts stay. */
export async function clearAddressHealth(
  db: Db,
  principal: Principal,
  address: string,
  reason: string,
): Promise<RecordView> {
  const tenantId = principal.tenantId!;
  const actor = actorOf(principal);
  const record = await clearRecord(db, tenantId, address, actor, reason);
  if (!record) throw notFound(`address-health record of ${address}`);
  await db.Audit.create({
    tenantId,
    actor,
    action: 'address_health.clear',
    target: record.address,
    reason,
    at: new Date(),
    details: null,
  });
  return viewOf(record);
}
