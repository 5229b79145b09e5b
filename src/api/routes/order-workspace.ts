// The orders workspace (issue 18): the list of orders with their open exceptions (`GET /v1/orders`),
// the seller's actions on one order (`POST /v1/orders/:id/actions`, an Update of its workflow,
// audited), and the label or invoice the seller uploads and anyone who may read the order
// downloads (`/v1/orders/:id/documents`). The operator pages (src/ui) call the same functions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { Principal } from '../../db/api-keys';
import { sendFile } from '../downloads';
import type { ApiDeps } from '../server';
import { actorOf, apiErrors, authenticated, requireRole } from '../auth';
import { ApiError, notFound, unprocessable } from '../errors';
import { listOrdersQuery, sellerActionSchema, uploadDocumentSchema, type ListOrdersQuery, type SellerActionBody } from '../schemas';
import { update } from './orders';
import { WorkflowNotFoundError } from '@temporalio/client';
import { orderWorkflowId, sellerActionUpdate } from '../../workflows/order/contract';
import { countOpen, listOrders, type ListRow } from '../../db/order-list';
import { deleteDocument, openDocument, storeDocument } from '../../db/order-documents';
import { checkDocument, documentFilename, MAX_DOCUMENT_BYTES } from '../../domain/documents';
import type { DocumentKind, SellerAction } from '../../domain/seller-actions';

const tags = ['orders'];
const orderParams = z.object({ id: z.string().min(1).describe('the orderId given on creation') });
const documentParams = orderParams.extend({ documentId: z.string().regex(/^[0-9a-f]{24}$/, 'a document id (24 hexadecimal digits)') });

const listRow = z.object({
  orderId: z.string(), state: z.string(), stuck: z.boolean(), ended: z.boolean(), customerName: z.string().nullable(), placedAt: z.string(),
  exceptions: z.array(z.object({ type: z.string(), reason: z.string(), cause: z.string().nullable(), openedAt: z.string() })),
});
const counts = z.object({
  open: z.number().int(), stuck: z.number().int(), byType: z.record(z.string(), z.number().int()),
  cap: z.number().int().nullable().describe('null: the counts are exact (MongoDB); a number (the embedded store): counts stop there, and a count equal to it means at least as many'),
});
const listAnswer = z.object({ orders: z.array(listRow), nextCursor: z.string().nullable(), counts: counts.optional() });
const actionAnswer = z.object({ orderId: z.string(), state: z.string(), stuck: z.boolean(), ended: z.boolean() });
const documentAnswer = actionAnswer.extend({
  document: z.object({ documentId: z.string(), kind: z.enum(['label', 'invoice']), filename: z.string(), contentType: z.string(), bytes: z.number().int(), at: z.string(), url: z.string() }),
});

