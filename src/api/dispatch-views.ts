// What the delivery log API and pages show of a dispatch (L1–L3), from either shape of record:
// the current one (a log entry, its content, one document per recipient with its history, all by
// `_id`) or the first version's (everything in one document, ObjectId `_id`), read until the
// last dispatches of that version are gone (docs/deploy.md).
import type { Db, HistoryEntry, LegacyDispatchDoc, RecipientDoc } from '../db/models';
import { dispatchKey, PREVIEW_ADDRESSES, recipientsKey, shownCounts } from '../db/dispatch-records';
import { historyEntry, rawReason, readRecipients, readRecipientsWithHistory } from '../db/dispatch-events';
import { readCopy, type CopyState } from '../db/dispatch-copy';
import { FAILED_RESULTS, isFailure, type RecipientStatus } from '../domain/dispatch-status';
import type { ListDispatchesQuery } from './schemas';
import { plainReason, type ReasonCode } from '../domain/reasons';
import type { Locale } from '../domain/locale';
import { carriesSecrets, withheldCopy } from '../domain/secrets';

/** A recipient page: at most this many (the API's default is smaller). */
export const MAX_RECIPIENTS_PAGE = 200;
export const DEFAULT_RECIPIENTS_PAGE = 100;
const LOG_FAILURES_NAMED = 5;

export interface HistoryView {
  /** The status the event means (null: it changes none, e.g. a spam report). */
  status: string | null;
  event: string;
  /** The provider's time (whole seconds for SendGrid). */
  at: Date;
  /** When Relais received it: entries are in this order (ties: their order in the provider's request). */
  receivedAt: Date;
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
  /** Issue 20: the recipient confirmed receipt (when, the address its link was sent to, a name, a delivery date, a note); null otherwise. */
  acknowledged?: {
    at: Date;
    by: string;
    name: string | null;
    deliveryDate: string | null;
    note: string | null;
  } | null;
  history: HistoryView[];
}

/** A page of recipients: from a position, at most `limit`, only those with `status` when given (the dispatch page's filter, L2). */
export interface RecipientPage {
  from: number;
  limit: number;
  status?: string;
}

const plain = (code: string | null | undefined, locale: Locale) =>
  code ? plainReason(code as ReasonCode, locale) : null;

/** A provider's event id as the provider gave it (`sendgrid:<id>` → `<id>`); Relais's entries have none. */
const providerEventId = (ref: string) => (ref.startsWith('relais:') ? null : ref.slice(ref.indexOf(':') + 1));

/** A recipient's history in the order Relais received it (not the providers' whole-second times); each entry with its attempt (D8). */
function historyView(entries: HistoryEntry[], locale: Locale): HistoryView[] {
  return [...entries]
    .sort((a, b) => new Date(a.receivedAt).getTime() - new Date(b.receivedAt).getTime() || a.position - b.position)
    .map((h) => ({
      status: h.status ?? null,
      event: h.event,
      at: h.at,
      receivedAt: h.receivedAt,
      eventId: providerEventId(h.ref),
      attempt: h.attempt,
      reason: h.reason ?? null,
      response: h.response ?? null,
      reasonCode: h.reasonCode ?? null,
      plainReason: plain(h.reasonCode, locale),
    }));
}

function recipientView(r: RecipientDoc, history: HistoryEntry[], locale: Locale): RecipientView {
  const attempt = r.attempt ?? 1;
  return {
    index: r.index,
    recipientId: r.recipientId,
    address: r.address,
    name: r.name ?? null,
    status: r.status,
    opened: Boolean(r.opened),
    attempt,
    reasonCode: r.reasonCode ?? null,
    plainReason: r.plainReason ?? plain(r.reasonCode, locale),
    rawReason: isFailure(r.status as RecipientStatus) || r.status === 'deferred' ? rawReason(history, attempt) : null,
    providerMessageId:
      [...history]
        .reverse()
        .map((h) => h.providerMessageId)
        .find(Boolean) ?? null,
    acknowledged: r.acknowledged
      ? {
          at: r.acknowledged.at,
          by: r.acknowledged.by,
          name: r.acknowledged.name ?? null,
          deliveryDate: r.acknowledged.deliveryDate ?? null,
          note: r.acknowledged.note ?? null,
        }
      : null,
    history: historyView(history, locale),
  };
}

/**
 * Issue 17: the sender's copy as a recipient is shown (its status, reason, history, from the events
 * stored under its ids), with how it was sent (cc or bcc). None before the provider took it.
 */
