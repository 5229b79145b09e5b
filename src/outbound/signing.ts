// Standard Webhooks signatures (https://www.standardwebhooks.com, spec v1.0.0): a secret per
// endpoint, `whsec_` + base64 of 32 random bytes; each request signed as
// `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed by the secret's
// decoded bytes, several signatures space-separated in `webhook-signature` during a rotation.
// Secrets are kept sealed (src/sealed.ts) under LINK_SECRET, bound to their endpoint.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { seal, unseal } from '../sealed';

export const SECRET_PREFIX = 'whsec_';

export const newEndpointSecret = (): string => `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;

/** One `v1,…` signature of a request. */
export function signatureOf(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The `webhook-*` headers of one attempt: signed with every secret given (the current one, and the previous during a rotation). */
export function webhookHeaders(
  secrets: readonly string[],
  webhookId: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signatureOf(s, webhookId, timestampSeconds, body)).join(' '),
  };
}

/** Sealed for one endpoint of one tenant (the NUL bytes keep it apart from any dispatch's binding). */
const binding = (tenantId: string, endpointId: string) => `relais webhook secret\0${tenantId}\0${endpointId}`;

export const sealEndpointSecret = (linkSecret: string, tenantId: string, endpointId: string, secret: string) =>
  seal(linkSecret, binding(tenantId, endpointId), secret);

/** Opens with LINK_SECRET or, during its rotation, LINK_SECRET_PREVIOUS. */
export const openEndpointSecret = (
  linkSecrets: readonly string[],
  tenantId: string,
  endpointId: string,
  sealed: string,
) => unseal<string>(linkSecrets, binding(tenantId, endpointId), sealed);

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('base64url');

/**
 * The `webhook-id` of an event: the same for every delivery, retry and replay of it (receivers
 * dedupe on it), derived from the tenant and the event id; no `.` (the spec forbids it, the id is
 * part of what is signed).
 */
export const webhookIdOf = (tenantId: string, eventId: string) => `msg_${digest(tenantId, eventId).slice(0, 27)}`;

/** The delivery of an event to an endpoint: derived, so publishing an event twice starts nothing twice. */
export const deliveryIdOf = (tenantId: string, endpointId: string, eventId: string) =>
  `wd_${digest(tenantId, endpointId, eventId).slice(0, 22)}`;

/** A replay's own delivery id (each replay is a new delivery). */
export const replayDeliveryId = () => `wd_${randomBytes(16).toString('base64url')}`;
export const newEndpointId = () => `we_${randomBytes(12).toString('base64url')}`;
