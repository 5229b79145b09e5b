// /v1/dispatches: send a document to recipients (D1), read the delivery log (L1–L4),
// resend a recipient (D8), mark a document sent by hand (D11).
import type { FastifyInstance } from 'fastify';
import type { ZodRequestTypes } from '../openapi';
import { z } from 'zod';
import { QueryNotRegisteredError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApiDeps } from '../server';
import type { Db } from '../../db/models';
import type { Principal } from '../../db/api-keys';
import { apiErrors, authenticated, browserRedirect, browsersToPage, requireRole } from '../server';
import type { ApiLimits } from '../limits';
import { ApiError, notFound, unprocessable } from '../errors';
import { actorOf } from '../auth';
import { personName } from '../../ui/session';
import { dayOf, isCalendarDay, startOfDay } from '../../domain/days';
import { createDispatchSchema, DATA_LIMITS, duplicateRecipient, listDispatchesQuery, markSentSchema, resendSchema, resendViaSchema, type ListDispatchesQuery } from '../schemas';
import {
  dispatchStateQueryV1, dispatchWorkflowId, markSentUpdate, resendRecipientUpdate, resendRecipientUpdateV1, resendViaUpdate, DISPATCH_WORKFLOW,
  type DispatchInput, type DispatchWorkflow,
} from '../../workflows/dispatch/contract';
import type { Person } from '../../domain/dispatch';
import { FAILED_RESULTS, RECIPIENT_STATUSES } from '../../domain/dispatch-status';
import { listNewest } from '../../db/dispatch-log';
import { isoDurationToMs } from '../../domain/durations';
import { carriesSecrets, NO_RESEND_OF_SECRETS } from '../../domain/secrets';
import { sealedCopy } from '../../sealed';
import { TemplateError } from '../../templates';
import { dispatchPagePath, pageUrl } from '../../ui/paths';
import { differingFields, fingerprint, type Fingerprint } from '../fingerprint';
import { discardRecord, dispatchKey, recordDispatch } from '../../db/dispatch-records';
import { DEFAULT_RECIPIENTS_PAGE, dispatchView, firstVersionStateView, logFilter, logRow, MAX_RECIPIENTS_PAGE, recipientByIdentifier, type RecipientPage } from '../dispatch-views';

/** A moment a little ahead of this clock is taken as now (the caller's clock may run ahead). */
const CLOCK_SKEW_MS = 60_000;

const dispatchParams = z.object({ id: z.string().min(1).describe('the dispatchId given on creation') });
const recipientPageQuery = z.object({
  recipientsCursor: z.coerce.number().int().min(0).default(0).describe('position of the first recipient to return (nextRecipientsCursor of the previous page)'),
  recipientsLimit: z.coerce.number().int().min(1).max(MAX_RECIPIENTS_PAGE).default(DEFAULT_RECIPIENTS_PAGE).describe('recipients per page'),
  recipientsStatus: z.enum(RECIPIENT_STATUSES).optional().describe('only the recipients with this status (the counts say how many); the cursor is still a position'),
});
const accepted = z.object({ dispatchId: z.string(), workflowId: z.string(), created: z.boolean(), warnings: z.array(z.object({ field: z.string(), message: z.string() })) });
const recipientView = z.object({ recipientId: z.string(), address: z.string(), status: z.string() }).loose();
const dispatchViewSchema = z.object({
  dispatchId: z.string(), tenantId: z.string(), result: z.string(), recipientCount: z.number().int(), recipients: z.array(recipientView),
  nextRecipientsCursor: z.number().int().nullable(),
  filteredRecipients: z.object({ status: z.string(), count: z.number().int(), first: z.number().int() }).optional()
    .describe('with recipientsStatus: how many recipients have that status, and the rank (from 1) of the first on this page among them'),
}).loose();
const tags = ['dispatches'];

