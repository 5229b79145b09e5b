// SMS and WhatsApp through Twilio's Messages API with the official SDK. Numbers are checked
// (E.164, libphonenumber-js) before anything is sent; Twilio's refusals become clear,
// non-retryable reasons with Twilio's code kept; rate limits wait for Twilio's Retry-After; the
// rest (5xx, network) is retried by the activity.
//
// Sent once (rule N4): the Messages API has no idempotency key. A create that fails before
// Twilio's answer is read (connection reset, timeout, 5xx) is retried by the activity, and if
// Twilio had in fact queued it, the person gets it twice. The window is the time between Twilio
// receiving the POST and our reading its 201 (normally well under a second, at most `timeoutMs`).
// The SDK's own 429 retries are off (`autoRetry: false`): Temporal does the waiting.
import { AsyncLocalStorage } from 'node:async_hooks';
import twilio from 'twilio';
import { E164_PATTERN } from '../../domain/phone';
import type RequestClientType from 'twilio/lib/base/RequestClient';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ApplicationFailure } from '@temporalio/common';
import type { MessageSender, MessageSendResult, OutboundMessage } from '../types';
import {
  FAILURE_TYPES,
  header,
  invalidRequest,
  isNetworkError,
  msFromRetryAfter,
  notConfigured,
  ProviderUnavailable,
  rateLimited,
  refused,
} from '../failures';

type RequestOptions<T> = RequestClientType.RequestOptions<T>;

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** Another API base (the sandbox); production leaves it unset. */
  baseUrl?: string;
  /** SMS sender: an E.164 number or an alphanumeric sender id. */
  smsFrom?: string;
  /** WhatsApp sender number, E.164 (with or without the `whatsapp:` prefix). */
  whatsappFrom?: string;
  /** Used when the channel has no sender number of its own. */
  messagingServiceSid?: string;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
}

/** Twilio's synchronous error codes, in words a person can act on. Twilio's code stays in the message. */
export const TWILIO_REFUSALS: Record<number, string> = {
  21211: 'the phone number is not valid',
  21610: 'the recipient has unsubscribed (replied STOP); they must text START to receive messages again',
  21408: 'sending to this country or region is not enabled on the Twilio account',
  21608: 'a Twilio trial account can only send to verified numbers',
  21614: 'the number is not a mobile number and cannot receive SMS',
  63016:
    "WhatsApp free text is only allowed within 24 hours of the customer's last message; send an approved template instead",
};

export const TWILIO_MAX_BODY = 1600;

/** Retry-After of the answer to the current call (AsyncLocalStorage: concurrent sends don't mix). */
const currentCall = new AsyncLocalStorage<{ retryAfter?: string }>();

/**
 * The SDK's HTTP client, with two additions: the Retry-After of each answer is kept for the call
 * that made it, and, when `baseUrl` is given, every `https://<anything>.twilio.com` request goes to
 * that base instead (the sandbox). Twilio's `edge`/`region` options only change the twilio.com host.
 */
export class RelaisTwilioRequestClient extends twilio.RequestClient {
  private readonly base?: string;

  constructor(options: { baseUrl?: string; timeoutMs?: number } = {}) {
    super({ timeout: options.timeoutMs ?? 30_000, autoRetry: false });
    this.base = options.baseUrl?.replace(/\/+$/, '');
  }

  override async request<TData>(opts: RequestOptions<TData>) {
    const uri = this.base ? opts.uri.replace(/^https:\/\/[^/]*\.twilio\.com(?=\/|$)/i, this.base) : opts.uri;
    const response = await super.request<TData>({ ...opts, uri });
    const call = currentCall.getStore();
    if (call) call.retryAfter = header(response.headers, 'retry-after');
    return response;
  }
}

/** `+33612345678` when `phone` is a valid number written in E.164; otherwise undefined. */
export function e164(phone: string): string | undefined {
  if (typeof phone !== 'string') return undefined;
  const parsed = parsePhoneNumberFromString(phone);
  return parsed?.isValid() && parsed.number === phone ? parsed.number : undefined;
}

const stripWhatsApp = (n: string) => n.replace(/^whatsapp:/i, '');

