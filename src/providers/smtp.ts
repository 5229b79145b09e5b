// Email through the tenant's own mail server (rule D10). Tracking ends at the hand-off: each
// recipient is `sent` with the server's reply, or `not_sent` with its refusal.
//
// One SMTP message per recipient (each sees only their own address, and each gets its own reply)
// over one pooled transport, one after the other.
//
// Sent once (rule N4): SMTP has no idempotency key, so a retry of the whole call would send again
// to those already handed off. This sender therefore asks for a retry (throws a retryable error)
// only while nobody has been handed off in this call:
// - the server cannot be reached or fails at the session level (connection refused or lost,
//   timeout, 421, a 4xx to MAIL FROM): retryable when nobody was handed off yet, otherwise the
//   recipients not reached yet are `not_sent` with that error (resend them, rule D8);
// - a recipient refused with 5xx (or any reply to its RCPT TO / DATA) is that recipient's `not_sent`;
//   a 4xx refusal (mailbox full …) too, unless nobody was handed off, in which case the call is retried;
// - an authentication failure is final (`ProviderRejected`) when nobody was handed off.
// Issue 20: each of these failures says whether the server certainly did not take the message
// (`smtpNotTaken`), so that the send may go through SendGrid instead.
// The remaining window: the server accepted the DATA but its reply was lost (connection cut
// right after the final dot); a retry then sends that one message again. The activity calls this
// with one recipient at a time and records each result, which keeps the window to one message.
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { substitute } from './substitutions';
import { ROUTING_ARGS, type EmailAddress, type EmailSender, type EmailSendResult, type OutboundEmail } from './types';
import { checkAddress, checkRecipients, ProviderUnavailable, refused } from './failures';

export interface SmtpOptions {
  host: string;
  port: number;
  /** TLS from the start (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  auth?: { user: string; pass: string };
  /** Name announced in EHLO. */
  name?: string;
  /** Connection and greeting timeout; default 15 s. */
  connectionTimeoutMs?: number;
  /** Longest silence of the server once connected (a send that hangs fails after it); default 60 s. */
  socketTimeoutMs?: number;
}

export interface SmtpSender extends EmailSender {
  /** Closes the pooled connections. */
  close(): void;
}

/** What nodemailer rejects with (its `NodemailerError`). */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  /** nodemailer's: CONNECT_TIMEOUT, GREETING_TIMEOUT, UPGRADE_TIMEOUT (before any command) or SOCKET_TIMEOUT (silence at any point). */
  timeoutType?: string;
  /** Node's, on a socket error: `connect` when the connection itself failed. */
  syscall?: string;
}

export const HEADER_DISPATCH = 'X-Relais-Dispatch';
export const HEADER_RECIPIENT = 'X-Relais-Recipient';

/** How one failed SMTP transaction counts (see the file's header). */
export type SmtpFailureKind = 'server' | 'auth' | 'recipient_permanent' | 'recipient_temporary';

const SERVER_CODES = new Set([
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'EDNS',
  'ETLS',
  'EPROXY',
  'EPROTOCOL',
  'ECONNREFUSED',
  'ECONNRESET',
]);
const AUTH_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);

export function classifySmtpError(e: SmtpError): SmtpFailureKind {
  if (e.code && AUTH_CODES.has(e.code)) return 'auth';
  if (e.responseCode === 421) return 'server'; // service not available, closing the channel
  if (e.command === 'MAIL FROM' && e.responseCode && e.responseCode < 500) return 'server';
  if (e.responseCode)
    return e.responseCode >= 500 && e.responseCode !== 503 ? 'recipient_permanent' : 'recipient_temporary';
  if (e.code && SERVER_CODES.has(e.code)) return 'server';
  // No reply code and not a connection problem: nodemailer refused the message itself
  // (an address it cannot use, an unreadable attachment …): that recipient cannot be sent to.
  return 'recipient_permanent';
}

/**
 * Issue 20: whether the server certainly did not take the message, so that SendGrid may send it:
 * it answered with a reply code (a refusal is not an acceptance), or the failure came before any
 * command (connection refused, no greeting, TLS). A silence or a cut connection mid-session may
 * have come after the final dot was accepted: not this.
 */
