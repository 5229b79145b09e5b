// Recording a dispatch before its workflow starts (issue 15): the API for a posted document, the
// parent workflow's activities for a notice. Everything is keyed by `_id` and written so that a
// retry (the API dying half-way, an activity retried) completes the same record and adds nothing.
import type { Db } from './models';
import type { Locale } from '../domain/locale';
import type { MessageContent } from '../sealed';
import { differingFields, type Fingerprint } from '../api/fingerprint';
import { nextNumber } from './models';
import { logPageOf } from './dispatch-log';
import { documentOf, RECIPIENTS_PER_DOCUMENT } from '../domain/dispatch';
import { dispatchWorkflowId } from '../workflows/dispatch/contract';

export const dispatchKey = (tenantId: string, dispatchId: string) => `${tenantId}/${dispatchId}`;
/** The `_id` of the document of `dispatch_recipients` holding a recipient (by position), and the recipient's place in it. */
export const recipientsKey = (tenantId: string, dispatchId: string, index: number) =>
  `${tenantId}/${dispatchId}/${documentOf(index)}`;
export const slotOf = (index: number) => index % RECIPIENTS_PER_DOCUMENT;

/** Recipients by status as stored (a list, see `counts` in models.ts) and as shown (an object). */
export const storedCounts = (counts: Partial<Record<string, number>>) =>
  Object.entries(counts).map(([status, count]) => ({ status, count: count ?? 0 }));
export const shownCounts = (counts: ReadonlyArray<{ status?: string | null; count?: number | null }>) =>
  Object.fromEntries(counts.map((c) => [c.status ?? '', c.count ?? 0])) as Partial<Record<string, number>>;

/** How many addresses a log row shows before "and N more". */
export const PREVIEW_ADDRESSES = 3;

export interface NewDispatch {
  tenantId: string;
  dispatchId: string;
  kind: 'document' | 'notification';
  channel: 'email' | 'sms' | 'whatsapp';
  provider: 'sendgrid' | 'smtp' | 'twilio';
  template: string;
  locale: Locale;
  document: { type: string; number: string } | null;
  sender: { name: string; email: string; outletId: string | null };
  requestedBy: string;
  /** The copy people read (D11), with the data it was rendered from: secrets withheld (src/domain/secrets.ts). */
  content: MessageContent;
  /** What is really sent when the copy withholds secrets, sealed (src/sealed.ts); else null. */
  sealed: string | null;
  attachments: string[];
  recipients: Array<{ recipientId: string; address: string; name: string | null }>;
  /** The workflow that asked for it (a notice's parent), or null. */
  parent: string | null;
  /** The request, a hash per field (API), or null (a notice: its id says what it is). */
  request: Fingerprint | null;
  /** Issue 17: the sender in copy or blind copy of the first recipient's email. */
  copy?: { mode: 'cc' | 'bcc'; address: string } | null;
  /** Issue 20: each recipient is asked to acknowledge receipt. */
  acknowledge?: boolean;
}

export type RecordOutcome =
  | { outcome: 'created'; number: number }
  | { outcome: 'existing'; number: number; request: Fingerprint | null }
  /** A record of the first version of the dispatch workflow has this id. */
  | { outcome: 'legacy' };

/** A refusal for duplicate keys only: one document (`code`), or every one refused in a bulk insert (`writeErrors`). */
export function isDuplicateKey(err: unknown): boolean {
  const { code, writeErrors } = err as { code?: number; writeErrors?: Array<{ code?: number }> };
  if (Array.isArray(writeErrors) && writeErrors.length) return writeErrors.every((e) => e.code === 11000);
  return code === 11000;
}

