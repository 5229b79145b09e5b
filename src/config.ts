import { z } from 'zod';
import { isIsoDuration } from './domain/durations';

// Every setting Relais reads, validated once at start-up. The README's configuration table
// mirrors this file; keep them together.

const port = z.coerce.number().int().min(0).max(65535);
const duration = z.string().refine(isIsoDuration, 'an ISO-8601 duration such as PT30M or P3D');
const optionalString = z.string().trim().min(1).optional();

export const configSchema = z.object({
  HOST: z.string().default('127.0.0.1').describe('address every local process binds to'),
  API_PORT: port.default(3000).describe('HTTP API, webhooks and pages'),
  PUBLIC_BASE_URL: z.url().optional().describe('URL the outside world uses to reach the API (webhook signatures, links); default http://HOST:API_PORT'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233').describe('Temporal frontend host:port'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('relais'),
  TEMPORAL_UI_PORT: port.default(8233).describe('dev server web UI (npm start only)'),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URI').optional()
    .describe('MongoDB; when unset, npm start runs FerretDB on FERRETDB_PORT'),
  FERRETDB_PORT: port.default(27017),
  DATA_DIR: z.string().default('.data').describe('dev-stack state: SQLite files, keys, credentials'),
  SANDBOX_PORT: port.default(4100).describe('provider sandbox (npm start only)'),
  SENDGRID_API_KEY: optionalString,
  SENDGRID_BASE_URL: z.url().optional().describe('SendGrid API base; set to the sandbox locally'),
  SENDGRID_WEBHOOK_PUBLIC_KEY: optionalString.describe('base64 DER public key of the signed Event Webhook'),
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_BASE_URL: z.url().optional().describe('Twilio API base; set to the sandbox locally'),
  TWILIO_SMS_FROM: optionalString,
  TWILIO_WHATSAPP_FROM: optionalString,
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'smtp://user:pass@host:port or smtps://…').optional().describe('the mail server for dispatches sent with provider "smtp" (rule D10)'),
  WHATSAPP_TEMPLATES: z.string().optional().transform((v, ctx) => {
    if (!v) return undefined;
    try {
      return z.record(z.string().regex(/^[a-z0-9_]+\.(fr|en)$/), z.object({ contentSid: z.string().regex(/^HX[0-9a-f]{32}$/), variables: z.array(z.string()) })).parse(JSON.parse(v));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `JSON such as {"dispatch_escalation.fr":{"contentSid":"HX…","variables":["documentLabel","dispatchUrl"]}} (${(err as Error).message.slice(0, 200)})` });
      return z.NEVER;
    }
  }).describe('approved WhatsApp templates for business-initiated messages'),
  EMAIL_FROM: z.email().default('notifications@relais.localhost').describe('envelope sender of Relais\'s own notifications'),
  LINK_SECRET: z.string().min(32, 'at least 32 characters').optional().describe('HMAC key for customer and document links'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema> & { PUBLIC_BASE_URL: string };

export class ConfigError extends Error {}

/** Parses the environment; a bad value ends start-up with one line per problem, naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return { ...c, PUBLIC_BASE_URL: c.PUBLIC_BASE_URL ?? `http://${c.HOST}:${c.API_PORT}` };
}

export { duration as isoDurationSchema };
