// The dispatch workflow's activities (rules D1–D11, issue 15). Their inputs and results are
// small whatever the dispatch's size: recipients travel as positions (`index`), addresses and
// words are read from and written to MongoDB here. Every write is keyed by `_id`.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { metrics } from '../metrics';
import {
  dispatchKey,
  insertNew,
  PREVIEW_ADDRESSES,
  recipientsKey,
  recordDispatch,
  slotOf,
  storedCounts,
  type NewDispatch,
} from '../db/dispatch-records';
import { failedPlacement } from '../db/dispatch-log';
import { publishAll } from '../outbound/publish';
import { COPY_INDEX } from '../db/dispatch-copy';
import {
  rawReason,
  readRecipients,
  readRecipientsWithHistory,
  writeEventBatch,
  type StoredEvent,
} from '../db/dispatch-events';
import {
  documentLabel,
  NOTICE_TEMPLATES,
  relaisEventId,
  routingId,
  type DecidedEntry,
  type HistoryBatches,
  type Locale,
  type Notice,
  type Person,
  type RecipientChange,
} from '../domain/dispatch';
import { isFailure, type DispatchResult, type RecipientStatus } from '../domain/dispatch-status';
import { documentOf, RECIPIENTS_PER_DOCUMENT } from '../domain/dispatch';
import { noteRollupChange } from './rollups';
import { nextStep, plainReason, type ReasonCode } from '../domain/reasons';
import { durationInWords } from '../domain/durations';
import { signLink } from '../links';
import { acknowledgementNote, acknowledgementWords, RECEIPT_LINK_KIND, receiptTarget } from '../domain/acknowledgement';
import { RECEIPT_LINK_TAG } from '../domain/secrets';
import { ROUTING_ARGS, type Channel, type EmailProvider, type EmailSender } from '../providers/types';
import { emailFailover, failoverReason } from '../domain/failover';
import { policyMs } from '../domain/durations';
import { emailSendFailure } from './email-failover';
import { contentVariables, retryByFailingTime, sendableContent, type ActivityDeps } from './deps';
import { confirmationLink } from './orders';
import { sealedCopy, type MessageContent } from '../sealed';
import { heldBack, noteRefusal, recordProjectedOutcomes } from './address-guard';
import { failedBefore } from '../db/address-health';

export interface SendRecipientsRequest {
  tenantId: string;
  dispatchId: string;
  /** The first send: every recipient as recorded, attempt 1. */
  first?: boolean;
  /** D8: new attempts of recipients, to the (corrected) address the operator gave. */
  resends?: Array<{ index: number; attempt: number; address: string; requestedBy: string }>;
  /** Issue 20: each recipient gets its own receipt link, signed here, valid until then (epoch ms). */
  receiptLinksExpireAt?: number;
}

/** Issue 20: a recipient acknowledged receipt (the workflow's Update, checked): who, when, the note. */
export interface AcknowledgementRecord {
  tenantId: string;
  dispatchId: string;
  index: number;
  attempt: number;
  name: string | null;
  deliveryDate: string | null;
  note: string | null;
  /** Workflow time, epoch ms. */
  at: number;
}

/**
 * Recipient positions by outcome: the provider accepted them (SendGrid, Twilio), or an SMTP
 * server took or refused them (D10); and the event batch holding these entries of their histories.
 */
export interface SendRecipientsResult {
  batch: string;
  documents: number[];
  accepted: number[];
  sent: number[];
  notSent: number[];
}

export interface ProjectionRequest {
  tenantId: string;
  dispatchId: string;
  /** Increases with every write of the workflow: an older write never replaces a newer one. */
  version: number;
  dispatch: {
    result: DispatchResult;
    providerError: string | null;
    counts: Partial<Record<RecipientStatus, number>>;
    /** Delivered recipients that opened. */
    opened: number;
    /** Issue 20: recipients who acknowledged receipt, and those who still owe it (when the dispatch asks). */
    acknowledgement?: { acknowledged: number; awaiting: number };
    /** Positions of the first recipients needing attention (failed, unknown, deferred past the delay), named in the log. */
    attention: number[];
    /** Recipients still deferred after the confirmation delay (D3, issue 16): the failed-only log lists the dispatch. */
    overdueDeferred?: number;
    sentAt?: number;
    completedAt?: number;
    markedSent?: { by: string; at: string; note: string; on?: string };
  };
  /** The recipients that changed, as they are now. */
  recipients: RecipientChange[];
  /** Event batches (`dispatch_event_batches`) to add to the histories, by document of recipients. */
  histories: HistoryBatches[];
  /** Entries the rules decided (D3's `no_confirmation`, a refusal): written here. */
  decided: DecidedEntry[];
  /** D7: the listening window closed; each recipient listed gets its `final` entry. */
  final?: true;
  /** The provider's refusal, quoted by `refused` entries. */
  refusal?: string;
  /**
   * Issue 20: what the events of `histories` say about their addresses goes to the address-health
   * registry here, off the webhook request (the events are durable in `dispatch_events` and the
   * workflow's history; a crash delays this write, never loses it).
   */
  addressHealth?: true;
}

/** A notice of rules D3–D6 about a dispatch, and the dispatches that carry it (one per person and channel). */
export interface DispatchNoticeRequest {
  tenantId: string;
  dispatchId: string;
  workflowId: string;
  locale: Locale;
  timeZone: string;
  dispatchUrl: string;
  senderName: string;
  unknownAfterMs: number;
  /** D7: how long the dispatch listens after its last send (the deferred notice says until when the provider keeps trying). */
  listenForMs?: number;
  /** Issue 20: how long recipients had to acknowledge receipt (the notices say it). */
  acknowledgeWithinMs?: number;
  notice: Notice;
  children: Array<{ dispatchId: string; person: Person; channel: Channel }>;
}

