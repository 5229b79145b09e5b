// The limits' configuration (docs/api.md, "Limits"): documented defaults, values read from the
// environment, bad ones refused at start-up naming the variable.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, configSchema, loadConfig } from '../../src/config';
import { DEFAULT_LIMITS, limitsFromConfig } from '../../src/api/limits';

const LIMIT_VARIABLES = [
  'API_BODY_LIMIT_BYTES',
  'API_DISPATCH_BODY_LIMIT_BYTES',
  'API_WEBHOOK_BODY_LIMIT_BYTES',
  'RATE_LIMIT_WINDOW',
  'RATE_LIMIT_PUBLIC_MAX',
  'RATE_LIMIT_TENANT_PUBLIC_MAX',
  'RATE_LIMIT_WEBHOOK_MAX',
  'TRUST_PROXY',
  'SENDGRID_TIMEOUT_MS',
  'TWILIO_TIMEOUT_MS',
  'SMTP_CONNECTION_TIMEOUT_MS',
  'SMTP_SOCKET_TIMEOUT_MS',
] as const;

test("the defaults of the configuration are the API's defaults", () => {
  expect(limitsFromConfig(loadConfig({}))).toEqual(DEFAULT_LIMITS);
  expect(loadConfig({})).toMatchObject({
    SENDGRID_TIMEOUT_MS: 30_000,
    TWILIO_TIMEOUT_MS: 30_000,
    SMTP_CONNECTION_TIMEOUT_MS: 15_000,
    SMTP_SOCKET_TIMEOUT_MS: 60_000,
  });
});

test('limits are read from the environment', () => {
  const limits = limitsFromConfig(
    loadConfig({
      API_BODY_LIMIT_BYTES: '2048',
      RATE_LIMIT_WINDOW: 'PT10S',
      RATE_LIMIT_PUBLIC_MAX: '5',
      RATE_LIMIT_WEBHOOK_MAX: '50',
      RATE_LIMIT_TENANT_PUBLIC_MAX: '70',
    }),
  );
  expect(limits).toMatchObject({
    bodyLimitBytes: 2048,
    publicRate: { max: 5, windowMs: 10_000 },
    webhookRate: { max: 50, windowMs: 10_000 },
    tenantPublicRate: { max: 70, windowMs: 10_000 },
  });
  expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
  expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8' }).TRUST_PROXY).toBe('10.0.0.0/8');
});

test('a bad limit stops start-up naming the variable', () => {
  expect(() => loadConfig({ RATE_LIMIT_WINDOW: 'one minute', SENDGRID_TIMEOUT_MS: '0' })).toThrow(ConfigError);
  try {
    loadConfig({ RATE_LIMIT_WINDOW: 'one minute', SENDGRID_TIMEOUT_MS: '0' });
  } catch (err) {
    expect((err as Error).message).toMatch(/RATE_LIMIT_WINDOW: an ISO-8601 duration/);
    expect((err as Error).message).toMatch(/SENDGRID_TIMEOUT_MS: .*\(got "0"\)/);
  }
});

test("every limit variable is in the README's configuration table", () => {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  for (const name of LIMIT_VARIABLES) {
    expect(Object.keys(configSchema.shape)).toContain(name);
    expect({ name, documented: readme.includes(`\`${name}\``) }).toEqual({ name, documented: true });
  }
});
