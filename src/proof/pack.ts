// Proof of sending (issue 21): for one dispatch, what a business hands to a customer who says
// "I never got it" — the document's identity, a SHA-256 of what was handed to the provider (each
// body and each attachment, and one digest of the whole message), each recipient's timeline with
// the provider's events as Relais received them (event ids, SMTP answers, times in UTC and in the
// tenant's zone), and who resent it or marked it sent (D8, D11). Served as JSON and as a PDF
// (./pdf.ts).
//
// Secrets: a notice that carries a customer's signed link or reply code is kept with them
// withheld and what was sent sealed (src/sealed.ts); its hashes are of what was sent (opened here
// to be hashed), its text never leaves. Nothing in a pack is a link or a token.
import { createHash } from 'node:crypto';
import type { Db } from '../db/models';
import { dispatchKey } from '../db/dispatch-records';
import { readRecipientsWithHistory } from '../db/dispatch-events';
import { readCopy } from '../db/dispatch-copy';
import { plainReason, type ReasonCode } from '../domain/reasons';
import type { Locale } from '../domain/locale';
import type { DispatchResult, RecipientStatus } from '../domain/dispatch-status';
import { canonicalJson } from '../canonical-json';
import { unseal, type MessageContent } from '../sealed';
import { WORDS } from '../ui/words';
import { actorParts } from '../api/auth';

export const PROOF_FORMAT = 'relais-proof-of-sending/1';

/** An instant in UTC and as the tenant's clock showed it (ISO 8601 with the zone's offset then). */
export interface ProofTime {
  utc: string;
  local: string;
}

export interface ProofEvent {
  /** When it happened, by the provider's clock (SendGrid gives whole seconds), or Relais's for its own entries. */
  at: ProofTime;
  /** When Relais received it (the order it is listed in). */
  receivedAt: ProofTime | null;
  /** Who reported it: the provider (over its signed webhook) or Relais itself (a send, a resend, a deadline). */
  source: 'sendgrid' | 'twilio' | 'relais' | null;
  event: string;
  status: string | null;
  attempt: number;
  /** The provider's own id of the event (SendGrid `sg_event_id`, Twilio `MessageSid:status`). */
  eventId: string | null;
  providerMessageId: string | null;
  /** The receiving server's answer (SMTP) or the provider's status. */
  response: string | null;
  reason: string | null;
  reasonCode: string | null;
  plainReason: string | null;
  /** The provider's event as received, after its signature was verified. */
  payload: unknown;
}

export interface ProofRecipient {
  index: number;
  recipientId: string;
  address: string;
  name: string | null;
  status: string;
  statusLabel: string;
  attempt: number;
  events: ProofEvent[];
}

export interface ProofAction {
  action: 'resent' | 'resent_via' | 'marked_sent';
  at: ProofTime;
  /** The key, and the person's name given at the pages' sign-in (or in the API call) when there was one. */
  by: { keyId: string; label: string | null; person: string | null };
  details: string;
}

export interface ProofPack {
  format: typeof PROOF_FORMAT;
  generatedAt: ProofTime;
  generatedBy: { keyId: string; label: string | null };
  tenant: { id: string; name: string; timeZone: string; locale: Locale };
  dispatch: {
    dispatchId: string;
    number: number;
    kind: string;
    channel: string;
    provider: string;
    template: string;
    document: { type: string | null; number: string | null } | null;
    subject: string | null;
    sender: { name: string | null; email: string | null };
    requestedBy: { keyId: string; label: string | null };
    createdAt: ProofTime | null;
    sentAt: ProofTime | null;
    completedAt: ProofTime | null;
    result: string;
    resultLabel: string;
    recipientCount: number;
  };
  content: {
    algorithm: 'SHA-256';
    /** What was sent is kept sealed (a customer's link or code in it): the hashes are of what was sent, its text is not shown. */
    sealed: boolean;
    subjectSha256: string | null;
    htmlSha256: string | null;
    textSha256: string | null;
    attachments: Array<{ filename: string; contentType: string; bytes: number; sha256: string }>;
    /** SHA-256 of the canonical JSON of { subject, html, text, attachments } hashes above (keys sorted, no spaces). */
    messageSha256: string;
  };
  recipients: ProofRecipient[];
  /** Issue 17: the sender's copy (cc/bcc), its status and every event as received; null without one. */
  senderCopy: {
    mode: string;
    address: string;
    status: string | null;
    statusLabel: string | null;
    events: ProofEvent[];
  } | null;
  actions: ProofAction[];
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The zone's offset at an instant, as ISO 8601 writes it (+01:00, Z for UTC). */
function offsetOf(instant: Date, timeZone: string): string {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(instant)
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-]\d{2}):?(\d{2})?/.exec(name);
  return m ? `${m[1]}:${m[2] ?? '00'}` : 'Z';
}

