// The orders workspace (issue 18): the list of orders with their open exceptions (`GET /v1/orders`),
// the seller's actions on one order (`POST /v1/orders/:id/actions`, an Update of its workflow,
// audited), and the label or invoice the seller uploads and anyone who may read the order
// downloads (`/v1/orders/:id/documents`). The operator pages (src/ui) call the same use cases (src/app/orders.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../deps';
import { apiErrors, authenticated, requireRole } from '../auth';
import { listOrdersQuery, sellerActionSchema, uploadDocumentSchema, type SellerActionBody } from '../schemas';
import { listOrdersPage, sellerAction, uploadDocument } from '../../app/orders';
import { acceptUploads, uploadedFile } from '../uploads';
import { sendDocument } from '../downloads';

const tags = ['orders'];
const orderParams = z.object({ id: z.string().min(1).describe('the orderId given on creation') });
const documentParams = orderParams.extend({
  documentId: z.string().regex(/^[0-9a-f]{24}$/, 'a document id (24 hexadecimal digits)'),
});

const listRow = z.object({
  orderId: z.string(),
  state: z.string(),
  stuck: z.boolean(),
  ended: z.boolean(),
  customerName: z.string().nullable(),
  placedAt: z.string(),
  exceptions: z.array(
    z.object({ type: z.string(), reason: z.string(), cause: z.string().nullable(), openedAt: z.string() }),
  ),
});
const counts = z.object({
  open: z.number().int(),
  stuck: z.number().int(),
  byType: z.record(z.string(), z.number().int()),
  cap: z
    .number()
    .int()
    .nullable()
    .describe(
      'null: the counts are exact (MongoDB); a number (the embedded store): counts stop there, and a count equal to it means at least as many',
    ),
});
const listAnswer = z.object({ orders: z.array(listRow), nextCursor: z.string().nullable(), counts: counts.optional() });
const actionAnswer = z.object({ orderId: z.string(), state: z.string(), stuck: z.boolean(), ended: z.boolean() });
const documentAnswer = actionAnswer.extend({
  document: z.object({
    documentId: z.string(),
    kind: z.enum(['label', 'invoice']),
    filename: z.string(),
    contentType: z.string(),
    bytes: z.number().int(),
    at: z.string(),
    url: z.string(),
  }),
});

export async function orderWorkspaceRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const canRead = requireRole(deps, 'orders:write', 'ops', 'log:read');
  const ops = requireRole(deps, 'ops');

  app.get(
    '/v1/orders',
    {
      onRequest: canRead,
      schema: {
        tags,
        ...authenticated,
        summary:
          'The orders workspace: orders with an open exception (or as filtered), oldest placed first, with counts by exception type',
        querystring: listOrdersQuery,
        response: { 200: listAnswer, ...apiErrors(422) },
      },
    },
    async (request) => listOrdersPage(deps, request.principal!.tenantId!, request.query),
  );

  app.post(
    '/v1/orders/:id/actions',
    {
      onRequest: ops,
      schema: {
        tags,
        ...authenticated,
        summary:
          "A seller's action on an order: change the carrier, fix the dimensions, request a new pickup, tell the customer, record why it is stuck, resolve an exception with a note (role ops; audited)",
        params: orderParams,
        body: sellerActionSchema,
        response: { 200: actionAnswer, ...apiErrors(404, 409, 422) },
      },
    },
    async (request) => sellerAction(deps, request.principal!, request.params.id, request.body as SellerActionBody),
  );

  app.get(
    '/v1/orders/:id/documents/:documentId',
    {
      onRequest: canRead,
      schema: {
        tags,
        ...authenticated,
        summary: 'A label or invoice uploaded to the order (the file, as an attachment)',
        params: documentParams,
        response: {
          200: {
            description: 'the file',
            content: {
              'application/pdf': { schema: z.string() },
              'image/png': { schema: z.string() },
              'image/jpeg': { schema: z.string() },
            },
          },
          ...apiErrors(404),
        },
      },
    },
    async (request, reply) =>
      sendDocument(deps, request.principal!.tenantId!, request.params.id, request.params.documentId, reply),
  );

  // The upload in a scope of its own: only this route reads multipart bodies.
  await app.register(async (uploads) => {
    await acceptUploads(uploads);
    uploads.withTypeProvider<ZodRequestTypes>().post(
      '/v1/orders/:id/documents',
      {
        onRequest: ops,
        schema: {
          tags,
          ...authenticated,
          consumes: ['multipart/form-data'],
          summary:
            'Upload the shipping label or the invoice (PDF, PNG or JPEG, at most 10 MiB; role ops; audited): once both are there, an order whose ready-to-ship failed for them moves on',
          params: orderParams,
          body: uploadDocumentSchema,
          response: { 201: documentAnswer, ...apiErrors(404, 409, 413, 422) },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            await uploadDocument(
              deps,
              request.principal!,
              request.params.id,
              uploadedFile(request, request.body),
              request.body,
            ),
          ),
    );
  });
}
