// What the use cases need: the store, Temporal, the templates, and the settings that shape what
// they write (links, the task queue). The HTTP server's own settings are in src/api/deps.ts.
import type { Client } from '@temporalio/client';
import type { Db } from '../db/models';
import type { Templates } from '../templates';

export interface AppDeps {
  db: Db;
  temporal: Client;
  templates: Templates;
  taskQueue: string;
  publicBaseUrl: string;
  sendgridWebhookPublicKey?: string;
  twilioAuthToken?: string;
  /** HMAC key of signed links (LINK_SECRET). */
  linkSecret?: string;
  /** During a rotation: the values being replaced, still accepted when verifying (never used to sign). */
  previous?: { linkSecret?: string; twilioAuthToken?: string; sendgridWebhookPublicKey?: string };
  /** SMTP_URL is set: a dispatch may ask for `provider: "smtp"` (rule D10); without it that choice is refused, naming the field. */
  smtpConfigured?: boolean;
  /** Outbound webhooks: WEBHOOK_ALLOW_PRIVATE_NETWORKS (endpoints on loopback and private addresses). */
  webhooks?: { allowPrivateNetworks: boolean };
}
