// Rule N3: a SendGrid event is believed only when its signature holds. Relais checks it with
// node:crypto (src/providers/sendgrid/signature.ts); the official @sendgrid/eventwebhook is the
// reference here: for every case both give the same answer.
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { generateSendGridKeyPair } from '../../src/sandbox';
import { sendgridPublicKey, verifySendGridSignature } from '../../src/providers/sendgrid/signature';
import { parseWithoutNul } from '../../src/providers/webhook-events';

const current = generateSendGridKeyPair();
const other = generateSendGridKeyPair();
const body = Buffer.from(
  `${JSON.stringify([{ email: 'ana@acme.test', event: 'delivered', sg_event_id: 'e1', timestamp: 1765000000, note: 'café ✓' }])}\r\n`,
);
const ts = '1765000000';
/** The same public key as a PEM block, as an operator may paste it. */
const asPem = (base64: string) =>
  `-----BEGIN PUBLIC KEY-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
const signWith = (pem: string, data: Buffer) => sign('sha256', data, createPrivateKey(pem)).toString('base64');
const good = signWith(current.privateKeyPem, Buffer.concat([Buffer.from(ts), body]));
const p1363 = sign('sha256', Buffer.concat([Buffer.from(ts), body]), {
  key: createPrivateKey(current.privateKeyPem),
  dsaEncoding: 'ieee-p1363',
}).toString('base64');

const cases: Array<{
  name: string;
  body: Buffer;
  signature: string;
  timestamp: string;
  keys: string[];
  valid: boolean;
}> = [
  {
    name: 'signed by the current key',
    body,
    signature: good,
    timestamp: ts,
    keys: [current.publicKeyBase64],
    valid: true,
  },
  {
    name: 'signed by the previous key during a rotation',
    body,
    signature: good,
    timestamp: ts,
    keys: [other.publicKeyBase64, current.publicKeyBase64],
    valid: true,
  },
  {
    name: 'signed by the current key, its public key pasted as PEM',
    body,
    signature: good,
    timestamp: ts,
    keys: [asPem(current.publicKeyBase64)],
    valid: true,
  },
  {
    name: 'signed by another key',
    body,
    signature: signWith(other.privateKeyPem, Buffer.concat([Buffer.from(ts), body])),
    timestamp: ts,
    keys: [current.publicKeyBase64],
    valid: false,
  },
  {
    name: 'body changed by one byte',
    body: Buffer.from(body.toString().replace('delivered', 'delivereD')),
    signature: good,
    timestamp: ts,
    keys: [current.publicKeyBase64],
    valid: false,
  },
  {
    name: 'body without its final CRLF',
    body: body.subarray(0, body.length - 2),
    signature: good,
    timestamp: ts,
    keys: [current.publicKeyBase64],
    valid: false,
  },
  {
    name: 'timestamp changed',
    body,
    signature: good,
    timestamp: '1765000001',
    keys: [current.publicKeyBase64],
    valid: false,
  },
  {
    name: 'signature of the body alone (timestamp not signed)',
    body,
    signature: signWith(current.privateKeyPem, body),
    timestamp: ts,
    keys: [current.publicKeyBase64],
    valid: false,
  },
  {
    name: 'signature not in DER (raw r||s)',
    body,
    signature: p1363,
    timestamp: ts,
    keys: [current.publicKeyBase64],
    valid: false,
  },
  {
    name: 'signature that is not base64 DER at all',
    body,
    signature: 'bm90IGEgc2lnbmF0dXJl',
    timestamp: ts,
    keys: [current.publicKeyBase64],
    valid: false,
  },
];

describe('rule N3: the SendGrid signature check agrees with @sendgrid/eventwebhook', () => {
  const reference = new EventWebhook();
  test.each(cases)('$name → $valid', ({ body: b, signature, timestamp, keys, valid }) => {
    expect(
      verifySendGridSignature(
        keys.map((k, i) => sendgridPublicKey(k, `key ${i}`)),
        b,
        signature,
        timestamp,
      ),
    ).toBe(valid);
    const official = keys.some((k) => {
      try {
        return reference.verifySignature(reference.convertPublicKeyToECDSA(k), b, signature, timestamp);
      } catch {
        return false;
      }
    });
    expect(official).toBe(valid);
  });
});

describe('a public key that SendGrid could not have given is refused at start-up, naming the setting', () => {
  test.each([
    ['not base64 DER', 'bm90IGEga2V5', /SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 DER \(or PEM\) public key/],
    [
      'an RSA key',
      generateKeyPairSync('rsa', { modulusLength: 1024 })
        .publicKey.export({ type: 'spki', format: 'der' })
        .toString('base64'),
      /SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA P-256 key/,
    ],
    [
      'another curve',
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
        .publicKey.export({ type: 'spki', format: 'der' })
        .toString('base64'),
      /not an ECDSA P-256 key/,
    ],
  ])('%s', (_name, key, message) => {
    expect(() => sendgridPublicKey(key, 'SENDGRID_WEBHOOK_PUBLIC_KEY')).toThrow(message);
  });
});

describe('event bodies are parsed with U+0000 replaced, walking the value only when the text has one', () => {
  test.each([
    ['no NUL: as parsed', '[{"email":"a@b.test","reason":"ok"}]', [{ email: 'a@b.test', reason: 'ok' }]],
    ['NUL in a value', '[{"reason":"a\\u0000b"}]', [{ reason: 'a\uFFFDb' }]],
    ['NUL in a key', '[{"k\\u0000":1}]', [{ 'k\uFFFD': 1 }]],
    ['an escaped backslash before u0000 is text, kept', '[{"reason":"\\\\u0000"}]', [{ reason: '\\u0000' }]],
  ])('%s', (_name, text, expected) => {
    expect(parseWithoutNul(text)).toEqual(expected);
  });
});
