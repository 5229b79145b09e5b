// Provider failures shaped for Temporal's activity retries, shared by the three senders:
// - a refusal is final: `ApplicationFailure.nonRetryable`, the provider's own words and code kept
//   in the message and in `details`;
// - a rate limit waits for the provider's own reset: `ApplicationFailure` of type `RateLimited`
//   with `nextRetryDelay`, still retryable;
// - anything else (5xx, network) is an ordinary error, retried by the activity's retry policy.
//   No sender retries by itself.
import { ApplicationFailure } from '@temporalio/common';

/** `ApplicationFailure.type` values the senders throw (retryable errors are `ProviderUnavailable`). */
export const FAILURE_TYPES = {
  /** The request is malformed on our side; nothing was sent. Non-retryable. */
  invalidRequest: 'InvalidRequest',
  /** A phone number that is not a valid E.164 number; nothing was sent. Non-retryable. */
  invalidPhoneNumber: 'InvalidPhoneNumber',
  /** The provider answered with a refusal (4xx). Non-retryable. */
  providerRejected: 'ProviderRejected',
  /** The sender lacks configuration (no sender number …). Non-retryable. */
  notConfigured: 'NotConfigured',
  /** The provider asked us to slow down. Retryable after `nextRetryDelay`. */
  rateLimited: 'RateLimited',
} as const;

/** Rate-limit waits are kept between these bounds (ms). */
export const MIN_RATE_LIMIT_DELAY_MS = 1000;
export const MAX_RATE_LIMIT_DELAY_MS = 3_600_000;

export const invalidRequest = (message: string, details?: Record<string, unknown>) =>
  ApplicationFailure.nonRetryable(message, FAILURE_TYPES.invalidRequest, details ?? {});

export const notConfigured = (message: string) =>
  ApplicationFailure.nonRetryable(message, FAILURE_TYPES.notConfigured, {});

/** The provider refused the request: final. `message` carries the provider's own words and code. */
export const refused = (provider: string, message: string, details: Record<string, unknown>) =>
  ApplicationFailure.nonRetryable(`${provider} refused the request: ${message}`, FAILURE_TYPES.providerRejected, {
    provider,
    ...details,
  });

export function rateLimited(provider: string, retryAfterMs: number, details: Record<string, unknown> = {}) {
  const delay = Math.round(
    Math.max(
      MIN_RATE_LIMIT_DELAY_MS,
      Math.min(Number.isFinite(retryAfterMs) ? retryAfterMs : 0, MAX_RATE_LIMIT_DELAY_MS),
    ),
  );
  return ApplicationFailure.create({
    type: FAILURE_TYPES.rateLimited,
    message: `${provider} rate limit reached; retrying in ${Math.ceil(delay / 1000)} s`,
    nonRetryable: false,
    nextRetryDelay: delay,
    details: [{ provider, retryAfterMs: delay, ...details }],
  });
}

/**
 * The provider could not be reached or failed on its side (5xx, connection refused, timeout).
 * An ordinary error: Temporal retries the activity (its type there is `ProviderUnavailable`).
 */
export class ProviderUnavailable extends Error {
  override name = 'ProviderUnavailable';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string | number,
    /**
     * Issue 20: the provider certainly did not take the message (it answered 5xx or a refusal
     * code, or was never reached), so another provider may send it without it arriving twice.
     * False when the request may have reached it (a timeout or a cut connection after sending).
     */
    readonly notTaken = false,
  ) {
    super(message);
  }
}

/** Milliseconds until an `X-RateLimit-Reset` (epoch seconds); undefined when absent or unreadable. */
export function msUntilEpochSeconds(value: unknown, now = Date.now()): number | undefined {
  const seconds = Number(value);
  if (value === undefined || value === null || value === '' || !Number.isFinite(seconds) || seconds <= 0)
    return undefined;
  return seconds * 1000 - now;
}

/** Milliseconds from a `Retry-After` header (delta seconds or HTTP date); undefined when absent or unreadable. */
export function msFromRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date - now;
}

/** Reads a header from a plain object or an AxiosHeaders-like one, case-insensitively. */
export function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const direct = typeof h.get === 'function' ? h.get(name) : undefined;
  const value =
    direct ??
    h[name] ??
    h[name.toLowerCase()] ??
    Object.entries(h).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? String(value[0]) : String(value);
}

/** True for an axios network-level failure (no HTTP answer: refused, reset, timeout, DNS). */
export function isNetworkError(err: unknown): boolean {
  const e = err as { isAxiosError?: boolean; response?: unknown; code?: unknown };
  return !!e && typeof e === 'object' && e.isAxiosError === true && !e.response;
}

// Shared pre-send checks (rule D1: refused before anything is sent, naming the field and value).

export const MAX_RECIPIENTS = 1000;
/** Deliberately loose: the shape local@domain, no spaces or angle brackets. The provider is the judge. */
const EMAIL_SHAPE = /^[^\s@<>",]+@[^\s@<>",]+$/;

export function checkRecipients(recipients: ReadonlyArray<{ email: string; recipientId: string }>): void {
  if (!Array.isArray(recipients) || recipients.length === 0) {
    throw invalidRequest('recipients: the list is empty; a dispatch needs 1 to 1000 recipients', {
      field: 'recipients',
      value: 0,
    });
  }
  if (recipients.length > MAX_RECIPIENTS) {
    throw invalidRequest(`recipients: ${recipients.length} recipients; at most ${MAX_RECIPIENTS} per dispatch`, {
      field: 'recipients',
      value: recipients.length,
    });
  }
  const seen = new Map<string, number>();
  recipients.forEach((r, i) => {
    if (typeof r.email !== 'string' || !EMAIL_SHAPE.test(r.email)) {
      throw invalidRequest(`recipients[${i}].email: "${r.email}" is not an email address`, {
        field: `recipients[${i}].email`,
        value: r.email,
      });
    }
    if (typeof r.recipientId !== 'string' || r.recipientId === '') {
      throw invalidRequest(`recipients[${i}].recipientId: missing`, {
        field: `recipients[${i}].recipientId`,
        value: r.recipientId,
      });
    }
    const key = r.email.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      throw invalidRequest(
        `recipients[${i}].email: "${r.email}" is already recipients[${first}]; each address may appear once`,
        { field: `recipients[${i}].email`, value: r.email },
      );
    }
    seen.set(key, i);
  });
}

export function checkAddress(field: string, email: string | undefined): void {
  if (typeof email !== 'string' || !EMAIL_SHAPE.test(email)) {
    throw invalidRequest(`${field}: "${email}" is not an email address`, { field, value: email });
  }
}
