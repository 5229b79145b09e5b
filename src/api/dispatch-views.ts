// What the delivery log API and pages show of a dispatch (L1–L3), from either shape of record:
// the current one (a log entry, its content, one document per recipient with its history, all by
// `_id`) or the first version's (everything in one document, ObjectId `_id`), read until the
// last dispatches of that version are gone (docs/deploy.md).
import type { Db, HistoryEntry, LegacyDispatchDoc, RecipientDoc } from '../db/models';
import { dispatchKey, PREVIEW_ADDRESSES, recipientsKey, shownCounts } from '../db/dispatch-records';
import { rawReason, readRecipients, readRecipientsWithHistory } from '../db/dispatch-events';
import { FAILED_RESULTS, isFailure, type RecipientStatus } from '../domain/dispatch-status';
import type { ListDispatchesQuery } from './schemas';
import { plainReason, type Locale, type ReasonCode } from '../domain/reasons';
import { carriesSecrets, withheldCopy } from '../domain/secrets';

/** A recipient page: at most this many (the API's default is smaller). */
export const MAX_RECIPIENTS_PAGE = 200;
export const DEFAULT_RECIPIENTS_PAGE = 100;
const LOG_FAILURES_NAMED = 5;

export interface HistoryView {
  /** The status the event means (null: it changes none, e.g. a spam report). */
  status: string | null;
  event: string;
  at: Date;
  /** The provider's own event id (null for Relais's own entries). */
  eventId: string | null;
  attempt: number;
  reason: string | null;
  response: string | null;
  reasonCode: string | null;
  plainReason: string | null;
}

export interface RecipientView {
  index: number;
  recipientId: string;
  address: string;
  name: string | null;
  status: string;
  opened: boolean;
  attempt: number;
  reasonCode: string | null;
  plainReason: string | null;
  rawReason: string | null;
  providerMessageId: string | null;
  history: HistoryView[];
}

export interface RecipientPage { from: number; limit: number }

const plain = (code: string | null | undefined, locale: Locale) => (code ? plainReason(code as ReasonCode, locale) : null);

/** A provider's event id as the provider gave it (`sendgrid:<id>` → `<id>`); Relais's entries have none. */
const providerEventId = (ref: string) => (ref.startsWith('relais:') ? null : ref.slice(ref.indexOf(':') + 1));

/** A recipient's history in the order Relais received it; an older attempt's entries say so (D8). */
function historyView(entries: HistoryEntry[], attempt: number, locale: Locale): HistoryView[] {
  return [...entries]
    .sort((a, b) => new Date(a.receivedAt).getTime() - new Date(b.receivedAt).getTime() || a.position - b.position)
    .map((h) => ({
      status: h.status ?? null, event: h.attempt === attempt ? h.event : `${h.event} (attempt ${h.attempt})`, at: h.at, eventId: providerEventId(h.ref), attempt: h.attempt,
      reason: h.reason ?? null, response: h.response ?? null, reasonCode: h.reasonCode ?? null, plainReason: plain(h.reasonCode, locale),
    }));
}

function recipientView(r: RecipientDoc, history: HistoryEntry[], locale: Locale): RecipientView {
  const attempt = r.attempt ?? 1;
  return {
    index: r.index, recipientId: r.recipientId, address: r.address, name: r.name ?? null, status: r.status, opened: Boolean(r.opened), attempt,
    reasonCode: r.reasonCode ?? null, plainReason: r.plainReason ?? plain(r.reasonCode, locale),
    rawReason: isFailure(r.status as RecipientStatus) ? rawReason(history, attempt) : null,
    providerMessageId: [...history].reverse().map((h) => h.providerMessageId).find(Boolean) ?? null, history: historyView(history, attempt, locale),
  };
}

type LegacyRecipient = LegacyDispatchDoc['recipients'][number];

