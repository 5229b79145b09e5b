// The dispatch workflow: one email (or SMS/WhatsApp message) to its recipients, followed until
// the provider says each one arrived or not (rules D1–D11). Deterministic code only: every
// effect is an activity (steps.ts), every rule decision a pure step of src/domain/dispatch-run.ts.
//
// Its state is what the rules need (a few dozen bytes per recipient); the dispatch itself is
// recorded in MongoDB before it starts, provider events are stored and deduplicated where they
// are received and signalled in a compact form, and each projection write sends only the
// recipients that changed. Every payload stays small at 1000 recipients (issue 15). Runs started
// by the first version of this workflow keep running it (legacy/). Callers use contract.ts.
import { allHandlersFinished, condition, continueAsNew, patched, setHandler } from '@temporalio/workflow';
import { countByStatus } from '../../domain/dispatch';
import { DispatchRun } from '../../domain/dispatch-run';
import type {
  DispatchInput as DispatchInputV1,
  DispatchState as DispatchStateV1,
} from '../../domain/legacy/dispatch-v1';
import { dispatchV1, type DispatchOutcome as DispatchOutcomeV1 } from '../legacy/dispatch-v1';
import { continueAsNewWhenSuggested } from '../shared/continue-as-new';
import {
  dispatchStateQuery,
  recipientEventsSignal,
  type Carried,
  type DispatchInput,
  type DispatchOutcome,
} from './contract';
import { DispatchSteps } from './steps';
import { handleUpdates } from './updates';

/**
 * Issue 16: a dispatch never emailed alerts the sender and the purchasing manager (D9 `failed`), a
 * recipient still deferred after the delay is reported (D3), the listening window's end makes
 * every recipient final (D7). Runs that got past those points on earlier code keep their path.
 */
const EVERY_FAILURE_TOLD = 'dispatch-every-failure-told';

/**
 * Issue 17: a delivered recipient can be sent again (to the same address or another) as a new
 * attempt that starts afresh. Runs started before keep refusing it, as they did.
 */
const RESEND_DELIVERED = 'dispatch-resend-delivered';

/**
 * Issue 20: a dispatch that asks for receipt acknowledgement takes the recipients' answers (an
 * Update) and, when the tenant set `acknowledgeWithin`, tells the sender, then escalates.
 */
const ACKNOWLEDGEMENT = 'dispatch-receipt-acknowledgement';

/** Runs started by the first version carry every recipient in their input. */
const isFirstVersion = (input: DispatchInput | DispatchInputV1): input is DispatchInputV1 => 'recipients' in input;

export async function dispatch(
  input: DispatchInput | DispatchInputV1,
  carried?: Carried | DispatchStateV1,
): Promise<DispatchOutcome | DispatchOutcomeV1> {
  if (isFirstVersion(input)) return dispatchV1(input, carried as DispatchStateV1 | undefined);
  return dispatchBounded(input, carried as Carried | undefined);
}

async function dispatchBounded(input: DispatchInput, carried?: Carried): Promise<DispatchOutcome> {
  const d = new DispatchSteps(input, new DispatchRun(input.recipientCount, input.policy, carried));
  const { run } = d;
  setHandler(recipientEventsSignal, (signal) => {
    d.inbox.push(signal);
  });
  setHandler(dispatchStateQuery, () => run.state);
  run.acknowledging = input.acknowledge === true && patched(ACKNOWLEDGEMENT);
  handleUpdates(d, patched(RESEND_DELIVERED), run.acknowledging);

  if (!carried) {
    await d.send(true);
    // D9 `failed`: nothing was emailed; the sender and the purchasing manager hear it at once, with the reason.
    if (run.notEmailed && patched(EVERY_FAILURE_TOLD))
      await d.notify({ kind: 'failed', reasonCode: run.notEmailed, recipientCount: input.recipientCount });
  }

  while (run.listening(Date.now())) {
    await condition(() => d.inbox.length > 0 || d.resends.size > 0, Math.max(1, run.wakeAt(Date.now()) - Date.now()));
    if (d.resends.size) await d.send(false);
    await d.step(patched(EVERY_FAILURE_TOLD));
    // Nothing pending is carried: the new run starts with the log up to date.
    await continueAsNewWhenSuggested(
      () => continueAsNew<typeof dispatch>(input, { state: run.state, version: run.version }),
      {
        idle: () => d.inbox.length === 0,
        settled: () => d.resends.size === 0,
        before: () => d.flush(),
      },
    );
  }

  await condition(allHandlersFinished);
  await d.step(patched(EVERY_FAILURE_TOLD)); // what came in while the last pass ran
  if (run.state.providerError === null && patched(EVERY_FAILURE_TOLD)) await d.closeWindow();
  run.complete(Date.now()); // D7: the listening window is over
  await d.flush({ final: true });
  return { result: run.state.result, counts: countByStatus(run.state) };
}