export function proofTime(value: Date | string | number, timeZone: string): ProofTime {
  const d = new Date(value);
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    fractionalSecondDigits: 3,
  }).format(d);
  return { utc: d.toISOString(), local: `${local.replace(' ', 'T').replace(',', '.')}${offsetOf(d, timeZone)}` };
}
const maybeTime = (value: Date | string | null | undefined, timeZone: string) =>
  value ? proofTime(value, timeZone) : null;

const providerEventId = (ref: string) => (ref.startsWith('relais:') ? null : ref.slice(ref.indexOf(':') + 1));

export interface ProofDeps {
  db: Db;
  linkSecret?: string;
  previousLinkSecret?: string;
}

/** The proof pack of a dispatch of the tenant; undefined when it has none by that id. */
export async function proofPack(
  deps: ProofDeps,
  tenantId: string,
  dispatchId: string,
  requestedBy: string,
  now = new Date(),
): Promise<ProofPack | undefined> {
  const { db } = deps;
  const tenant = await db.Tenant.findById(tenantId, { name: 1, timeZone: 1, locale: 1 }).lean();
  const timeZone = tenant?.timeZone ?? 'UTC';
  const locale = (tenant?.locale ?? 'en') as Locale;
  const w = WORDS[locale];
  const time = (v: Date | string | number) => proofTime(v, timeZone);

  const source = await readDispatch(deps, tenantId, dispatchId, locale);
  if (!source) return undefined;
  const proofEvent = (e: SourceEvent): ProofEvent => ({
    at: time(e.at),
    receivedAt: maybeTime(e.receivedAt, timeZone),
    source: e.source,
    event: e.event,
    status: e.status,
    attempt: e.attempt,
    eventId: e.eventId,
    providerMessageId: e.providerMessageId,
    response: e.response,
    reason: e.reason,
    reasonCode: e.reasonCode,
    plainReason: e.reasonCode ? plainReason(e.reasonCode as ReasonCode, locale) : null,
    payload: e.payload,
  });
  const { header } = source;

  const keyIds = [
    ...new Set(
      [requestedBy, header.requestedBy, ...source.actions.map((a) => actorParts(a.by).keyId)].filter((k): k is string =>
        Boolean(k),
      ),
    ),
  ];
  const labels = new Map(
    (await Promise.all(keyIds.map((id) => db.ApiKey.findById(id, { label: 1 }).lean())))
      .filter((k) => k !== null)
      .map((k) => [k._id, k.label ?? null]),
  );
  const who = (keyId: string) => ({ keyId, label: labels.get(keyId) ?? null });

  const attachments = source.attachments.map((a) => ({
    filename: a.filename,
    contentType: a.contentType,
    bytes: a.content.length,
    sha256: sha256(a.content),
  }));
  const hashes = {
    subject: source.sent.subject === null ? null : sha256(source.sent.subject),
    html: source.sent.html === null ? null : sha256(source.sent.html),
    text: source.sent.text === null ? null : sha256(source.sent.text),
  };
  return {
    format: PROOF_FORMAT,
    generatedAt: time(now),
    generatedBy: who(requestedBy),
    tenant: { id: tenantId, name: tenant?.name ?? tenantId, timeZone, locale },
    dispatch: {
      dispatchId,
      number: header.number,
      kind: header.kind,
      channel: header.channel,
      provider: header.provider,
      template: header.template,
      document:
        header.document?.type || header.document?.number
          ? { type: header.document.type ?? null, number: header.document.number ?? null }
          : null,
      subject: header.subject ?? null,
      sender: { name: header.sender?.name ?? null, email: header.sender?.email ?? null },
      requestedBy: who(header.requestedBy),
      createdAt: maybeTime(header.createdAt, timeZone),
      sentAt: maybeTime(header.sentAt, timeZone),
      completedAt: maybeTime(header.completedAt, timeZone),
      result: header.result,
      resultLabel: w.results[header.result as DispatchResult] ?? header.result,
      recipientCount: source.recipients.length,
    },
    content: {
      algorithm: 'SHA-256',
      sealed: source.sealed,
      subjectSha256: hashes.subject,
      htmlSha256: hashes.html,
      textSha256: hashes.text,
      attachments,
      messageSha256: sha256(
        canonicalJson({
          subject: hashes.subject,
          html: hashes.html,
          text: hashes.text,
          attachments: attachments.map((a) => ({ filename: a.filename, sha256: a.sha256 })),
        }),
      ),
    },
    recipients: source.recipients.map((r) => ({
      ...r,
      statusLabel: w.statuses[r.status as RecipientStatus] ?? r.status,
      events: r.events.map(proofEvent),
    })),
    senderCopy: source.senderCopy && {
      ...source.senderCopy,
      statusLabel: source.senderCopy.status
        ? (w.statuses[source.senderCopy.status as RecipientStatus] ?? source.senderCopy.status)
        : null,
      events: source.senderCopy.events.map(proofEvent),
    },
    actions: source.actions
      .map((a) => ({
        action: a.action,
        at: time(a.at),
        by: { ...who(actorParts(a.by).keyId), person: actorParts(a.by).person },
        details: a.details,
      }))
      .sort((a, b) => a.at.utc.localeCompare(b.at.utc)),
  };
}