function legacyRecipientView(r: LegacyRecipient, index: number): RecipientView {
  return {
    index, recipientId: r.recipientId, address: r.address, name: r.name ?? null, status: r.status, opened: Boolean(r.opened), attempt: r.attempt ?? 1,
    reasonCode: r.reasonCode ?? null, plainReason: r.plainReason ?? null, rawReason: r.rawReason ?? null, providerMessageId: r.providerMessageId ?? null,
    history: (r.history ?? []).map((h) => ({
      status: h.status, event: h.event, at: h.at, eventId: h.eventId ?? null, attempt: r.attempt ?? 1, reason: h.reason ?? null,
      response: h.response ?? null, reasonCode: h.reasonCode ?? null, plainReason: h.plainReason ?? null,
    })),
  };
}

/** Recipients by status, and the first few needing attention, of a first-version record (computed; new records keep them). */
function legacySummary(doc: { recipients: readonly LegacyRecipient[] }) {
  const counts: Partial<Record<string, number>> = {};
  for (const r of doc.recipients) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const opened = doc.recipients.filter((r) => r.status === 'delivered' && r.opened).length;
  const failures = doc.recipients.map((r, index) => ({ r, index }))
    .filter(({ r }) => isFailure(r.status as RecipientStatus) || r.status === 'unknown').slice(0, LOG_FAILURES_NAMED)
    .map(({ r, index }) => ({ index, recipientId: r.recipientId, address: r.address, status: r.status, reasonCode: r.reasonCode ?? null, plainReason: r.plainReason ?? null }));
  return { recipientCount: doc.recipients.length, counts, opened, failures, recipientPreview: doc.recipients.slice(0, PREVIEW_ADDRESSES).map((r) => r.address) };
}

const nextCursor = (page: RecipientPage, count: number) => (page.from + page.limit < count ? page.from + page.limit : null);

/** L2: a dispatch with one page of its recipients (sorted by position) and their histories; undefined when there is none. */
export async function dispatchView(db: Db, tenantId: string, dispatchId: string, page: RecipientPage) {
  const _id = dispatchKey(tenantId, dispatchId);
  const header = await db.Dispatch.findById(_id).lean();
  if (header) {
    const count = header.recipientCount;
    const indexes = Array.from({ length: Math.max(0, Math.min(page.limit, count - page.from)) }, (_, i) => page.from + i);
    const [content, recipients] = await Promise.all([
      db.DispatchContent.findById(_id, { html: 1, text: 1 }).lean(),
      readRecipientsWithHistory(db, tenantId, dispatchId, indexes),
    ]);
    const locale = header.locale as Locale;
    const { _id: _key, format: _format, stateVersion: _version, request: _request, recordedAt: _recorded, recipientAddresses: _addresses, ...rest } = header;
    return {
      ...rest, counts: shownCounts(rest.counts), html: content?.html ?? null, text: content?.text ?? null,
      recipients: indexes.flatMap((i) => {
        const r = recipients.get(i);
        return r ? [recipientView(r.recipient, r.history, locale)] : [];
      }),
      nextRecipientsCursor: nextCursor(page, count),
    };
  }
  const legacy = await db.LegacyDispatch.findOne({ tenantId, dispatchId }, { sendLog: 0 }).lean();
  if (!legacy) return undefined;
  const { _id: _key, stateVersion: _version, recipientAddresses: _addresses, recipients, ...rest } = legacy as typeof legacy & { _id: unknown };
  return {
    // Withheld when recorded (src/domain/secrets.ts); this also covers copies recorded before that rule.
    ...(carriesSecrets(rest.template) ? withheldCopy(rest.template, rest, rest.locale as Locale) : rest), ...legacySummary(legacy),
    recipients: recipients.slice(page.from, page.from + page.limit).map((r, i) => legacyRecipientView(r, page.from + i)),
    nextRecipientsCursor: nextCursor(page, recipients.length),
  };
}

/** A dispatch of the first version not recorded yet (its workflow records it as it starts), as its workflow's state query answers. */
export function firstVersionStateView(tenantId: string, dispatchId: string, state: { result: string; recipients: LegacyRecipient[] }, page: RecipientPage) {
  return {
    dispatchId, tenantId, result: state.result, ...legacySummary(state),
    recipients: state.recipients.slice(page.from, page.from + page.limit).map((r, i) => legacyRecipientView(r, page.from + i)),
    nextRecipientsCursor: nextCursor(page, state.recipients.length),
  };
}

