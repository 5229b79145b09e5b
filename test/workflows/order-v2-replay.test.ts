// Orders running when the workspace of issue 18 is deployed keep their course: real histories of
// the order workflow as issue 15 left it (test/fixtures/order-histories-v2/, recorded by record.ts
// there) replay on today's code without a non-determinism error. New behaviour (the stuck timer
// after handover, a customer's cancellation ending as handover failed, an unfulfillable order
// waiting for the seller, an address confirmed as it is re-scored) sits behind
// patched('order-workspace-v3'), so these runs keep the steps they took.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';

const DIR = join(__dirname, '..', 'fixtures', 'order-histories-v2');
const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('the recorded histories are all there', () => {
  expect(fixtures).toEqual([
    'customer-cancelled.json',
    'handed-over.json',
    'held-confirmed.json',
    'rts-label-pickup-refused.json',
    'stuck-failed-delivered.json',
    'unfulfillable.json',
  ]);
});

test.each(fixtures)('%s replays on the current workflow code', async (file) => {
  const history = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
  const results: Array<{ error: string | null }> = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.RELAIS_TEST_WORKFLOW_BUNDLE! } },
    [{ workflowId: file.replace(/\.json$/, ''), history }],
  )) {
    results.push({ error: result.error?.message ?? null });
  }
  expect(results).toEqual([{ error: null }]);
});
