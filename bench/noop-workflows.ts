// Baselines: what the server and worker cost before Relais does any work of its own.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

/** One workflow, one activity that does nothing. */
export async function noopWorkflow(): Promise<void> {
  await noop();
}

/** Receives signals until terminated (the raw-signal baseline of the webhook benchmark). */
export async function waitForSignals(): Promise<number> {
  let count = 0;
  setHandler(defineSignal<[unknown]>('providerEvents'), () => {
    count += 1;
  });
  await condition(() => false);
  return count;
}
