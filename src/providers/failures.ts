// Provider failures shaped for Temporal's activity retries: a refusal is final (non-retryable,
// the provider's words kept), a rate limit waits for the provider's own reset, anything else
// (5xx, network) is retried by the activity's retry policy.
import { ApplicationFailure } from '@temporalio/common';

export const refused = (provider: string, message: string, details: Record<string, unknown>) =>
  ApplicationFailure.nonRetryable(`${provider} refused the request: ${message}`, 'ProviderRejected', details);

export const invalidRequest = (message: string) => ApplicationFailure.nonRetryable(message, 'InvalidRequest');

export function rateLimited(provider: string, retryAfterMs: number) {
  return ApplicationFailure.create({
    type: 'RateLimited',
    message: `${provider} rate limit reached; retrying in ${Math.round(retryAfterMs / 1000)} s`,
    nonRetryable: false,
    nextRetryDelay: Math.max(1000, Math.min(retryAfterMs, 3_600_000)),
  });
}

export class ProviderUnavailable extends Error {
  override name = 'ProviderUnavailable';
}
