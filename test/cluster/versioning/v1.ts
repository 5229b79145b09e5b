// Version 1 of a small workflow shaped like Relais's: two steps, then it waits for an event.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

const { prepare, render, finish } = proxyActivities<typeof import('./activities')>({
  startToCloseTimeout: '30 seconds',
});
export const proceed = defineSignal('proceed');

export async function upgradable(): Promise<string[]> {
  let go = false;
  setHandler(proceed, () => {
    go = true;
  });
  const done = [await prepare(), await render()];
  await condition(() => go);
  done.push(await finish());
  return done;
}
