// Signed, expiring links (documents re-sent over SMS/WhatsApp, rule D8; customer pages later).
// The token carries its own claims and an HMAC-SHA256 over them; nothing to look up, nothing to guess.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface LinkClaims {
  kind: string;
  tenantId: string;
  target: string;
  exp: number;
}

export function signLink(secret: string, claims: LinkClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

/**
 * The secrets a link may be signed with: the current one, then the previous one during a
 * rotation; none without a current one (links are then refused).
 */
export const linkSecrets = (deps: { linkSecret?: string; previous?: { linkSecret?: string } }): string[] =>
  (deps.linkSecret ? [deps.linkSecret, deps.previous?.linkSecret] : []).filter((s): s is string => Boolean(s));

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

/**
 * `secrets`: the current LINK_SECRET first, then, during a rotation, the previous one, so links
 * already sent keep working until they expire (docs/security.md).
 */
export function verifyLink(
  secrets: string | readonly string[],
  token: string,
  kind: string,
  now = Date.now(),
): LinkCheck {
  const [body, mac, extra] = token.split('.');
  if (!body || !mac || extra !== undefined) return { ok: false, reason: 'malformed' };
  // Compared as text: base64url decoding ignores the last character's spare bits, so two
  // spellings would decode to the same MAC; only the canonical one is accepted.
  const given = Buffer.from(mac);
  const signedBy = (secret: string) => {
    const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('base64url'));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  if (!(typeof secrets === 'string' ? [secrets] : secrets).some(signedBy)) return { ok: false, reason: 'forged' };
  let claims: LinkClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LinkClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.kind !== kind) return { ok: false, reason: 'forged' };
  if (claims.exp <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
