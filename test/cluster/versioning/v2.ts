// Version 2: the render step became renderWithLinks. Runs that already rendered under version 1 keep
// their history; patched() tells the two apart (false when replaying a version-1 history).
import { condition, defineSignal, patched, proxyActivities, setHandler } from '@temporalio/workflow';

const { prepare, render, renderWithLinks, finish } = proxyActivities<typeof import('./activities')>({
  startToCloseTimeout: '30 seconds',
});
export const proceed = defineSignal('proceed');

export async function upgradable(): Promise<string[]> {
  let go = false;
  setHandler(proceed, () => {
    go = true;
  });
  const done = [await prepare()];
  done.push(patched('render-with-links') ? await renderWithLinks() : await render());
  await condition(() => go);
  done.push(await finish());
  return done;
}
