// Issue 20, item 2: what the send activity asks the address-health registry before a message goes
// out, and tells it when a provider refuses one at once. An SMS to a number that opted out never
// goes (Twilio would refuse it: 21610) until the person texts START; under the tenant's `refuse`
// policy, an order notice to any address known bad for its channel does not go either. Each is
// recorded `not_sent` with why, on the notice's dispatch (the order's page lists it). And what the
// dispatch's projection writes to the registry: the provider events of its history batches.
import type { Db } from '../db/models';
import { knownBadPolicy, readRecords, recordFacts, type NewFact } from '../db/address-health';
import { batchKey, type IndexedEntry } from '../db/dispatch-events';
import {
  badAddressMessage,
  badFor,
  channelsWithoutSms,
  classifyPhoneOutcome,
  countsPerMessage,
  normalizeAddress,
  type ConditionRecord,
} from '../domain/address-health';
import { orderOfDispatch } from '../domain/notice-ids';
import type { NoticeChannel } from '../domain/preferences';
import type { Channel } from '../providers/types';

/** Positions held back from sending, with the words recorded as why. */
export async function heldBack(
  db: Db,
  tenantId: string,
  dispatch: { dispatchId: string; channel: string; kind: string },
  targets: Array<{ index: number; address: string }>,
): Promise<Map<number, string>> {
  const channel = dispatch.channel as Channel;
  const orderNotice = dispatch.kind === 'notification' && orderOfDispatch(dispatch.dispatchId) !== null;
  if (channel !== 'sms' && !orderNotice) return new Map();
  const records = await readRecords(
    db,
    tenantId,
    targets.map((t) => t.address),
  );
  if (!records.size) return new Map();
  const refuse = orderNotice && (await knownBadPolicy(db, tenantId)) === 'refuse';
  const held = new Map<number, string>();
  for (const t of targets) {
    const stopping = stoppingConditions(records.get(normalizeAddress(t.address).address), channel, refuse);
    if (stopping.length) held.set(t.index, `not sent: ${badAddressMessage(t.address, stopping)}`);
  }
  return held;
}

/** What stops a message: an SMS opt-out always; under the `refuse` policy, anything bad for the channel. */
const stoppingConditions = (
  record: { conditions: ConditionRecord[] } | undefined,
  channel: Channel,
  refuse: boolean,
) => {
  const bad = record ? badFor(record, channel) : [];
  return refuse ? bad : bad.filter((c) => c.condition === 'opted_out' && channel === 'sms');
};

/** Activities the order workflow asks (issue 20). */
export function createAddressHealthActivities({ db }: { db: Db }) {
  return {
    /** The channels of a customer notice once SMS is left out where it cannot go (channelsWithoutSms). */
    async reachableNoticeChannels(request: {
      tenantId: string;
      person: { email: string | null; phone: string | null };
      channels: NoticeChannel[];
    }): Promise<NoticeChannel[]> {
      const { tenantId, person, channels } = request;
      if (!person.phone || !channels.includes('sms')) return channels;
      const record = (await readRecords(db, tenantId, [person.phone])).get(normalizeAddress(person.phone).address);
      const refuse = record ? (await knownBadPolicy(db, tenantId)) === 'refuse' : false;
      return channelsWithoutSms(channels, person, stoppingConditions(record, 'sms', refuse).length > 0);
    },
  };
}

/** A refusal by the Messages API (21610 unsubscribed, 21211 invalid number…) recorded against the number. */
export async function noteRefusal(
  db: Db,
  tenantId: string,
  dispatchId: string,
  address: string,
  failure: { message: string; details?: unknown[] | null },
): Promise<void> {
  const code = (failure.details?.[0] as { code?: number | string | null } | undefined)?.code;
  const kind = classifyPhoneOutcome('failed', code ?? null);
  if (!kind || code === null || code === undefined) return;
  await recordFacts(db, [
    {
      tenantId,
      address: normalizeAddress(address).address,
      key: `refused/${dispatchId}/${code}`,
      kind,
      at: new Date(),
      code: String(code),
      reason: failure.message,
      dispatchId,
      orderId: orderOfDispatch(dispatchId),
    },
  ]);
}

/**
 * What the provider events of these history batches say about their addresses, recorded in the
 * registry (from the dispatch's projection write: off the webhook request, retried by Temporal
 * until it holds). A message's temporary failures and successes count once each; any other
 * outcome once per provider event. `retried`: this write is a retry of one that may have stopped.
 */
export async function recordProjectedOutcomes(
  db: Db,
  tenantId: string,
  dispatchId: string,
  histories: Array<{ document: number; batches: string[] }>,
  { retried }: { retried: boolean },
): Promise<void> {
  const batches = await Promise.all(
    histories.flatMap((h) =>
      h.batches.map((batch) =>
        db.EventBatch.findById(batchKey(tenantId, dispatchId, h.document, batch), { entries: 1 }).lean(),
      ),
    ),
  );
  const orderId = orderOfDispatch(dispatchId);
  const facts = batches.flatMap((b) =>
    ((b?.entries ?? []) as IndexedEntry[]).flatMap((e): NewFact[] => {
      const outcome = e.addressOutcome;
      if (!outcome?.address || !outcome.kind) return [];
      const kind = outcome.kind as NewFact['kind'];
      return [
        {
          tenantId,
          address: outcome.address,
          kind,
          at: new Date(e.at),
          key: countsPerMessage(kind) ? `${kind}/${dispatchId}/${e.index}.${e.attempt}` : e.ref,
          code: outcome.code ?? null,
          reason: e.reason ?? e.response ?? null,
          dispatchId,
          orderId,
        },
      ];
    }),
  );
  // A fact of this dispatch stored before was stored by an earlier write of its own, which rebuilt
  // the record before it returned; only a retried write may follow one that stopped in between.
  await recordFacts(db, facts, { verifyDuplicates: retried });
}