/** A notice given its template and data (order alerts): one dispatch to one person on one channel. */
export interface NoticeRecordRequest {
  tenantId: string;
  dispatchId: string;
  template: string;
  data: Record<string, unknown>;
  locale: Locale;
  timeZone: string;
  tenantName: string;
  person: { name: string; email: string | null; phone: string | null };
  channel: Channel;
  sender: { name: string; email: string; outletId: string | null };
  /** The workflow sending it. */
  parent: string;
  /** O3: the nonce of the address confirmation whose signed link and reply code go into the data here, never through a workflow. */
  confirmation?: string;
}

export interface DocumentLinkRequest {
  tenantId: string;
  dispatchId: string;
  /** The dispatch that carries the link. */
  childId: string;
  channel: 'sms' | 'whatsapp';
  phone: string;
  requestedBy: string;
  ttlMs: number;
  workflowId: string;
}

/** What a notice's dispatch is; the rest of its record (content, data) comes from rendering it. */
type NoticeDispatch = Pick<
  NewDispatch,
  'tenantId' | 'dispatchId' | 'channel' | 'provider' | 'template' | 'locale' | 'sender' | 'recipients' | 'parent'
> &
  Partial<Pick<NewDispatch, 'kind' | 'document'>>;

/** A notice lists this many recipients, then says how many more. */
export const NOTICE_LIST_LIMIT = 20;
/** A text message lists fewer: SMS and WhatsApp bodies are short. */
const MESSAGE_LIST_LIMIT = 3;
/** SendGrid and SMTP answers quoted in an error, at most. */
const MAX_REASON = 1000;

const providerFor = (channel: Channel) => (channel === 'email' ? ('sendgrid' as const) : ('twilio' as const));
const addressOf = (person: { email: string | null; phone: string | null }, channel: Channel) =>
  channel === 'email' ? person.email! : person.phone!;

/** Notices that are an escalation (D4) or the 30-minute rule firing (D3), counted once, when recorded. */
function countNotice(template: string, channel: Channel): void {
  if (template === 'dispatch_escalation') metrics.escalations.inc({ channel });
  if (template === 'dispatch_unknown') metrics.timerRuleFirings.inc({ rule: 'D3' });
}

/** The document a dispatch carried, as tenant events name it: null for Relais's own notices. */
const documentRef = (d: { type?: string | null; number?: string | null } | null | undefined) =>
  d?.type || d?.number ? { type: d.type ?? null, number: d.number ?? null } : null;

