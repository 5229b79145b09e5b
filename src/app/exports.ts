// The CSV exports' rows (issue 21), the same for the API (GET /v1/dispatches.csv, /v1/orders.csv)
// and the operator pages (/ui/log.csv, /ui/orders.csv): columns, rows read from a MongoDB cursor as
// they stream, in the tenant's words and zone. How they are sent is src/api/downloads.ts (sendCsv).
import type { Db } from '../db/models';
import type { ExportDispatchesQuery } from '../api/schemas';
import { logFilter } from '../api/dispatch-views';
import { orderRows, type OrderExportFilters } from '../db/order-reports';
import { shownCounts } from '../db/dispatch-records';
import { statusSummaryOfCounts, type DispatchResult } from '../domain/dispatch-status';
import { type OrderState } from '../domain/order';
import { exceptionLabel, reasonWords } from '../domain/order-words';
import { WORDS } from '../ui/words';
import type { Locale } from '../domain/locale';
import { readersReason } from '../domain/reasons';

/** A time in UTC (ISO 8601) and as the tenant reads it ("2026-12-06 14:32:05" in its zone). */
const utc = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : '');
const local = (d: Date | string | null | undefined, timeZone: string) =>
  d
    ? new Intl.DateTimeFormat('sv-SE', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      }).format(new Date(d))
    : '';

/** Whether the store sorts a cursor from an index (MongoDB) or only after reading every match (FerretDB): asked once per connection. */
const sortsFromIndexes = new WeakMap<Db, Promise<boolean>>();
function storeSortsFromIndexes(db: Db): Promise<boolean> {
  if (!sortsFromIndexes.has(db)) {
    sortsFromIndexes.set(
      db,
      db.connection
        .db!.admin()
        .command({ buildInfo: 1 })
        .then(
          (info) => !('ferretdbVersion' in info),
          () => false,
        ),
    );
  }
  return sortsFromIndexes.get(db)!;
}

export const DISPATCH_COLUMNS = [
  'number',
  'dispatchId',
  'result',
  'resultLabel',
  'statuses',
  'subject',
  'documentType',
  'documentNumber',
  'senderName',
  'senderEmail',
  'recipientCount',
  'recipients',
  'failures',
  'createdAt',
  'sentAt',
  'sentAtLocal',
  'timeZone',
  'markedSentBy',
  'markedSentAt',
  'markedSentNote',
  'completedAt',
] as const;

/**
 * The log's rows (L1) as the export writes them, newest first on MongoDB (the log's index); on
 * FerretDB in the order the store keeps them, since it sorts only after reading every match (the
 * first row would wait for the last): the number column gives the log's order.
 */
