// Start-up configuration: defaults, and one readable line per bad variable.
import { ConfigError, loadConfig } from '../src/config';

test('defaults are the documented ones', () => {
  const c = loadConfig({});
  expect(c).toMatchObject({ HOST: '127.0.0.1', API_PORT: 3000, SANDBOX_PORT: 4100, TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_UI_PORT: 8233, FERRETDB_PORT: 27017, TEMPORAL_TASK_QUEUE: 'relais' });
  expect(c.PUBLIC_BASE_URL).toBe('http://127.0.0.1:3000');
});

test('bad values stop start-up with a line naming each variable and its value', () => {
  let error: unknown;
  try {
    loadConfig({ API_PORT: 'ninety', MONGODB_URI: 'postgres://x', WHATSAPP_TEMPLATES: '{"x":1}' });
  } catch (err) { error = err; }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  expect(message).toMatch(/API_PORT: .* \(got "ninety"\)/);
  expect(message).toMatch(/MONGODB_URI: a mongodb:\/\/ or mongodb\+srv:\/\/ URI/);
  expect(message).toMatch(/WHATSAPP_TEMPLATES: JSON such as/);
});
