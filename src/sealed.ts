// Sealed content (issue 14, finding 1): what a notice that carries a customer's link really says,
// kept beside its readable copy so a retried send can send it again, unreadable to anyone who
// reads the database, a backup or an API answer. AES-256-GCM with a key derived from LINK_SECRET
// by HKDF-SHA256 (the secret that signs the links protects the messages carrying them), a random
// 96-bit nonce per seal, and the record's identity as associated data, so a sealed value copied
// into another record does not open. Never returned by a route or a page, never logged.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { carriesSecrets, withheldData } from './domain/secrets';
import type { Locale } from './domain/locale';

const VERSION = 'v1';
const INFO = 'relais sealed message v1';

const keyOf = (secret: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), INFO, 32));

/** `v1.<base64url nonce ‖ ciphertext ‖ tag>`, bound to `boundTo` (e.g. `<tenant>/<dispatchId>`). */
export function seal(secret: string, boundTo: string, value: unknown): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), nonce);
  cipher.setAAD(Buffer.from(boundTo));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/**
 * The sealed value, opened with the current secret or, during a rotation, the previous one
 * (LINK_SECRET_PREVIOUS: content sealed just before the switch is still sent on a retry).
 * Throws when none opens it: tampered, bound to another record, or sealed with a retired secret.
 */
export function unseal<T = unknown>(secrets: readonly string[], boundTo: string, sealed: string): T {
  const [version, payload] = sealed.split('.');
  if (version !== VERSION || !payload) throw new Error('not a sealed value');
  const raw = Buffer.from(payload, 'base64url');
  const nonce = raw.subarray(0, 12);
  const tag = raw.subarray(raw.length - 16);
  const body = raw.subarray(12, raw.length - 16);
  for (const secret of secrets) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), nonce);
      decipher.setAAD(Buffer.from(boundTo));
      decipher.setAuthTag(tag);
      return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')) as T;
    } catch {
      // the next secret, if any
    }
  }
  throw new Error('the sealed content does not open with LINK_SECRET (or LINK_SECRET_PREVIOUS)');
}

/** A message as rendered: what is sent, and the data it was rendered with (approved WhatsApp templates need it again). */
export interface MessageContent {
  subject: string | null;
  html: string | null;
  text: string;
  templateData: Record<string, unknown>;
}

/**
 * D11: the copy people read of a message and, when its template carries a customer's link or
 * reply code (src/domain/secrets.ts), what is really sent, sealed and bound to the record
 * (`boundTo`, `<tenant>/<dispatchId>`); `sealed` is null otherwise. `render` throws on a bad template.
 */
export function sealedCopy(
  secret: string,
  boundTo: string,
  template: string,
  locale: Locale,
  data: Record<string, unknown>,
  render: (data: Record<string, unknown>) => MessageContent,
): { copy: MessageContent; sealed: string | null } {
  const sent = render(data);
  if (!carriesSecrets(template)) return { copy: sent, sealed: null };
  return { copy: render(withheldData(template, data, locale)), sealed: seal(secret, boundTo, sent) };
}
