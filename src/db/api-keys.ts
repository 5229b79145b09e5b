// API keys: `rk_<id>_<secret>`. Only a SHA-256 of the secret is stored; the lookup is by id and
// the comparison constant-time, so neither the database nor timing gives a key away.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from './models';

export const ROLES = ['admin', 'dispatch:write', 'log:read', 'orders:write', 'ops', 'platform'] as const;
export type Role = (typeof ROLES)[number];

/** `person`: the name an operator gave when signing in to the pages (never set for an API call). */
export interface Principal {
  keyId: string;
  tenantId: string | null;
  roles: Role[];
  person?: string | null;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

export async function createApiKey(
  db: Db,
  options: { tenantId: string | null; roles: Role[]; label?: string },
): Promise<{ key: string; keyId: string }> {
  const keyId = randomBytes(9).toString('base64url');
  const secret = randomBytes(24).toString('base64url');
  await db.ApiKey.create({
    _id: keyId,
    tenantId: options.tenantId,
    secretHash: hash(secret),
    roles: options.roles,
    label: options.label ?? null,
  });
  return { key: `rk_${keyId}_${secret}`, keyId };
}

export async function verifyApiKey(db: Db, presented: string): Promise<Principal | undefined> {
  const m = /^rk_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{32})$/.exec(presented);
  if (!m) return undefined;
  const doc = await db.ApiKey.findById(m[1]).lean();
  if (!doc) return undefined;
  const expected = Buffer.from(doc.secretHash, 'hex');
  const actual = Buffer.from(hash(m[2]), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  return { keyId: doc._id, tenantId: doc.tenantId ?? null, roles: doc.roles as Role[] };
}
