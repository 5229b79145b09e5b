// The `type` of every ApplicationFailure an Update's validator throws: callers (the API, the
// pages, inbound replies) switch on it, never on the message's words (src/app/workflow-errors.ts
// maps them to HTTP). Importable by workflow code.
import { ApplicationFailure } from '@temporalio/common';

/** A field of the request is not valid (the failure's details name it): HTTP 422. */
export const INVALID_FIELD = 'InvalidField';
/** The workflow's state refuses the request now (the details say the state): HTTP 409. */
export const REFUSED = 'Refused';
/** The dispatch has finished listening: nothing more can be done through it (HTTP 409). */
export const FINISHED = 'Finished';
/** A customer's address confirmation link (or code) was already used (HTTP 409). */
export const CONFIRMATION_USED = 'ConfirmationUsed';
/** A customer's address confirmation link has expired (HTTP 409; the customer's page says 410). */
export const CONFIRMATION_EXPIRED = 'ConfirmationExpired';
/** The order waits for no confirmation, or for another one than this link's (HTTP 409). */
export const CONFIRMATION_NOT_WAITING = 'ConfirmationNotWaiting';

/** Issue 20: the recipient acknowledged receipt already (HTTP 409; the page says when). */
export const ACKNOWLEDGED_ALREADY = 'AcknowledgedAlready';
/** Issue 20: a newer email to the recipient replaced the one this link came in (HTTP 410 on the page). */
export const LINK_REPLACED = 'LinkReplaced';

export const FAILURE_TYPES = [
  INVALID_FIELD,
  REFUSED,
  FINISHED,
  CONFIRMATION_USED,
  CONFIRMATION_EXPIRED,
  CONFIRMATION_NOT_WAITING,
  ACKNOWLEDGED_ALREADY,
  LINK_REPLACED,
] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

/** An Update refused with one of these types (non-retryable: a validator's answer does not change on retry). */
export const refuseUpdate = (type: FailureType, message: string, details?: unknown): ApplicationFailure =>
  ApplicationFailure.create({ type, message, details: details === undefined ? [] : [details], nonRetryable: true });

/** An Update refused for one field of its request: 422 naming it. */
export const invalidField = (field: string, message: string, value: unknown): ApplicationFailure =>
  refuseUpdate(INVALID_FIELD, `${field}: ${message}`, { field, value });
