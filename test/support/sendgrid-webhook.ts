// A signed SendGrid Event Webhook batch, as SendGrid sends one: JSON array + CRLF, ECDSA over
// timestamp + body with the sandbox's signing key.
import { createPrivateKey, sign } from 'node:crypto';
import type { Stack } from './stack';

export function signedSendGrid(stack: Pick<Stack, 'sendgridSigningKeyPem'>, events: unknown[], ageSeconds = 0) {
  const body = JSON.stringify(events) + '\r\n';
  const ts = String(Math.floor(Date.now() / 1000) - ageSeconds);
  const signature = sign('sha256', Buffer.from(ts + body), createPrivateKey(stack.sendgridSigningKeyPem)).toString(
    'base64',
  );
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': ts,
    },
  };
}

export const postSignedSendGrid = (
  stack: Pick<Stack, 'apiUrl' | 'sendgridSigningKeyPem'>,
  events: unknown[],
  ageSeconds = 0,
) => fetch(`${stack.apiUrl}/webhooks/sendgrid`, { method: 'POST', ...signedSendGrid(stack, events, ageSeconds) });