export function createTwilioSender(options: TwilioOptions): MessageSender {
  const httpClient = new RelaisTwilioRequestClient({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
  const client = twilio(options.accountSid, options.authToken, { httpClient, autoRetry: false });

  return {
    senderNumbers: [
      ...new Set(
        [options.smsFrom, options.whatsappFrom]
          .map((n) => n && stripWhatsApp(n))
          .filter((n): n is string => Boolean(n && E164_PATTERN.test(n))),
      ),
    ],
    async sendMessage(message: OutboundMessage): Promise<MessageSendResult> {
      const to = e164(message.to);
      if (!to) {
        const parsed = typeof message.to === 'string' ? parsePhoneNumberFromString(message.to) : undefined;
        const hint = parsed?.isValid() ? ` (write it as ${parsed.number})` : '';
        throw ApplicationFailure.nonRetryable(
          `to: "${message.to}" is not a valid phone number in E.164 form, e.g. +33612345678${hint}`,
          FAILURE_TYPES.invalidPhoneNumber,
          { field: 'to', value: message.to, ...(parsed?.isValid() ? { suggestion: parsed.number } : {}) },
        );
      }
      const whatsapp = message.channel === 'whatsapp';
      const fromNumber = whatsapp
        ? options.whatsappFrom
          ? `whatsapp:${stripWhatsApp(options.whatsappFrom)}`
          : undefined
        : options.smsFrom;
      if (!fromNumber && !options.messagingServiceSid)
        throw notConfigured(`no ${message.channel} sender number (or messaging service) is configured`);

      // WhatsApp: a business-initiated message must be an approved template (ContentSid +
      // ContentVariables, no Body). Free text (Body) is only delivered inside the 24-hour window
      // that opens when the customer last wrote to us; knowing that the window is open is the
      // caller's responsibility. Outside it Twilio fails the message with 63016.
      let content: { contentSid: string; contentVariables: string } | { body: string };
      if (message.template) {
        if (!/^HX[0-9a-fA-F]{32}$/.test(message.template.contentSid)) {
          throw invalidRequest(
            `template.contentSid: "${message.template.contentSid}" is not a Content SID (HX + 32 hex)`,
            { field: 'template.contentSid', value: message.template.contentSid },
          );
        }
        content = {
          contentSid: message.template.contentSid,
          contentVariables: JSON.stringify(message.template.variables ?? {}),
        };
      } else {
        const body = message.body ?? '';
        if (body.trim() === '')
          throw invalidRequest('body: a message needs a body or a template', { field: 'body', value: body });
        if (body.length > TWILIO_MAX_BODY)
          throw invalidRequest(`body: ${body.length} characters; Twilio takes at most ${TWILIO_MAX_BODY}`, {
            field: 'body',
            value: body.length,
          });
        content = { body };
      }
      if (!/^https?:\/\/[^/\s]+/i.test(message.statusCallback ?? '')) {
        throw invalidRequest(`statusCallback: "${message.statusCallback}" is not an absolute http(s) URL`, {
          field: 'statusCallback',
          value: message.statusCallback,
        });
      }

      const call: { retryAfter?: string } = {};
      try {
        const sent = await currentCall.run(call, () =>
          client.messages.create({
            to: whatsapp ? `whatsapp:${to}` : to,
            ...(fromNumber ? { from: fromNumber } : { messagingServiceSid: options.messagingServiceSid! }),
            ...content,
            statusCallback: message.statusCallback,
          }),
        );
        return { provider: 'twilio', providerMessageId: sent.sid, status: sent.status };
      } catch (err) {
        throw mapTwilioError(err as TwilioFailure, call.retryAfter);
      }
    },
  };
}

/** What the SDK rejects with: `RestException` / `TwilioServiceException` (HTTP answer) or an axios error. */
interface TwilioFailure extends Error {
  status?: number;
  code?: number | string;
  moreInfo?: string;
  detail?: string;
  isAxiosError?: boolean;
}

/** Twilio's answer → a Temporal-shaped failure (see failures.ts). */
export function mapTwilioError(err: TwilioFailure, retryAfter?: string): Error {
  const status = typeof err.status === 'number' ? err.status : undefined;
  const code = typeof err.code === 'number' ? err.code : undefined;
  if (status === undefined) {
    if (isNetworkError(err))
      return new ProviderUnavailable(
        `Twilio unreachable: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '),
        undefined,
        err.code,
      );
    // Not an HTTP answer nor a network failure: the SDK refused the parameters.
    return invalidRequest(`Twilio SDK refused the message: ${err.message}`, { sdkError: err.message });
  }
  const twilioWords = [err.message, err.detail].filter(Boolean).join(' — ');
  if (status === 429 || code === 20429) {
    return rateLimited('Twilio', msFromRetryAfter(retryAfter) ?? 1000, {
      status,
      code: code ?? null,
      retryAfter: retryAfter ?? null,
    });
  }
  if (status >= 500 || status === 408)
    return new ProviderUnavailable(
      `Twilio answered ${status}${code ? ` (code ${code})` : ''}: ${twilioWords}`,
      status,
      code,
    );
  const reason = (code !== undefined && TWILIO_REFUSALS[code]) || twilioWords || `HTTP ${status}`;
  return refused(
    'Twilio',
    `${code !== undefined ? `error ${code}: ` : ''}${reason}${reason !== twilioWords && twilioWords ? ` (Twilio: ${twilioWords})` : ''}`,
    {
      status,
      code: code ?? null,
      twilioMessage: err.message,
      moreInfo: err.moreInfo ?? null,
    },
  );
}
