// What the HTTP server is built from: the use cases' dependencies (src/app/deps.ts) and its own settings.
import type { Logger } from 'pino';
import type { AppDeps } from '../app/deps';
import type { ApiLimits } from './limits';

export interface ApiDeps extends AppDeps {
  logger?: Logger | boolean;
  /** Body sizes and rate limits; DEFAULT_LIMITS where absent (main.ts passes the configured ones). */
  limits?: Partial<ApiLimits>;
  /** Fastify's trustProxy (TRUST_PROXY): which X-Forwarded-For hops to believe for the client address. */
  trustProxy?: boolean | string;
  /** Serve the contract (/openapi.json) and its reference page (/docs); default true (API_DOCS). */
  docs?: boolean;
}
