// The attachments of a dispatched document, to download (issue 17 item 3: "Télécharger", then send it
// another way): to an operator who may read the log (the API and the dispatch page), and to whoever
// holds the document's signed link (/d/<token>), each attachment by its own signed link that expires
// with it, so the document's token is never what a file's address carries.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import type { ApiDeps } from '../server';
import type { Db } from '../../db/models';
import { apiErrors, authenticated, requireRole } from '../auth';
import { notFound } from '../errors';
import { sendFile } from '../downloads';
import { signLink, type LinkClaims } from '../../links';

/** Attachments are stored by position (`<tenant>/<dispatch>/<index>`) when the dispatch is accepted. */
const attachmentKey = (tenantId: string, dispatchId: string, index: number) => `${tenantId}/${dispatchId}/${index}`;

/** A file of one dispatch of the tenant: its name, type and bytes; undefined when there is none. */
export async function openAttachment(db: Db, tenantId: string, dispatchId: string, index: number) {
  const a = await db.Attachment.findById(attachmentKey(tenantId, dispatchId, index)).lean();
  if (!a || a.tenantId !== tenantId || a.dispatchId !== dispatchId) return undefined;
  // A Binary read back from the store, or a Buffer (as the send activity reads it).
  const content = Buffer.from((a.content as unknown as { buffer?: Uint8Array }).buffer ?? (a.content as unknown as Uint8Array));
  return { filename: a.filename, contentType: a.contentType, bytes: content.length, content };
}

/** Sends an attachment of the tenant's dispatch as a download; 404 for anything else. */
export async function sendAttachment(db: Db, tenantId: string, dispatchId: string, index: number, reply: FastifyReply) {
  const file = await openAttachment(db, tenantId, dispatchId, index);
  if (!file) throw notFound(`attachment ${index} of dispatch ${dispatchId}`);
  return sendFile(reply, file, file.content);
}

/**
 * The path of one attachment behind a document link: its own token (kind `attachment`, the
 * dispatch and the position), expiring when the document link does. The file's name follows, for
 * the browser; the token is the first segment, which request logs replace (src/logger.ts).
 */
export function attachmentLinkPath(secret: string, document: LinkClaims, index: number, filename: string): string {
  const token = signLink(secret, { kind: 'attachment', tenantId: document.tenantId, target: `${document.target}/${index}`, exp: document.exp });
  return `/d/${token}/${encodeURIComponent(filename)}`;
}

/** The API's download of an attachment (its public one, behind a document link, is with the document: documents.ts). */
export async function attachmentRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  app.get('/v1/dispatches/:id/attachments/:index', {
    onRequest: requireRole(deps, 'log:read'),
    schema: {
      tags: ['dispatches'], ...authenticated,
      summary: 'One attachment of a dispatch as it was sent, to download (issue 17): its own name and type',
      params: z.object({ id: z.string().min(1).describe('the dispatchId'), index: z.coerce.number().int().min(0).max(9).describe('its position in the dispatch\'s attachments, from 0') }),
      response: {
        200: { description: 'the file as sent, `Content-Disposition: attachment` with its name', content: { 'application/octet-stream': { schema: z.string().meta({ contentMediaType: 'application/octet-stream' }) } } },
        ...apiErrors(404),
      },
    },
  }, async (request, reply) => sendAttachment(deps.db, request.principal!.tenantId!, request.params.id, request.params.index, reply));
}
