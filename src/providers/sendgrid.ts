// Email through SendGrid v3 Mail Send with the official SDK. One request per dispatch, one
// personalization per recipient (nobody sees the others), our ids in each one's custom_args.
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import type { MailDataRequired } from '@sendgrid/mail';
import { ROUTING_ARGS, type EmailSender, type EmailSendResult, type OutboundEmail } from './types';
import { invalidRequest, ProviderUnavailable, rateLimited, refused } from './failures';

export const SENDGRID_MAX_RECIPIENTS = 1000;

export interface SendGridOptions {
  apiKey: string;
  /** Another API base (the sandbox); production leaves it unset. */
  baseUrl?: string;
  timeoutMs?: number;
}

interface SendGridResponseError extends Error {
  code?: number;
  response?: { headers?: Record<string, string>; body?: { errors?: Array<{ message?: string; field?: string | null }> } };
}

export function buildSendGridRequest(message: OutboundEmail): MailDataRequired {
  const { recipients } = message;
  if (recipients.length === 0) throw invalidRequest('no recipients');
  if (recipients.length > SENDGRID_MAX_RECIPIENTS) throw invalidRequest(`${recipients.length} recipients; SendGrid takes at most ${SENDGRID_MAX_RECIPIENTS} per request`);
  const seen = new Set<string>();
  for (const r of recipients) {
    const key = r.email.toLowerCase();
    if (seen.has(key)) throw invalidRequest(`${r.email} appears twice`);
    seen.add(key);
  }
  return {
    from: message.from,
    replyTo: message.replyTo,
    subject: message.subject,
    content: [{ type: 'text/plain', value: message.text }, { type: 'text/html', value: message.html }],
    personalizations: recipients.map((r) => ({
      to: [{ email: r.email, ...(r.name ? { name: r.name } : {}) }],
      customArgs: { ...message.customArgs, [ROUTING_ARGS.recipient]: r.recipientId },
    })),
    attachments: message.attachments?.map((a) => ({ content: a.contentBase64, filename: a.filename, type: a.contentType, disposition: 'attachment' })),
    categories: message.categories?.slice(0, 10),
  } as MailDataRequired;
}

export function createSendGridSender(options: SendGridOptions): EmailSender {
  const client = new Client();
  client.setApiKey(options.apiKey); // first: it resets the base URL
  if (options.baseUrl) client.setDefaultRequest('baseUrl', options.baseUrl);
  // Passed through to axios: every outbound call has a timeout.
  client.setDefaultRequest({ timeout: options.timeoutMs ?? 30_000 } as unknown as Parameters<Client['setDefaultRequest']>[0]);
  const mail = new MailService();
  mail.setClient(client);

  return {
    async sendEmail(message: OutboundEmail): Promise<EmailSendResult> {
      const request = buildSendGridRequest(message);
      try {
        const [response] = await mail.send(request);
        const headers = response.headers as Record<string, string | undefined>;
        return {
          provider: 'sendgrid',
          providerMessageId: headers['x-message-id'],
          recipients: message.recipients.map((r) => ({ recipientId: r.recipientId, outcome: 'accepted' })),
        };
      } catch (err) {
        throw mapSendGridError(err as SendGridResponseError);
      }
    },
  };
}

function mapSendGridError(err: SendGridResponseError): Error {
  const status = err.code;
  if (typeof status !== 'number' || !err.response) return new ProviderUnavailable(`SendGrid unreachable: ${err.message}`);
  const errors = err.response.body?.errors ?? [];
  const words = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ') || err.message;
  if (status === 429) {
    const reset = Number(err.response.headers?.['x-ratelimit-reset']);
    return rateLimited('SendGrid', Number.isFinite(reset) && reset > 0 ? reset * 1000 - Date.now() : 1000);
  }
  if (status >= 400 && status < 500) return refused('SendGrid', `${status} ${words}`, { status, errors });
  return new ProviderUnavailable(`SendGrid answered ${status}: ${words}`);
}