export function createDispatchActivities(deps: ActivityDeps) {
  const { db, templates } = deps;

  const render =
    (channel: Channel, template: string, locale: Locale) =>
    (data: Record<string, unknown>): MessageContent => {
      try {
        return channel === 'email'
          ? { ...templates.renderEmail(template, locale, data), templateData: data }
          : {
              subject: null,
              html: null,
              text: templates.renderMessage(channel, template, locale, data),
              templateData: data,
            };
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'TemplateError');
      }
    };

  /**
   * Renders a notice for one person and records it as its own dispatch; counted when new. A
   * customer's link or reply code is withheld from the copy and what is sent is kept sealed (D11,
   * src/domain/secrets.ts).
   */
  async function recordNoticeDispatch(notice: NoticeDispatch, context: Record<string, unknown>) {
    const { copy, sealed } = sealedCopy(
      deps.linkSecret,
      dispatchKey(notice.tenantId, notice.dispatchId),
      notice.template,
      notice.locale,
      context,
      render(notice.channel, notice.template, notice.locale),
    );
    const recorded = await recordDispatch(db, {
      kind: 'notification',
      document: null,
      ...notice,
      attachments: [],
      requestedBy: 'relais',
      content: copy,
      sealed,
      request: null,
    });
    if (recorded.outcome === 'created') countNotice(notice.template, notice.channel);
  }

  /** O3: the signed link and reply code of a pending address confirmation, signed here (the same for a retried activity). */
  const confirmationData = async (tenantId: string, nonce: string) => {
    const c = await db.Confirmation.findById(nonce).lean();
    if (!c || c.tenantId !== tenantId)
      throw ApplicationFailure.nonRetryable(
        `no address confirmation ${nonce.slice(0, 4)}… for this tenant`,
        'NotFound',
      );
    return {
      link: confirmationLink(deps.linkSecret, deps.publicBaseUrl, {
        tenantId,
        orderId: c.orderId,
        nonce,
        exp: c.expiresAt.getTime(),
      }),
      expiresAt: c.expiresAt.toISOString(),
      confirmationCode: c.code ?? null,
    };
  };

  /** Issue 17: the provider took the sender's copy: its `accepted` entry and status (a retried activity adds nothing). */
  async function recordCopySent(tenantId: string, dispatchId: string, providerMessageId: string | null) {
    const at = new Date();
    const entry: StoredEvent = {
      _id: `relais:${tenantId}/${dispatchId}/copy:send`,
      tenantId,
      dispatchId,
      index: COPY_INDEX,
      attempt: 1,
      source: 'relais',
      event: 'accepted',
      status: 'queued',
      at,
      receivedAt: at,
      position: 0,
      providerMessageId,
    };
    try {
      await insertNew(db.DispatchEvent, [entry]);
    } catch (err) {
      // As for the recipients' entries: the provider has the message; failing now would send it twice (N4).
      Context.current().log.warn('copy to the sender taken by the provider but not recorded', {
        dispatchId,
        error: (err as Error).message,
      });
    }
  }

  return {
    /**
     * Sends the recorded message to recipients: the first time to all, then resends (D8). Each
     * provider acceptance is stored as the recipient attempt's `send` entry before returning, and a
     * retried attempt skips what is stored (rule N4): a duplicate is possible only if the worker dies
     * between the provider's answer and that write.
     */
    sendRecipients: retryByFailingTime(async (request: SendRecipientsRequest): Promise<SendRecipientsResult> => {
      const { tenantId, dispatchId } = request;
      const _id = dispatchKey(tenantId, dispatchId);
      const [header, stored] = await Promise.all([
        db.Dispatch.findById(_id).lean(),
        db.DispatchContent.findById(_id).select('+sealed').lean(),
      ]);
      if (!header || !stored)
        throw ApplicationFailure.nonRetryable(`dispatch ${dispatchId} is not recorded`, 'NotFound');
      const content = sendableContent(deps, _id, { subject: header.subject, ...stored });
      const info = Context.current().info;
      // One batch per send, the same for each attempt of this activity.
      const batch = `${info.workflowExecution?.runId ?? 'run'}-${info.activityId}`;
      const now = new Date();
      const entries: StoredEvent[] = [];
      let targets: Array<{ index: number; attempt: number; address: string; name: string | null }>;
      if (request.first) {
        targets = stored.recipients.map((r, index) => ({
          index,
          attempt: 1,
          address: r.address!,
          name: r.name ?? null,
        }));
      } else {
        const resends = request.resends ?? [];
        const current = await readRecipients(
          db,
          tenantId,
          dispatchId,
          resends.map((r) => r.index),
        );
        targets = resends.map((resend) => {
          const recipient = current.get(resend.index);
          if (!recipient)
            throw ApplicationFailure.nonRetryable(
              `dispatch ${dispatchId} has no recipient ${resend.index}`,
              'NotFound',
            );
          // Issue 17: a delivered one sent again (the customer says it never arrived), or a failed one corrected.
          const again = recipient.status === 'delivered' || recipient.status === 'sent';
          const corrected = again
            ? `, sent again after delivery${recipient.address !== resend.address ? ` to ${recipient.address}` : ''}`
            : recipient.address !== resend.address
              ? `, address corrected from ${recipient.address}`
              : '';
          entries.push({
            _id: relaisEventId(tenantId, dispatchId, resend.index, resend.attempt, 'resent'),
            tenantId,
            dispatchId,
            index: resend.index,
            attempt: resend.attempt,
            source: 'relais',
            event: 'resent',
            status: 'queued',
            at: now,
            receivedAt: now,
            position: 0,
            reason: `resent by ${resend.requestedBy}${corrected}`,
          });
          return {
            index: resend.index,
            attempt: resend.attempt,
            address: resend.address,
            name: recipient.name ?? null,
          };
        });
      }

      // N4: what an earlier attempt of this activity already handed over is not sent again.
      const sendId = (t: { index: number; attempt: number }) =>
        relaisEventId(tenantId, dispatchId, t.index, t.attempt, 'accepted');
      const done = new Map<string, StoredEvent>();
      if (info.attempt > 1) {
        for (const doc of await Promise.all(targets.map((t) => db.DispatchEvent.findById(sendId(t)).lean())))
          if (doc) done.set(doc._id, doc as StoredEvent);
        // Issue 20: a failover an earlier attempt made stays in this send's history.
        const failoverId = (t: { index: number; attempt: number }) =>
          relaisEventId(tenantId, dispatchId, t.index, t.attempt, 'failover');
        for (const doc of await Promise.all(targets.map((t) => db.DispatchEvent.findById(failoverId(t)).lean())))
          if (doc) entries.push(doc as StoredEvent);
      }
      let todo = targets.filter((t) => !done.has(sendId(t)));
      const record = async (
        outcomes: Array<{
          index: number;
          attempt: number;
          outcome: 'accepted' | 'sent' | 'not_sent';
          response: string | null;
          providerMessageId: string | null;
        }>,
        message?: { id: string; addresses: Map<number, string> },
      ) => {
        const at = new Date();
        const docs: StoredEvent[] = outcomes.map((e) => ({
          _id: sendId(e),
          tenantId,
          dispatchId,
          index: e.index,
          attempt: e.attempt,
          source: 'relais',
          event: e.outcome,
          status: e.outcome === 'accepted' ? 'queued' : e.outcome,
          at,
          receivedAt: at,
          position: 0,
          response: e.response,
          providerMessageId: e.providerMessageId,
          reasonCode: e.outcome === 'not_sent' ? 'not_sent_to_server' : null,
        }));
        for (const doc of docs) done.set(doc._id, doc);
        try {
          await insertNew(db.DispatchEvent, docs);
          if (message) {
            await db.ProviderMessage.updateOne(
              { _id: `sendgrid:${message.id}` },
              {
                $setOnInsert: {
                  tenantId,
                  dispatchId,
                  at,
                  recipients: outcomes.map((e) => ({
                    index: e.index,
                    attempt: e.attempt,
                    address: message.addresses.get(e.index)!.toLowerCase(),
                  })),
                },
              },
              { upsert: true },
            );
          }
        } catch (err) {
          // The provider has taken these: failing the activity now would make its retry send them
          // again (N4). The activity's result, kept in the workflow's history, is the durable
          // record; lost are only these entries of the histories and the message-id fallback.
          Context.current().log.warn('send taken by the provider but not written to the events', {
            dispatchId,
            recipients: outcomes.length,
            error: (err as Error).message,
          });
        }
      };

      /** Issue 20: a failover entry per recipient attempt (once: a retried activity adds nothing), in this send's history. */
      const recordFailover = async (part: Array<{ index: number; attempt: number }>, reason: string) => {
        const at = new Date();
        const docs: StoredEvent[] = part.map((t) => ({
          _id: relaisEventId(tenantId, dispatchId, t.index, t.attempt, 'failover'),
          tenantId,
          dispatchId,
          index: t.index,
          attempt: t.attempt,
          source: 'relais',
          event: 'failover',
          status: null,
          at,
          receivedAt: at,
          position: 0,
          reason,
        }));
        const kept = new Set(entries.map((e) => e._id));
        entries.push(...docs.filter((d) => !kept.has(d._id)));
        await insertNew(db.DispatchEvent, docs);
      };
      // Issue 20: an opted-out number gets no SMS; under the `refuse` policy an order notice goes to no known-bad address.
      const held = await heldBack(db, tenantId, { dispatchId, channel: header.channel, kind: header.kind }, todo);
      if (held.size) {
        await record(
          todo
            .filter((t) => held.has(t.index))
            .map((t) => ({
              index: t.index,
              attempt: t.attempt,
              outcome: 'not_sent' as const,
              response: held.get(t.index)!,
              providerMessageId: null,
            })),
        );
        todo = todo.filter((t) => !held.has(t.index));
      }
      const customArgs = { [ROUTING_ARGS.tenant]: tenantId, [ROUTING_ARGS.dispatch]: dispatchId };
      /** Issue 20: one recipient attempt's receipt link, signed here: it never enters a workflow's history nor the stored copy. */
      const receiptLink = (t: { index: number; attempt: number }, exp: number) =>
        new URL(
          `/a/${signLink(deps.linkSecret, { kind: RECEIPT_LINK_KIND, tenantId, target: receiptTarget(dispatchId, t.index, t.attempt), exp })}`,
          deps.publicBaseUrl,
        ).toString();
      /**
       * How each email provider takes a send. SendGrid takes the whole list in one request, the
       * sender's copy in it; an SMTP server answers per message, so each recipient is recorded as
       * soon as it is handed over and a retry resumes after it (and no copy is tracked there).
       */
      const emailProviders = {
        sendgrid: { sender: deps.sendgrid, oneRequestForAll: true, takesCopy: true },
        smtp: { sender: deps.smtp, oneRequestForAll: false, takesCopy: false },
      } satisfies Record<EmailProvider, { sender?: EmailSender; oneRequestForAll: boolean; takesCopy: boolean }>;
      if (todo.length && header.channel === 'email') {
        const primary = header.provider as EmailProvider;
        if (!emailProviders[primary]?.sender)
          throw ApplicationFailure.nonRetryable(`no ${header.provider} sender is configured`, 'NotConfigured');
        const tenant = await db.Tenant.findById(tenantId).lean();
        const attachments = await Promise.all(
          header.attachments.map((_, i) => db.Attachment.findById(`${tenantId}/${dispatchId}/${i}`).lean()),
        );
        const email = {
          attachments: attachments
            .filter((a) => a !== null)
            .map((a) => ({
              filename: a.filename,
              contentType: a.contentType,
              contentBase64: Buffer.from(a.content.buffer ?? a.content).toString('base64'),
            })),
          from: {
            email: tenant?.emailFrom?.email ?? deps.emailFrom,
            name: header.sender?.name ?? tenant?.name ?? undefined,
          },
          replyTo: header.sender?.email
            ? { email: header.sender.email, name: header.sender.name ?? undefined }
            : undefined,
          subject: header.subject ?? '',
          html: content.html ?? '',
          text: content.text ?? '',
          categories: [header.kind, header.template],
          customArgs,
          recipientArg: ROUTING_ARGS.index,
        };
        type Target = (typeof todo)[number];
        const batchesFor = (provider: EmailProvider, targets: Target[]) =>
          emailProviders[provider].oneRequestForAll ? [targets] : targets.map((t) => [t]);
        const batches = batchesFor(primary, todo);
        // Issue 17: the sender's copy goes once, with the first send's first recipient (not with a retry that resumes after it).
        const copy =
          request.first && header.copy && todo[0]?.index === 0 && emailProviders[primary].takesCopy
            ? {
                mode: header.copy.mode as 'cc' | 'bcc',
                email: header.copy.address,
                name: header.sender?.name ?? undefined,
              }
            : undefined;
        // Issue 20: with the other provider configured, the first one is given up when not reached within the tenant's delay.
        const configured = { sendgrid: Boolean(deps.sendgrid), smtp: Boolean(deps.smtp) };
        const reachWithinMs = policyMs(tenant?.policies).failoverAfterMs;
        const sendPart = async (provider: EmailProvider, part: Target[], withCopy: boolean) => {
          const other = provider === 'sendgrid' ? 'smtp' : 'sendgrid';
          const result = await emailProviders[provider].sender!.sendEmail(
            {
              ...email,
              recipients: part.map((t) => ({
                recipientId: routingId(t.index, t.attempt),
                email: t.address,
                name: t.name ?? undefined,
                ...(request.receiptLinksExpireAt !== undefined
                  ? {
                      substitutions: {
                        [RECEIPT_LINK_TAG[header.locale as Locale]]: receiptLink(t, request.receiptLinksExpireAt),
                      },
                    }
                  : {}),
              })),
              ...(withCopy && copy ? { copy } : {}),
            },
            provider === primary && configured[other] ? { reachWithinMs } : {},
          );
          if (withCopy && copy) await recordCopySent(tenantId, dispatchId, result.providerMessageId ?? null);
          const byRouting = new Map(part.map((t) => [routingId(t.index, t.attempt), t]));
          await record(
            result.recipients.map((r) => {
              const t = byRouting.get(r.recipientId)!;
              return {
                index: t.index,
                attempt: t.attempt,
                outcome: r.outcome,
                response: r.response ?? null,
                providerMessageId: result.providerMessageId ?? null,
              };
            }),
            result.provider === 'sendgrid' && result.providerMessageId
              ? { id: result.providerMessageId, addresses: new Map(part.map((t) => [t.index, t.address])) }
              : undefined,
          );
        };
        for (const [i, part] of batches.entries()) {
          try {
            await sendPart(primary, part, i === 0);
          } catch (err) {
            const to = emailFailover(primary, emailSendFailure(err), configured);
            if (!to) throw err;
            // Everyone not sent yet goes the other way, recorded first (which provider, why).
            const rest = batches.slice(i).flat();
            await recordFailover(rest, failoverReason(primary, to, (err as Error).message.slice(0, MAX_REASON)));
            for (const other of batchesFor(to, rest)) await sendPart(to, other, false);
            break;
          }
        }
      } else if (todo.length) {
        if (!deps.twilio) throw ApplicationFailure.nonRetryable('no Twilio sender is configured', 'NotConfigured');
        for (const t of todo) {
          const callback = new URL('/webhooks/twilio/status', deps.publicBaseUrl);
          callback.search = new URLSearchParams({
            tenant: tenantId,
            dispatch: dispatchId,
            index: routingId(t.index, t.attempt),
          }).toString();
          try {
            const approved =
              header.channel === 'whatsapp'
                ? deps.whatsappTemplates?.[`${header.template}.${header.locale}`]
                : undefined;
            const dates = approved && {
              fields: templates.datetimeVariables('whatsapp', header.template, header.locale as Locale),
              locale: header.locale as Locale,
              timeZone: String(content.templateData.timeZone),
            };
            const sent = await deps.twilio.sendMessage({
              channel: header.channel as 'sms' | 'whatsapp',
              to: t.address,
              statusCallback: callback.toString(),
              ...(approved
                ? {
                    template: {
                      contentSid: approved.contentSid,
                      variables: contentVariables(approved.variables, content.templateData, dates || undefined),
                    },
                  }
                : { body: content.text }),
            });
            await record([
              {
                index: t.index,
                attempt: t.attempt,
                outcome: 'accepted',
                response: sent.status,
                providerMessageId: sent.providerMessageId,
              },
            ]);
          } catch (err) {
            // One refused number (invalid, unsubscribed …) fails that recipient, not the others.
            if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
            await noteRefusal(db, tenantId, dispatchId, t.address, err);
            await record([
              {
                index: t.index,
                attempt: t.attempt,
                outcome: 'not_sent',
                response: err.message,
                providerMessageId: null,
              },
            ]);
          }
        }
      }
      const outcomes = targets.map((t) => done.get(sendId(t))!);
      // The recipients' history entries of this send, one document per 25 recipients.
      let documents: number[] = [];
      try {
        documents = await writeEventBatch(db, tenantId, dispatchId, batch, [...entries, ...outcomes], now);
      } catch (err) {
        Context.current().log.warn('send entries not written to the histories', {
          dispatchId,
          error: (err as Error).message,
        });
      }
      // The SDK adds workflowId, runId and activity to every line logged through Context.
      Context.current().log.info('dispatch sent', {
        dispatchId,
        accepted: outcomes.filter((o) => o.event === 'accepted').length,
        of: outcomes.length,
      });
      const indexes = (event: string) => outcomes.filter((o) => o.event === event).map((o) => o.index);
      return { batch, documents, accepted: indexes('accepted'), sent: indexes('sent'), notSent: indexes('not_sent') };
    }),

    /**
     * Writes what changed since the last write to the delivery log: the recipients that changed
     * (status, reason) and the event batches now in their histories, one write per document of
     * recipients touched; then the dispatch's result and counts. Guarded by `version`, so a
     * retried or older write changes nothing.
     */
    async projectDispatch(request: ProjectionRequest): Promise<void> {
      const { tenantId, dispatchId, version, dispatch } = request;
      const _id = dispatchKey(tenantId, dispatchId);
      const header = await db.Dispatch.findById(_id, {
        locale: 1,
        sentAt: 1,
        failedSeq: 1,
        stateVersion: 1,
        publishedResult: 1,
        kind: 1,
        document: 1,
        markedSent: 1,
      }).lean();
      if (!header) return;
      const locale = header.locale as Locale;

      // Entries the rules decided are stored here, once (their ids are per recipient attempt), as a batch of this write.
      const at = (ms: number) => new Date(ms);
      const decided: StoredEvent[] = [
        ...request.decided.map((d): StoredEvent => ({
          _id: relaisEventId(tenantId, dispatchId, d.index, d.attempt, d.event),
          tenantId,
          dispatchId,
          index: d.index,
          attempt: d.attempt,
          source: 'relais',
          event: d.event,
          status: d.event === 'refused' ? 'not_sent' : 'unknown',
          at: at(d.at),
          receivedAt: at(d.at),
          position: 0,
          reason: d.event === 'refused' ? (request.refusal ?? '').slice(0, MAX_REASON) : null,
          reasonCode: d.reasonCode ?? (d.event === 'refused' ? 'not_sent_to_server' : 'no_confirmation'),
        })),
        ...(request.final
          ? request.recipients.map((c): StoredEvent => ({
              _id: relaisEventId(tenantId, dispatchId, c.index, c.attempt, 'final'),
              tenantId,
              dispatchId,
              index: c.index,
              attempt: c.attempt,
              source: 'relais',
              event: 'final',
              status: c.status,
              at: at(dispatch.completedAt!),
              receivedAt: at(dispatch.completedAt!),
              position: 0,
              reasonCode: isFailure(c.status) || c.status === 'unknown' ? (c.reasonCode ?? null) : null,
            }))
          : []),
      ];
      const histories = new Map(request.histories.map((h) => [h.document, [...h.batches]]));
      if (decided.length) {
        await insertNew(db.DispatchEvent, decided);
        const batch = `v${version}`;
        for (const document of await writeEventBatch(
          db,
          tenantId,
          dispatchId,
          batch,
          decided,
          at(decided[0].at.getTime()),
        )) {
          histories.set(document, [...(histories.get(document) ?? []), batch]);
        }
      }

      // One update per document of recipients touched.
      const updates = new Map<string, { $set: Record<string, unknown>; $push?: { batches: { $each: string[] } } }>();
      const updateOf = (index: number) => {
        const key = recipientsKey(tenantId, dispatchId, index);
        if (!updates.has(key)) updates.set(key, { $set: { version } });
        return updates.get(key)!;
      };
      for (const [document, batches] of histories)
        updateOf(document * RECIPIENTS_PER_DOCUMENT).$push = { batches: { $each: batches } };
      for (const change of request.recipients) {
        const path = `recipients.${slotOf(change.index)}`;
        Object.assign(updateOf(change.index).$set, {
          [`${path}.status`]: change.status,
          [`${path}.attempt`]: change.attempt,
          [`${path}.opened`]: Boolean(change.opened),
          [`${path}.reasonCode`]: change.reasonCode ?? null,
          [`${path}.plainReason`]: change.reasonCode ? plainReason(change.reasonCode, locale) : null,
          ...(change.sentAt !== undefined ? { [`${path}.sentAt`]: new Date(change.sentAt) } : {}),
          ...(change.address ? { [`${path}.address`]: change.address } : {}),
        });
      }
      if (updates.size) {
        await db.DispatchRecipients.bulkWrite(
          [...updates].map(([key, update]) => ({
            updateOne: { filter: { _id: key, version: { $lt: version } }, update },
          })) as never,
          { ordered: false },
        );
      }

      const attention = await readRecipients(db, tenantId, dispatchId, dispatch.attention);
      const addresses = request.recipients
        .filter((c) => c.address)
        .flatMap((c) => [
          [`recipientAddresses.${c.index}`, c.address!.toLowerCase()],
          ...(c.index < PREVIEW_ADDRESSES ? [[`recipientPreview.${c.index}`, c.address!]] : []),
        ]);
      const placement = await failedPlacement(db, tenantId, dispatch, header);
      const written = await db.Dispatch.updateOne(
        { _id, stateVersion: { $lt: version } },
        {
          ...(Object.keys(placement.$unset).length ? { $unset: placement.$unset } : {}),
          $set: {
            ...placement.$set,
            stateVersion: version,
            result: dispatch.result,
            providerError: dispatch.providerError,
            counts: storedCounts(dispatch.counts),
            opened: dispatch.opened,
            overdueDeferred: dispatch.overdueDeferred ?? 0,
            failures: dispatch.attention.flatMap((index) => {
              const r = attention.get(index);
              return r
                ? [
                    {
                      index,
                      recipientId: r.recipientId,
                      address: r.address,
                      status: r.status,
                      reasonCode: r.reasonCode,
                      plainReason: r.plainReason,
                    },
                  ]
                : [];
            }),
            ...(dispatch.sentAt !== undefined && !header.sentAt ? { sentAt: new Date(dispatch.sentAt) } : {}),
            ...(dispatch.completedAt !== undefined ? { completedAt: new Date(dispatch.completedAt) } : {}),
            ...(dispatch.markedSent
              ? { markedSent: { ...dispatch.markedSent, at: new Date(dispatch.markedSent.at) } }
              : {}),
            ...(dispatch.acknowledgement
              ? {
                  acknowledgement: { requested: true, ...dispatch.acknowledgement },
                }
              : {}),
            ...Object.fromEntries(addresses),
          },
        },
      );
      // The last write of a run (stateVersion guards against counting a retried write twice).
      if (dispatch.completedAt !== undefined && written.modifiedCount === 1)
        metrics.dispatches.inc({ result: dispatch.result });
      // The dashboard counts documents (as the log lists them) from what was just written.
      if (header.kind === 'document') {
        await noteRollupChange(deps.rollups, tenantId, {
          dispatches: [{ dispatchId, parts: [...new Set(request.recipients.map((c) => documentOf(c.index)))] }],
        });
      }
      // dispatch.result_changed, after the write that makes it true; a retry of this write
      // publishes the same event id (once), an older write arriving late publishes nothing.
      const told = (header.publishedResult ?? 'queued') as DispatchResult;
      if ((header.stateVersion ?? 0) <= version && told !== dispatch.result) {
        await publishAll(db, deps.webhooks?.starter, tenantId, [
          {
            type: 'dispatch.result_changed',
            eventId: `dispatch/${dispatchId}/result/${version}`,
            data: {
              dispatchId,
              kind: header.kind,
              document: documentRef(header.document),
              previousResult: told,
              result: dispatch.result,
              recipients: Object.fromEntries(
                Object.entries(dispatch.counts).filter(([, n]) => n !== undefined),
              ) as Record<string, number>,
            },
          },
        ]);
        await db.Dispatch.updateOne({ _id, stateVersion: version }, { $set: { publishedResult: dispatch.result } });
      }
      // Issue 20: after the log (its readers first); a failure here retries the whole write, whose parts above change nothing twice.
      if (request.addressHealth)
        await recordProjectedOutcomes(db, tenantId, dispatchId, request.histories, {
          retried: Context.current().info.attempt > 1,
        });
    },

    /**
     * D3–D6, D9: renders a notice about a dispatch from what MongoDB holds (addresses, reasons in
     * plain words, the raw reasons) and records one dispatch per person and channel. A long list
     * names the first recipients and says how many more.
     */
    async recordDispatchNotice(request: DispatchNoticeRequest): Promise<void> {
      const { tenantId, dispatchId, locale, notice } = request;
      const header = await db.Dispatch.findById(dispatchKey(tenantId, dispatchId), {
        subject: 1,
        document: 1,
        sentAt: 1,
        sender: 1,
        providerError: 1,
        createdAt: 1,
      }).lean();
      if (!header) throw ApplicationFailure.nonRetryable(`dispatch ${dispatchId} is not recorded`, 'NotFound');
      const label = documentLabel(header.document ?? null, header.subject ?? null, locale);
      const listed = async (indexes: number[], limit: number) => {
        const found = await readRecipientsWithHistory(db, tenantId, dispatchId, indexes.slice(0, limit));
        const items = indexes.slice(0, limit).flatMap((i) => {
          const r = found.get(i);
          return r
            ? [
                {
                  address: r.recipient.address,
                  reasonCode: r.recipient.reasonCode,
                  rawReason: rawReason(r.history, r.recipient.attempt),
                },
              ]
            : [];
        });
        return { items, more: Math.max(0, indexes.length - limit), total: indexes.length };
      };
      const failures = (rows: Array<{ address: string; reasonCode?: string | null; rawReason?: string | null }>) =>
        Promise.all(
          rows.map(async (r) => ({
            address: r.address,
            reason: plainReason((r.reasonCode ?? 'unclassified') as ReasonCode, locale),
            nextStep: nextStep((r.reasonCode ?? 'unclassified') as ReasonCode, locale),
            raw: r.rawReason ?? '',
            // Issue 20: the same address failed on other dispatches before (the address-health registry).
            failedBefore: await failedBefore(db, tenantId, r.address, dispatchId).then(
              (b) => b && { since: b.since.toISOString(), times: b.times },
            ),
          })),
        );
      /** D3, issue 20: the recipients still waited for, and how long they were waited for. */
      const pending = async (indexes: number[], limit: number, waitedMs: number) => {
        const p = await listed(indexes, limit);
        return {
          pending: p.items.map((r) => ({ address: r.address })),
          morePending: p.more,
          pendingCount: p.total,
          waited: durationInWords(waitedMs, locale),
        };
      };
      const data = async (limit: number): Promise<Record<string, unknown>> => {
        const common = {
          senderName: request.senderName,
          documentLabel: label,
          subject: header.subject ?? label,
          sentAt: (header.sentAt ?? new Date()).toISOString(),
          dispatchUrl: request.dispatchUrl,
        };
        switch (notice.kind) {
          case 'escalation': {
            const f = await listed(notice.failed, limit);
            return { ...common, failures: await failures(f.items), moreFailures: f.more, failedCount: f.total };
          }
          case 'partial_failure': {
            const [f, d] = await Promise.all([listed(notice.failed, limit), listed(notice.delivered, limit)]);
            return {
              ...common,
              failures: await failures(f.items),
              moreFailures: f.more,
              failedCount: f.total,
              delivered: d.items.map((r) => ({ address: r.address })),
              moreDelivered: d.more,
            };
          }
          case 'delivered_update': {
            const d = await listed(notice.delivered, limit);
            return {
              ...common,
              delivered: d.items.map((r) => ({ address: r.address })),
              moreDelivered: d.more,
              deliveredCount: d.total,
            };
          }
          case 'unknown':
            return { ...common, ...(await pending(notice.pending, limit, request.unknownAfterMs)) };
          case 'deferred': {
            // The provider's latest reply (its 451 answer) is read here, from each recipient's history.
            const f = await listed(notice.deferred, limit);
            const sent = header.sentAt ?? new Date();
            return {
              ...common,
              deferred: await failures(f.items),
              moreDeferred: f.more,
              deferredCount: f.total,
              waited: durationInWords(request.unknownAfterMs, locale),
              tryingUntil: new Date(sent.getTime() + (request.listenForMs ?? 0)).toISOString(),
            };
          }
          case 'unacknowledged':
          case 'acknowledgement_escalation':
            // Issue 20: who has not acknowledged receipt, with how long they had.
            return { ...common, ...(await pending(notice.pending, limit, request.acknowledgeWithinMs ?? 0)) };
          case 'failed': {
            // Nothing went out: every recipient, in order (the first few named); the provider's own answer as it came.
            const r = await listed(
              Array.from({ length: notice.recipientCount }, (_, i) => i),
              limit,
            );
            const created = (header as { createdAt?: Date }).createdAt ?? new Date();
            return {
              ...common,
              sentAt: created.toISOString(),
              recipients: r.items.map((x) => ({ address: x.address })),
              moreRecipients: r.more,
              recipientCount: r.total,
              reason: plainReason(notice.reasonCode, locale),
              nextStep: nextStep(notice.reasonCode, locale),
              raw: header.providerError ?? '',
            };
          }
        }
      };
      const byLimit = new Map<number, Record<string, unknown>>();
      const template = NOTICE_TEMPLATES[notice.kind];
      const tenant = await db.Tenant.findById(tenantId, { name: 1, timeZone: 1 }).lean();
      for (const child of request.children) {
        const limit = child.channel === 'email' ? NOTICE_LIST_LIMIT : MESSAGE_LIST_LIMIT;
        if (!byLimit.has(limit)) byLimit.set(limit, await data(limit));
        await recordNoticeDispatch(
          {
            tenantId,
            dispatchId: child.dispatchId,
            channel: child.channel,
            provider: providerFor(child.channel),
            template,
            locale,
            sender: {
              name: header.sender?.name ?? '',
              email: header.sender?.email ?? '',
              outletId: header.sender?.outletId ?? null,
            },
            recipients: [
              { recipientId: 'r1', address: addressOf(child.person, child.channel), name: child.person.name },
            ],
            parent: request.workflowId,
          },
          {
            ...byLimit.get(limit)!,
            personName: child.person.name,
            tenantName: tenant?.name ?? '',
            timeZone: request.timeZone,
          },
        );
      }
      // D4's escalation, told to the tenant's own system too (once: the id names the escalation's first notice).
      if (notice.kind === 'escalation' && request.children.length) {
        const reasons = await readRecipients(db, tenantId, dispatchId, notice.failed);
        const notified = new Map<string, Set<Channel>>();
        for (const child of request.children)
          notified.set(child.person.name, (notified.get(child.person.name) ?? new Set<Channel>()).add(child.channel));
        await publishAll(db, deps.webhooks?.starter, tenantId, [
          {
            type: 'dispatch.escalated',
            eventId: `dispatch/${dispatchId}/escalated/${request.children[0].dispatchId}`,
            data: {
              dispatchId,
              document: documentRef(header.document),
              failedRecipients: notice.failed.length,
              reasonCodes: [...new Set([...reasons.values()].map((r) => r.reasonCode ?? 'unclassified'))],
              notified: [...notified].map(([name, channels]) => ({ name, channels: [...channels] })),
            },
          },
        ]);
      }
    },

    /** A notice given its template and data (order alerts, O-rules): recorded as its own dispatch. */
    async recordNotice(request: NoticeRecordRequest): Promise<void> {
      await recordNoticeDispatch(
        {
          tenantId: request.tenantId,
          dispatchId: request.dispatchId,
          channel: request.channel,
          provider: providerFor(request.channel),
          template: request.template,
          locale: request.locale,
          sender: request.sender,
          recipients: [
            { recipientId: 'r1', address: addressOf(request.person, request.channel), name: request.person.name },
          ],
          parent: request.parent,
        },
        {
          ...request.data,
          ...(request.confirmation ? await confirmationData(request.tenantId, request.confirmation) : {}),
          tenantName: request.tenantName,
          timeZone: request.timeZone,
        },
      );
    },

    /**
     * Issue 20: a recipient acknowledged receipt: who (the address its link was sent to, the name
     * typed), when and the note, on the recipient and as an entry of its history; then the tenant's
     * systems are told (`dispatch.acknowledged`). A retried activity writes and publishes the same.
     */
    async recordAcknowledgement(request: AcknowledgementRecord): Promise<void> {
      const { tenantId, dispatchId, index, attempt } = request;
      const header = await db.Dispatch.findById(dispatchKey(tenantId, dispatchId), { document: 1 }).lean();
      const recipient = (await readRecipients(db, tenantId, dispatchId, [index])).get(index);
      if (!header || !recipient)
        throw ApplicationFailure.nonRetryable(`dispatch ${dispatchId} has no recipient ${index}`, 'NotFound');
      const at = new Date(request.at);
      const acknowledged = {
        at,
        by: recipient.address,
        name: request.name,
        deliveryDate: request.deliveryDate,
        note: request.note,
        attempt,
      };
      const entry: StoredEvent = {
        _id: relaisEventId(tenantId, dispatchId, index, attempt, 'acknowledged'),
        tenantId,
        dispatchId,
        index,
        attempt,
        source: 'relais',
        event: 'acknowledged',
        status: null,
        at,
        receivedAt: at,
        position: 0,
        reason: acknowledgementWords(acknowledged),
      };
      const batch = `ack-${index}.${attempt}`;
      await insertNew(db.DispatchEvent, [entry]);
      await writeEventBatch(db, tenantId, dispatchId, batch, [entry], at);
      await db.DispatchRecipients.updateOne(
        { _id: recipientsKey(tenantId, dispatchId, index) },
        { $set: { [`recipients.${slotOf(index)}.acknowledged`]: acknowledged }, $addToSet: { batches: batch } },
      );
      await publishAll(db, deps.webhooks?.starter, tenantId, [
        {
          type: 'dispatch.acknowledged',
          eventId: `dispatch/${dispatchId}/acknowledged/${index}`,
          data: {
            dispatchId,
            document: documentRef(header.document),
            recipientId: recipient.recipientId,
            address: recipient.address,
            acknowledgedAt: at.toISOString(),
            note: acknowledgementNote(acknowledged),
          },
        },
      ]);
    },

    /**
     * D8: the document re-sent over SMS/WhatsApp as a signed, expiring link, recorded as its own
     * dispatch, and noted on the dispatch it comes from. The link is signed here: it never enters
     * a workflow's history.
     */
    async recordDocumentLink(request: DocumentLinkRequest): Promise<{ expiresAt: string }> {
      const { tenantId, dispatchId } = request;
      const header = await db.Dispatch.findById(dispatchKey(tenantId, dispatchId), {
        document: 1,
        subject: 1,
        locale: 1,
        sender: 1,
        resentVia: 1,
      }).lean();
      if (!header) throw ApplicationFailure.nonRetryable(`dispatch ${dispatchId} is not recorded`, 'NotFound');
      const existing = await db.Dispatch.findById(dispatchKey(tenantId, request.childId), { createdAt: 1 }).lean();
      // A retried activity keeps the expiry it first gave (the link's expiry is in the recorded copy).
      const exp = (existing ? (existing as { createdAt: Date }).createdAt.getTime() : Date.now()) + request.ttlMs;
      const tenant = await db.Tenant.findById(tenantId, { name: 1, timeZone: 1 }).lean();
      const locale = header.locale as Locale;
      const link = new URL(
        `/d/${signLink(deps.linkSecret, { kind: 'document', tenantId, target: dispatchId, exp })}`,
        deps.publicBaseUrl,
      ).toString();
      const expiresAt = new Date(exp).toISOString();
      await recordNoticeDispatch(
        {
          tenantId,
          dispatchId: request.childId,
          kind: 'document',
          channel: request.channel,
          provider: 'twilio',
          template: 'document_link',
          locale,
          document: header.document?.type ? { type: header.document.type, number: header.document.number! } : null,
          sender: {
            name: header.sender?.name ?? '',
            email: header.sender?.email ?? '',
            outletId: header.sender?.outletId ?? null,
          },
          recipients: [{ recipientId: 'r1', address: request.phone, name: null }],
          parent: request.workflowId,
        },
        {
          companyName: tenant?.name ?? '',
          documentLabel: documentLabel(header.document ?? null, null, locale),
          link,
          expiresAt,
          tenantName: tenant?.name ?? '',
          timeZone: tenant?.timeZone ?? 'UTC',
        },
      );
      if (!header.resentVia.some((r) => r.dispatchId === request.childId)) {
        await db.Dispatch.updateOne(
          { _id: dispatchKey(tenantId, dispatchId) },
          {
            $push: {
              resentVia: {
                dispatchId: request.childId,
                channel: request.channel,
                address: request.phone,
                at: new Date(),
                requestedBy: request.requestedBy,
              },
            },
          },
        );
      }
      return { expiresAt };
    },
  };
}
