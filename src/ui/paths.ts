// Where the operator pages live, in one place: the pages link to each other with these, notices
// (escalations, fix requests, seller alerts) link to them, and sign-in returns to them.

export const dispatchPagePath = (dispatchId: string) => `/ui/dispatches/${encodeURIComponent(dispatchId)}`;
export const orderPagePath = (orderId: string) => `/ui/orders/${encodeURIComponent(orderId)}`;

/** The page's full address, as a notice sent outside carries it. */
export const pageUrl = (publicBaseUrl: string, path: string) => new URL(path, publicBaseUrl).toString();

/** Pages that make no sense to come back to after signing in. */
const NOT_A_RETURN = new Set(['/ui/sign-in', '/ui/sign-out']);
/** A host no request carries, to parse a path against without trusting any Host header. */
const PROBE_ORIGIN = 'http://relais.invalid';

/**
 * The page to go back to after sign-in, when `next` names an operator page of this site;
 * null for anything else (another origin, a scheme, `//host`, a path outside /ui/, sign-in
 * itself). What is returned is the parsed, normalised path and query, so the redirect goes
 * exactly where this check looked: `/ui/../v1/x` is `/v1/x`, and refused.
 */
export function returnPath(next: unknown): string | null {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048 || !next.startsWith('/')) return null;
  let url: URL;
  try {
    url = new URL(next, PROBE_ORIGIN);
  } catch {
    return null;
  }
  if (url.origin !== PROBE_ORIGIN || !url.pathname.startsWith('/ui/') || NOT_A_RETURN.has(url.pathname)) return null;
  return url.pathname + url.search;
}
