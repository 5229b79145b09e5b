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

/** A SendGrid event about the first recipient (position 0, first attempt) of a dispatch of the stack's tenant. */
export const firstRecipientEvent = (
  stack: Pick<Stack, 'tenantId'>,
  dispatchId: string,
  type: string,
  id: string,
  extra: Record<string, unknown> = {},
) => ({
  email: 'x@acme.test',
  timestamp: Math.floor(Date.now() / 1000),
  event: type,
  sg_event_id: id,
  sg_message_id: 'abc.1',
  relais_tenant: stack.tenantId,
  relais_dispatch: dispatchId,
  relais_index: '0.1',
  ...extra,
});