export function smtpNotTaken(e: SmtpError): boolean {
  if (e.responseCode) return true;
  // Connecting, the greeting and a TLS upgrade come before any command; a socket timeout can come at any point.
  if (e.code === 'ETIMEDOUT') return e.timeoutType !== undefined && e.timeoutType !== 'SOCKET_TIMEOUT';
  if (e.code === 'EDNS' || e.code === 'ETLS' || e.code === 'ECONNREFUSED') return true;
  return e.syscall === 'connect';
}

const words = (e: SmtpError) => e.response ?? `${e.code ? `${e.code}: ` : ''}${e.message}`;
const address = (a: EmailAddress) => (a.name ? { name: a.name, address: a.email } : a.email);

export function createSmtpSender(options: SmtpOptions): SmtpSender {
  const timeout = options.connectionTimeoutMs ?? 15_000;
  const server = `${options.host}:${options.port}`;
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure ?? false,
    auth: options.auth,
    name: options.name,
    pool: true,
    maxConnections: 2,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    // Attachments come as base64 content: never let a message read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  } as SMTPTransport.Options);

  return {
    async sendEmail(message: OutboundEmail): Promise<EmailSendResult> {
      checkRecipients(message.recipients);
      checkAddress('from.email', message.from?.email);
      if (message.replyTo) checkAddress('replyTo.email', message.replyTo.email);

      const outcomes = new Map<string, EmailSendResult['recipients'][number]>();
      const temporary: Array<{ recipientId: string; error: SmtpError }> = [];
      let firstMessageId: string | undefined;
      let handedOff = 0;

      for (const [i, r] of message.recipients.entries()) {
        try {
          const info = await transport.sendMail({
            from: address(message.from),
            ...(message.replyTo ? { replyTo: address(message.replyTo) } : {}),
            to: address(r),
            subject: message.subject,
            text: substitute(message.text, r.substitutions),
            html: substitute(message.html, r.substitutions),
            attachments: message.attachments?.map((a) => ({
              filename: a.filename,
              contentType: a.contentType,
              content: Buffer.from(a.contentBase64, 'base64'),
            })),
            headers: {
              ...(message.customArgs?.[ROUTING_ARGS.dispatch]
                ? { [HEADER_DISPATCH]: message.customArgs[ROUTING_ARGS.dispatch] }
                : {}),
              [HEADER_RECIPIENT]: r.recipientId,
            },
          });
          handedOff += 1;
          firstMessageId ??= info.messageId;
          outcomes.set(r.recipientId, { recipientId: r.recipientId, outcome: 'sent', response: info.response });
        } catch (err) {
          const e = err as SmtpError;
          const kind = classifySmtpError(e);
          if (kind === 'recipient_permanent') {
            outcomes.set(r.recipientId, { recipientId: r.recipientId, outcome: 'not_sent', response: words(e) });
            continue;
          }
          if (kind === 'recipient_temporary') {
            temporary.push({ recipientId: r.recipientId, error: e });
            continue;
          }
          // The server itself failed: stop here.
          if (handedOff === 0) {
            if (kind === 'auth')
              throw refused('SMTP server', `${server} refused the login: ${words(e)}`, {
                server,
                code: e.code,
                response: e.response ?? null,
              });
            throw new ProviderUnavailable(
              `SMTP server ${server}: ${words(e)}`,
              undefined,
              e.code ?? e.responseCode,
              smtpNotTaken(e),
            );
          }
          for (const rest of message.recipients.slice(i)) {
            outcomes.set(rest.recipientId, {
              recipientId: rest.recipientId,
              outcome: 'not_sent',
              response: `not attempted: the server failed during the dispatch (${words(e)})`,
            });
          }
          break;
        }
      }

      if (temporary.length) {
        // Nobody was handed off: the whole call can be retried without sending anything twice.
        if (handedOff === 0) {
          const first = temporary[0].error;
          throw new ProviderUnavailable(
            `SMTP server ${server} temporarily refused: ${words(first)}`,
            undefined,
            first.responseCode,
            smtpNotTaken(first),
          );
        }
        for (const t of temporary)
          outcomes.set(t.recipientId, { recipientId: t.recipientId, outcome: 'not_sent', response: words(t.error) });
      }

      return {
        provider: 'smtp',
        providerMessageId: firstMessageId,
        recipients: message.recipients.map((r) => outcomes.get(r.recipientId)!),
      };
    },
    close() {
      transport.close();
    },
  };
}
