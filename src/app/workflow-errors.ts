// What Temporal answers, as the API's errors ({ error: { code, message, details } }): the one
// place that reads Temporal's error classes. An Update's refusal is told apart by its failure
// `type` (src/workflows/failure-types.ts), never by its words.
import { QueryNotRegisteredError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ApiError, notFound } from '../api/errors';
import { INVALID_FIELD } from '../workflows/failure-types';

/** Why a workflow refused an Update: the failure's type, its message, and the details it gave (state, allowed events, hold, field …). */
export interface UpdateRefusal {
  type: string;
  message: string;
  details: Record<string, unknown> | null;
}

/**
 * The refusal of an Update its validator (or handler) refused, or undefined for any other error.
 * A run of an earlier version may refuse without a type of ours: 'Error' (a plain Error), or the
 * SDK's for an Update it has no handler for.
 */
export function updateRefusal(err: unknown): UpdateRefusal | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  const first: unknown = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  return {
    type: (cause instanceof ApplicationFailure ? cause.type : undefined) ?? 'Error',
    message: cause?.message ?? err.message,
    details: first && typeof first === 'object' && !Array.isArray(first) ? (first as Record<string, unknown>) : null,
  };
}

/** Whether the workflow does not exist, or runs a version without the query asked (Temporal answers "not found" either way). */
export const workflowNotFound = (err: unknown): boolean =>
  err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError;

/**
 * Whether the workflow takes nothing more: it does not exist (never started, another tenant's id),
 * or it has closed (the server answers an Update to a closed run as "not found", or, when it closed
 * while the Update was on its way, with "workflow execution already completed").
 */
export function workflowGone(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  for (
    let e = err as { message?: unknown; details?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth += 1
  ) {
    if (
      /already completed|workflow (execution )?(is )?closed/i.test(
        `${String(e.details ?? '')} ${String(e.message ?? '')}`,
      )
    )
      return true;
  }
  return false;
}

/** A refused Update as the API answers it: 422 naming the field for INVALID_FIELD, else 409 with its message and details. */
export function refusalError(refusal: UpdateRefusal): ApiError {
  if (refusal.type === INVALID_FIELD) {
    const field = typeof refusal.details?.field === 'string' ? refusal.details.field : '(body)';
    return new ApiError(422, 'invalid_request', refusal.message, [
      { field, message: refusal.message, value: refusal.details?.value ?? null },
    ]);
  }
  return new ApiError(409, 'conflict', refusal.message, refusal.details);
}

/**
 * Temporal's error as the API's: 404 for a workflow that does not exist or lacks the query (a run
 * of an earlier version: `subject` names what, e.g. "dispatch d-1"), 422/409 for a refused Update
 * (refusalError); any other error is returned as it was, for the caller to throw on.
 */
export function mapWorkflowError(err: unknown, subject: string): unknown {
  if (workflowNotFound(err)) return notFound(subject);
  const refusal = updateRefusal(err);
  return refusal ? refusalError(refusal) : err;
}
