// The SendGrid Event Webhook's signature (rule N3): ECDSA P-256 over SHA-256 of the timestamp
// header followed by the raw body, signature in base64 DER, public key in base64 DER (SPKI).
// Checked by OpenSSL through node:crypto rather than @sendgrid/eventwebhook's pure-JS curve
// arithmetic: the same check at ~0.3 ms a batch instead of ~21 ms, which alone capped one API
// process at about 2,400 events/s (docs/performance.md). test/providers/sendgrid-signature.test.ts
// holds it to the official library's answer, case by case.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * A public key as SendGrid shows it (base64 DER SPKI; a PEM block, as some operators paste it, is
 * read too), read once; `name` says which setting is wrong.
 */
export function sendgridPublicKey(value: string, name: string): KeyObject {
  let key: KeyObject;
  try {
    key = value.includes('-----BEGIN')
      ? createPublicKey({ key: value, format: 'pem' })
      : createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new Error(`${name} is not a base64 DER (or PEM) public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`${name} is not an ECDSA P-256 key (SendGrid signs with one)`);
  }
  return key;
}

/** True when `signature` (base64 DER) signs `timestamp` + `body` under one of `keys`. */
export function verifySendGridSignature(
  keys: readonly KeyObject[],
  body: Buffer,
  signature: string,
  timestamp: string,
): boolean {
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
  const der = Buffer.from(signature, 'base64');
  return keys.some((key) => {
    try {
      return verify('sha256', signed, { key, dsaEncoding: 'der' }, der);
    } catch {
      return false; // a malformed signature is a wrong one
    }
  });
}
