// /v1/dispatches: send a document to recipients (D1), read the delivery log (L1–L4),
// resend a recipient (D8), mark a document sent by hand (D11).
import type { FastifyInstance } from 'fastify';
import type { ZodRequestTypes } from '../openapi';
import { z } from 'zod';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApiDeps } from '../server';
import type { Db } from '../../db/models';
import type { Principal } from '../../db/api-keys';
import { apiErrors, authenticated, browserRedirect, browsersToPage, requireRole } from '../server';
import type { ApiLimits } from '../limits';
import { ApiError, notFound, unprocessable } from '../errors';
import { createDispatchSchema, DATA_LIMITS, duplicateRecipient, listDispatchesQuery, markSentSchema, resendSchema, resendViaSchema, type ListDispatchesQuery } from '../schemas';
import { dispatch, dispatchStateQuery, markSentUpdate, resendRecipientUpdate, resendViaUpdate } from '../../workflows/dispatch';
import type { DispatchInput, Person } from '../../domain/dispatch';
import { FAILED_RESULTS } from '../../domain/dispatch-status';
import { isoDurationToMs } from '../../domain/durations';
import { carriesSecrets, NO_RESEND_OF_SECRETS, withheldCopy } from '../../domain/secrets';
import { TemplateError } from '../../templates';
import { dispatchPagePath, pageUrl } from '../../ui/paths';
import { differingFields, fingerprint, type Fingerprint } from '../fingerprint';

export const dispatchWorkflowId = (tenantId: string, dispatchId: string) => `dispatch/${tenantId}/${dispatchId}`;

