// `tsx src/sandbox/main.ts`: the provider sandbox as a process (npm start runs it). Dev only.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { startSandbox, type Sandbox } from './index';

const required = (what: string) => z.string({ error: `required: ${what}` }).min(1, `required: ${what}`);

const env = z.object({
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_PORT: z.coerce.number({ error: 'expected a port number, 0–65535' }).int().min(0).max(65535).default(4100),
  SENDGRID_API_KEY: required('the API key the SDK sends (any string; the sandbox accepts only this one)'),
  SANDBOX_SENDGRID_PRIVATE_KEY_FILE: required('path of the PEM (prime256v1) private key that signs the Event Webhook'),
  SANDBOX_SENDGRID_WEBHOOK_URL: z.url({
    protocol: /^https?$/,
    error: "required: an http(s) URL, Relais's POST /webhooks/sendgrid",
  }),
  TWILIO_ACCOUNT_SID: z
    .string({ error: 'required: AC followed by 32 hex digits' })
    .regex(/^AC[0-9a-fA-F]{32}$/, 'expected AC followed by 32 hex digits'),
  TWILIO_AUTH_TOKEN: required('the auth token the SDK authenticates with and webhooks are signed with'),
  SANDBOX_TWILIO_INBOUND_URL: z.url({
    protocol: /^https?$/,
    error: "required: an http(s) URL, Relais's POST /webhooks/twilio/inbound",
  }),
  SANDBOX_EVENT_DELAY_MS: z.coerce.number({ error: 'expected milliseconds' }).int().min(0).max(3_600_000).default(200),
  SANDBOX_LATE_EVENT_MS: z.coerce.number({ error: 'expected milliseconds' }).int().min(0).max(86_400_000).default(5000),
  SANDBOX_LOG: z
    .enum(['0', '1', 'true', 'false'])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
});

function fail(message: string): never {
  console.error(`[sandbox] ${message}`);
  process.exit(1);
}

async function main() {
  const parsed = env.safeParse(process.env);
  if (!parsed.success) {
    fail(`invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const c = parsed.data;
  let privateKeyPem: string;
  try {
    privateKeyPem = readFileSync(c.SANDBOX_SENDGRID_PRIVATE_KEY_FILE, 'utf8');
  } catch (err) {
    fail(
      `SANDBOX_SENDGRID_PRIVATE_KEY_FILE: cannot read ${c.SANDBOX_SENDGRID_PRIVATE_KEY_FILE}: ${(err as Error).message}`,
    );
  }

  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      host: c.SANDBOX_HOST,
      port: c.SANDBOX_PORT,
      sendgrid: {
        apiKey: c.SENDGRID_API_KEY,
        signingPrivateKeyPem: privateKeyPem,
        webhookUrl: c.SANDBOX_SENDGRID_WEBHOOK_URL,
      },
      twilio: {
        accountSid: c.TWILIO_ACCOUNT_SID,
        authToken: c.TWILIO_AUTH_TOKEN,
        inboundWebhookUrl: c.SANDBOX_TWILIO_INBOUND_URL,
      },
      eventDelayMs: c.SANDBOX_EVENT_DELAY_MS,
      lateEventMs: c.SANDBOX_LATE_EVENT_MS,
      logger: c.SANDBOX_LOG,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE')
      fail(`port ${c.SANDBOX_PORT} on ${c.SANDBOX_HOST} is already in use (set SANDBOX_PORT)`);
    fail(`could not start: ${e.message}`);
  }

  console.log(
    `[sandbox] listening on ${sandbox.url} (inbox: ${sandbox.url}/sandbox); webhooks to ${c.SANDBOX_SENDGRID_WEBHOOK_URL} and ${c.SANDBOX_TWILIO_INBOUND_URL}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[sandbox] ${signal}: stopping`);
    sandbox.close().then(
      () => process.exit(0),
      (err: Error) => fail(`error while stopping: ${err.message}`),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

void main();
