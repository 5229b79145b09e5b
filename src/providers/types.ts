// The one contract between Relais and the services that carry its messages.
// Activities call these; workflows never see a provider.

export type Channel = 'email' | 'sms' | 'whatsapp';

/** Keys Relais puts in SendGrid `custom_args` (and Twilio StatusCallback query) to route events back. */
export const ROUTING_ARGS = {
  tenant: 'relais_tenant',
  dispatch: 'relais_dispatch',
  /** `<position>.<attempt>` of the recipient (Twilio query: `index`). */
  index: 'relais_index',
  /** `<recipientId>.<attempt>`: dispatches of the first version of the workflow (Twilio query: `recipient`). */
  recipient: 'relais_recipient',
  /**
   * Issue 17: on the personalization that carries the sender's copy (cc/bcc), the copy's address,
   * lower-cased. SendGrid reports a cc or bcc address's events with that personalization's
   * custom_args: an event whose `email` is this address is the copy's, not the recipient's.
   */
  copy: 'relais_copy',
} as const;

export interface EmailAddress {
  email: string;
  name?: string;
}

export interface OutboundEmail {
  from: EmailAddress;
  replyTo?: EmailAddress;
  subject: string;
  html: string;
  text: string;
  /** One personalization each: a recipient never sees the others' addresses. At most 1000. */
  recipients: Array<
    EmailAddress & {
      recipientId: string;
      /**
       * Text of the body to replace for this recipient only (SendGrid substitutions): issue 20's
       * receipt link, signed per recipient, stands in the shared body as a placeholder.
       */
      substitutions?: Record<string, string>;
    }
  >;
  attachments?: Array<{ filename: string; contentType: string; contentBase64: string }>;
  categories?: string[];
  /** Sent with every recipient; each recipient's `recipientId` is added under `recipientArg`. String values only. */
  customArgs: Record<string, string>;
  /** The custom arg that carries each recipient's id (default `relais_recipient`). */
  recipientArg?: string;
  /** Issue 17: the sender in copy or blind copy, on the first recipient's personalization (an address may appear once per request). */
  copy?: EmailAddress & { mode: 'cc' | 'bcc' };
}

export type RecipientSendOutcome = 'accepted' | 'sent' | 'not_sent';

/** The ways Relais sends email. */
export type EmailProvider = 'sendgrid' | 'smtp';

export interface EmailSendResult {
  provider: EmailProvider;
  /** SendGrid `X-Message-Id` (events carry it as the prefix of `sg_message_id`) or the SMTP Message-ID. */
  providerMessageId?: string;
  /** `accepted` for SendGrid (tracking follows by webhook); `sent` / `not_sent` for SMTP (rule D10). */
  recipients: Array<{ recipientId: string; outcome: RecipientSendOutcome; response?: string }>;
}

export interface OutboundMessage {
  channel: 'sms' | 'whatsapp';
  /** E.164, without the `whatsapp:` prefix. */
  to: string;
  /** Free text (SMS, or WhatsApp inside the 24-hour window). */
  body?: string;
  /** An approved WhatsApp template, for business-initiated messages. */
  template?: { contentSid: string; variables: Record<string, string> };
  /** Full URL Twilio calls with status changes; carries our ids in its query. */
  statusCallback: string;
}

export interface MessageSendResult {
  provider: 'twilio';
  providerMessageId: string;
  status: string;
}

/** Issue 20: how a send may be cut short so that another provider can take it. */
export interface EmailSendOptions {
  /** A provider not reached within this (no connection up) is given up: nothing was sent to it. */
  reachWithinMs?: number;
}

export interface EmailSender {
  sendEmail(message: OutboundEmail, options?: EmailSendOptions): Promise<EmailSendResult>;
}

export interface MessageSender {
  sendMessage(message: OutboundMessage): Promise<MessageSendResult>;
  /** The numbers messages go out from (E.164): the ones customers reply to. Empty with a messaging service or a sender id. */
  readonly senderNumbers?: readonly string[];
}

/**
 * A delivery event from any provider, in Relais's words. Webhook handlers build these;
 * the dispatch workflow receives them as signals.
 */
export type ProviderEventType =
  | 'processed'
  | 'deferred'
  | 'delivered'
  | 'bounce'
  | 'dropped'
  | 'open'
  | 'click'
  | 'spamreport'
  | 'unsubscribe'
  | 'queued'
  | 'sent'
  | 'undelivered'
  | 'failed'
  | 'read';

export interface ProviderEvent {
  /** Provider's own event id (SendGrid `sg_event_id`; Twilio `MessageSid:MessageStatus`): the dedupe key. */
  eventId: string;
  provider: 'sendgrid' | 'twilio';
  recipientId: string;
  type: ProviderEventType;
  /** ISO-8601 UTC. */
  at: string;
  providerMessageId?: string;
  /** SendGrid `reason` / Twilio `ErrorCode` message. */
  reason?: string;
  /** SMTP response or status code (`550 5.1.1 …`). */
  response?: string;
  /** SendGrid bounce `type` (bounce | blocked). */
  bounceType?: string;
  /** SendGrid `bounce_classification` (Invalid Address, Mailbox Unavailable, Reputation, …). */
  classification?: string;
  /** Twilio ErrorCode. */
  errorCode?: string;
}
