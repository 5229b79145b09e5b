// Rule 5 of issue 15: orders started by an earlier version of the order workflow keep working
// after the upgrade. Real histories recorded from that version (test/fixtures/histories/, see
// record.ts there) are replayed by today's workflow code: any step it would take differently is a
// non-determinism error, and the replay fails.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';

const DIR = join(__dirname, '..', 'fixtures', 'histories');
const fixtures = readdirSync(DIR)
  .filter((f) => f.startsWith('order-') && f.endsWith('.json'))
  .sort();

test('every recorded order history replays on the current workflow code', async () => {
  expect(fixtures).toEqual([
    'order-held-confirmation.348b504.json',
    'order-held-confirmation.json',
    'order-held.json',
    'order-in-transit.348b504.json',
    'order-in-transit.json',
    'order-stuck-failed-delivered.348b504.json',
    'order-stuck-failed-delivered.json',
  ]);
  const histories = fixtures.map((file) => ({
    workflowId: file.replace(/\.json$/, ''),
    history: JSON.parse(readFileSync(join(DIR, file), 'utf8')),
  }));
  const results = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.RELAIS_TEST_WORKFLOW_BUNDLE! } },
    histories,
  )) {
    results.push({ workflowId: result.workflowId, error: result.error?.message ?? null });
  }
  expect(results).toEqual(fixtures.map((f) => ({ workflowId: f.replace(/\.json$/, ''), error: null })));
});
