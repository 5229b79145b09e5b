// Rule of upgrades (docs/deploy.md): a worker running this code replays the histories that the
// previous code recorded (test/fixtures/histories/, recorded by record.ts there) without a
// non-determinism error: a dispatch mid-way (events applied, a notice started, a recipient
// resent, marked sent by hand, still listening), a notice dispatch still listening, a dispatch
// that continued as new (both runs) and an order that sent an alert.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';

const FIXTURES = join(__dirname, '..', 'fixtures', 'histories');
const recorded = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();

test('the recorded histories are all there', () => {
  expect(recorded).toEqual([
    'dispatch-continued-first-run.json', 'dispatch-continued-next-run.json', 'dispatch-midway.json', 'dispatch-notice-running.json', 'order-held.json',
  ]);
});

test.each(recorded)('%s replays on this code', async (file) => {
  const { workflowId, history } = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { workflowId: string; history: unknown };
  const results: Array<{ workflowId: string; error?: unknown }> = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: process.env.RELAIS_TEST_WORKFLOW_BUNDLE! } }, [{ workflowId, history }])) {
    results.push(result);
  }
  expect(results).toHaveLength(1);
  expect(results[0].error).toBeUndefined();
});
