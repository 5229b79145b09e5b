// SMS and WhatsApp through Twilio's Messages API with the official SDK. Numbers are checked
// (E.164, libphonenumber-js) before anything is sent; Twilio's refusals become clear,
// non-retryable reasons; rate limits wait; the rest is retried by the activity.
import twilio from 'twilio';
import type RequestClientType from 'twilio/lib/base/RequestClient';

type RequestOptions<T> = RequestClientType.RequestOptions<T>;
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { MessageSender, MessageSendResult, OutboundMessage } from './types';
import { ApplicationFailure } from '@temporalio/common';
import { ProviderUnavailable, rateLimited, refused } from './failures';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** Another API base (the sandbox); production leaves it unset. */
  baseUrl?: string;
  smsFrom?: string;
  whatsappFrom?: string;
  messagingServiceSid?: string;
  timeoutMs?: number;
}

/** Twilio's synchronous error codes, in words a person can act on. */
export const TWILIO_REFUSALS: Record<number, string> = {
  21211: 'the phone number is not valid',
  21610: 'the recipient has unsubscribed (replied STOP)',
  21408: 'sending to this region is not enabled on the account',
  21608: 'a trial account can only send to verified numbers',
  21614: 'the number is not a mobile number',
  63016: 'WhatsApp free text is allowed only within 24 hours of the customer\'s last message; use an approved template',
};

/** A RequestClient that sends every twilio.com request to another base URL (the sandbox). */
class RedirectingRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string, timeoutMs: number) {
    super({ timeout: timeoutMs });
  }

  override request<TData>(opts: RequestOptions<TData>) {
    const uri = opts.uri.replace(/^https:\/\/[a-z0-9.-]*\.twilio\.com/i, this.baseUrl.replace(/\/$/, ''));
    return super.request<TData>({ ...opts, uri });
  }
}

/** `+33612345678` when valid, otherwise undefined. */
export function e164(phone: string): string | undefined {
  const parsed = parsePhoneNumberFromString(phone);
  return parsed?.isValid() && parsed.number === phone ? parsed.number : undefined;
}

export function createTwilioSender(options: TwilioOptions): MessageSender {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const httpClient = options.baseUrl ? new RedirectingRequestClient(options.baseUrl, timeoutMs) : new twilio.RequestClient({ timeout: timeoutMs });
  const client = twilio(options.accountSid, options.authToken, { httpClient, autoRetry: false });

  return {
    async sendMessage(message: OutboundMessage): Promise<MessageSendResult> {
      const to = e164(message.to);
      if (!to) throw ApplicationFailure.nonRetryable(`${message.to} is not a valid phone number in E.164 form (+33612345678)`, 'InvalidPhoneNumber', { to: message.to });
      const whatsapp = message.channel === 'whatsapp';
      const from = whatsapp ? options.whatsappFrom : options.smsFrom;
      if (!from && !options.messagingServiceSid) throw ApplicationFailure.nonRetryable(`no ${message.channel} sender number is configured`, 'NotConfigured');
      // WhatsApp: a business-initiated message must be an approved template (ContentSid);
      // free text is for replies inside the customer's 24-hour window, which the caller knows.
      const content = message.template
        ? { contentSid: message.template.contentSid, contentVariables: JSON.stringify(message.template.variables) }
        : { body: message.body ?? '' };
      try {
        const sent = await client.messages.create({
          to: whatsapp ? `whatsapp:${to}` : to,
          ...(options.messagingServiceSid ? { messagingServiceSid: options.messagingServiceSid } : { from: whatsapp ? `whatsapp:${from}` : from! }),
          ...content,
          statusCallback: message.statusCallback,
        });
        return { provider: 'twilio', providerMessageId: sent.sid, status: sent.status };
      } catch (err) {
        throw mapTwilioError(err as { status?: number; code?: number; message: string; moreInfo?: string }, httpClient);
      }
    },
  };
}

function mapTwilioError(err: { status?: number; code?: number; message: string; moreInfo?: string }, httpClient: twilio.RequestClient): Error {
  const { status, code } = err;
  if (typeof status !== 'number') return new ProviderUnavailable(`Twilio unreachable: ${err.message}`);
  if (status === 429 || code === 20429) {
    const retryAfter = Number(httpClient.lastResponse?.headers?.['retry-after']);
    return rateLimited('Twilio', Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000);
  }
  if (status >= 400 && status < 500) {
    const words = (code !== undefined && TWILIO_REFUSALS[code]) || err.message;
    return refused('Twilio', `${code ?? status} ${words}`, { status, code, message: err.message, moreInfo: err.moreInfo });
  }
  return new ProviderUnavailable(`Twilio answered ${status}: ${err.message}`);
}