export async function* dispatchRows(
  db: Db,
  tenantId: string,
  q: ExportDispatchesQuery,
  locale: Locale,
  timeZone: string,
): AsyncGenerator<Record<string, unknown>> {
  const w = WORDS[locale];
  const projection = { 'recipients.history': 0, html: 0, text: 0, templateData: 0, sendLog: 0, request: 0 };
  const find = db.Dispatch.find(logFilter(tenantId, q), projection).lean();
  if (await storeSortsFromIndexes(db)) find.sort({ number: -1 });
  for await (const doc of find.cursor({ batchSize: 500 })) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a record of either version of the dispatch, read loosely
    const d = doc as Record<string, any>;
    // A record of the first version keeps its recipients inside (docs/deploy.md): counted the same way.
    const legacy = !d.format
      ? ((d.recipients ?? []) as Array<{
          address: string;
          status: string;
          opened?: boolean;
          plainReason?: string | null;
        }>)
      : null;
    const counts = legacy
      ? legacy.reduce<Record<string, number>>((c, r) => ({ ...c, [r.status]: (c[r.status] ?? 0) + 1 }), {})
      : shownCounts(d.counts ?? []);
    const opened = legacy ? legacy.filter((r) => r.status === 'delivered' && r.opened).length : (d.opened ?? 0);
    const failures = (
      legacy
        ? legacy.filter((r) => ['bounced', 'dropped', 'not_sent', 'unknown'].includes(r.status))
        : (d.failures ?? [])
    ) as Array<{ address: string; status: string; reasonCode?: string | null; plainReason?: string | null }>;
    const addresses: string[] = legacy ? legacy.map((r) => r.address) : (d.recipientAddresses ?? []);
    yield {
      number: d.number,
      dispatchId: d.dispatchId,
      result: d.result,
      resultLabel: w.results[d.result as DispatchResult] ?? d.result,
      statuses: statusSummaryOfCounts(counts, opened)
        .map((s) => `${w.statuses[s.status]} (${s.count})`)
        .join(', '),
      subject: d.subject ?? '',
      documentType: d.document?.type ?? '',
      documentNumber: d.document?.number ?? '',
      senderName: d.sender?.name ?? '',
      senderEmail: d.sender?.email ?? '',
      recipientCount: legacy ? legacy.length : (d.recipientCount ?? addresses.length),
      recipients: addresses.join('; '),
      failures: failures
        .map(
          (f) =>
            `${f.address}: ${readersReason(f, locale) ?? w.statuses[f.status as keyof typeof w.statuses] ?? f.status}`,
        )
        .join('; '),
      createdAt: utc(d.createdAt),
      sentAt: utc(d.sentAt),
      sentAtLocal: local(d.sentAt ?? d.createdAt, timeZone),
      timeZone,
      markedSentBy: d.markedSent?.by ?? '',
      markedSentAt: utc(d.markedSent?.at),
      markedSentNote: d.markedSent?.note ?? '',
      completedAt: utc(d.completedAt),
    };
  }
}

export const ORDER_COLUMNS = [
  'orderId',
  'state',
  'stateLabel',
  'placedAt',
  'placedAtLocal',
  'timeZone',
  'customerName',
  'customerEmail',
  'customerPhone',
  'city',
  'postalCode',
  'country',
  'risk',
  'holdReason',
  'heldSince',
  'stuck',
  'lastTrackingAt',
  'exception',
  'exceptionLabel',
  'exceptionReason',
  'exceptionOpenedAt',
  'updatedAt',
] as const;

export async function* orderCsvRows(
  db: Db,
  tenantId: string,
  f: OrderExportFilters,
  locale: Locale,
  timeZone: string,
): AsyncGenerator<Record<string, unknown>> {
  const w = WORDS[locale];
  for await (const o of orderRows(db, tenantId, f)) {
    yield {
      orderId: o.orderId,
      state: o.state,
      stateLabel: w.states[o.state as OrderState] ?? o.state,
      placedAt: utc(o.createdAt),
      placedAtLocal: local(o.createdAt, timeZone),
      timeZone,
      customerName: o.customer?.name ?? '',
      customerEmail: o.customer?.email ?? '',
      customerPhone: o.customer?.phone ?? '',
      city: o.customer?.address?.city ?? '',
      postalCode: o.customer?.address?.postalCode ?? '',
      country: o.customer?.address?.country ?? '',
      risk: o.risk ?? '',
      holdReason: o.hold ? reasonWords(o.hold.reason, locale) : '',
      heldSince: utc(o.hold?.since),
      stuck: o.stuck ? 'yes' : '',
      lastTrackingAt: utc(o.lastTrackingAt),
      exception: o.exception?.type ?? '',
      exceptionLabel: o.exception ? exceptionLabel(o.exception.type as never, locale) : '',
      exceptionReason: o.exception ? reasonWords(o.exception.reason, locale) : '',
      exceptionOpenedAt: utc(o.exception?.openedAt),
      updatedAt: utc(o.updatedAt),
    };
  }
}

/** The tenant's language and zone, for the words and local times of a file. */
export async function tenantWords(db: Db, tenantId: string): Promise<{ locale: Locale; timeZone: string }> {
  const tenant = await db.Tenant.findById(tenantId, { locale: 1, timeZone: 1 }).lean();
  return { locale: (tenant?.locale ?? 'en') as Locale, timeZone: tenant?.timeZone ?? 'UTC' };
}
