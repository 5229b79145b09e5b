// A stack on Temporal's Java time-skipping test server (one per test file: a scenario's timers
// never move another file's clock). Everything else is the same real stack.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { withSlowStartRetry } from './server-start';
import { startStack, type Stack, type StackOptions } from './stack';

export async function startTimeSkippingStack(
  options: StackOptions = {},
): Promise<{ env: TestWorkflowEnvironment; stack: Stack; close(): Promise<void> }> {
  const tools = JSON.parse(process.env.RELAIS_TEST_TOOLS!) as { temporalTestServer: string };
  const env = await startTestServer(tools.temporalTestServer);
  // No sticky cache. Under load the test server sometimes loses a workflow task (started, never
  // completed nor timed out) and with it the time-skipping lock: a scenario then hangs in
  // env.sleep or waits for signals never applied. Taking every task from the normal queue
  // (replayed from history) made it rarer in our runs (dispatch-deferred: 2 failures in 7 runs
  // before, none in 5 after), not impossible (README, "Tests").
  const stack = await startStack({
    ...options,
    tuning: { maxCachedWorkflows: 0, ...options.tuning },
    temporal: { client: env.client, nativeConnection: env.nativeConnection },
  });
  return {
    env,
    stack,
    async close() {
      await stack.close();
      await env.teardown();
    },
  };
}

/** The Java test server, started again when it misses the SDK's start-up window. */
export function startTestServer(path: string): Promise<TestWorkflowEnvironment> {
  return withSlowStartRetry('the time-skipping test server', () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } }),
  );
}