/** The log's filters (L1) as a MongoDB filter: documents of the tenant, failed ones unless asked otherwise (the log and its export). */
export function logFilter(tenantId: string, q: Omit<ListDispatchesQuery, 'cursor' | 'limit'>): Record<string, unknown> {
  const filter: Record<string, unknown> = { tenantId, kind: 'document' };
  if (!q.result || q.result === 'failed') filter.result = { $in: FAILED_RESULTS };
  else if (q.result !== 'all') filter.result = q.result;
  if (q.recipient) filter.recipientAddresses = q.recipient.toLowerCase();
  if (q.document) filter['document.number'] = q.document;
  if (q.from || q.to) filter.createdAt = { ...(q.from ? { $gte: new Date(q.from) } : {}), ...(q.to ? { $lte: new Date(q.to) } : {}) };
  return filter;
}

/** L1: one row of the log, a count of recipients with the failures named (never every address). */
export function logRow(doc: Record<string, unknown>) {
  const d = doc as {
    dispatchId: string; number: number; result: string; subject?: string | null; document?: unknown; sender?: unknown; sentAt?: Date | null; createdAt?: Date;
    format?: number; recipientCount?: number; counts?: Array<{ status: string; count: number }>; opened?: number; failures?: unknown[]; recipientPreview?: string[]; recipients?: LegacyRecipient[];
  };
  const summary = d.format
    ? { recipientCount: d.recipientCount ?? 0, counts: shownCounts(d.counts ?? []), opened: d.opened ?? 0, failures: d.failures ?? [], recipientPreview: d.recipientPreview ?? [] }
    : legacySummary({ recipients: d.recipients ?? [] } as never);
  return {
    dispatchId: d.dispatchId, number: d.number, result: d.result, subject: d.subject ?? null, document: d.document, sender: d.sender,
    sentAt: d.sentAt ?? null, createdAt: d.createdAt, ...summary,
  };
}

/** O10: the single recipient of notice dispatches (an order's notifications), by dispatch id. */
export async function noticeRecipients(db: Db, tenantId: string, dispatchIds: string[]) {
  const found = new Map<string, { result: string; to: string | null; status: string }>();
  await Promise.all(dispatchIds.map(async (dispatchId) => {
    const [header, first] = await Promise.all([
      db.Dispatch.findById(dispatchKey(tenantId, dispatchId), { result: 1 }).lean(),
      db.DispatchRecipients.findById(recipientsKey(tenantId, dispatchId, 0)).lean(),
    ]);
    const recipient = first?.recipients[0];
    if (header) found.set(dispatchId, { result: header.result, to: recipient?.address ?? null, status: recipient?.status ?? 'queued' });
  }));
  const legacyIds = dispatchIds.filter((id) => !found.has(id));
  if (legacyIds.length) {
    for (const d of await db.LegacyDispatch.find({ tenantId, dispatchId: { $in: legacyIds } }, { dispatchId: 1, result: 1, recipients: 1 }).lean()) {
      found.set(d.dispatchId, { result: d.result, to: d.recipients[0]?.address ?? null, status: d.recipients[0]?.status ?? 'queued' });
    }
  }
  return found;
}

/** D8: a recipient named by the id the platform gave it (or `r<n>`, the default), with its position; undefined when none. */
export async function recipientByIdentifier(db: Db, tenantId: string, dispatchId: string, recipientId: string): Promise<RecipientDoc | undefined> {
  const byDefault = /^r([1-9]\d{0,3})$/.exec(recipientId);
  if (byDefault) {
    const r = (await readRecipients(db, tenantId, dispatchId, [Number(byDefault[1]) - 1])).get(Number(byDefault[1]) - 1);
    if (r?.recipientId === recipientId) return r;
  }
  const doc = await db.DispatchRecipients.findOne({ tenantId, dispatchId, 'recipients.recipientId': recipientId }).lean();
  return doc?.recipients.find((r) => r.recipientId === recipientId) as RecipientDoc | undefined;
}
