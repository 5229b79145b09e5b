// What every answer of a customer page (/c/:token, /d/:token) carries (issue 14, finding 9),
// whatever it is (the page, a refusal, a 429): no caching, no referrer leaking the link, no
// framing by another site (clickjacking the confirm button), no content sniffing. An HTML page
// names its charset itself (`text/html; charset=utf-8`).
import type { FastifyInstance } from 'fastify';

/** Nothing loads but inline styles; forms post back here only; no site may frame the page. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function securePublicPages(scope: FastifyInstance): void {
  scope.addHook('onSend', async (_request, reply, payload) => {
    reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', PAGE_CSP);
    return payload;
  });
}
