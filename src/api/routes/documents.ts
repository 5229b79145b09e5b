// GET /d/:token — the copy of a dispatched document, behind a signed expiring link (rule D8), with
// its attachments to download, each by its own signed link (issue 17 item 3).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { errors, htmlPage, type ZodRequestTypes } from '../openapi';
import { perTenantLinkLimit, type ApiLimits } from '../limits';
import type { ApiDeps } from '../deps';
import { linkSecrets } from '../../links';
import { checkLink } from '../link-check';
import { dispatchKey } from '../../db/dispatch-records';
import { securePublicPages } from '../public-pages';
import { attachmentLinkPath, openAttachment } from '../../app/attachments';
import { sendFile } from '../downloads';
import { renderView } from '../../ui/render';

const html = 'text/html; charset=utf-8';

/** A page of its own (views/link-page.hbs): a link refused, or nothing behind it. */
const linkPage = (reply: FastifyReply, status: number, title: string, heading: string, text?: string) =>
  reply.status(status).type(html).send(renderView('link-page', { title, heading, text }));

/** A link refused: expired (410: ask for a new one) or not valid (404: forged, cut, of another kind). */
const refuseLink = (reply: FastifyReply, expired: boolean) =>
  expired
    ? linkPage(
        reply,
        410,
        'Link',
        'This link has expired',
        "Ask the sender for a new one. — Ce lien a expiré : demandez-en un nouveau à l'expéditeur.",
      )
    : linkPage(
        reply,
        404,
        'Link',
        'This link is not valid',
        "Check that you copied it whole. — Ce lien n'est pas valide.",
      );

export async function documentRoutes(scope: FastifyInstance, deps: ApiDeps, limits: ApiLimits) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  securePublicPages(app);
  const secrets = linkSecrets(deps);
  /** Each link's rate limits: per client address, and per tenant on links whose signature holds. */
  const limited = (kind: 'document' | 'attachment') => ({
    config: { rateLimit: { max: limits.publicRate.max, timeWindow: limits.publicRate.windowMs } },
    onRequest: perTenantLinkLimit(app, limits, secrets, kind),
  });
  app.get(
    '/d/:token',
    {
      ...limited('document'),
      schema: {
        tags: ['public'],
        summary: 'The copy of a dispatched document, behind a signed expiring link (D8)',
        params: z.object({ token: z.string().min(1) }),
        response: {
          200: htmlPage('the document as sent'),
          404: htmlPage('not valid, or no such document'),
          410: htmlPage('the link has expired'),
          ...errors(429),
        },
      },
    },
    async (request, reply) => {
      const check = checkLink(request, secrets, 'document');
      if (!check.ok) return refuseLink(reply, check.reason === 'expired');
      const { tenantId, target } = check.claims;
      const [content, header] = await Promise.all([
        deps.db.DispatchContent.findById(dispatchKey(tenantId, target), { html: 1 }).lean(),
        deps.db.Dispatch.findById(dispatchKey(tenantId, target), { attachments: 1, locale: 1 }).lean(),
      ]);
      const doc =
        content ?? (await deps.db.LegacyDispatch.findOne({ tenantId, dispatchId: target }, { html: 1 }).lean()); // the first version's record
      if (!doc?.html) return linkPage(reply, 404, 'Document', 'Document not found');
      // The stored copy is our own rendered (escaped) template; a CSP keeps it script-free anyway.
      reply.header(
        'content-security-policy',
        "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
      const files = header?.attachments ?? [];
      if (!files.length) return reply.type(html).send(doc.html);
      // Each file by its own link, made now for this page only (never stored), expiring with this one.
      const list = renderView('document-attachments', {
        title: header?.locale === 'fr' ? 'Pièces jointes' : 'Attachments',
        files: files.map((name, i) => ({ name, href: attachmentLinkPath(secrets[0], check.claims, i, name) })),
      });
      return reply
        .type(html)
        .send(
          /<\/body>/i.test(doc.html)
            ? doc.html.replace(/<\/body>(?![\s\S]*<\/body>)/i, `${list}</body>`)
            : doc.html + list,
        );
    },
  );

  // Issue 17: an attachment of the document, behind its own signed link (attachmentLinkPath).
  app.get(
    '/d/:token/:filename',
    {
      ...limited('attachment'),
      schema: {
        tags: ['public'],
        summary:
          "An attachment of a document sent as a link (D8), behind its own signed link that expires with the document's",
        params: z.object({
          token: z.string().min(1),
          filename: z.string().min(1).describe("the file's name, for the browser"),
        }),
        response: {
          200: {
            description: 'the file as sent',
            content: {
              'application/octet-stream': { schema: z.string().meta({ contentMediaType: 'application/octet-stream' }) },
            },
          },
          404: htmlPage('not valid, or no such file'),
          410: htmlPage('the link has expired'),
          ...errors(429),
        },
      },
    },
    async (request, reply) => {
      const check = checkLink(request, secrets, 'attachment');
      const m = check.ok ? /^(.+)\/(\d{1,2})$/.exec(check.claims.target) : null;
      if (!check.ok || !m) return refuseLink(reply, !check.ok && check.reason === 'expired');
      const file = await openAttachment(deps.db, check.claims.tenantId, m[1], Number(m[2]));
      if (!file) return linkPage(reply, 404, 'File', 'File not found');
      return sendFile(reply, file, file.content);
    },
  );
}