const dispatchParams = z.object({ id: z.string().min(1).describe('the dispatchId given on creation') });
const accepted = z.object({ dispatchId: z.string(), workflowId: z.string(), created: z.boolean(), warnings: z.array(z.object({ field: z.string(), message: z.string() })) });
const recipientView = z.object({ recipientId: z.string(), address: z.string(), status: z.string() }).loose();
const dispatchView = z.object({ dispatchId: z.string(), tenantId: z.string(), result: z.string(), recipients: z.array(recipientView) }).loose();
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
        ...apiErrors(409, 413, 422),
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
    try {
      templates.renderEmail(body.template, locale, { ...body.data, tenantName: tenant.name, timeZone: tenant.timeZone });
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

    const workflowId = dispatchWorkflowId(tenantId, body.dispatchId);
    const input: DispatchInput = {
      tenantId, dispatchId: body.dispatchId, kind: 'document', channel: 'email', provider: body.provider ?? 'sendgrid',
      template: body.template, data: body.data, locale, timeZone: tenant.timeZone, tenantName: tenant.name,
      document: body.document, sender: body.sender, escalateTo,
      attachments: body.attachments.map(({ filename, contentType }) => ({ filename, contentType })),
      recipients: body.recipients.map((r, i) => ({ recipientId: r.id ?? `r${i + 1}`, address: r.email, name: r.name })),
      requestedBy: request.principal!.keyId,
      policy: {
        unknownAfterMs: isoDurationToMs(tenant.policies?.unknownAfter ?? 'PT30M'),
        listenForMs: isoDurationToMs(tenant.policies?.listenFor ?? 'P3D'),
      },
      // Notices link to the operator page (sign-in leads back to it), not to this JSON API.
      dispatchUrl: pageUrl(deps.publicBaseUrl, dispatchPagePath(body.dispatchId)),
      parentWorkflowId: null,
    };
    // Stored before the workflow starts, keyed by position: a retried request rewrites the same documents.
    const stored = await Promise.all(body.attachments.map((a, index) => db.Attachment.updateOne(
      { _id: `${tenantId}/${body.dispatchId}/${index}` },
      { $setOnInsert: { tenantId, dispatchId: body.dispatchId, index, filename: a.filename, contentType: a.contentType, content: Buffer.from(a.contentBase64, 'base64') } },
      { upsert: true },
    )));
    const sent = fingerprint(body, 'dispatchId');
    try {
      await temporal.workflow.start(dispatch, { workflowId, taskQueue: deps.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE', memo: { request: sent } });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Idempotent on dispatchId: the platform may retry a request whose answer it lost. Another
      // body under the same id is refused, naming what differs (runs started before requests were
      // fingerprinted have none to compare: taken as the same).
      const accepted = (await temporal.workflow.getHandle(workflowId).describe()).memo?.request as Fingerprint | undefined;
      const differs = accepted ? differingFields(accepted, sent) : [];
      if (differs.length) {
        // Attachments this request added beside the existing dispatch are not its own: removed.
        await Promise.all(stored.map((r, index) => (r.upsertedCount ? db.Attachment.deleteOne({ _id: `${tenantId}/${body.dispatchId}/${index}` }) : undefined)));
        throw new ApiError(409, 'dispatch_exists', `dispatch ${body.dispatchId} exists with another ${differs.join(', ')}: send it again as it was, or use a new dispatchId`,
          differs.map((field) => ({ field, message: 'differs from the request accepted under this dispatchId', value: null })));
      }
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
    schema: { tags, ...authenticated, summary: 'One dispatch with each recipient\'s status history (L2)', params: dispatchParams, response: { 200: dispatchView, ...browserRedirect, ...apiErrors(404) } },
  }, async (request) => readDispatch(deps, request.principal!.tenantId!, request.params.id));

  app.post('/v1/dispatches/:id/recipients/:rid/resend', {
    onRequest: canWrite,
    schema: {
      tags, ...authenticated, summary: 'Correct a recipient\'s address and resend (D8)',
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
      tags, ...authenticated, summary: 'Mark a document sent by other means (D11)',
      params: dispatchParams, body: markSentSchema,
      response: { 200: z.object({ dispatchId: z.string(), markedSent: z.object({ by: z.string(), at: z.string(), note: z.string() }) }), ...apiErrors(404) },
    },
  }, async (request) => markSent(deps, request.principal!, request.params.id, request.body));
}

// The actions behind the routes, shared with the operator pages (src/ui): one way to do each.

/** L1: the delivery log, failed dispatches only unless asked for all, newest first. */
export async function listDispatches(db: Db, tenantId: string, q: ListDispatchesQuery) {
  const filter: Record<string, unknown> = { tenantId, kind: 'document' };
  if (!q.result || q.result === 'failed') filter.result = { $in: FAILED_RESULTS };
  else if (q.result !== 'all') filter.result = q.result;
  if (q.recipient) filter.recipientAddresses = q.recipient.toLowerCase();
  if (q.document) filter['document.number'] = q.document;
  if (q.from || q.to) filter.createdAt = { ...(q.from ? { $gte: new Date(q.from) } : {}), ...(q.to ? { $lte: new Date(q.to) } : {}) };
  if (q.cursor) filter.number = { $lt: q.cursor };
  const docs = await db.Dispatch.find(filter, { html: 0, text: 0, 'recipients.history': 0 }).sort({ number: -1 }).limit(q.limit + 1).lean();
  const page = docs.slice(0, q.limit);
  return {
    dispatches: page.map((d) => ({
      dispatchId: d.dispatchId, number: d.number, result: d.result, subject: d.subject, document: d.document,
      sender: d.sender, sentAt: d.sentAt, createdAt: (d as { createdAt?: Date }).createdAt,
      recipients: d.recipients.map((r) => ({ recipientId: r.recipientId, address: r.address, name: r.name, status: r.status, opened: r.opened ?? false, plainReason: r.plainReason })),
    })),
    nextCursor: docs.length > q.limit ? page[page.length - 1].number : null,
  };
}

/** L2: one dispatch of the tenant, from the projection, or from its workflow before the first write; 404 otherwise. */
export async function readDispatch(deps: Pick<ApiDeps, 'db' | 'temporal'>, tenantId: string, dispatchId: string) {
  const doc = await deps.db.Dispatch.findOne({ tenantId, dispatchId }, { sendLog: 0 }).lean();
  if (doc) {
    const { _id, stateVersion, ...rest } = doc as typeof doc & { _id: unknown };
    // Withheld when recorded (src/domain/secrets.ts); this also covers copies recorded before that rule.
    return carriesSecrets(rest.template) ? withheldCopy(rest.template, rest, rest.locale as 'fr' | 'en') : rest;
  }
  // Accepted but not yet recorded by the worker: answer from the workflow itself.
  try {
    const state = await deps.temporal.workflow.getHandle(dispatchWorkflowId(tenantId, dispatchId)).query(dispatchStateQuery);
    return { dispatchId, tenantId, result: state.result, recipients: state.recipients };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(`dispatch ${dispatchId}`);
    throw err;
  }
}

/** D8: a recipient corrected and resent, audited; the old address is remembered as corrected. */
export async function resendRecipient(deps: Pick<ApiDeps, 'db' | 'temporal'>, principal: Principal, dispatchId: string, recipientId: string, body: { email: string }) {
  const tenantId = principal.tenantId!;
  const { db } = deps;
  const handle = deps.temporal.workflow.getHandle(dispatchWorkflowId(tenantId, dispatchId));
  const before = await db.Dispatch.findOne({ tenantId, dispatchId }, { recipients: 1, template: 1 }).lean();
  // The workflow refuses it too (before this record exists, and for any caller); here also once it has finished.
  if (before && carriesSecrets(before.template)) throw new ApiError(409, 'conflict', NO_RESEND_OF_SECRETS);
  const previous = before?.recipients.find((r) => r.recipientId === recipientId)?.address;
  try {
    const recipient = await handle.executeUpdate(resendRecipientUpdate, {
      args: [{ recipientId, address: body.email, requestedBy: principal.keyId }],
    });
    const at = new Date();
    await db.Audit.create({ tenantId, actor: principal.keyId, action: 'dispatch.resend', target: `${dispatchId}/${recipientId}`, at, details: { from: previous ?? null, to: body.email } });
    if (previous && previous.toLowerCase() !== body.email.toLowerCase()) {
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
      .executeUpdate(resendViaUpdate, { args: [{ channel: body.channel, phone: body.phone, requestedBy: principal.keyId }] });
    await deps.db.Audit.create({ tenantId, actor: principal.keyId, action: 'dispatch.resend_via', target: dispatchId, at: new Date(), details: result });
    return result;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(`dispatch ${dispatchId}`);
    if (err instanceof WorkflowUpdateFailedError) throw new ApiError(409, 'conflict', err.cause?.message ?? err.message);
    throw err;
  }
}

/** D11: a document marked as sent by other means, with who and when. */
export async function markSent(deps: Pick<ApiDeps, 'db' | 'temporal'>, principal: Principal, dispatchId: string, body: { note: string; at?: string }) {
  const tenantId = principal.tenantId!;
  const { db } = deps;
  const marked = { by: principal.keyId, at: (body.at ? new Date(body.at) : new Date()).toISOString(), note: body.note };
  const exists = await db.Dispatch.exists({ tenantId, dispatchId });
  if (!exists) throw notFound(`dispatch ${dispatchId}`);
  try {
    // The running workflow owns the projection; it records the mark and writes it.
    await deps.temporal.workflow.getHandle(dispatchWorkflowId(tenantId, dispatchId)).executeUpdate(markSentUpdate, { args: [marked] });
  } catch (err) {
    // A dispatch that finished listening has no writer left: record it directly.
    if (!(err instanceof WorkflowNotFoundError) && !(err instanceof WorkflowUpdateFailedError) && !/completed|closed/i.test((err as Error).message)) throw err;
    await db.Dispatch.updateOne({ tenantId, dispatchId }, { $set: { markedSent: { ...marked, at: new Date(marked.at) } } });
  }
  await db.Audit.create({ tenantId, actor: principal.keyId, action: 'dispatch.mark_sent', target: dispatchId, at: new Date(), reason: body.note || null });
  return { dispatchId, markedSent: marked };
}
