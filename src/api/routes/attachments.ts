// The attachments of a dispatched document, to download (issue 17 item 3: "Télécharger", then send it
// another way): to an operator who may read the log (the API and the dispatch page), and to whoever
// holds the document's signed link (/d/<token>), each attachment by its own signed link that expires
// with it, so the document's token is never what a file's address carries.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ZodRequestTypes } from '../openapi';
import { errors, htmlPage } from '../openapi';
import type { ApiDeps } from '../server';
import type { Db } from '../../db/models';
import { apiErrors, authenticated, requireRole } from '../auth';
import { notFound } from '../errors';
import { sendFile } from '../downloads';
import { linkSecrets, signLink, type LinkClaims } from '../../links';
import { checkLink } from '../link-check';
import { perTenantLinkLimit, type ApiLimits } from '../limits';
import { securePublicPages } from '../public-pages';

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

const PAGE = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

export async function attachmentRoutes(scope: FastifyInstance, deps: ApiDeps, limits: ApiLimits) {
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

  // Behind a document link: the public pages' headers, rate limits and refusals.
  await app.register(async (publicScope) => {
    const pub = publicScope.withTypeProvider<ZodRequestTypes>();
    securePublicPages(pub);
    const secrets = linkSecrets(deps);
    pub.get('/d/:token/:filename', {
      config: { rateLimit: { max: limits.publicRate.max, timeWindow: limits.publicRate.windowMs } },
      onRequest: perTenantLinkLimit(pub, limits, secrets, 'attachment'),
      schema: {
        tags: ['public'], summary: 'An attachment of a document sent as a link (D8), behind its own signed link that expires with the document\'s',
        params: z.object({ token: z.string().min(1), filename: z.string().min(1).describe('the file\'s name, for the browser') }),
        response: {
          200: { description: 'the file as sent', content: { 'application/octet-stream': { schema: z.string().meta({ contentMediaType: 'application/octet-stream' }) } } },
          404: htmlPage('not valid, or no such file'), 410: htmlPage('the link has expired'), ...errors(429),
        },
      },
    }, async (request, reply) => {
      const html = 'text/html; charset=utf-8';
      const check = checkLink(request, secrets, 'attachment');
      const m = check.ok ? /^(.+)\/(\d{1,2})$/.exec(check.claims.target) : null;
      if (!check.ok || !m) {
        const expired = !check.ok && check.reason === 'expired';
        return reply.status(expired ? 410 : 404).type(html).send(PAGE('Link', expired
          ? '<h1>This link has expired</h1><p>Ask the sender for a new one. — Ce lien a expiré : demandez-en un nouveau à l\'expéditeur.</p>'
          : '<h1>This link is not valid</h1><p>Check that you copied it whole. — Ce lien n\'est pas valide.</p>'));
      }
      const file = await openAttachment(deps.db, check.claims.tenantId, m[1], Number(m[2]));
      if (!file) return reply.status(404).type(html).send(PAGE('File', '<h1>File not found</h1>'));
      return sendFile(reply, file, file.content);
    });
  });
}
