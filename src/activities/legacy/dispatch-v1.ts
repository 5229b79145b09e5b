// FROZEN: the activities of the first version of the dispatch workflow (src/workflows/legacy/
// dispatch-v1.ts), under the names its histories schedule (prepareDispatch, sendDispatch,
// saveDispatchState), writing records of the first version's shape (LegacyDispatch). They run
// only for dispatches that version started; docs/deploy.md says when they can be deleted.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { metrics } from '../../metrics';
import { nextNumber } from '../../db/models';
import { failedPlacement, logPageOf } from '../../db/dispatch-log';
import type { DispatchInput, DispatchState } from '../../domain/legacy/dispatch-v1';
import { plainReason, type Locale } from '../../domain/reasons';
import { ROUTING_ARGS, type RecipientSendOutcome } from '../../providers/types';
import { contentVariables, retryByFailingTime, sendableContent, type ActivityDeps } from '../deps';
import { sealedCopy, type MessageContent } from '../../sealed';
import { dispatchWorkflowId } from '../../workflows/dispatch/contract';

export interface SendRequest {
  tenantId: string;
  dispatchId: string;
  recipients: Array<{ routingId: string; address: string; name: string | null }>;
}

export interface SendResult {
  sentAt: string;
  providerMessageId: string | null;
  recipients: Array<{ routingId: string; outcome: RecipientSendOutcome; response?: string }>;
}

interface SendLogEntry {
  routingId: string;
  providerMessageId: string | null;
  outcome: RecipientSendOutcome;
  response: string | null;
  at: Date;
}

/** Notices that are an escalation (D4) or the 30-minute rule firing (D3), counted once, when recorded. */
function countNotice(input: DispatchInput): void {
  if (input.kind !== 'notification') return;
  if (input.template === 'dispatch_escalation') metrics.escalations.inc({ channel: input.channel });
  if (input.template === 'dispatch_unknown') metrics.timerRuleFirings.inc({ rule: 'D3' });
}

