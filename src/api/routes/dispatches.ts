// /v1/dispatches: send a document to recipients (D1), read the delivery log (L1–L4),
// resend a recipient (D8), mark a document sent by hand (D11).
import type { FastifyInstance } from 'fastify';
import type { ZodRequestTypes } from '../openapi';
import { z } from 'zod';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ApiDeps } from '../deps';
import { apiErrors, authenticated, browserRedirect, browsersToPage, requireRole } from '../auth';
import type { ApiLimits } from '../limits';
import { ApiError, unprocessable } from '../errors';
import {
  createDispatchSchema,
  DATA_LIMITS,
  duplicateRecipient,
  listDispatchesQuery,
  markSentSchema,
  resendSchema,
  resendViaSchema,
} from '../schemas';
import {
  DISPATCH_WORKFLOW,
  dispatchWorkflowId,
  type DispatchInput,
  type DispatchWorkflow,
} from '../../workflows/dispatch/contract';
import type { Person } from '../../domain/dispatch';
import type { Locale } from '../../domain/locale';
import { RECIPIENT_STATUSES } from '../../domain/dispatch-status';
import { acknowledgementPolicyMs, policyMs } from '../../domain/durations';
import { carriesSecrets, RECEIPT_LINK_TAG } from '../../domain/secrets';
import { sealedCopy } from '../../sealed';
import { TemplateError } from '../../templates';
import { dispatchPagePath, pageUrl } from '../../ui/paths';
import { differingFields, fingerprint, type Fingerprint } from '../fingerprint';
import { discardRecord, dispatchKey, recordDispatch } from '../../db/dispatch-records';
import { listDispatches, markSent, readDispatch, resendRecipient, resendVia } from '../../app/dispatches';
import { checkKnownBad } from '../../app/address-health';
import { DEFAULT_RECIPIENTS_PAGE, MAX_RECIPIENTS_PAGE } from '../dispatch-views';

const dispatchParams = z.object({ id: z.string().min(1).describe('the dispatchId given on creation') });
const recipientPageQuery = z.object({
  recipientsCursor: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('position of the first recipient to return (nextRecipientsCursor of the previous page)'),
  recipientsLimit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_RECIPIENTS_PAGE)
    .default(DEFAULT_RECIPIENTS_PAGE)
    .describe('recipients per page'),
  recipientsStatus: z
    .enum(RECIPIENT_STATUSES)
    .optional()
    .describe('only the recipients with this status (the counts say how many); the cursor is still a position'),
});
const accepted = z.object({
  dispatchId: z.string(),
  workflowId: z.string(),
  created: z.boolean(),
  warnings: z.array(z.object({ field: z.string(), message: z.string() })),
});
const recipientView = z
  .object({
    recipientId: z.string(),
    address: z.string(),
    status: z.string(),
    acknowledged: z
      .object({
        at: z.string().describe('ISO 8601, UTC'),
        by: z.string().describe('the address the receipt link was sent to'),
        name: z.string().nullable().describe('the name the person typed'),
        deliveryDate: z.string().nullable().describe('purchase orders: the delivery day they gave (YYYY-MM-DD)'),
        note: z.string().nullable(),
      })
      .nullable()
      .optional()
      .describe('issue 20: the recipient confirmed receipt through its link; beside `status`, which it never changes'),
  })
  .loose();
const acknowledgementView = z
  .object({ requested: z.boolean(), acknowledged: z.number().int(), awaiting: z.number().int() })
  .nullable()
  .optional()
  .describe(
    'issue 20: the dispatch asked each recipient to acknowledge receipt: how many did, how many still owe it (sent and not failed); null when it did not ask',
  );
const dispatchViewSchema = z
  .object({
    dispatchId: z.string(),
    tenantId: z.string(),
    result: z.string(),
    recipientCount: z.number().int(),
    recipients: z.array(recipientView),
    acknowledgement: acknowledgementView,
    nextRecipientsCursor: z.number().int().nullable(),
    filteredRecipients: z
      .object({ status: z.string(), count: z.number().int(), first: z.number().int() })
      .optional()
      .describe(
        'with recipientsStatus: how many recipients have that status, and the rank (from 1) of the first on this page among them',
      ),
  })
  .loose();
