// Twilio's webhooks, the other direction of sending (rule N3): status callbacks of the messages
// Relais sent and inbound messages, their signature checked (HMAC over the public URL called and
// the sorted form parameters, with the auth token), parsed in Relais's words. No I/O.
import twilio from 'twilio';
import { z } from 'zod';
import type { ProviderEvent, ProviderEventType } from '../types';
import { routeOf, type RoutedEvent } from '../webhook-events';

export const twilioStatusSchema = z.looseObject({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-f]{32}$/),
  MessageStatus: z.string(),
  AccountSid: z.string().optional(),
  ErrorCode: z.string().optional(),
  From: z.string().optional(),
  To: z.string().optional(),
});

/** An inbound SMS/WhatsApp message (the fields Relais reads; Twilio sends many more). */
export const twilioInboundSchema = z.looseObject({
  MessageSid: z.string().optional(),
  From: z.string().optional().describe('+E.164, or whatsapp:+E.164'),
  To: z.string().optional().describe('the number the customer wrote to: +E.164, or whatsapp:+E.164'),
  Body: z.string().optional(),
  ButtonPayload: z.string().optional().describe('WhatsApp quick-reply payload: confirm:<code>, or confirm'),
});

const TWILIO_TYPES: Record<string, ProviderEventType> = {
  accepted: 'queued',
  queued: 'queued',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  read: 'read',
};

/** A status callback with its route (the StatusCallback query: `tenant`, `dispatch`, `index` or the first version's `recipient`). */
export function routeTwilioStatus(
  params: z.infer<typeof twilioStatusSchema>,
  query: { tenant?: string; dispatch?: string; index?: string; recipient?: string },
  at: Date,
): RoutedEvent | undefined {
  const route = routeOf(query.index, query.recipient);
  const event = route && fromTwilioStatus(params, route.recipientId, at);
  if (!event || !query.tenant || !query.dispatch) return undefined;
  return {
    tenantId: query.tenant,
    dispatchId: query.dispatch,
    event,
    ...(route.recipient ? { recipient: route.recipient } : {}),
  };
}

export function fromTwilioStatus(
  params: z.infer<typeof twilioStatusSchema>,
  recipientId: string,
  at: Date,
): ProviderEvent | undefined {
  const type = TWILIO_TYPES[params.MessageStatus];
  if (!type) return undefined;
  return {
    // Twilio sends each status of a message once (and retries it): sid + status identifies it.
    eventId: `${params.MessageSid}:${params.MessageStatus}`,
    provider: 'twilio',
    recipientId,
    type,
    at: at.toISOString(),
    providerMessageId: params.MessageSid,
    errorCode: params.ErrorCode || undefined,
    reason: params.ErrorCode ? `Twilio error ${params.ErrorCode}` : undefined,
  };
}

/** Whether a Twilio request's X-Twilio-Signature holds for the URL it called and its form parameters, with any of the auth tokens (the current first; during a rotation the previous too). */
export function twilioSignatureCheck(authTokens: string[]) {
  return (signature: string, url: string, params: Record<string, string>): boolean =>
    authTokens.some((token) => twilio.validateRequest(token, signature, url, params));
}
