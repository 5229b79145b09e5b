import { z } from 'zod';
import { isIsoDuration } from './domain/durations';

// Every setting Relais reads, validated once at start-up. The README's configuration table
// mirrors this file; keep them together.

const port = z.coerce.number().int().min(0).max(65535);
const duration = z.string().refine(isIsoDuration, 'an ISO-8601 duration such as PT30M or P3D');
const optionalString = z.string().trim().min(1).optional();
const positive = z.coerce.number().int().min(1);

export const configSchema = z.object({
  HOST: z.string().default('127.0.0.1').describe('address every local process binds to'),
  API_PORT: port.default(3000).describe('HTTP API, webhooks and pages'),
  API_METRICS_PORT: port.default(9465).describe('API process: /metrics (Prometheus), off the public port'),
  API_DOCS: z
    .enum(['public', 'off'])
    .default('public')
    .describe('serve /openapi.json and /docs on the API port, or not'),
  PUBLIC_BASE_URL: z
    .url()
    .optional()
    .describe('URL the outside world uses to reach the API (webhook signatures, links); default http://HOST:API_PORT'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233').describe('Temporal frontend host:port'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('relais'),
  TEMPORAL_UI_PORT: port.default(8233).describe('dev server web UI (npm start only)'),
  TEMPORAL_TLS: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe('TLS to the frontend; on by default when a client certificate or an API key is set'),
  TEMPORAL_TLS_CERT: optionalString.describe('mTLS: path of the client certificate (PEM)'),
  TEMPORAL_TLS_KEY: optionalString.describe('mTLS: path of the client private key (PEM)'),
  TEMPORAL_TLS_CA: optionalString.describe(
    "path of the CA certificate (PEM) that signed the server's; system roots when unset",
  ),
  TEMPORAL_TLS_SERVER_NAME: optionalString.describe('server name to verify instead of the host in TEMPORAL_ADDRESS'),
  TEMPORAL_API_KEY: optionalString.describe('Temporal Cloud API key (sent as a bearer token; implies TLS)'),
  WORKER_HTTP_PORT: port.default(9464).describe('worker process: /metrics (Prometheus) and /healthz'),
  WORKFLOW_BUNDLE_PATH: optionalString.describe(
    'worker process: a workflow bundle prebuilt from this same code (bundleWorkflowCode) instead of bundling at start',
  ),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positive.default(100).describe('activity task slots per worker process'),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positive.default(40).describe('workflow task slots per worker process'),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .default(250)
    .describe('sticky workflow cache size per worker process (about 0.5 MiB per cached order)'),
  WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND: z.coerce
    .number()
    .positive()
    .optional()
    .describe('cap on activities per second across ALL workers of the task queue (provider rate limits)'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URI')
    .optional()
    .describe('MongoDB; when unset, npm start runs FerretDB on FERRETDB_PORT'),
  FERRETDB_PORT: port.default(27017),
  EMBEDDED_STORE: z
    .enum(['postgresql', 'sqlite'])
    .default('postgresql')
    .describe(
      'npm start without MONGODB_URI: FerretDB on a private PostgreSQL cluster (.data/postgresql) or on SQLite files (.data/ferretdb)',
    ),
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
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'smtp://user:pass@host:port or smtps://…')
    .optional()
    .describe('the mail server for dispatches sent with provider "smtp" (rule D10)'),
  WHATSAPP_TEMPLATES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      try {
        return z
          .record(
            z.string().regex(/^[a-z0-9_]+\.(fr|en)$/),
            z.object({ contentSid: z.string().regex(/^HX[0-9a-f]{32}$/), variables: z.array(z.string()) }),
          )
          .parse(JSON.parse(v));
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `JSON such as {"dispatch_escalation.fr":{"contentSid":"HX…","variables":["documentLabel","dispatchUrl"]}} (${(err as Error).message.slice(0, 200)})`,
        });
        return z.NEVER;
      }
    })
    .describe('approved WhatsApp templates for business-initiated messages'),
  EMAIL_FROM: z
    .email()
    .default('notifications@relais.localhost')
    .describe("envelope sender of Relais's own notifications"),
  LINK_SECRET: z
    .string()
    .min(32, 'at least 32 characters')
    .optional()
    .describe('HMAC key for customer and document links'),
  API_BODY_LIMIT_BYTES: positive.default(1024 * 1024).describe('largest JSON body of an API route (413 above it)'),
  API_DISPATCH_BODY_LIMIT_BYTES: positive
    .default(12 * 1024 * 1024)
    .describe('largest body of POST /v1/dispatches (attachments, base64, up to 7 MB decoded)'),
  API_WEBHOOK_BODY_LIMIT_BYTES: positive.default(10 * 1024 * 1024).describe('largest provider webhook body'),
  TRUST_PROXY: z
    .string()
    .trim()
    .min(1)
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' ? true : v))
    .describe(
      "behind a load balancer: true, or its addresses/CIDRs comma-separated, so rate limits see the client's address (X-Forwarded-For)",
    ),
  RATE_LIMIT_WINDOW: duration.default('PT1M').describe('window of the per-address rate limits'),
  RATE_LIMIT_PUBLIC_MAX: positive
    .default(60)
    .describe('requests per window and client address to /c/:token and /d/:token (429 above it)'),
  RATE_LIMIT_TENANT_PUBLIC_MAX: positive
    .default(600)
    .describe(
      'requests per window and tenant to /c/:token and /d/:token, counted on links whose signature holds (429 above it)',
    ),
  RATE_LIMIT_WEBHOOK_MAX: positive.default(1200).describe('requests per window and client address to /webhooks/*'),
  SENDGRID_TIMEOUT_MS: positive.default(30_000).describe('per-request timeout of calls to SendGrid'),
  TWILIO_TIMEOUT_MS: positive.default(30_000).describe('per-request timeout of calls to Twilio'),
  SMTP_CONNECTION_TIMEOUT_MS: positive.default(15_000).describe('SMTP: connection and greeting timeout'),
  SMTP_SOCKET_TIMEOUT_MS: positive.default(60_000).describe('SMTP: longest silence of the server during a send'),
  // Rotation (docs/security.md): the API also accepts what the previous value signed, until it is removed.
  LINK_SECRET_PREVIOUS: z
    .string()
    .min(32, 'at least 32 characters')
    .optional()
    .describe('previous LINK_SECRET, still accepted by the API during a rotation'),
  TWILIO_AUTH_TOKEN_PREVIOUS: optionalString.describe(
    'previous Twilio auth token, still accepted on webhooks during a rotation',
  ),
  SENDGRID_WEBHOOK_PUBLIC_KEY_PREVIOUS: optionalString.describe(
    'previous Event Webhook public key, still accepted during a rotation',
  ),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      'outbound webhooks: let tenants register endpoints on loopback and private addresses (never link-local: cloud metadata); docs/webhooks.md',
    ),
  WEBHOOK_TIMEOUT_MS: positive
    .default(15_000)
    .describe("outbound webhooks: how long one POST to a tenant's endpoint may take"),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema> & { PUBLIC_BASE_URL: string };

export class ConfigError extends Error {}

/** Parses the environment; a bad value ends start-up with one line per problem, naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema
    .superRefine((c, ctx) => {
      // Certificate and key come together.
      if ((c.TEMPORAL_TLS_CERT === undefined) !== (c.TEMPORAL_TLS_KEY === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [c.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'],
          message: 'mTLS needs both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY',
        });
      }
      if (c.TEMPORAL_TLS === false && (c.TEMPORAL_TLS_CERT || c.TEMPORAL_API_KEY)) {
        ctx.addIssue({
          code: 'custom',
          path: ['TEMPORAL_TLS'],
          message: 'cannot be false with a client certificate or an API key',
        });
      }
    })
    .safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return { ...c, PUBLIC_BASE_URL: c.PUBLIC_BASE_URL ?? `http://${c.HOST}:${c.API_PORT}` };
}

export { duration as isoDurationSchema };