const tags = ['dispatches'];

export async function dispatchRoutes(scope: FastifyInstance, deps: ApiDeps, limits: ApiLimits) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const { db, temporal, templates } = deps;
  const canWrite = requireRole(deps, 'dispatch:write');
  const canRead = requireRole(deps, 'log:read');

  app.post(
    '/v1/dispatches',
    {
      onRequest: canWrite,
      bodyLimit: limits.dispatchBodyLimitBytes,
      schema: {
        tags,
        ...authenticated,
        summary: 'Email a document to 1..1000 recipients (D1); idempotent on dispatchId',
        body: createDispatchSchema,
        response: {
          200: accepted.describe('already accepted earlier (same dispatchId, same body)'),
          202: accepted.describe('accepted; the dispatch workflow has started'),
          ...apiErrors(409, 413, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId!;
      const body = request.body;
      const dataBytes = Buffer.byteLength(JSON.stringify(body.data));
      if (dataBytes > DATA_LIMITS.bytes) {
        const message = `data is ${dataBytes} bytes as JSON; at most ${DATA_LIMITS.bytes} (keep documents in attachments, not in template data)`;
        throw new ApiError(413, 'payload_too_large', message, [
          { field: 'data', message, value: null, limitBytes: DATA_LIMITS.bytes, sizeBytes: dataBytes },
        ]);
      }
      const duplicate = duplicateRecipient(body.recipients);
      if (duplicate)
        throw unprocessable(
          `duplicate of recipients.${duplicate.first}.email`,
          `recipients.${duplicate.index}.email`,
          body.recipients[duplicate.index].email,
        );
      const tenant = await db.Tenant.findById(tenantId).lean();
      if (!tenant) throw new ApiError(403, 'forbidden', 'this key belongs to no tenant');

      let escalateTo: Person[] = [body.sender];
      if (body.sender.outletId) {
        const outlet = tenant.outlets.find((o) => o.id === body.sender.outletId);
        if (!outlet)
          throw unprocessable(
            `no outlet "${body.sender.outletId}" in this tenant`,
            'sender.outletId',
            body.sender.outletId,
          );
        const pm = outlet.purchasingManager;
        if (pm.email.toLowerCase() !== body.sender.email.toLowerCase()) {
          escalateTo = [
            ...escalateTo,
            {
              name: pm.name,
              email: pm.email,
              phone: pm.phone ?? null,
              smsOptIn: pm.smsOptIn,
              whatsappOptIn: pm.whatsappOptIn,
            },
          ];
        }
      }
      const locale = body.locale ?? (tenant.locale as Locale);
      // Issue 20: asked by the dispatch, or by the tenant for this type of document.
      const acknowledge = body.acknowledge ?? (tenant.acknowledgeDocuments ?? []).includes(body.document.type);
      // Rendering now turns an unknown template or a missing variable into a 400, before anything starts.
      // The receipt link is a placeholder here (never the caller's): each recipient's own replaces it when sent.
      const templateData = {
        ...body.data,
        tenantName: tenant.name,
        timeZone: tenant.timeZone,
        acknowledgeLink: acknowledge ? RECEIPT_LINK_TAG[locale] : null,
      };
      if (acknowledge && !deps.linkSecret)
        throw new ApiError(
          503,
          'not_configured',
          'receipt acknowledgement sends signed links, and LINK_SECRET is not set',
        );
      if (carriesSecrets(body.template) && !deps.linkSecret) {
        throw new ApiError(
          503,
          'not_configured',
          `template ${body.template} carries a customer's link or code, kept sealed under LINK_SECRET, which is not set`,
        );
      }
      let recordedCopy: ReturnType<typeof sealedCopy>;
      try {
        // D11: the copy people read; a customer's link or code in it is withheld, and what is sent kept sealed (src/sealed.ts).
        recordedCopy = sealedCopy(
          deps.linkSecret ?? '',
          dispatchKey(tenantId, body.dispatchId),
          body.template,
          locale,
          templateData,
          (data) => ({ ...templates.renderEmail(body.template, locale, data), templateData: data }),
        );
      } catch (err) {
        if (err instanceof TemplateError)
          throw unprocessable(
            err.message,
            err.field ?? 'template',
            err.code === 'template_not_found' ? body.template : undefined,
          );
        throw err;
      }

      // D8: an address corrected on an earlier resend is pointed out (not silently rewritten).
      const corrections = await db.ContactCorrection.find({
        tenantId,
        from: { $in: body.recipients.map((r) => r.email.toLowerCase()) },
      })
        .sort({ at: -1 })
        .lean();
      const warnings = body.recipients.flatMap((r, i) => {
        const c = corrections.find((x) => x.from === r.email.toLowerCase());
        return c
          ? [
              {
                field: `recipients.${i}.email`,
                message: `${r.email} was corrected to ${c.to} on ${c.at.toISOString()}`,
              },
            ]
          : [];
      });

      // Issue 20: an address the registry knows bad is pointed out, or refused (422) by the tenant's policy
      // (not on a retry of a request already accepted: that one answers as it did).
      const retried = Boolean(await db.Dispatch.exists({ _id: dispatchKey(tenantId, body.dispatchId) }));
      warnings.push(
        ...(await checkKnownBad(
          db,
          tenantId,
          body.recipients.map((r, i) => ({
            field: `recipients.${i}.email`,
            address: r.email,
            channel: 'email' as const,
          })),
          !retried,
        )),
      );
      const copy = copyToSender(acknowledge, body, tenant.copyToSender ?? null, warnings);
      // Refused before anything is stored (after the request's own contradictions, such as a copy over SMTP): accepted, it could only fail at the send and escalate (D9).
      if (body.provider === 'smtp' && !deps.smtpConfigured)
        throw unprocessable(
          'provider: no SMTP server is configured on this deployment (SMTP_URL): send through SendGrid, or ask the operator to set one',
          'provider',
          'smtp',
        );
      const workflowId = dispatchWorkflowId(tenantId, body.dispatchId);
      // Stored before the workflow starts, keyed by position: a retried request rewrites the same documents.
      const stored = await Promise.all(
        body.attachments.map((a, index) =>
          db.Attachment.updateOne(
            { _id: `${tenantId}/${body.dispatchId}/${index}` },
            {
              $setOnInsert: {
                tenantId,
                dispatchId: body.dispatchId,
                index,
                filename: a.filename,
                contentType: a.contentType,
                content: Buffer.from(a.contentBase64, 'base64'),
              },
            },
            { upsert: true },
          ),
        ),
      );
      const sent = fingerprint(body, 'dispatchId');
      /** Another body under a used id is refused naming what differs; attachments this request added beside it are not its own. */
      const refuseIfDifferent = async (accepted: Fingerprint | null | undefined) => {
        const differs = accepted ? differingFields(accepted, sent) : [];
        if (!differs.length) return;
        await Promise.all(
          stored.map((r, index) =>
            r.upsertedCount ? db.Attachment.deleteOne({ _id: `${tenantId}/${body.dispatchId}/${index}` }) : undefined,
          ),
        );
        throw new ApiError(
          409,
          'dispatch_exists',
          `dispatch ${body.dispatchId} exists with another ${differs.join(', ')}: send it again as it was, or use a new dispatchId`,
          differs.map((field) => ({
            field,
            message: 'differs from the request accepted under this dispatchId',
            value: null,
          })),
        );
      };
      /** A dispatch of the first version of the workflow under this id: its request is in its workflow's memo (none before requests were fingerprinted: taken as the same). */
      const firstVersion = async () => {
        await refuseIfDifferent(
          (await temporal.workflow.getHandle(workflowId).describe()).memo?.request as Fingerprint | undefined,
        );
        return reply.status(200).send({ dispatchId: body.dispatchId, workflowId, created: false, warnings });
      };
      // The dispatch is recorded before its workflow starts, which then carries ids only. A retried
      // request finds the record (the same request, or 409) and starts the workflow if the first did not get that far.
      const recorded = await recordDispatch(db, {
        tenantId,
        dispatchId: body.dispatchId,
        kind: 'document',
        channel: 'email',
        provider: body.provider ?? 'sendgrid',
        template: body.template,
        locale,
        document: body.document,
        sender: { name: body.sender.name, email: body.sender.email, outletId: body.sender.outletId },
        requestedBy: request.principal!.keyId,
        content: recordedCopy.copy,
        sealed: recordedCopy.sealed,
        attachments: body.attachments.map((a) => a.filename),
        recipients: body.recipients.map((r, i) => ({
          recipientId: r.id ?? `r${i + 1}`,
          address: r.email,
          name: r.name,
        })),
        parent: null,
        request: sent,
        copy,
        acknowledge,
      });
      if (recorded.outcome === 'legacy') return firstVersion();
      if (recorded.outcome === 'existing') await refuseIfDifferent(recorded.request);
      const { unknownAfterMs, listenForMs } = policyMs(tenant.policies);
      const input: DispatchInput = {
        tenantId,
        dispatchId: body.dispatchId,
        kind: 'document',
        channel: 'email',
        provider: body.provider ?? 'sendgrid',
        template: body.template,
        locale,
        timeZone: tenant.timeZone,
        document: body.document,
        sender: body.sender,
        escalateTo,
        recipientCount: body.recipients.length,
        policy: { unknownAfterMs, listenForMs, ...(acknowledge ? acknowledgementPolicyMs(tenant.policies) : {}) },
        ...(acknowledge ? { acknowledge: true as const } : {}),
        // Notices link to the operator page (sign-in leads back to it), not to this JSON API.
        dispatchUrl: pageUrl(deps.publicBaseUrl, dispatchPagePath(body.dispatchId)),
        parentWorkflowId: null,
      };
      try {
        await temporal.workflow.start<DispatchWorkflow>(DISPATCH_WORKFLOW, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // Recorded just now, yet its workflow runs: the first version started it (and records it itself).
        if (recorded.outcome === 'created') {
          await discardRecord(db, tenantId, body.dispatchId);
          return firstVersion();
        }
        // Idempotent on dispatchId: the platform may retry a request whose answer it lost.
        return reply.status(200).send({ dispatchId: body.dispatchId, workflowId, created: false, warnings });
      }
      return reply.status(202).send({ dispatchId: body.dispatchId, workflowId, created: true, warnings });
    },
  );

  app.get(
    '/v1/dispatches',
    {
      onRequest: canRead,
      schema: {
        tags,
        ...authenticated,
        summary: 'The delivery log (L1): failed dispatches unless result=all, newest first',
        querystring: listDispatchesQuery,
        response: {
          200: z.object({
            dispatches: z.array(z.object({ dispatchId: z.string(), number: z.number(), result: z.string() }).loose()),
            nextCursor: z.number().nullable(),
          }),
          ...apiErrors(),
        },
      },
    },
    async (request) => listDispatches(db, request.principal!.tenantId!, request.query),
  );

  app.get(
    '/v1/dispatches/:id',
    {
      onRequest: [browsersToPage(dispatchPagePath), canRead],
      schema: {
        tags,
        ...authenticated,
        summary: 'One dispatch with a page of its recipients (by position) and their status histories (L2)',
        params: dispatchParams,
        querystring: recipientPageQuery,
        response: { 200: dispatchViewSchema, ...browserRedirect, ...apiErrors(404) },
      },
    },
    async (request) =>
      readDispatch(deps, request.principal!.tenantId!, request.params.id, {
        from: request.query.recipientsCursor,
        limit: request.query.recipientsLimit,
        status: request.query.recipientsStatus,
      }),
  );

  app.post(
    '/v1/dispatches/:id/recipients/:rid/resend',
    {
      onRequest: canWrite,
      schema: {
        tags,
        ...authenticated,
        summary:
          'Resend a recipient as a new attempt (D8): a failed one to a corrected address, a delivered one again to the same address or another',
        params: dispatchParams.extend({ rid: z.string().min(1).describe('recipientId') }),
        body: resendSchema,
        response: { 200: z.object({ recipient: recipientView }), ...apiErrors(404, 409) },
      },
    },
    async (request) => resendRecipient(deps, request.principal!, request.params.id, request.params.rid, request.body),
  );

  app.post(
    '/v1/dispatches/:id/resend-via',
    {
      onRequest: canWrite,
      schema: {
        tags,
        ...authenticated,
        summary: 'Re-send the document over SMS or WhatsApp as a signed link (D8)',
        params: dispatchParams,
        body: resendViaSchema,
        response: { 202: z.object({}).loose(), ...apiErrors(404, 409) },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await resendVia(deps, request.principal!, request.params.id, request.body)),
  );

  app.post(
    '/v1/dispatches/:id/mark-sent',
    {
      onRequest: canWrite,
      schema: {
        tags,
        ...authenticated,
        summary:
          'Record a document as sent by other means (D11): the day or moment, by whom; a failed one leaves the failed-only log',
        params: dispatchParams,
        body: markSentSchema,
        response: {
          200: z.object({
            dispatchId: z.string(),
            markedSent: z.object({ by: z.string(), at: z.string(), note: z.string(), on: z.string().optional() }),
          }),
          ...apiErrors(404, 422),
        },
      },
    },
    async (request) => markSent(deps, request.principal!, request.params.id, request.body),
  );
}

/**
 * Issue 17: whether the sender gets a copy (cc or bcc) of the first recipient's email: the request's
 * choice, else the tenant's default. SendGrid takes each address once per request and 1000 in all
 * (cc and bcc included), and an SMTP server's own copy is the tenant's (its Sent folder): asked for
 * explicitly where it cannot be, it is refused naming the field; by the tenant's default, it is left
 * out with a warning.
 */
function copyToSender(
  acknowledge: boolean,
  body: {
    copyToSender?: 'cc' | 'bcc' | null;
    provider?: 'sendgrid' | 'smtp';
    sender: { email: string };
    recipients: Array<{ email: string }>;
  },
  tenantDefault: 'cc' | 'bcc' | null,
  warnings: Array<{ field: string; message: string }>,
): { mode: 'cc' | 'bcc'; address: string } | null {
  const mode = body.copyToSender === undefined ? tenantDefault : body.copyToSender;
  if (!mode) return null;
  const address = body.sender.email;
  const problem = acknowledge
    ? "the copy would carry the first recipient's own receipt link: no copy to the sender when recipients acknowledge receipt"
    : (body.provider ?? 'sendgrid') !== 'sendgrid'
      ? 'a copy to the sender is sent through SendGrid only (an SMTP server keeps its own copy)'
      : body.recipients.some((r) => r.email.toLowerCase() === address.toLowerCase())
        ? `the sender ${address} is a recipient already`
        : body.recipients.length >= MAX_RECIPIENTS_WITH_COPY + 1
          ? `SendGrid takes ${MAX_RECIPIENTS_WITH_COPY + 1} addresses per email, a copy included: at most ${MAX_RECIPIENTS_WITH_COPY} recipients with a copy`
          : null;
  if (!problem) return { mode, address };
  if (body.copyToSender !== undefined) throw unprocessable(problem, 'copyToSender', mode);
  warnings.push({ field: 'copyToSender', message: `no copy to the sender (the tenant's default): ${problem}` });
  return null;
}

/** SendGrid takes 1000 addresses per request, to, cc and bcc together. */
const MAX_RECIPIENTS_WITH_COPY = 999;
