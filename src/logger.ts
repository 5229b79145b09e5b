// Structured JSON logs (pino). Authorization headers and signatures are redacted wherever they appear.
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export const REDACT = [
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  'req.headers["x-twilio-email-event-webhook-signature"]',
  'headers.authorization',
  '*.apiKey',
  '*.authToken',
  '*.password',
];

/** Customer and document links carry their signed token in the path: logs keep the route, not the token. */
export const loggableUrl = (url: string): string => url.replace(/^\/(a|c|d)\/[^/?#]+/, '/$1/[token]');

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, process: string): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { process },
    redact: { paths: REDACT, censor: '[redacted]' },
    // Replaces Fastify's request serializer (same fields), so request logs never print a link token.
    serializers: {
      req: (req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: req.method,
        url: loggableUrl(req.url),
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
    },
  });
}