/** The cursor of the next page: the last row's number in the placing order and its order id, opaque to the caller. */
const encodeCursor = (row: ListRow) => Buffer.from(JSON.stringify([row.seq, row.orderId])).toString('base64url');
function decodeCursor(cursor: string): { seq: number; orderId: string } {
  try {
    const [seq, orderId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
    if (Number.isInteger(seq) && seq >= 0 && typeof orderId === 'string') return { seq, orderId };
  } catch { /* refused below */ }
  // Well-formed (the schema's pattern) but not one this API gave: a rule the schema cannot say, 422.
  throw unprocessable('cursor: not a cursor this API gave (pass back nextCursor as it came)', 'cursor', cursor.slice(0, 40));
}

/** One page of the orders workspace and, unless asked not to, its counts (issue 18 item 1). */
export async function listOrdersPage(deps: Pick<ApiDeps, 'db'>, tenantId: string, q: ListOrdersQuery) {
  const from = q.from ? new Date(q.from) : undefined;
  const to = q.to ? new Date(q.to) : undefined;
  if (from && to && from > to) throw unprocessable('to: must not be before from', 'to', q.to);
  const [page, tally] = await Promise.all([
    listOrders(deps.db, tenantId, {
      exception: q.exception, state: q.state, stuck: q.stuck, held: q.held, from, to, limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : undefined,
    }),
    q.counts ? countOpen(deps.db, tenantId) : undefined,
  ]);
  return {
    orders: page.rows.map(({ seq: _seq, ...r }) => ({ ...r, placedAt: r.placedAt.toISOString(), exceptions: r.exceptions.map((e) => ({ ...e, openedAt: e.openedAt.toISOString() })) })),
    nextCursor: page.more && page.rows.length ? encodeCursor(page.rows.at(-1)!) : null,
    ...(tally ? { counts: tally } : {}),
  };
}

/**
 * A seller's action on an order (issue 18 item 2): the order workflow's Update, the same from the
 * API and the page, audited with who (a person's name from the page's session, or the key) and when.
 * A channel the customer cannot receive is a 422 naming `channels`; an action the order's state
 * does not allow, a 409 saying why.
 */
export async function sellerAction(deps: Pick<ApiDeps, 'db' | 'temporal'>, principal: Principal, orderId: string, action: SellerAction) {
  const tenantId = principal.tenantId!;
  const by = actorOf(principal);
  const view = await update(deps, tenantId, orderId, (h) => h.executeUpdate(sellerActionUpdate, { args: [{ by, action }] }), async (refusal) => {
    const field = refusal.details?.field;
    if (field === 'channels') return new ApiError(422, 'invalid_request', `channels: ${refusal.message}`, [{ field, message: refusal.message, value: null }]);
    // An order started before issue 15 runs the earlier workflow, which has no seller actions.
    if (/no registered handler/i.test(refusal.message)) {
      return { message: 'this order was started by an earlier version of Relais, which takes no seller actions: use the fulfilment events (POST …/events), or release and cancel a hold', details: { field: null } };
    }
    return refusal;
  });
  const note = 'note' in action ? action.note : null;
  const { type, ...details } = action;
  await deps.db.Audit.create({ tenantId, actor: by, action: `order.${type}`, target: orderId, reason: note, at: new Date(), details });
  return { orderId, state: view.state, stuck: view.stuck, ended: (view as { ended?: boolean }).ended ?? false };
}

/** 413 naming the file part that is over MAX_DOCUMENT_BYTES. */
function fileTooLarge(field: string) {
  const message = `the file is larger than ${MAX_DOCUMENT_BYTES} bytes`;
  return new ApiError(413, 'payload_too_large', `${field}: ${message}`, [{ field, message, value: null, limitBytes: MAX_DOCUMENT_BYTES }]);
}

/** An upload as the multipart parser left it: the file part, read whole (at most MAX_DOCUMENT_BYTES). */
interface UploadedFile { filename: string; mimetype: string; content: Buffer }
const UPLOADS = Symbol('uploads');
type WithUploads = FastifyRequest & { [UPLOADS]?: Record<string, UploadedFile> };

/**
 * multipart/form-data for the upload routes (their scope only): one file part of at most
 * MAX_DOCUMENT_BYTES, read into memory and kept aside; the body the route validates holds the
 * other fields and the file's name in its place (what the contract describes as a binary string).
 */
export async function acceptUploads(scope: FastifyInstance) {
  // A multipart Content-Type without its boundary cannot be read at all (found by the API fuzzer: a 500).
  scope.addHook('preValidation', async (request) => {
    const type = request.headers['content-type'] ?? '';
    if (/^multipart\/form-data\b/i.test(type) && !/;\s*boundary=/i.test(type)) {
      throw new ApiError(400, 'invalid_request', 'Content-Type: multipart/form-data needs its boundary parameter', [{ field: '(body)', message: 'no boundary', value: null }]);
    }
  });
  // What the multipart parser (busboy) says of a body it cannot read is the caller's mistake: a 400,
  // handed on to the scope's usual error handler (the API's, or the pages').
  scope.setErrorHandler((error) => {
    if (error instanceof ApiError || !(error instanceof Error)) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw fileTooLarge('file');
    if (['FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_PARTS_LIMIT'].includes(code)) {
      throw new ApiError(413, 'payload_too_large', 'one file part, and the fields kind and note, are all an upload takes', { limit: code });
    }
    if (/^(Multipart: |Unexpected end of (form|multipart data)$|Malformed part header$)/.test(error.message) || /node_modules[\\/]@fastify[\\/]busboy[\\/]/.test(error.stack ?? '')) {
      throw new ApiError(400, 'invalid_request', `the multipart/form-data body is malformed: ${error.message}`, [{ field: '(body)', message: error.message, value: null }]);
    }
    throw error;
  });
  await scope.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: MAX_DOCUMENT_BYTES, files: 1, fields: 8, parts: 9, fieldSize: 4096 },
    async onFile(this: FastifyRequest, part: MultipartFile) {
      let content: Buffer;
      try {
        content = await part.toBuffer();
      } catch (err) {
        throw (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' ? fileTooLarge(part.fieldname) : err;
      }
      const request = this as WithUploads;
      request[UPLOADS] = { ...request[UPLOADS], [part.fieldname]: { filename: part.filename, mimetype: part.mimetype, content } };
      (part as unknown as { value: string }).value = part.filename || part.fieldname;
    },
  });
}

/**
 * Stores the label or invoice and records it on the order (issue 18 item 2, O5): size and type
 * checked first (PDF, PNG, JPEG by their first bytes), then kept in GridFS, then the order's
 * Update; a refused Update removes the file again, so a refusal stores nothing.
 */