export function createLegacyDispatchActivities(deps: ActivityDeps) {
  const { db, templates } = deps;

  return {
    /** Renders the message once and records the dispatch with a copy of what is sent (D11). Idempotent. */
    async prepareDispatch(input: DispatchInput): Promise<{ number: number; subject: string | null }> {
      const existing = await db.LegacyDispatch.findOne(
        { tenantId: input.tenantId, dispatchId: input.dispatchId },
        { number: 1, subject: 1 },
      ).lean();
      if (existing) return { number: existing.number, subject: existing.subject ?? null };
      // The notice templates now end long lists with "and N more" (issue 15); this version lists everyone.
      // Issue 20: the first version's failures carry no `failedBefore` (its notices say nothing of earlier failures).
      const failures = (input.data as { failures?: unknown }).failures;
      const context = {
        moreFailures: 0,
        moreDelivered: 0,
        morePending: 0,
        // Documents now may carry a receipt link (issue 20); this version never asks for one.
        acknowledgeLink: null,
        ...input.data,
        tenantName: input.tenantName,
        timeZone: input.timeZone,
        ...(Array.isArray(failures) ? { failures: failures.map((f: object) => ({ failedBefore: null, ...f })) } : {}),
      };
      const render = (data: Record<string, unknown>): MessageContent => {
        try {
          return input.channel === 'email'
            ? { ...templates.renderEmail(input.template, input.locale, data), templateData: data }
            : {
                subject: null,
                html: null,
                text: templates.renderMessage(input.channel, input.template, input.locale, data),
                templateData: data,
              };
        } catch (err) {
          throw ApplicationFailure.nonRetryable((err as Error).message, 'TemplateError');
        }
      };
      // D11: the copy people read. A customer's link or reply code is withheld from it, and what is
      // really sent is kept sealed for sendDispatch (src/domain/secrets.ts, src/sealed.ts).
      const { copy, sealed } = sealedCopy(
        deps.linkSecret,
        `${input.tenantId}/${input.dispatchId}`,
        input.template,
        input.locale,
        context,
        render,
      );
      const number = await nextNumber(db, `dispatch:${input.tenantId}`);
      try {
        await db.LegacyDispatch.create({
          tenantId: input.tenantId,
          dispatchId: input.dispatchId,
          workflowId: dispatchWorkflowId(input.tenantId, input.dispatchId),
          number,
          logPage: logPageOf(number),
          kind: input.kind,
          channel: input.channel,
          provider: input.provider,
          template: input.template,
          locale: input.locale,
          document: input.document ?? { type: null, number: null },
          sender: { name: input.sender.name, email: input.sender.email, outletId: input.sender.outletId },
          requestedBy: input.requestedBy,
          ...copy,
          sealed,
          attachments: (input.attachments ?? []).map((a) => a.filename),
          recipients: input.recipients.map((r) => ({
            recipientId: r.recipientId,
            address: r.address,
            name: r.name,
            status: 'queued',
            history: [],
          })),
          recipientAddresses: input.recipients.map((r) => r.address.toLowerCase()),
          result: 'queued',
          parent: input.parentWorkflowId,
        });
        countNotice(input);
        return { number, subject: copy.subject };
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
        const raced = await db.LegacyDispatch.findOne(
          { tenantId: input.tenantId, dispatchId: input.dispatchId },
          { number: 1, subject: 1 },
        ).lean();
        return { number: raced!.number, subject: raced!.subject ?? null };
      }
    },

    /**
     * Sends the recorded message to the given recipients. Each provider acceptance is written to
     * the dispatch before returning, and a retry skips what is already written (rule N4): a
     * duplicate is possible only if the worker dies between the provider's answer and that write.
     */
    sendDispatch: retryByFailingTime(async (request: SendRequest): Promise<SendResult> => {
      const doc = await db.LegacyDispatch.findOne({ tenantId: request.tenantId, dispatchId: request.dispatchId })
        .select('+sealed')
        .lean();
      if (!doc) throw ApplicationFailure.nonRetryable(`dispatch ${request.dispatchId} is not recorded`, 'NotFound');
      const content = sendableContent(deps, `${request.tenantId}/${request.dispatchId}`, doc);
      const done = new Map((doc.sendLog as SendLogEntry[]).map((e) => [e.routingId, e]));
      const todo = request.recipients.filter((r) => !done.has(r.routingId));
      const record = async (entries: SendLogEntry[]) => {
        entries.forEach((e) => done.set(e.routingId, e));
        if (!entries.length) return;
        try {
          await db.LegacyDispatch.updateOne(
            { _id: doc._id },
            { $push: { sendLog: { $each: entries } }, $set: { sentAt: doc.sentAt ?? entries[0].at } },
          );
        } catch (err) {
          // The provider has taken these: failing the activity now would make its retry send them
          // again (N4). The activity's result, kept in the workflow's history, is the durable record;
          // the delivery log gets the recipients' state from the workflow's next projection write.
          // Lost: only the send log (no top-level sentAt, no message-id fallback for async bounces).
          Context.current().log.warn('send taken by the provider but not written to the send log', {
            dispatchId: request.dispatchId,
            recipients: entries.length,
            error: (err as Error).message,
          });
        }
      };

      const customArgs = { [ROUTING_ARGS.tenant]: request.tenantId, [ROUTING_ARGS.dispatch]: request.dispatchId };
      if (todo.length && doc.channel === 'email') {
        const sender = doc.provider === 'smtp' ? deps.smtp : deps.sendgrid;
        if (!sender) throw ApplicationFailure.nonRetryable(`no ${doc.provider} sender is configured`, 'NotConfigured');
        const tenant = await db.Tenant.findById(request.tenantId).lean();
        const attachments = await db.Attachment.find({ tenantId: request.tenantId, dispatchId: request.dispatchId })
          .sort({ index: 1 })
          .lean();
        const email = {
          attachments: attachments.map((a) => ({
            filename: a.filename,
            contentType: a.contentType,
            contentBase64: Buffer.from(a.content.buffer ?? a.content).toString('base64'),
          })),
          from: {
            email: tenant?.emailFrom?.email ?? deps.emailFrom,
            name: doc.sender?.name ?? tenant?.name ?? undefined,
          },
          replyTo: doc.sender?.email ? { email: doc.sender.email, name: doc.sender.name ?? undefined } : undefined,
          subject: content.subject ?? '',
          html: content.html ?? '',
          text: content.text ?? '',
          categories: [doc.kind, doc.template],
          customArgs,
        };
        // SendGrid takes the whole list in one request; an SMTP server answers per message, so
        // each recipient is recorded as soon as it is handed over and a retry resumes after it.
        const batches = doc.provider === 'smtp' ? todo.map((r) => [r]) : [todo];
        for (const batch of batches) {
          const result = await sender.sendEmail({
            ...email,
            recipients: batch.map((r) => ({ recipientId: r.routingId, email: r.address, name: r.name ?? undefined })),
          });
          const at = new Date();
          await record(
            result.recipients.map((r) => ({
              routingId: r.recipientId,
              providerMessageId: result.providerMessageId ?? null,
              outcome: r.outcome,
              response: r.response ?? null,
              at,
            })),
          );
        }
      } else if (todo.length) {
        if (!deps.twilio) throw ApplicationFailure.nonRetryable('no Twilio sender is configured', 'NotConfigured');
        for (const r of todo) {
          const callback = new URL('/webhooks/twilio/status', deps.publicBaseUrl);
          callback.search = new URLSearchParams({
            tenant: request.tenantId,
            dispatch: request.dispatchId,
            recipient: r.routingId,
          }).toString();
          let entry: SendLogEntry;
          try {
            const approved =
              doc.channel === 'whatsapp' ? deps.whatsappTemplates?.[`${doc.template}.${doc.locale}`] : undefined;
            const dates = approved && {
              fields: templates.datetimeVariables('whatsapp', doc.template!, doc.locale as Locale),
              locale: doc.locale as Locale,
              timeZone: String(content.templateData.timeZone),
            };
            const sent = await deps.twilio.sendMessage({
              channel: doc.channel as 'sms' | 'whatsapp',
              to: r.address,
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
            entry = {
              routingId: r.routingId,
              providerMessageId: sent.providerMessageId,
              outcome: 'accepted',
              response: sent.status,
              at: new Date(),
            };
          } catch (err) {
            // One refused number (invalid, unsubscribed …) fails that recipient, not the others.
            if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
            entry = {
              routingId: r.routingId,
              providerMessageId: null,
              outcome: 'not_sent',
              response: err.message,
              at: new Date(),
            };
          }
          await record([entry]);
        }
      }
      const entries = request.recipients.map((r) => done.get(r.routingId)!);
      // The SDK adds workflowId, runId and activity to every line logged through Context.
      Context.current().log.info('dispatch sent', {
        dispatchId: request.dispatchId,
        accepted: entries.filter((e) => e.outcome === 'accepted').length,
        of: entries.length,
      });
      return {
        sentAt: entries.reduce((min, e) => (e.at < min ? e.at : min), entries[0].at).toISOString(),
        providerMessageId: entries[0].providerMessageId,
        recipients: entries.map((e) => ({
          routingId: e.routingId,
          outcome: e.outcome,
          response: e.response ?? undefined,
        })),
      };
    }),

    /** Writes the workflow's state to the delivery log; an older state never overwrites a newer one. */
    async saveDispatchState(request: {
      tenantId: string;
      dispatchId: string;
      locale: Locale;
      state: Omit<DispatchState, 'seen'>;
    }): Promise<void> {
      const { state, locale } = request;
      const current = await db.LegacyDispatch.findOne(
        { tenantId: request.tenantId, dispatchId: request.dispatchId },
        { failedSeq: 1, markedSent: 1 },
      ).lean();
      const placement = await failedPlacement(db, request.tenantId, state, current ?? {});
      const written = await db.LegacyDispatch.updateOne(
        { tenantId: request.tenantId, dispatchId: request.dispatchId, stateVersion: { $lt: state.version } },
        {
          ...(Object.keys(placement.$unset).length ? { $unset: placement.$unset } : {}),
          $set: {
            ...placement.$set,
            stateVersion: state.version,
            result: state.result,
            providerError: state.providerError,
            resentVia: state.resentVia.map((r) => ({ ...r, at: new Date(r.at) })),
            ...(state.markedSent ? { markedSent: { ...state.markedSent, at: new Date(state.markedSent.at) } } : {}),
            completedAt: state.completedAt ? new Date(state.completedAt) : null,
            recipientAddresses: state.recipients.map((r) => r.address.toLowerCase()),
            recipients: state.recipients.map((r) => ({
              recipientId: r.recipientId,
              address: r.address,
              name: r.name,
              status: r.status,
              opened: r.opened,
              attempt: r.attempt,
              reasonCode: r.reasonCode,
              rawReason: r.rawReason,
              providerMessageId: r.providerMessageId,
              plainReason: r.reasonCode ? plainReason(r.reasonCode, locale) : null,
              history: r.history.map((h) => ({
                ...h,
                at: new Date(h.at),
                plainReason: h.reasonCode ? plainReason(h.reasonCode, locale) : null,
              })),
            })),
          },
        },
      );
      // The last write of a run (stateVersion guards against counting a retried write twice).
      if (state.completedAt && written.modifiedCount === 1) metrics.dispatches.inc({ result: state.result });
    },
  };
}