async function copyView(db: Db, tenantId: string, dispatchId: string, recorded: CopyState, locale: Locale) {
  const copy = await readCopy(db, tenantId, dispatchId, recorded);
  const history = copy.stored
    .map((e) => historyEntry(e))
    .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || a.position - b.position);
  const status = copy.status;
  return {
    mode: copy.mode,
    address: copy.address,
    status,
    sentAt: copy.sentAt ?? null,
    reasonCode: copy.reasonCode ?? null,
    plainReason: plain(copy.reasonCode ?? undefined, locale),
    rawReason: status && (isFailure(status) || status === 'deferred') ? rawReason(history, 1) : null,
    history: historyView(history, locale),
  };
}

type LegacyRecipient = LegacyDispatchDoc['recipients'][number];

function legacyRecipientView(r: LegacyRecipient, index: number): RecipientView {
  return {
    index,
    recipientId: r.recipientId,
    address: r.address,
    name: r.name ?? null,
    status: r.status,
    opened: Boolean(r.opened),
    attempt: r.attempt ?? 1,
    reasonCode: r.reasonCode ?? null,
    plainReason: r.plainReason ?? null,
    rawReason: r.rawReason ?? null,
    providerMessageId: r.providerMessageId ?? null,
    history: (r.history ?? []).map((h) => ({
      status: h.status,
      event: h.event,
      at: h.at,
      receivedAt: h.at,
      eventId: h.eventId ?? null,
      attempt: r.attempt ?? 1,
      reason: h.reason ?? null,
      response: h.response ?? null,
      reasonCode: h.reasonCode ?? null,
      plainReason: h.plainReason ?? null,
    })),
  };
}

/** Recipients by status, and the first few needing attention, of a first-version record (computed; new records keep them). */
function legacySummary(doc: { recipients: readonly LegacyRecipient[] }) {
  const counts: Partial<Record<string, number>> = {};
  for (const r of doc.recipients) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const opened = doc.recipients.filter((r) => r.status === 'delivered' && r.opened).length;
  const failures = doc.recipients
    .map((r, index) => ({ r, index }))
    .filter(({ r }) => isFailure(r.status as RecipientStatus) || r.status === 'unknown')
    .slice(0, LOG_FAILURES_NAMED)
    .map(({ r, index }) => ({
      index,
      recipientId: r.recipientId,
      address: r.address,
      status: r.status,
      reasonCode: r.reasonCode ?? null,
      plainReason: r.plainReason ?? null,
    }));
  return {
    recipientCount: doc.recipients.length,
    counts,
    opened,
    failures,
    recipientPreview: doc.recipients.slice(0, PREVIEW_ADDRESSES).map((r) => r.address),
  };
}

const nextCursor = (page: RecipientPage, count: number) =>
  page.from + page.limit < count ? page.from + page.limit : null;

/**
 * The page of positions to show: the next `limit` from `from`, or, with a status, the next
 * `limit` of the positions holding it (and how many do: the filter's count and this page's rank).
 */
function pagePositions(page: RecipientPage, count: number, matching?: readonly number[]) {
  if (!page.status || !matching) {
    return {
      indexes: Array.from({ length: Math.max(0, Math.min(page.limit, count - page.from)) }, (_, i) => page.from + i),
      next: nextCursor(page, count),
    };
  }
  const start = matching.findIndex((i) => i >= page.from);
  const indexes = start < 0 ? [] : matching.slice(start, start + page.limit);
  return {
    indexes,
    next: start >= 0 && start + page.limit < matching.length ? matching[start + page.limit] : null,
    filtered: { status: page.status, count: matching.length, first: start < 0 ? matching.length + 1 : start + 1 },
  };
}

/** Positions of the recipients with a status, in order: every document of recipients read (by `_id`), only when a status is asked for and some recipient has it. */
async function positionsWithStatus(
  db: Db,
  tenantId: string,
  dispatchId: string,
  count: number,
  status: string,
  counted: number,
): Promise<number[]> {
  if (counted === 0) return [];
  const all = await readRecipients(
    db,
    tenantId,
    dispatchId,
    Array.from({ length: count }, (_, i) => i),
  );
  return [...all.values()]
    .filter((r) => r.status === status)
    .map((r) => r.index)
    .sort((a, b) => a - b);
}

