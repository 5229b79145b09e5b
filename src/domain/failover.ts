// Issue 20: email failover between SendGrid and the tenant's SMTP server. A send moves to the
// other provider only when the first one certainly did not take the message (it answered 5xx or a
// refusal code, or was never reached within the tenant's `failoverAfter`): never two providers
// both delivering. It moves once per send; when the other fails too, the send is retried later
// (from the first provider again), and is never dropped.
import type { EmailProvider } from '../providers/types';

export const EMAIL_PROVIDER_NAMES: Record<EmailProvider, string> = { sendgrid: 'SendGrid', smtp: 'SMTP' };

/** How the first provider's send failed, as the activity sees it. */
export type EmailSendFailure =
  /** 5xx, a network failure, a timeout: retryable; `notTaken` when it certainly has not got the message. */
  | { kind: 'unavailable'; notTaken: boolean }
  /** A refusal (4xx, bad login) or our own request's fault: final, the same elsewhere. */
  | { kind: 'refused' }
  /** 429: the provider works and asks us to wait. */
  | { kind: 'rate_limited' };

/** The provider a failed send goes through instead, or null: it then fails (retried or final) as before. */
export function emailFailover(
  primary: EmailProvider,
  failure: EmailSendFailure,
  configured: Readonly<Record<EmailProvider, boolean>>,
): EmailProvider | null {
  const other: EmailProvider = primary === 'sendgrid' ? 'smtp' : 'sendgrid';
  if (failure.kind !== 'unavailable' || !failure.notTaken || !configured[other]) return null;
  return other;
}

/** The history entry's words: which provider failed and why, and where the send went instead. */
export function failoverReason(primary: EmailProvider, to: EmailProvider, why: string): string {
  return `${EMAIL_PROVIDER_NAMES[primary]} did not take it (${why}); sent through ${EMAIL_PROVIDER_NAMES[to]} instead`;
}
