// What the sandbox received and what it did with it, kept in memory for tests and the inbox page.

/** One attempt to deliver a webhook: the receiver's HTTP status, or the network error. */
export interface DeliveryAttempt {
  at: string;
  attempt: number;
  /** HTTP status of the receiver's answer; null when no answer came (connection refused, timeout). */
  status: number | null;
  error?: string;
}

export type DeliveryOutcome =
  | 'pending' // not delivered yet (first attempt under way, or waiting to retry)
  | 'delivered' // the receiver answered 2xx
  | 'gave_up' // every attempt failed
  | 'no_webhook' // nothing to call (a Twilio message without StatusCallback)
  | 'cancelled'; // the sandbox closed first

export interface SandboxEvent {
  /** SendGrid event (`processed`, `bounce` …) or Twilio status (`sent`, `delivered` …). */
  type: string;
  at: string;
  /** SendGrid `sg_event_id`; Twilio `MessageSid:MessageStatus`. */
  eventId: string;
  /** What the webhook carried for this event: the SendGrid event object or the Twilio form params. */
  payload: Record<string, unknown>;
  deliveries: DeliveryAttempt[];
  outcome: DeliveryOutcome;
}

export interface SandboxMessage {
  id: string;
  provider: 'sendgrid' | 'twilio';
  channel: 'email' | 'sms' | 'whatsapp';
  /** SendGrid `X-Message-Id` (shared by the recipients of one request) or Twilio `SM…` sid. */
  providerMessageId: string;
  /** Latest known state: `accepted` then the last SendGrid event; Twilio `queued`/`accepted` then the last status. */
  status: string;
  /** Email address, or E.164 number (without the `whatsapp:` prefix). */
  to: string;
  /** SendGrid: to, cc or bcc. */
  kind?: 'to' | 'cc' | 'bcc';
  from: string;
  replyTo?: string;
  subject?: string;
  html?: string;
  text?: string;
  templateId?: string;
  /** SendGrid: message-level custom_args overlaid with the personalization's. */
  customArgs?: Record<string, string>;
  categories?: string[];
  /** Attachment file names. */
  attachments?: string[];
  body?: string;
  contentSid?: string;
  contentVariables?: string;
  messagingServiceSid?: string;
  statusCallback?: string;
  /** Twilio: ErrorCode of a failed or undelivered message (30003 …). */
  errorCode?: string;
  receivedAt: string;
  events: SandboxEvent[];
}

/** An inbound SMS/WhatsApp the sandbox delivered to Relais (POST /sandbox/inbound). */
export interface SandboxInbound {
  at: string;
  url: string;
  params: Record<string, string>;
  status: number | null;
  body?: string;
  error?: string;
}

const bare = (address: string) =>
  address
    .trim()
    .toLowerCase()
    .replace(/^whatsapp:/, '');

export class MessageStore {
  private items: SandboxMessage[] = [];
  private inboundItems: SandboxInbound[] = [];

  add(message: SandboxMessage): void {
    this.items.push(message);
  }

  /** Copies, oldest first; `to` matches case-insensitively, and WhatsApp with or without `whatsapp:`. */
  list(filter: { to?: string } = {}): SandboxMessage[] {
    const wanted = filter.to ? bare(filter.to) : undefined;
    const found = wanted ? this.items.filter((m) => bare(m.to) === wanted) : this.items;
    return structuredClone(found);
  }

  /** The live record (for the API routes that read or update one message). */
  byProviderId(providerMessageId: string): SandboxMessage | undefined {
    return this.items.find((m) => m.providerMessageId === providerMessageId);
  }

  addInbound(item: SandboxInbound): void {
    this.inboundItems.push(item);
  }

  inbound(): SandboxInbound[] {
    return structuredClone(this.inboundItems);
  }

  /** Forgets everything received. Events already scheduled still go out (as a provider's would). */
  clear(): void {
    this.items = [];
    this.inboundItems = [];
  }
}
