// Issue 20: what an email sender threw, in the words of the failover rule (src/domain/failover.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { EmailSendFailure } from '../domain/failover';
import { FAILURE_TYPES, ProviderUnavailable } from '../providers/failures';

export function emailSendFailure(err: unknown): EmailSendFailure {
  if (err instanceof ProviderUnavailable) return { kind: 'unavailable', notTaken: err.notTaken };
  if (err instanceof ApplicationFailure && err.type === FAILURE_TYPES.rateLimited) return { kind: 'rate_limited' };
  if (err instanceof ApplicationFailure) return { kind: 'refused' };
  // Anything else (MongoDB, a bug): nothing says the provider did not take it.
  return { kind: 'unavailable', notTaken: false };
}
