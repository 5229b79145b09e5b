// Structured JSON logs (pino). Authorization headers and signatures are redacted wherever they appear.
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export const REDACT = [
  'req.headers.authorization', 'req.headers["x-twilio-signature"]', 'req.headers["x-twilio-email-event-webhook-signature"]',
  'headers.authorization', '*.apiKey', '*.authToken', '*.password',
];

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, process: string): Logger {
  return pino({ level: config.LOG_LEVEL, base: { process }, redact: { paths: REDACT, censor: '[redacted]' } });
}
