// Continuing as new when Temporal suggests it (the history grows long), without losing what is in
// flight: no Update handler may be running (its caller would get no answer), and whatever the
// workflow holds unapplied (`idle` false: signals waiting) is applied first, on the next pass.
import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';

export interface ContinueOptions {
  /** Nothing waits to be applied: checked before and after waiting for the handlers. */
  idle?: () => boolean;
  /** Also waited for with the handlers (e.g. resends asked for are sent). */
  settled?: () => boolean;
  /** What to do last, before continuing (write what is pending). */
  before?: () => Promise<unknown>;
}

/** Calls `next` (a continueAsNew, which never returns) when suggested and safe; otherwise returns. */
export async function continueAsNewWhenSuggested(
  next: () => Promise<never>,
  options: ContinueOptions = {},
): Promise<void> {
  const idle = options.idle ?? (() => true);
  if (!workflowInfo().continueAsNewSuggested || !idle()) return;
  const settled = options.settled;
  await condition(settled ? () => settled() && allHandlersFinished() : allHandlersFinished);
  // What came in meanwhile is applied first: continuing as new would drop it.
  if (!idle()) return;
  await options.before?.();
  await next();
}