/** L2: a dispatch with one page of its recipients (sorted by position) and their histories; undefined when there is none. */
export async function dispatchView(db: Db, tenantId: string, dispatchId: string, page: RecipientPage) {
  const _id = dispatchKey(tenantId, dispatchId);
  const header = await db.Dispatch.findById(_id).lean();
  if (header) {
    const count = header.recipientCount;
    const counted = shownCounts(header.counts)[page.status ?? ''] ?? 0;
    const matching = page.status
      ? await positionsWithStatus(db, tenantId, dispatchId, count, page.status, counted)
      : undefined;
    const { indexes, next, filtered } = pagePositions(page, count, matching);
    const [content, recipients] = await Promise.all([
      db.DispatchContent.findById(_id, { html: 1, text: 1 }).lean(),
      readRecipientsWithHistory(db, tenantId, dispatchId, indexes),
    ]);
    const locale = header.locale as Locale;
    const {
      _id: _key,
      format: _format,
      stateVersion: _version,
      request: _request,
      recordedAt: _recorded,
      recipientAddresses: _addresses,
      copy,
      ...rest
    } = header;
    return {
      ...rest,
      counts: shownCounts(rest.counts),
      html: content?.html ?? null,
      text: content?.text ?? null,
      copy: copy ? await copyView(db, tenantId, dispatchId, copy as CopyState, locale) : null,
      recipients: indexes.flatMap((i) => {
        const r = recipients.get(i);
        return r ? [recipientView(r.recipient, r.history, locale)] : [];
      }),
      nextRecipientsCursor: next,
      ...(filtered ? { filteredRecipients: filtered } : {}),
    };
  }
  const legacy = await db.LegacyDispatch.findOne({ tenantId, dispatchId }, { sendLog: 0 }).lean();
  if (!legacy) return undefined;
  const {
    _id: _key,
    stateVersion: _version,
    recipientAddresses: _addresses,
    recipients,
    ...rest
  } = legacy as typeof legacy & { _id: unknown };
  const { indexes, next, filtered } = pagePositions(
    page,
    recipients.length,
    page.status ? recipients.flatMap((r, i) => (r.status === page.status ? [i] : [])) : undefined,
  );
  return {
    // Withheld when recorded (src/domain/secrets.ts); this also covers copies recorded before that rule.
    ...(carriesSecrets(rest.template) ? withheldCopy(rest.template, rest, rest.locale as Locale) : rest),
    ...legacySummary(legacy),
    recipients: indexes.map((i) => legacyRecipientView(recipients[i], i)),
    nextRecipientsCursor: next,
    ...(filtered ? { filteredRecipients: filtered } : {}),
  };
}

/** A dispatch of the first version not recorded yet (its workflow records it as it starts), as its workflow's state query answers. */
export function firstVersionStateView(
  tenantId: string,
  dispatchId: string,
  state: { result: string; recipients: LegacyRecipient[] },
  page: RecipientPage,
) {
  const { indexes, next, filtered } = pagePositions(
    page,
    state.recipients.length,
    page.status ? state.recipients.flatMap((r, i) => (r.status === page.status ? [i] : [])) : undefined,
  );
  return {
    dispatchId,
    tenantId,
    result: state.result,
    ...legacySummary(state),
    recipients: indexes.map((i) => legacyRecipientView(state.recipients[i], i)),
    nextRecipientsCursor: next,
    ...(filtered ? { filteredRecipients: filtered } : {}),
  };
}

/**
 * What a notice is about (issue 16 item 7), from the workflow that sent it: a dispatch (escalation,
 * fix request, update …) or an order (seller alert, customer notice); null for a document.
 */
export function noticeAbout(parent: string | null | undefined): { dispatchId: string } | { orderId: string } | null {
  const m = /^(dispatch|order)\/[^/]+\/(.+)$/.exec(parent ?? '');
  if (!m) return null;
  return m[1] === 'dispatch' ? { dispatchId: m[2] } : { orderId: m[2] };
}

/**
 * The log's filters (L1) as a MongoDB filter, for the listings that cannot read page by page and
 * for the export: failed only unless asked otherwise, which counts a dispatch whose recipient is
 * still deferred after the delay (D3, its own marker); documents, notices or both.
 */
export function logFilter(tenantId: string, q: Omit<ListDispatchesQuery, 'cursor' | 'limit'>): Record<string, unknown> {
  const filter: Record<string, unknown> = { tenantId };
  if (q.kind && q.kind !== 'all') filter.kind = q.kind;
  if (!q.result || q.result === 'failed') {
    filter.$or = [{ result: { $in: FAILED_RESULTS } }, { overdueDeferred: { $gt: 0 } }];
    filter['markedSent.at'] = { $exists: false }; // D11: sent by hand, no longer a failure to act on (failedPlacement)
  } else if (q.result !== 'all') filter.result = q.result;
  // Issue 20: dispatches that asked for receipt acknowledgement, where someone still owes it (false) or nobody does (true).
  if (q.acknowledged === 'false') filter['acknowledgement.awaiting'] = { $gt: 0 };
  if (q.acknowledged === 'true')
    Object.assign(filter, { 'acknowledgement.requested': true, 'acknowledgement.awaiting': 0 });
  if (q.recipient) filter.recipientAddresses = q.recipient.toLowerCase();
  if (q.document) filter['document.number'] = q.document;
  if (q.from || q.to)
    filter.createdAt = { ...(q.from ? { $gte: new Date(q.from) } : {}), ...(q.to ? { $lte: new Date(q.to) } : {}) };
  return filter;
}