export async function uploadDocument(deps: Pick<ApiDeps, 'db' | 'temporal'>, principal: Principal, orderId: string, request: FastifyRequest, body: { kind: DocumentKind; file: string; note?: string | null }) {
  const tenantId = principal.tenantId!;
  // Another tenant's order, or none: 404 before the file is even looked at.
  if (!(await deps.db.Order.exists({ tenantId, orderId }))) {
    await deps.temporal.workflow.getHandle(orderWorkflowId(tenantId, orderId)).describe().catch((err) => {
      throw err instanceof WorkflowNotFoundError ? notFound(`order ${orderId}`) : err;
    });
  }
  // A client that sent `file` as a plain field, not a file part: its text is the content (and is refused as such).
  const file = (request as WithUploads)[UPLOADS]?.file ?? { filename: '', mimetype: 'text/plain', content: Buffer.from(body.file) };
  const check = checkDocument(file.content, file.mimetype);
  if (!check.ok) throw new ApiError(check.status, check.status === 413 ? 'payload_too_large' : 'invalid_request', `file: ${check.message}`, [{ field: 'file', message: check.message, value: file.filename || null }]);
  const filename = documentFilename(file.filename, body.kind, check.contentType);
  const document = await storeDocument(deps.db, { tenantId, orderId, kind: body.kind, contentType: check.contentType, uploadedBy: actorOf(principal) }, filename, file.content);
  try {
    const answer = await sellerAction(deps, principal, orderId, { type: 'upload_document', kind: body.kind, document });
    return { ...answer, document: { ...document, kind: body.kind, url: `/v1/orders/${encodeURIComponent(orderId)}/documents/${document.documentId}` } };
  } catch (err) {
    await deleteDocument(deps.db, document.documentId);
    throw err;
  }
}

/** Sends a stored label or invoice of this tenant's order (404 for anything else), as an attachment. */
export async function sendDocument(deps: Pick<ApiDeps, 'db'>, tenantId: string, orderId: string, documentId: string, reply: FastifyReply) {
  const file = await openDocument(deps.db, tenantId, orderId, documentId);
  if (!file) throw notFound(`document ${documentId} of order ${orderId}`);
  return sendFile(reply, file, file.stream);
}

export async function orderWorkspaceRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const canRead = requireRole(deps, 'orders:write', 'ops', 'log:read');
  const ops = requireRole(deps, 'ops');

  app.get('/v1/orders', {
    onRequest: canRead,
    schema: {
      tags, ...authenticated,
      summary: 'The orders workspace: orders with an open exception (or as filtered), oldest placed first, with counts by exception type',
      querystring: listOrdersQuery, response: { 200: listAnswer, ...apiErrors(422) },
    },
  }, async (request) => listOrdersPage(deps, request.principal!.tenantId!, request.query));

  app.post('/v1/orders/:id/actions', {
    onRequest: ops,
    schema: {
      tags, ...authenticated,
      summary: 'A seller\'s action on an order: change the carrier, fix the dimensions, request a new pickup, tell the customer, record why it is stuck, resolve an exception with a note (role ops; audited)',
      params: orderParams, body: sellerActionSchema, response: { 200: actionAnswer, ...apiErrors(404, 409, 422) },
    },
  }, async (request) => sellerAction(deps, request.principal!, request.params.id, request.body as SellerActionBody));

  app.get('/v1/orders/:id/documents/:documentId', {
    onRequest: canRead,
    schema: {
      tags, ...authenticated, summary: 'A label or invoice uploaded to the order (the file, as an attachment)',
      params: documentParams,
      response: {
        200: { description: 'the file', content: { 'application/pdf': { schema: z.string() }, 'image/png': { schema: z.string() }, 'image/jpeg': { schema: z.string() } } },
        ...apiErrors(404),
      },
    },
  }, async (request, reply) => sendDocument(deps, request.principal!.tenantId!, request.params.id, request.params.documentId, reply));

  // The upload in a scope of its own: only this route reads multipart bodies.
  await app.register(async (uploads) => {
    await acceptUploads(uploads);
    uploads.withTypeProvider<ZodRequestTypes>().post('/v1/orders/:id/documents', {
      onRequest: ops,
      schema: {
        tags, ...authenticated, consumes: ['multipart/form-data'],
        summary: 'Upload the shipping label or the invoice (PDF, PNG or JPEG, at most 10 MiB; role ops; audited): once both are there, an order whose ready-to-ship failed for them moves on',
        params: orderParams, body: uploadDocumentSchema, response: { 201: documentAnswer, ...apiErrors(404, 409, 413, 422) },
      },
    }, async (request, reply) => reply.status(201).send(await uploadDocument(deps, request.principal!, request.params.id, request, request.body)));
  });
}
