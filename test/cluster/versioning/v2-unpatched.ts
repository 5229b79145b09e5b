// The same change as v2.ts made without patched(): what the versioning test shows breaks.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

const { prepare, renderWithLinks, finish } = proxyActivities<typeof import('./activities')>({
  startToCloseTimeout: '30 seconds',
});
export const proceed = defineSignal('proceed');

export async function upgradable(): Promise<string[]> {
  let go = false;
  setHandler(proceed, () => {
    go = true;
  });
  const done = [await prepare(), await renderWithLinks()];
  await condition(() => go);
  done.push(await finish());
  return done;
}
