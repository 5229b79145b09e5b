// What the providers' webhooks (sendgrid/webhook.ts, twilio/webhook.ts) share: an event with its
// route to a dispatch, and a payload made storable. Pure, no I/O.
import type { ProviderEvent } from './types';
import { parseRoutingId } from '../domain/dispatch';

/** What stands for U+0000 in what Relais stores of a provider's payload: U+FFFD, the replacement character. */
export const NUL_REPLACEMENT = '\uFFFD';

/**
 * A provider's payload as Relais stores it: every U+0000 (NUL) in a string or a key replaced by
 * U+FFFD. The payload is signed and the provider's to send; Relais accepts it, but PostgreSQL
 * (under FerretDB) cannot store U+0000 in text, and a refused insert answered 500 would make the
 * provider retry the whole batch for a day. Applied after the signature check, to what is parsed.
 */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string')
    return (value.includes('\u0000') ? value.replaceAll('\u0000', NUL_REPLACEMENT) : value) as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), withoutNul(v)])) as T;
  }
  return value;
}

/** JSON text parsed, U+0000 replaced as withoutNul does; JSON writes NUL only as an escape, so text without one needs no walk. */
export function parseWithoutNul(text: string): unknown {
  const json: unknown = JSON.parse(text);
  return text.includes('\\u0000') ? withoutNul(json) : json;
}

/**
 * An event with its route: the dispatch, and the recipient's position and attempt. Events of the
 * first version's dispatches carry `<recipientId>.<attempt>` instead (`recipient` absent).
 */
export interface RoutedEvent {
  tenantId: string;
  dispatchId: string;
  event: ProviderEvent;
  recipient?: { index: number; attempt: number };
  /** Issue 17: the event is about the sender's copy (cc/bcc) carried by the recipient's personalization, not the recipient. */
  copy?: true;
}

/** The recipient a routing value names: `relais_index` (position) first, else the first version's `relais_recipient`. */
export function routeOf(index: string | undefined, legacyRecipient: string | undefined) {
  if (index) {
    const recipient = parseRoutingId(index);
    return recipient ? { recipientId: index, recipient } : undefined;
  }
  return legacyRecipient ? { recipientId: legacyRecipient } : undefined;
}