interface SourceEvent {
  at: Date;
  receivedAt: Date | null;
  source: ProofEvent['source'];
  event: string;
  status: string | null;
  attempt: number;
  eventId: string | null;
  providerMessageId: string | null;
  response: string | null;
  reason: string | null;
  reasonCode: string | null;
  payload: unknown;
}
interface SourceHeader {
  number: number;
  kind: string;
  channel: string;
  provider: string;
  template: string;
  locale: string;
  document?: { type?: string | null; number?: string | null } | null;
  subject?: string | null;
  sender?: { name?: string | null; email?: string | null } | null;
  requestedBy: string;
  result: string;
  createdAt?: Date | null;
  sentAt?: Date | null;
  completedAt?: Date | null;
  attachments: string[];
  markedSent?: { by?: string | null; at?: Date | null; note?: string | null } | null;
  resentVia?: Array<{
    dispatchId?: string | null;
    channel?: string | null;
    address?: string | null;
    at?: Date | null;
    requestedBy?: string | null;
  }>;
}

/** What a pack is made of, from a record of either shape (the first version kept everything in one document). */
async function readDispatch(deps: ProofDeps, tenantId: string, dispatchId: string, locale: Locale) {
  const { db } = deps;
  const _id = dispatchKey(tenantId, dispatchId);
  const current = await db.Dispatch.findById(_id).lean();
  const legacy = current ? null : await db.LegacyDispatch.findOne({ tenantId, dispatchId }).select('+sealed').lean();
  const header = (current ?? legacy) as unknown as SourceHeader | null;
  if (!header) return undefined;
  const content = current ? await db.DispatchContent.findById(_id).select('+sealed').lean() : legacy;
  // What was handed to the provider: the copy, or what the copy withholds, opened from its seal.
  const sealedValue = (content as { sealed?: string | null } | null)?.sealed ?? null;
  let sent = { subject: header.subject ?? null, html: content?.html ?? null, text: content?.text ?? null };
  if (sealedValue) {
    const secrets = [deps.linkSecret, deps.previousLinkSecret].filter((s): s is string => Boolean(s));
    try {
      const opened = unseal<MessageContent>(secrets, _id, sealedValue);
      sent = { subject: opened.subject, html: opened.html, text: opened.text };
    } catch {
      // LINK_SECRET no longer opens it: the hashes are then of the copy kept (the pack says it is sealed).
    }
  }
  const attachments = (
    await Promise.all(header.attachments.map((_, i) => db.Attachment.findById(`${tenantId}/${dispatchId}/${i}`).lean()))
  )
    .filter((a) => a !== null)
    .map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: Buffer.from(a.content.buffer ?? a.content),
    }));

  const actions: Array<{ action: ProofAction['action']; at: Date; by: string; details: string }> = [];
  if (header.markedSent?.by && header.markedSent.at)
    actions.push({
      action: 'marked_sent',
      at: header.markedSent.at,
      by: header.markedSent.by,
      details: header.markedSent.note ?? '',
    });
  for (const via of header.resentVia ?? []) {
    if (via.at && via.requestedBy)
      actions.push({
        action: 'resent_via',
        at: via.at,
        by: via.requestedBy,
        details: `${via.channel ?? ''} ${via.address ?? ''} (${via.dispatchId ?? ''})`.trim(),
      });
  }

  let recipients: Array<Omit<ProofRecipient, 'statusLabel' | 'events'> & { events: SourceEvent[] }>;
  if (current) {
    // Histories as the log shows them (each entry once, in the order received), the provider's payloads from the stored events.
    const found = await readRecipientsWithHistory(
      db,
      tenantId,
      dispatchId,
      Array.from({ length: current.recipientCount }, (_, i) => i),
    );
    const stored = new Map(
      (await db.DispatchEvent.find({ tenantId, dispatchId }, { source: 1, payload: 1 }).lean()).map((e) => [e._id, e]),
    );
    recipients = [...found.values()]
      .sort((a, b) => a.recipient.index - b.recipient.index)
      .map(({ recipient: r, history }) => ({
        index: r.index,
        recipientId: r.recipientId,
        address: r.address,
        name: r.name ?? null,
        status: r.status,
        attempt: r.attempt ?? 1,
        events: history.map((h) => {
          const e = stored.get(h.ref);
          const source = (e?.source ?? h.ref.slice(0, h.ref.indexOf(':'))) as SourceEvent['source'];
          return {
            at: h.at,
            receivedAt: h.receivedAt,
            source,
            event: h.event,
            status: h.status ?? null,
            attempt: h.attempt,
            eventId: providerEventId(h.ref),
            providerMessageId: h.providerMessageId ?? null,
            response: h.response ?? null,
            reason: h.reason ?? null,
            reasonCode: h.reasonCode ?? null,
            payload: source === 'relais' ? null : (e?.payload ?? null),
          };
        }),
      }));
    // D8: who resent a recipient is written in its resend entry ("resent by <actor>[, address corrected from … | , sent again after delivery[ to …]]", the actor as actorOf wrote it).
    for (const r of recipients) {
      for (const e of r.events) {
        const resent =
          e.event === 'resent'
            ? /^resent by (.+?)(?:, ((?:address corrected from|sent again after delivery)\b.*))?$/.exec(e.reason ?? '')
            : null;
        if (resent)
          actions.push({
            action: 'resent',
            at: e.at,
            by: resent[1],
            details: `${r.recipientId} → ${r.address}, attempt ${e.attempt}${resent[2] ? ` (${resent[2]})` : ''}`,
          });
      }
    }
  } else {
    recipients = legacy!.recipients.map((r, index) => ({
      index,
      recipientId: r.recipientId,
      address: r.address,
      name: r.name ?? null,
      status: r.status,
      attempt: r.attempt ?? 1,
      events: (r.history ?? []).map((h) => ({
        at: h.at,
        receivedAt: null,
        source: null,
        event: h.event,
        status: h.status ?? null,
        attempt: r.attempt ?? 1,
        eventId: h.eventId ?? null,
        providerMessageId: null,
        response: h.response ?? null,
        reason: h.reason ?? null,
        reasonCode: h.reasonCode ?? null,
        payload: null,
      })),
    }));
  }
  // Issue 17: the sender's copy, its events stored under the ids its record lists.
  const recorded = (current as { copy?: { mode: 'cc' | 'bcc'; address: string } | null } | null)?.copy;
  const copy = recorded ? await readCopy(db, tenantId, dispatchId, recorded) : null;
  const copyEvents = copy ? copy.stored : [];
  const senderCopy = copy
    ? {
        mode: copy.mode,
        address: copy.address,
        status: copy.status ?? null,
        events: copyEvents
          .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.position ?? 0) - (b.position ?? 0))
          .map((e): SourceEvent => ({
            at: e.at,
            receivedAt: e.receivedAt,
            source: e.source as SourceEvent['source'],
            event: e.event,
            status: e.status ?? null,
            attempt: e.attempt,
            eventId: providerEventId(e._id),
            providerMessageId: e.providerMessageId ?? null,
            response: e.response ?? null,
            reason: e.reason ?? null,
            reasonCode: e.reasonCode ?? null,
            payload: e.source === 'relais' ? null : (e.payload ?? null),
          })),
      }
    : null;
  return { header, sent, sealed: Boolean(sealedValue), attachments, recipients, senderCopy, actions, locale };
}
