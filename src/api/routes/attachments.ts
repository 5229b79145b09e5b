// The attachments of a dispatched document, to download (issue 17 item 3: "Télécharger", then send it
// another way): to an operator who may read the log (the API and the dispatch page), and to whoever
// holds the document's signed link (/d/<token>), each attachment by its own signed link that expires
// with it, so the document's token is never what a file's address carries.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../deps';
import { apiErrors, authenticated, requireRole } from '../auth';
import { sendAttachment } from '../downloads';

/** The API's download of an attachment (its public one, behind a document link, is with the document: documents.ts). */
export async function attachmentRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  app.get(
    '/v1/dispatches/:id/attachments/:index',
    {
      onRequest: requireRole(deps, 'log:read'),
      schema: {
        tags: ['dispatches'],
        ...authenticated,
        summary: 'One attachment of a dispatch as it was sent, to download (issue 17): its own name and type',
        params: z.object({
          id: z.string().min(1).describe('the dispatchId'),
          index: z.coerce.number().int().min(0).max(9).describe("its position in the dispatch's attachments, from 0"),
        }),
        response: {
          200: {
            description: 'the file as sent, `Content-Disposition: attachment` with its name',
            content: {
              'application/octet-stream': { schema: z.string().meta({ contentMediaType: 'application/octet-stream' }) },
            },
          },
          ...apiErrors(404),
        },
      },
    },
    async (request, reply) =>
      sendAttachment(deps.db, request.principal!.tenantId!, request.params.id, request.params.index, reply),
  );
}
