// `tsx src/sandbox/main.ts`: the provider sandbox as a process (npm start runs it).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { startSandbox } from './index';

const env = z.object({
  SANDBOX_HOST: z.string().default('127.0.0.1'),
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4100),
  SENDGRID_API_KEY: z.string().min(1),
  SANDBOX_SENDGRID_PRIVATE_KEY_FILE: z.string().min(1),
  SANDBOX_SENDGRID_WEBHOOK_URL: z.url(),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-f]{32}$/, 'AC followed by 32 hex digits'),
  TWILIO_AUTH_TOKEN: z.string().min(1),
  SANDBOX_TWILIO_INBOUND_URL: z.url(),
  SANDBOX_EVENT_DELAY_MS: z.coerce.number().int().min(0).default(200),
  SANDBOX_LATE_EVENT_MS: z.coerce.number().int().min(0).default(5000),
});

async function main() {
  const parsed = env.safeParse(process.env);
  if (!parsed.success) {
    console.error(`Invalid sandbox configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
    process.exit(1);
  }
  const c = parsed.data;
  const sandbox = await startSandbox({
    host: c.SANDBOX_HOST, port: c.SANDBOX_PORT,
    sendgrid: { apiKey: c.SENDGRID_API_KEY, signingPrivateKeyPem: readFileSync(c.SANDBOX_SENDGRID_PRIVATE_KEY_FILE, 'utf8'), webhookUrl: c.SANDBOX_SENDGRID_WEBHOOK_URL },
    twilio: { accountSid: c.TWILIO_ACCOUNT_SID, authToken: c.TWILIO_AUTH_TOKEN, inboundWebhookUrl: c.SANDBOX_TWILIO_INBOUND_URL },
    eventDelayMs: c.SANDBOX_EVENT_DELAY_MS, lateEventMs: c.SANDBOX_LATE_EVENT_MS,
  });
  console.log(`[sandbox] listening on ${sandbox.url} (inbox: ${sandbox.url}/sandbox)`);
  const stop = () => { sandbox.close().then(() => process.exit(0), () => process.exit(1)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
