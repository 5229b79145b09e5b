// Many dispatches at once, written straight into MongoDB as the API and the projection would have
// left them (delivery-log records of the current shape), for the tests and benchmarks whose
// subject is what reads them (the CSV export, the dashboard at 100,000 dispatches), not the
// sending. With `rollups`, the days' counters those dispatches make are written too, computed by
// the same rules the fold uses (src/domain/dashboard.ts).
import type { Db } from '../../src/db/models';
import { dailyKey, DAILY_COLLECTION } from '../../src/db/rollups';
import { dispatchContribution, partContribution, sum, ttdBucket, type Contribution } from '../../src/domain/dashboard';
import { addDays, dayOf, startOfDay } from '../../src/domain/days';
import { dispatchWorkflowId } from '../../src/workflows/dispatch/contract';

export interface BulkOptions {
  tenantId: string;
  count: number;
  /** Spread over this many days ending on `lastDay` (a calendar day in `timeZone`). */
  days: number;
  lastDay: string;
  timeZone: string;
  /** The first record number (default 1). */
  firstNumber?: number;
  /** Write the days' rollup counters too. */
  rollups?: boolean;
  progress?: (done: number) => void;
}

/** Fates by number: one in ten partly bounced (alert), one in twenty all dropped (error), the rest delivered. */
function fateOf(n: number) {
  if (n % 10 === 3) return { result: 'alert' as const, statuses: ['delivered', 'bounced'] as const };
  if (n % 20 === 7) return { result: 'error' as const, statuses: ['dropped'] as const };
  return { result: 'delivered' as const, statuses: ['delivered'] as const };
}

/** Writes `count` document dispatches; returns how many have each result. */
export async function seedDispatches(db: Db, o: BulkOptions): Promise<Record<string, number>> {
  const dispatches = db.connection.db!.collection('dispatches');
  const results: Record<string, number> = {};
  let rolled: Contribution = {};
  const first = o.firstNumber ?? 1;
  const firstDay = addDays(o.lastDay, -(o.days - 1));
  const start = startOfDay(firstDay, o.timeZone).getTime();
  const span = startOfDay(addDays(o.lastDay, 1), o.timeZone).getTime() - start;
  for (let from = 0; from < o.count; from += 1000) {
    const rollups: Contribution[] = [];
    const docs = Array.from({ length: Math.min(1000, o.count - from) }, (_, i) => {
      const n = first + from + i;
      const fate = fateOf(n);
      results[fate.result] = (results[fate.result] ?? 0) + 1;
      const createdAt = new Date(start + Math.floor(((from + i) / o.count) * span));
      const sentAt = new Date(createdAt.getTime() + 400);
      const addresses = fate.statuses.map((_, r) =>
        r === 1 || fate.result === 'error' ? `orders${n}@gone${n % 37}.test` : `buyer${n}@supplier${n % 500}.test`,
      );
      const failures = fate.statuses.flatMap((status, r) =>
        status === 'delivered'
          ? []
          : [
              {
                index: r,
                recipientId: `r${r + 1}`,
                address: addresses[r],
                status,
                reasonCode: status === 'bounced' ? 'invalid_address' : 'suppressed',
                plainReason:
                  status === 'bounced'
                    ? "the address does not exist at the recipient's mail server"
                    : 'earlier messages to this address bounced',
              },
            ],
      );
      if (o.rollups) {
        const day = dayOf(createdAt, o.timeZone);
        rollups.push(
          dispatchContribution({ day, result: fate.result }),
          partContribution({
            day,
            recipients: fate.statuses.map((status, r) => ({
              attempt: 1,
              status,
              tracked: true,
              email: true,
              reasonCode: failures.find((f) => f.index === r)?.reasonCode ?? null,
              domain: status === 'delivered' ? null : addresses[r].split('@')[1],
              ttd: status === 'delivered' ? ttdBucket(800 + (n % 50) * 100) : null,
            })),
          }),
        );
      }
      return {
        _id: `${o.tenantId}/po-${n}`,
        format: 2,
        tenantId: o.tenantId,
        dispatchId: `po-${n}`,
        workflowId: dispatchWorkflowId(o.tenantId, `po-${n}`),
        number: n,
        kind: 'document',
        channel: 'email',
        provider: 'sendgrid',
        template: 'purchase_order',
        locale: 'fr',
        document: { type: 'purchase_order', number: `PO-${n}` },
        sender: { name: 'Bruno Buyer', email: 'bruno.buyer@bistro.test', outletId: 'paris-1' },
        requestedBy: 'key-bulk',
        subject: `Bon de commande PO-${n}`,
        attachments: [],
        recipientCount: addresses.length,
        recipientAddresses: addresses,
        recipientPreview: addresses,
        result: fate.result,
        counts: Object.entries(
          fate.statuses.reduce<Record<string, number>>((c, s) => ({ ...c, [s]: (c[s] ?? 0) + 1 }), {}),
        ).map(([status, count]) => ({ status, count })),
        opened: 0,
        failures,
        providerError: null,
        sentAt,
        completedAt: null,
        resentVia: [],
        parent: null,
        request: null,
        recordedAt: createdAt,
        stateVersion: 3,
        createdAt,
        updatedAt: sentAt,
      };
    });
    await dispatches.insertMany(docs as never[], { ordered: false });
    rolled = sum(rolled, ...rollups);
    o.progress?.(from + docs.length);
  }
  if (o.rollups) {
    const days = db.connection.db!.collection(DAILY_COLLECTION);
    for (const [day, counters] of Object.entries(rolled)) {
      await days.updateOne(
        { _id: dailyKey(o.tenantId, day) as never },
        { $inc: counters, $setOnInsert: { tenantId: o.tenantId, day, applied: 0 } },
        { upsert: true },
      );
    }
  }
  return results;
}