export async function dispatchRoutes(scope: FastifyInstance, deps: ApiDeps, limits: ApiLimits) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const { db, temporal, templates } = deps;
  const canWrite = requireRole(deps, 'dispatch:write');
  const canRead = requireRole(deps, 'log:read');

  app.post('/v1/dispatches', {
    onRequest: canWrite,
    bodyLimit: limits.dispatchBodyLimitBytes,
    schema: {
      tags, ...authenticated, summary: 'Email a document to 1..1000 recipients (D1); idempotent on dispatchId',
      body: createDispatchSchema,
      response: {
        200: accepted.describe('already accepted earlier (same dispatchId, same body)'), 202: accepted.describe('accepted; the dispatch workflow has started'),
        ...apiErrors(409, 413, 422, 503),
      },
    },
  }, async (request, reply) => {
    const tenantId = request.principal!.tenantId!;
    const body = request.body;
    const dataBytes = Buffer.byteLength(JSON.stringify(body.data));
    if (dataBytes > DATA_LIMITS.bytes) {
      const message = `data is ${dataBytes} bytes as JSON; at most ${DATA_LIMITS.bytes} (keep documents in attachments, not in template data)`;
      throw new ApiError(413, 'payload_too_large', message, [{ field: 'data', message, value: null, limitBytes: DATA_LIMITS.bytes, sizeBytes: dataBytes }]);
    }
    const duplicate = duplicateRecipient(body.recipients);
    if (duplicate) throw unprocessable(`duplicate of recipients.${duplicate.first}.email`, `recipients.${duplicate.index}.email`, body.recipients[duplicate.index].email);
    const tenant = await db.Tenant.findById(tenantId).lean();
    if (!tenant) throw new ApiError(403, 'forbidden', 'this key belongs to no tenant');

    let escalateTo: Person[] = [body.sender];
    if (body.sender.outletId) {
      const outlet = tenant.outlets.find((o) => o.id === body.sender.outletId);
      if (!outlet) throw unprocessable(`no outlet "${body.sender.outletId}" in this tenant`, 'sender.outletId', body.sender.outletId);
      const pm = outlet.purchasingManager;
      if (pm.email.toLowerCase() !== body.sender.email.toLowerCase()) {
        escalateTo = [...escalateTo, { name: pm.name, email: pm.email, phone: pm.phone ?? null, smsOptIn: pm.smsOptIn, whatsappOptIn: pm.whatsappOptIn }];
      }
    }
    const locale = body.locale ?? (tenant.locale as 'fr' | 'en');
    // Rendering now turns an unknown template or a missing variable into a 400, before anything starts.
    const templateData = { ...body.data, tenantName: tenant.name, timeZone: tenant.timeZone };
    if (carriesSecrets(body.template) && !deps.linkSecret) {
      throw new ApiError(503, 'not_configured', `template ${body.template} carries a customer's link or code, kept sealed under LINK_SECRET, which is not set`);
    }
    let recordedCopy: ReturnType<typeof sealedCopy>;
    try {
      // D11: the copy people read; a customer's link or code in it is withheld, and what is sent kept sealed (src/sealed.ts).
      recordedCopy = sealedCopy(deps.linkSecret ?? '', dispatchKey(tenantId, body.dispatchId), body.template, locale, templateData,
        (data) => ({ ...templates.renderEmail(body.template, locale, data), templateData: data }));
    } catch (err) {
      if (err instanceof TemplateError) throw unprocessable(err.message, err.field ?? 'template', err.code === 'template_not_found' ? body.template : undefined);
      throw err;
    }

    // D8: an address corrected on an earlier resend is pointed out (not silently rewritten).
    const corrections = await db.ContactCorrection.find({ tenantId, from: { $in: body.recipients.map((r) => r.email.toLowerCase()) } }).sort({ at: -1 }).lean();
    const warnings = body.recipients.flatMap((r, i) => {
      const c = corrections.find((x) => x.from === r.email.toLowerCase());
      return c ? [{ field: `recipients.${i}.email`, message: `${r.email} was corrected to ${c.to} on ${c.at.toISOString()}` }] : [];
    });

    const copy = copyToSender(body, tenant.copyToSender ?? null, warnings);
    const workflowId = dispatchWorkflowId(tenantId, body.dispatchId);
    // Stored before the workflow starts, keyed by position: a retried request rewrites the same documents.
    const stored = await Promise.all(body.attachments.map((a, index) => db.Attachment.updateOne(
      { _id: `${tenantId}/${body.dispatchId}/${index}` },
      { $setOnInsert: { tenantId, dispatchId: body.dispatchId, index, filename: a.filename, contentType: a.contentType, content: Buffer.from(a.contentBase64, 'base64') } },
      { upsert: true },
    )));
    const sent = fingerprint(body, 'dispatchId');
    /** Another body under a used id is refused naming what differs; attachments this request added beside it are not its own. */
    const refuseIfDifferent = async (accepted: Fingerprint | null | undefined) => {
      const differs = accepted ? differingFields(accepted, sent) : [];
      if (!differs.length) return;
      await Promise.all(stored.map((r, index) => (r.upsertedCount ? db.Attachment.deleteOne({ _id: `${tenantId}/${body.dispatchId}/${index}` }) : undefined)));
      throw new ApiError(409, 'dispatch_exists', `dispatch ${body.dispatchId} exists with another ${differs.join(', ')}: send it again as it was, or use a new dispatchId`,
        differs.map((field) => ({ field, message: 'differs from the request accepted under this dispatchId', value: null })));
    };
    /** A dispatch of the first version of the workflow under this id: its request is in its workflow's memo (none before requests were fingerprinted: taken as the same). */
    const firstVersion = async () => {
      await refuseIfDifferent((await temporal.workflow.getHandle(workflowId).describe()).memo?.request as Fingerprint | undefined);
      return reply.status(200).send({ dispatchId: body.dispatchId, workflowId, created: false, warnings });
    };
    // The dispatch is recorded before its workflow starts, which then carries ids only. A retried
    // request finds the record (the same request, or 409) and starts the workflow if the first did not get that far.
    const recorded = await recordDispatch(db, {
      tenantId, dispatchId: body.dispatchId, kind: 'document', channel: 'email', provider: body.provider ?? 'sendgrid', template: body.template, locale,
      document: body.document, sender: { name: body.sender.name, email: body.sender.email, outletId: body.sender.outletId }, requestedBy: request.principal!.keyId,
      content: recordedCopy.copy, sealed: recordedCopy.sealed, attachments: body.attachments.map((a) => a.filename),
      recipients: body.recipients.map((r, i) => ({ recipientId: r.id ?? `r${i + 1}`, address: r.email, name: r.name })),
      parent: null, request: sent, copy,
    });
    if (recorded.outcome === 'legacy') return firstVersion();
    if (recorded.outcome === 'existing') await refuseIfDifferent(recorded.request);
    const input: DispatchInput = {
      tenantId, dispatchId: body.dispatchId, kind: 'document', channel: 'email', provider: body.provider ?? 'sendgrid', template: body.template,
      locale, timeZone: tenant.timeZone, document: body.document, sender: body.sender, escalateTo, recipientCount: body.recipients.length,
      policy: {
        unknownAfterMs: isoDurationToMs(tenant.policies?.unknownAfter ?? 'PT30M'),
        listenForMs: isoDurationToMs(tenant.policies?.listenFor ?? 'P3D'),
      },
      // Notices link to the operator page (sign-in leads back to it), not to this JSON API.
      dispatchUrl: pageUrl(deps.publicBaseUrl, dispatchPagePath(body.dispatchId)),
      parentWorkflowId: null,
    };
    try {
      await temporal.workflow.start<DispatchWorkflow>(DISPATCH_WORKFLOW, { workflowId, taskQueue: deps.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
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
  });

  app.get('/v1/dispatches', {
    onRequest: canRead,
    schema: {
      tags, ...authenticated, summary: 'The delivery log (L1): failed dispatches unless result=all, newest first',
      querystring: listDispatchesQuery,
      response: {
        200: z.object({ dispatches: z.array(z.object({ dispatchId: z.string(), number: z.number(), result: z.string() }).loose()), nextCursor: z.number().nullable() }),
        ...apiErrors(),
      },
    },
  }, async (request) => listDispatches(db, request.principal!.tenantId!, request.query));

  app.get('/v1/dispatches/:id', {
    onRequest: [browsersToPage(dispatchPagePath), canRead],
    schema: {
      tags, ...authenticated, summary: 'One dispatch with a page of its recipients (by position) and their status histories (L2)',
      params: dispatchParams, querystring: recipientPageQuery, response: { 200: dispatchViewSchema, ...browserRedirect, ...apiErrors(404) },
    },
  }, async (request) => readDispatch(deps, request.principal!.tenantId!, request.params.id, { from: request.query.recipientsCursor, limit: request.query.recipientsLimit, status: request.query.recipientsStatus }));

  app.post('/v1/dispatches/:id/recipients/:rid/resend', {
    onRequest: canWrite,
    schema: {
      tags, ...authenticated, summary: 'Resend a recipient as a new attempt (D8): a failed one to a corrected address, a delivered one again to the same address or another',
      params: dispatchParams.extend({ rid: z.string().min(1).describe('recipientId') }), body: resendSchema,
      response: { 200: z.object({ recipient: recipientView }), ...apiErrors(404, 409) },
    },
  }, async (request) => resendRecipient(deps, request.principal!, request.params.id, request.params.rid, request.body));

  app.post('/v1/dispatches/:id/resend-via', {
    onRequest: canWrite,
    schema: {
      tags, ...authenticated, summary: 'Re-send the document over SMS or WhatsApp as a signed link (D8)',
      params: dispatchParams, body: resendViaSchema,
      response: { 202: z.object({}).loose(), ...apiErrors(404, 409) },
    },
  }, async (request, reply) => reply.status(202).send(await resendVia(deps, request.principal!, request.params.id, request.body)));

  app.post('/v1/dispatches/:id/mark-sent', {
    onRequest: canWrite,
    schema: {
      tags, ...authenticated, summary: 'Record a document as sent by other means (D11): the day or moment, by whom; a failed one leaves the failed-only log',
      params: dispatchParams, body: markSentSchema,
      response: { 200: z.object({ dispatchId: z.string(), markedSent: z.object({ by: z.string(), at: z.string(), note: z.string(), on: z.string().optional() }) }), ...apiErrors(404, 422) },
    },
  }, async (request) => markSent(deps, request.principal!, request.params.id, request.body));
}

/**
 * Issue 17: whether the sender gets a copy (cc or bcc) of the first recipient's email: the request's
 * choice, else the tenant's default. SendGrid takes each address once per request and 1000 in all
 * (cc and bcc included), and an SMTP server's own copy is the tenant's (its Sent folder): asked for
 * explicitly where it cannot be, it is refused naming the field; by the tenant's default, it is left
 * out with a warning.
 */
function copyToSender(
  body: { copyToSender?: 'cc' | 'bcc' | null; provider?: 'sendgrid' | 'smtp'; sender: { email: string }; recipients: Array<{ email: string }> },
  tenantDefault: 'cc' | 'bcc' | null, warnings: Array<{ field: string; message: string }>,
): { mode: 'cc' | 'bcc'; address: string } | null {
  const mode = body.copyToSender === undefined ? tenantDefault : body.copyToSender;
  if (!mode) return null;
  const address = body.sender.email;
  const problem = (body.provider ?? 'sendgrid') !== 'sendgrid' ? 'a copy to the sender is sent through SendGrid only (an SMTP server keeps its own copy)'
    : body.recipients.some((r) => r.email.toLowerCase() === address.toLowerCase()) ? `the sender ${address} is a recipient already`
      : body.recipients.length >= MAX_RECIPIENTS_WITH_COPY + 1 ? `SendGrid takes ${MAX_RECIPIENTS_WITH_COPY + 1} addresses per email, a copy included: at most ${MAX_RECIPIENTS_WITH_COPY} recipients with a copy`
        : null;
  if (!problem) return { mode, address };
  if (body.copyToSender !== undefined) throw unprocessable(problem, 'copyToSender', mode);
  warnings.push({ field: 'copyToSender', message: `no copy to the sender (the tenant's default): ${problem}` });
  return null;
}

/** SendGrid takes 1000 addresses per request, to, cc and bcc together. */
const MAX_RECIPIENTS_WITH_COPY = 999;

// The actions behind the routes, shared with the operator pages (src/ui): one way to do each.

/** L1: the delivery log, failed dispatches only unless asked for all, newest first; each row counts its recipients and names its failures. */
export async function listDispatches(db: Db, tenantId: string, q: ListDispatchesQuery) {
  // Every address, and the first version's records' histories and copies, are left out of a row.
  const projection = { recipientAddresses: 0, 'recipients.history': 0, html: 0, text: 0, templateData: 0, sendLog: 0 } as const;
  // Notices are listed too (issue 16 item 7): record numbers have no gaps; `kind` keeps one or the other.
  const kind = q.kind === 'all' ? undefined : q.kind;
  // The default listings (all, failed only) read the log page by page: flat as the store grows.
  const listing = !q.result || q.result === 'failed' ? 'failed' : q.result === 'all' ? 'all' : null;
  if (listing && !q.recipient && !q.document && !q.from && !q.to) {
    const { rows, nextCursor } = await listNewest(db, tenantId, { listing, kind, before: q.cursor, limit: q.limit, projection });
    return { dispatches: rows.map((d) => logRow(d)), nextCursor };
  }
  const filter = logFilter(tenantId, q);
  if (q.cursor) filter.number = { $lt: q.cursor };
  const docs = await db.Dispatch.find(filter, projection).sort({ number: -1 }).limit(q.limit + 1).lean();
  const page = docs.slice(0, q.limit);
  return {
    dispatches: page.map((d) => logRow(d as Record<string, unknown>)),
    nextCursor: docs.length > q.limit ? page[page.length - 1].number : null,
  };
}

/** L2: one dispatch of the tenant with a page of its recipients; 404 otherwise. */
export async function readDispatch(deps: Pick<ApiDeps, 'db' | 'temporal'>, tenantId: string, dispatchId: string, page: RecipientPage = { from: 0, limit: DEFAULT_RECIPIENTS_PAGE }) {
  const view = await dispatchView(deps.db, tenantId, dispatchId, page);
  if (view) return view;
  // A dispatch is recorded before its workflow starts; one started by the first version was
  // recorded by its workflow, which answers until then.
  try {
    const state = await deps.temporal.workflow.getHandle(dispatchWorkflowId(tenantId, dispatchId)).query(dispatchStateQueryV1);
    return firstVersionStateView(tenantId, dispatchId, state as never, page);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError) throw notFound(`dispatch ${dispatchId}`);
    throw err;
  }
}

/**
 * D8: a recipient corrected and resent, audited; the old address is remembered as corrected. Issue
 * 17: a delivered one can be sent again, to the same address or another, as a new attempt in the same
 * history (its own statuses, D3–D7 applying to it); audited as `dispatch.send_again`.
 */
export async function resendRecipient(deps: Pick<ApiDeps, 'db' | 'temporal'>, principal: Principal, dispatchId: string, recipientId: string, body: { email: string }) {
  const tenantId = principal.tenantId!;
  const { db } = deps;
  const handle = deps.temporal.workflow.getHandle(dispatchWorkflowId(tenantId, dispatchId));
  const current = await db.Dispatch.findById(dispatchKey(tenantId, dispatchId), { template: 1 }).lean();
  const header = current ?? await db.LegacyDispatch.findOne({ tenantId, dispatchId }, { template: 1 }).lean();
  // The workflow refuses it too (before this record exists, and for any caller); here also once it has finished.
  if (header && carriesSecrets(header.template)) throw new ApiError(409, 'conflict', NO_RESEND_OF_SECRETS);
  try {
    let previous: string | undefined;
    let previousStatus: string | undefined;
    let recipient: unknown;
    if (current) {
      const target = await recipientByIdentifier(db, tenantId, dispatchId, recipientId);
      if (!target) throw new ApiError(409, 'conflict', `no recipient ${recipientId} in this dispatch`);
      previous = target.address;
      previousStatus = target.status;
      const { index } = await handle.executeUpdate(resendRecipientUpdate, { args: [{ index: target.index, recipientId, address: body.email, requestedBy: actorOf(principal) }] });
      recipient = (await readDispatch(deps, tenantId, dispatchId, { from: index, limit: 1 })).recipients[0];
    } else {
      // A dispatch of the first version of the workflow (docs/deploy.md).
      const before = await db.LegacyDispatch.findOne({ tenantId, dispatchId }, { recipients: 1 }).lean();
      previous = before?.recipients.find((r) => r.recipientId === recipientId)?.address;
      recipient = await handle.executeUpdate(resendRecipientUpdateV1, { args: [{ recipientId, address: body.email, requestedBy: actorOf(principal) }] });
    }
    const at = new Date();
    // Issue 17: a delivered one sent again is not a correction of its address (a later dispatch to it is not warned).
    const again = previousStatus === 'delivered' || previousStatus === 'sent';
    await db.Audit.create({
      tenantId, actor: actorOf(principal), action: again ? 'dispatch.send_again' : 'dispatch.resend', target: `${dispatchId}/${recipientId}`, at,
      details: { from: previous ?? null, to: body.email, previousStatus: previousStatus ?? null },
    });
    if (!again && previous && previous.toLowerCase() !== body.email.toLowerCase()) {
      await db.ContactCorrection.create({ tenantId, from: previous.toLowerCase(), to: body.email, by: principal.keyId, at });
    }
    return { recipient };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(`dispatch ${dispatchId}`);
    if (err instanceof WorkflowUpdateFailedError) throw new ApiError(409, 'conflict', err.cause?.message ?? err.message);
    throw err;
  }
}

/** D8: the document re-sent over SMS or WhatsApp as a signed link, audited. */
export async function resendVia(deps: Pick<ApiDeps, 'db' | 'temporal'>, principal: Principal, dispatchId: string, body: { channel: 'sms' | 'whatsapp'; phone: string }) {
  const tenantId = principal.tenantId!;
  try {
    const result = await deps.temporal.workflow.getHandle(dispatchWorkflowId(tenantId, dispatchId))
      .executeUpdate(resendViaUpdate, { args: [{ channel: body.channel, phone: body.phone, requestedBy: actorOf(principal) }] });
    await deps.db.Audit.create({ tenantId, actor: actorOf(principal), action: 'dispatch.resend_via', target: dispatchId, at: new Date(), details: result });
    return result;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(`dispatch ${dispatchId}`);
    if (err instanceof WorkflowUpdateFailedError) throw new ApiError(409, 'conflict', err.cause?.message ?? err.message);
    throw err;
  }
}

/**
 * D11: a document marked as sent by other means (posted, handed over), with who and when: the day
 * chosen (in the tenant's time zone, not after today) or the moment, and the person's name. A
 * failed dispatch so marked leaves the failed-only log; its recipients' histories keep what failed.
 */
export async function markSent(deps: Pick<ApiDeps, 'db' | 'temporal'>, principal: Principal, dispatchId: string, body: { note: string; at?: string; date?: string; by?: string }) {
  const tenantId = principal.tenantId!;
  const { db } = deps;
  const tenant = await db.Tenant.findById(tenantId, { timeZone: 1 }).lean();
  const timeZone = tenant?.timeZone ?? 'UTC';
  const now = new Date();
  // Schema-valid, refused by a rule the schema cannot say (a real day, not after today, one of the two): 422.
  if (body.date !== undefined && body.at !== undefined) throw unprocessable('give the day (date) or the moment (at), not both', 'date', body.date);
  if (body.date !== undefined) {
    if (!isCalendarDay(body.date)) throw unprocessable(`date: "${body.date}" is not a day of the calendar`, 'date', body.date);
    const today = dayOf(now, timeZone);
    if (body.date > today) throw unprocessable(`date: ${body.date} is after today (${today} in ${timeZone})`, 'date', body.date);
  }
  if (body.at !== undefined && new Date(body.at).getTime() > now.getTime() + CLOCK_SKEW_MS) throw unprocessable(`at: ${body.at} is in the future`, 'at', body.at);
  // A past day is recorded at its start in the tenant's zone (the page shows the day); today, now.
  const at = body.at ? new Date(body.at) : body.date && body.date !== dayOf(now, timeZone) ? startOfDay(body.date, timeZone) : now;
  const person = personName(body.by) ?? principal.person ?? null;
  const marked = { by: actorOf({ ...principal, person }), at: at.toISOString(), note: body.note, ...(body.at ? {} : { on: body.date ?? dayOf(now, timeZone) }) };
  const current = await db.Dispatch.exists({ _id: dispatchKey(tenantId, dispatchId) });
  if (!current && !(await db.LegacyDispatch.exists({ tenantId, dispatchId }))) throw notFound(`dispatch ${dispatchId}`);
  try {
    // The running workflow owns the projection; it records the mark and writes it.
    await deps.temporal.workflow.getHandle(dispatchWorkflowId(tenantId, dispatchId)).executeUpdate(markSentUpdate, { args: [marked] });
  } catch (err) {
    // A dispatch that finished listening has no writer left: record it directly, out of the failures.
    if (!(err instanceof WorkflowNotFoundError) && !(err instanceof WorkflowUpdateFailedError) && !/completed|closed/i.test((err as Error).message)) throw err;
    const update = { $set: { markedSent: { ...marked, at: new Date(marked.at) } }, $unset: { failedSeq: 1, failedPage: 1 } };
    if (current) await db.Dispatch.updateOne({ _id: dispatchKey(tenantId, dispatchId) }, update);
    else await db.LegacyDispatch.updateOne({ tenantId, dispatchId }, update);
  }
  await db.Audit.create({ tenantId, actor: actorOf(principal), action: 'dispatch.mark_sent', target: dispatchId, at: now, reason: body.note || null, details: marked });
  return { dispatchId, markedSent: marked };
}