/** L1: one row of the log, a count of recipients with the failures named (never every address). */
export function logRow(doc: Record<string, unknown>) {
  const d = doc as {
    dispatchId: string;
    number: number;
    result: string;
    subject?: string | null;
    document?: unknown;
    sender?: unknown;
    sentAt?: Date | null;
    createdAt?: Date;
    kind?: string;
    channel?: string;
    template?: string;
    parent?: string | null;
    format?: number;
    recipientCount?: number;
    counts?: Array<{ status: string; count: number }>;
    opened?: number;
    failures?: unknown[];
    recipientPreview?: string[];
    recipients?: LegacyRecipient[];
    overdueDeferred?: number;
    acknowledgement?: { requested: boolean; acknowledged: number; awaiting: number } | null;
  };
  const summary = d.format
    ? {
        recipientCount: d.recipientCount ?? 0,
        counts: shownCounts(d.counts ?? []),
        opened: d.opened ?? 0,
        failures: d.failures ?? [],
        recipientPreview: d.recipientPreview ?? [],
      }
    : legacySummary({ recipients: d.recipients ?? [] } as never);
  return {
    dispatchId: d.dispatchId,
    number: d.number,
    kind: d.kind ?? 'document',
    channel: d.channel ?? 'email',
    template: d.template ?? null,
    about: noticeAbout(d.parent),
    result: d.result,
    subject: d.subject ?? null,
    document: d.document,
    sender: d.sender,
    sentAt: d.sentAt ?? null,
    createdAt: d.createdAt,
    ...summary,
    overdueDeferred: d.overdueDeferred ?? 0,
    acknowledgement: d.acknowledgement?.requested
      ? { acknowledged: d.acknowledgement.acknowledged, awaiting: d.acknowledgement.awaiting }
      : null,
  };
}

/** O10: the single recipient of notice dispatches (an order's notifications), by dispatch id. */
export async function noticeRecipients(db: Db, tenantId: string, dispatchIds: string[]) {
  const found = new Map<string, { result: string; to: string | null; status: string }>();
  await Promise.all(
    dispatchIds.map(async (dispatchId) => {
      const [header, first] = await Promise.all([
        db.Dispatch.findById(dispatchKey(tenantId, dispatchId), { result: 1 }).lean(),
        db.DispatchRecipients.findById(recipientsKey(tenantId, dispatchId, 0)).lean(),
      ]);
      const recipient = first?.recipients[0];
      if (header)
        found.set(dispatchId, {
          result: header.result,
          to: recipient?.address ?? null,
          status: recipient?.status ?? 'queued',
        });
    }),
  );
  const legacyIds = dispatchIds.filter((id) => !found.has(id));
  if (legacyIds.length) {
    for (const d of await db.LegacyDispatch.find(
      { tenantId, dispatchId: { $in: legacyIds } },
      { dispatchId: 1, result: 1, recipients: 1 },
    ).lean()) {
      found.set(d.dispatchId, {
        result: d.result,
        to: d.recipients[0]?.address ?? null,
        status: d.recipients[0]?.status ?? 'queued',
      });
    }
  }
  return found;
}

/** D8: a recipient named by the id the platform gave it (or `r<n>`, the default), with its position; undefined when none. */
export async function recipientByIdentifier(
  db: Db,
  tenantId: string,
  dispatchId: string,
  recipientId: string,
): Promise<RecipientDoc | undefined> {
  const byDefault = /^r([1-9]\d{0,3})$/.exec(recipientId);
  if (byDefault) {
    const r = (await readRecipients(db, tenantId, dispatchId, [Number(byDefault[1]) - 1])).get(
      Number(byDefault[1]) - 1,
    );
    if (r?.recipientId === recipientId) return r;
  }
  const doc = await db.DispatchRecipients.findOne({
    tenantId,
    dispatchId,
    'recipients.recipientId': recipientId,
  }).lean();
  return doc?.recipients.find((r) => r.recipientId === recipientId) as RecipientDoc | undefined;
}
