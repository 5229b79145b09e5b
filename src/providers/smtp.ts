// Email through the tenant's own mail server (rule D10). Tracking ends at the hand-off: each
// recipient is `sent` with the server's reply or `not_sent` with its refusal.
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { ROUTING_ARGS, type EmailSender, type EmailSendResult, type OutboundEmail } from './types';
import { ProviderUnavailable } from './failures';

export interface SmtpOptions {
  host: string;
  port: number;
  secure?: boolean;
  auth?: { user: string; pass: string };
  /** Name announced in EHLO. */
  name?: string;
  connectionTimeoutMs?: number;
}

interface SmtpError extends Error { code?: string; responseCode?: number; response?: string; rejected?: string[] }

export function createSmtpSender(options: SmtpOptions): EmailSender & { close(): void } {
  const timeout = options.connectionTimeoutMs ?? 15_000;
  const transport = nodemailer.createTransport({
    host: options.host, port: options.port, secure: options.secure ?? false, auth: options.auth, name: options.name,
    pool: true, maxConnections: 2,
    connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: 60_000,
  } as SMTPTransport.Options);

  return {
    async sendEmail(message: OutboundEmail): Promise<EmailSendResult> {
      let firstMessageId: string | undefined;
      const recipients: EmailSendResult['recipients'] = [];
      // One message per recipient: each sees only their address and gets its own server reply.
      for (const r of message.recipients) {
        try {
          const info = await transport.sendMail({
            from: message.from.name ? { name: message.from.name, address: message.from.email } : message.from.email,
            replyTo: message.replyTo ? (message.replyTo.name ? { name: message.replyTo.name, address: message.replyTo.email } : message.replyTo.email) : undefined,
            to: r.name ? { name: r.name, address: r.email } : r.email,
            subject: message.subject,
            text: message.text,
            html: message.html,
            attachments: message.attachments?.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.contentBase64, 'base64') })),
            headers: {
              'X-Relais-Dispatch': message.customArgs[ROUTING_ARGS.dispatch] ?? '',
              'X-Relais-Recipient': r.recipientId,
            },
          });
          firstMessageId ??= info.messageId;
          const accepted = info.accepted.map(String).some((a) => a.toLowerCase() === r.email.toLowerCase());
          recipients.push(accepted
            ? { recipientId: r.recipientId, outcome: 'sent', response: info.response }
            : { recipientId: r.recipientId, outcome: 'not_sent', response: info.response });
        } catch (err) {
          const e = err as SmtpError;
          // A 5xx about this recipient (or its message) is that recipient's `not_sent`;
          // no connection, timeouts and 4xx (try later) are the server's trouble: retried.
          if (e.responseCode && e.responseCode >= 500) {
            recipients.push({ recipientId: r.recipientId, outcome: 'not_sent', response: e.response ?? e.message });
            continue;
          }
          throw new ProviderUnavailable(`SMTP server ${options.host}:${options.port}: ${e.response ?? e.message}`);
        }
      }
      return { provider: 'smtp', providerMessageId: firstMessageId, recipients };
    },
    close() { transport.close(); },
  };
}
