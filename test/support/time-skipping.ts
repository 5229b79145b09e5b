// A stack on Temporal's Java time-skipping test server (one per test file: a scenario's timers
// never move another file's clock). Everything else is the same real stack.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startStack, type Stack, type StackOptions } from './stack';

export async function startTimeSkippingStack(options: StackOptions = {}): Promise<{ env: TestWorkflowEnvironment; stack: Stack; close(): Promise<void> }> {
  const tools = JSON.parse(process.env.RELAIS_TEST_TOOLS!) as { temporalTestServer: string };
  const env = await startTestServer(tools.temporalTestServer);
  const stack = await startStack({ ...options, temporal: { client: env.client, nativeConnection: env.nativeConnection } });
  return { env, stack, async close() { await stack.close(); await env.teardown(); } };
}

/**
 * The SDK gives the Java test server a fixed 5 s to answer; a JVM starting while both cores are
 * busy (the rest of the suite runs beside it) can miss that. The SDK kills the late process, so
 * a new attempt starts clean; a server that never starts still fails after the third.
 */
async function startTestServer(path: string, attempts = 3): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String(err))) throw err;
      console.warn(`[time-skipping] test server slow to start (attempt ${attempt} of ${attempts}); starting it again`);
    }
  }
}
