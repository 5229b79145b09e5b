// Signed, expiring links (documents re-sent over SMS/WhatsApp, rule D8; customer pages later).
// The token carries its own claims and an HMAC-SHA256 over them; nothing to look up, nothing to guess.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface LinkClaims { kind: string; tenantId: string; target: string; exp: number }

export function signLink(secret: string, claims: LinkClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

export function verifyLink(secret: string, token: string, kind: string, now = Date.now()): LinkCheck {
  const [body, mac, extra] = token.split('.');
  if (!body || !mac || extra !== undefined) return { ok: false, reason: 'malformed' };
  // Compared as text: base64url decoding ignores the last character's spare bits, so two
  // spellings would decode to the same MAC; only the canonical one is accepted.
  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('base64url'));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  let claims: LinkClaims;
  try { claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LinkClaims; } catch { return { ok: false, reason: 'malformed' }; }
  if (claims.kind !== kind) return { ok: false, reason: 'forged' };
  if (claims.exp <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
