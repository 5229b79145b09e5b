// Rule of upgrades (docs/deploy.md): a worker running this code replays the dispatch histories that
// earlier code recorded (test/fixtures/histories/dispatch-*.json, recorded by record.ts there) without
// a non-determinism error — from the code before issues 14 and 15, and (`.348b504`) from the release
// this one replaces (main at 348b504: sealed notices, the request's fingerprint in the memo): a dispatch mid-way (events applied, a notice started, a
// recipient resent, marked sent by hand, still listening), a notice dispatch still listening, and a
// dispatch that continued as new (both runs). Orders: test/workflows/order-replay.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';

const FIXTURES = join(__dirname, '..', 'fixtures', 'histories');
const recorded = readdirSync(FIXTURES)
  .filter((f) => f.startsWith('dispatch-') && f.endsWith('.json'))
  .sort();

test('the recorded dispatch histories are all there', () => {
  expect(recorded).toEqual([
    'dispatch-continued-first-run.348b504.json',
    'dispatch-continued-first-run.json',
    'dispatch-continued-next-run.348b504.json',
    'dispatch-continued-next-run.json',
    'dispatch-midway.348b504.json',
    'dispatch-midway.json',
    'dispatch-notice-running.348b504.json',
    'dispatch-notice-running.json',
  ]);
});

test.each(recorded)('%s replays on this code', async (file) => {
  const history = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as unknown;
  const results: Array<{ workflowId: string; error?: unknown }> = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.RELAIS_TEST_WORKFLOW_BUNDLE! } },
    [{ workflowId: file.replace(/\.json$/, ''), history }],
  )) {
    results.push(result);
  }
  expect(results).toHaveLength(1);
  expect(results[0].error).toBeUndefined();
});
