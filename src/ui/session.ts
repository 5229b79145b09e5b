// Operator sessions: a tenant's API key is exchanged once for a random session token, sent
// back as a Secure, HttpOnly, SameSite=Strict cookie. Only the token's hash is stored, with the
// key's id: the key's roles are read on every request, so revoking the key ends its sessions.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/models';
import { verifyApiKey, type Principal, type Role } from '../db/api-keys';

export const SESSION_COOKIE = 'relais_session';
export const SESSION_HOURS = 8;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * What a form's CSRF token is bound to: the session it was issued in (its stored id, the hash of
 * the token), or `signed-out` before sign-in. A token of one session does not verify with another's cookie.
 */
export const csrfBinding = (token: string | undefined): string => (token ? hash(token) : 'signed-out');

/**
 * A new session for a tenant key, or undefined when the key is unknown, revoked or a platform key.
 * `person`: the name the operator gave, recorded with what they do (audits, an order's timeline).
 */
export async function signIn(
  db: Db,
  apiKey: string,
  person?: string | null,
): Promise<{ token: string; principal: Principal } | undefined> {
  const principal = await verifyApiKey(db, apiKey.trim());
  if (!principal || principal.tenantId === null) return undefined;
  const token = randomBytes(32).toString('base64url');
  const now = new Date();
  // Housekeeping instead of a TTL index (FerretDB v1 has none): expired sessions go at each sign-in.
  await db.UiSession.deleteMany({ expiresAt: { $lte: now } });
  const name = personName(person);
  await db.UiSession.create({
    _id: hash(token),
    keyId: principal.keyId,
    tenantId: principal.tenantId,
    person: name,
    createdAt: now,
    expiresAt: new Date(now.getTime() + SESSION_HOURS * 3_600_000),
  });
  return { token, principal: { ...principal, person: name } };
}

/** The principal behind a session token, while the session lasts and its key exists. */
export async function sessionPrincipal(db: Db, token: string | undefined): Promise<Principal | undefined> {
  if (!token) return undefined;
  const session = await db.UiSession.findById(hash(token)).lean();
  if (!session || session.expiresAt.getTime() <= Date.now()) return undefined;
  const key = await db.ApiKey.findById(session.keyId, { tenantId: 1, roles: 1 }).lean();
  if (!key || key.tenantId !== session.tenantId) return undefined;
  return {
    keyId: session.keyId,
    tenantId: session.tenantId,
    roles: key.roles as Role[],
    person: session.person ?? null,
  };
}

/** A name as given at sign-in: printable, single spaces, at most 80 characters; none when blank. */
export function personName(given: string | null | undefined): string | null {
  const name = (given ?? '')
    // eslint-disable-next-line no-control-regex -- control characters are removed from a name on purpose
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);
  return name || null;
}

export async function signOut(db: Db, token: string | undefined): Promise<void> {
  if (token) await db.UiSession.deleteOne({ _id: hash(token) });
}