/** Inserts documents that may be there already (a retry): only duplicate-key refusals are expected. */
export async function insertNew(
  model: { insertMany(docs: object[], options: object): Promise<unknown> },
  docs: object[],
): Promise<void> {
  if (!docs.length) return;
  try {
    await model.insertMany(docs, { ordered: false, lean: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/**
 * Records a dispatch: its log entry first (which claims the id and its number), then its content
 * and one document per recipient, then marks it complete. A second call with the same id finds
 * the entry and only completes what is missing (when it is the same request); the caller compares `request`.
 */
export async function recordDispatch(db: Db, record: NewDispatch): Promise<RecordOutcome> {
  const _id = dispatchKey(record.tenantId, record.dispatchId);
  let header = await db.Dispatch.findById(_id, { number: 1, request: 1, recordedAt: 1 }).lean();
  let outcome: RecordOutcome;
  if (header) {
    outcome = { outcome: 'existing', number: header.number, request: (header.request ?? null) as Fingerprint | null };
  } else {
    const number = await nextNumber(db, `dispatch:${record.tenantId}`);
    try {
      await db.Dispatch.create({
        _id,
        format: 2,
        tenantId: record.tenantId,
        dispatchId: record.dispatchId,
        workflowId: dispatchWorkflowId(record.tenantId, record.dispatchId),
        number,
        logPage: logPageOf(number),
        kind: record.kind,
        channel: record.channel,
        provider: record.provider,
        template: record.template,
        locale: record.locale,
        document: record.document ?? { type: null, number: null },
        sender: record.sender,
        requestedBy: record.requestedBy,
        subject: record.content.subject,
        attachments: record.attachments,
        recipientCount: record.recipients.length,
        recipientAddresses: record.recipients.map((r) => r.address.toLowerCase()),
        recipientPreview: record.recipients.slice(0, PREVIEW_ADDRESSES).map((r) => r.address),
        result: 'queued',
        counts: [{ status: 'queued', count: record.recipients.length }],
        parent: record.parent,
        request: record.request,
        copy: record.copy ? { ...record.copy, status: null, events: [] } : null,
        acknowledgement: record.acknowledge
          ? { requested: true, acknowledged: 0, awaiting: record.recipients.length }
          : null,
      });
      outcome = { outcome: 'created', number };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      header = await db.Dispatch.findById(_id, { number: 1, request: 1, recordedAt: 1 }).lean();
      // The unique (tenant, dispatchId) index also holds the first version's records.
      if (!header) return { outcome: 'legacy' };
      outcome = { outcome: 'existing', number: header.number, request: (header.request ?? null) as Fingerprint | null };
    }
  }
  if (header?.recordedAt) return outcome;
  if (outcome.outcome === 'existing' && differingFields(outcome.request ?? {}, record.request ?? {}).length)
    return outcome;

  await db.DispatchContent.updateOne(
    { _id },
    {
      $setOnInsert: {
        tenantId: record.tenantId,
        dispatchId: record.dispatchId,
        html: record.content.html,
        text: record.content.text,
        templateData: record.content.templateData,
        sealed: record.sealed,
        recipients: record.recipients,
      },
    },
    { upsert: true },
  );
  const chunks = Array.from({ length: Math.ceil(record.recipients.length / RECIPIENTS_PER_DOCUMENT) }, (_, n) =>
    record.recipients.slice(n * RECIPIENTS_PER_DOCUMENT, (n + 1) * RECIPIENTS_PER_DOCUMENT).map((r, i) => ({
      index: n * RECIPIENTS_PER_DOCUMENT + i,
      recipientId: r.recipientId,
      address: r.address,
      name: r.name,
      status: 'queued',
      attempt: 1,
    })),
  );
  await insertNew(
    db.DispatchRecipients,
    chunks.map((recipients) => ({
      _id: recipientsKey(record.tenantId, record.dispatchId, recipients[0].index),
      tenantId: record.tenantId,
      dispatchId: record.dispatchId,
      recipients,
      batches: [],
      version: 0,
    })),
  );
  await db.Dispatch.updateOne({ _id }, { $set: { recordedAt: new Date() } });
  return outcome;
}

/** Removes a record this process just made for an id whose workflow turned out to be the first version's (it records itself, in its own shape). */
export async function discardRecord(db: Db, tenantId: string, dispatchId: string): Promise<void> {
  const _id = dispatchKey(tenantId, dispatchId);
  const header = await db.Dispatch.findById(_id, { recipientCount: 1 }).lean();
  const documents = Math.ceil((header?.recipientCount ?? 0) / RECIPIENTS_PER_DOCUMENT);
  await db.DispatchRecipients.deleteMany({
    _id: {
      $in: Array.from({ length: documents }, (_, n) =>
        recipientsKey(tenantId, dispatchId, n * RECIPIENTS_PER_DOCUMENT),
      ),
    },
  });
  await db.DispatchContent.deleteOne({ _id });
  await db.Dispatch.deleteOne({ _id });
}
