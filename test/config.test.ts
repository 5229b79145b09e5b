// Start-up configuration: defaults, and one readable line per bad variable.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import { temporalConnectionOptions } from '../src/temporal-connection';
import { tuningFromConfig } from '../src/worker';

test('defaults are the documented ones', () => {
  const c = loadConfig({});
  expect(c).toMatchObject({
    HOST: '127.0.0.1',
    API_PORT: 3000,
    SANDBOX_PORT: 4100,
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
    TEMPORAL_UI_PORT: 8233,
    FERRETDB_PORT: 27017,
    TEMPORAL_TASK_QUEUE: 'relais',
  });
  expect(c.PUBLIC_BASE_URL).toBe('http://127.0.0.1:3000');
});

test('bad values stop start-up with a line naming each variable and its value', () => {
  let error: unknown;
  try {
    loadConfig({ API_PORT: 'ninety', MONGODB_URI: 'postgres://x', WHATSAPP_TEMPLATES: '{"x":1}' });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  expect(message).toMatch(/API_PORT: .* \(got "ninety"\)/);
  expect(message).toMatch(/MONGODB_URI: a mongodb:\/\/ or mongodb\+srv:\/\/ URI/);
  expect(message).toMatch(/WHATSAPP_TEMPLATES: JSON such as/);
});

test('rotation: a previous link secret is held to the same rule as the current one', () => {
  expect(() => loadConfig({ LINK_SECRET: 'x'.repeat(32), LINK_SECRET_PREVIOUS: 'short' })).toThrow(
    /LINK_SECRET_PREVIOUS: at least 32 characters/,
  );
  expect(
    loadConfig({
      LINK_SECRET: 'x'.repeat(32),
      LINK_SECRET_PREVIOUS: 'y'.repeat(32),
      TWILIO_AUTH_TOKEN_PREVIOUS: 'old-token',
    }),
  ).toMatchObject({ LINK_SECRET_PREVIOUS: 'y'.repeat(32), TWILIO_AUTH_TOKEN_PREVIOUS: 'old-token' });
});

describe('Temporal connection: self-hosted TLS/mTLS and Temporal Cloud', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relais-config-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('plain by default: no TLS, no key', () => {
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }))).toEqual({
      address: 'temporal:7233',
      tls: false,
    });
  });

  test('mTLS: certificate, key, private CA and server name are read from their files', () => {
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'relais.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'relais.a1b2c',
      TEMPORAL_TLS_CERT: file('client.pem', 'CERT'),
      TEMPORAL_TLS_KEY: file('client.key', 'KEY'),
      TEMPORAL_TLS_CA: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const options = temporalConnectionOptions(c);
    expect(options.tls).toEqual({
      serverNameOverride: 'temporal.internal',
      serverRootCACertificate: Buffer.from('CA'),
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
    });
    expect(options.apiKey).toBeUndefined();
  });

  test('an API key (Temporal Cloud) implies TLS with the system roots', () => {
    const options = temporalConnectionOptions(loadConfig({ TEMPORAL_API_KEY: 'key-123' }));
    expect(options).toMatchObject({
      apiKey: 'key-123',
      tls: { clientCertPair: undefined, serverRootCACertificate: undefined },
    });
  });

  test.each([
    [{ TEMPORAL_TLS_CERT: '/x/client.pem' }, /TEMPORAL_TLS_KEY: mTLS needs both/],
    [{ TEMPORAL_TLS_KEY: '/x/client.key' }, /TEMPORAL_TLS_CERT: mTLS needs both/],
    [{ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }, /TEMPORAL_TLS: cannot be false/],
    [{ TEMPORAL_TLS: 'yes' }, /TEMPORAL_TLS: .*\(got "yes"\)/],
    [{ WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }, /WORKER_MAX_CONCURRENT_ACTIVITIES/],
    [{ WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND: '-1' }, /WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND/],
  ])('%j is refused, naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('a certificate path that cannot be read is named at start-up', () => {
    const c = loadConfig({ TEMPORAL_TLS_CERT: join(dir, 'missing.pem'), TEMPORAL_TLS_KEY: file('k2', 'KEY') });
    expect(() => temporalConnectionOptions(c)).toThrow(/TEMPORAL_TLS_CERT .*missing\.pem cannot be read/);
  });
});

test('worker tuning defaults are the documented ones (docs/deploy.md) and pass through to the worker', () => {
  expect(tuningFromConfig(loadConfig({}))).toEqual({
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 40,
    maxCachedWorkflows: 250,
    maxTaskQueueActivitiesPerSecond: undefined,
  });
  expect(
    tuningFromConfig(loadConfig({ WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND: '50' })).maxTaskQueueActivitiesPerSecond,
  ).toBe(50);
});
