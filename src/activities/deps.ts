// What activities are built from (the worker hands in configured dependencies, tests real or
// recording ones), and helpers shared by the dispatch activities of both versions.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { Db } from '../db/models';
import { sendRetryDelayMs } from '../domain/retry';
import type { Locale } from '../domain/reasons';
import { unseal, type MessageContent } from '../sealed';
import { formatDateTime, type Templates } from '../templates';
import type { EmailSender, MessageSender } from '../providers/types';
import type { WebhookActivityDeps } from './webhooks';
import type { RollupDeps } from './rollups';
import type { DeliveryStarter } from '../outbound/deliveries';

export interface ActivityDeps {
  db: Db;
  templates: Templates;
  /** Relais's own SendGrid account. */
  sendgrid?: EmailSender;
  /** A tenant's own mail server (rule D10). */
  smtp?: EmailSender;
  twilio?: MessageSender;
  /** Base of the URLs providers call back and people open. */
  publicBaseUrl: string;
  emailFrom: string;
  /** HMAC key of signed links (LINK_SECRET); also seals what notices carrying such links say. */
  linkSecret: string;
  /** During a rotation, LINK_SECRET_PREVIOUS: content sealed before the switch still opens for a retried send. */
  previousLinkSecret?: string;
  /**
   * Approved WhatsApp templates (WHATSAPP_TEMPLATES): `<type>.<locale>` → Content SID and the
   * template data fields that fill its numbered variables, in order. Business-initiated
   * WhatsApp messages must use one; without it Relais sends free text, which WhatsApp only
   * delivers inside the 24 hours after the customer's last message.
   */
  whatsappTemplates?: WhatsAppTemplates;
  /** Outbound webhooks to tenants' own systems (docs/webhooks.md). */
  webhooks?: WebhookActivityDeps['webhooks'];
  /** The dashboard's rollup workflows (src/db/rollups.ts); without it the projections count nothing. */
  rollups?: RollupDeps;
  /** Where sellers' alert digests run (issue 20); without it every seller alert goes at once. */
  alertDigests?: DeliveryStarter;
}

export type WhatsAppTemplates = Record<string, { contentSid: string; variables: string[] }>;

/**
 * ContentVariables for an approved template: {"1": data[first field], "2": …}, as Twilio numbers
 * them. Fields the wording of record shows as dates (`dates.fields`, from {{datetime}}) are in
 * words in the tenant's zone, as in every other message, never a raw timestamp.
 */
export function contentVariables(
  fields: string[],
  data: Record<string, unknown>,
  dates?: { fields: ReadonlySet<string>; locale: Locale; timeZone: string },
): Record<string, string> {
  return Object.fromEntries(
    fields.map((field, i) => {
      const value = field
        .split('.')
        .reduce<unknown>(
          (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
          data,
        );
      if (value === undefined || value === null)
        throw ApplicationFailure.nonRetryable(
          `WhatsApp template variable ${i + 1} needs data.${field}`,
          'TemplateError',
        );
      if (!dates?.fields.has(field)) return [String(i + 1), String(value)];
      try {
        return [String(i + 1), formatDateTime(String(value), dates.locale, dates.timeZone)];
      } catch (err) {
        throw ApplicationFailure.nonRetryable(
          `WhatsApp template variable ${i + 1} (data.${field}): ${(err as Error).message}`,
          'TemplateError',
        );
      }
    }),
  );
}

/** What a recorded message sends: its copy, or, when the copy withholds secrets, the sealed content. */
export function sendableContent(
  deps: Pick<ActivityDeps, 'linkSecret' | 'previousLinkSecret'>,
  boundTo: string,
  doc: {
    subject?: string | null;
    html?: string | null;
    text?: string | null;
    templateData?: unknown;
    sealed?: string | null;
  },
): MessageContent {
  if (doc.sealed) {
    const secrets = [deps.linkSecret, deps.previousLinkSecret].filter((x): x is string => Boolean(x));
    try {
      return unseal<MessageContent>(secrets, boundTo, doc.sealed);
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, 'SealedContent');
    }
  }
  return {
    subject: doc.subject ?? null,
    html: doc.html ?? null,
    text: doc.text ?? '',
    templateData: (doc.templateData ?? {}) as Record<string, unknown>,
  };
}

/**
 * An ordinary failure of `send` (a provider's 5xx, a network error, MongoDB unreachable) waits as
 * long as the activity has been failing (domain/retry.ts) rather than by its attempt number.
 * Refusals and rate limits are Temporal failures already and pass as they are.
 */
export function retryByFailingTime<A extends unknown[], R>(
  send: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await send(...args);
    } catch (err) {
      if (err instanceof TemporalFailure || !(err instanceof Error)) throw err;
      // Both times are the server's: no clock skew, and right on a time-skipping test server too.
      const { scheduledTimestampMs, currentAttemptScheduledTimestampMs } = Context.current().info;
      throw ApplicationFailure.create({
        type: err.name,
        message: err.message,
        cause: err,
        nextRetryDelay: sendRetryDelayMs(currentAttemptScheduledTimestampMs - scheduledTimestampMs),
      });
    }
  };
}
