// The real workflow code (the bundle test/global-setup.ts builds) on Temporal's time-skipping
// test server, with its activities replaced by stubs that record what they were called with:
// a rule's test runs in seconds, hours of timers included, and asserts on what the workflow
// asked for (which notice to whom, which projection). The stack tests (test/e2e, test/timers)
// check the same rules through the real activities, providers and MongoDB.
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { startTestServer } from './time-skipping';

/** One activity call: its name and its argument. */
export type Call = { [K in keyof Activities]: { name: K; arg: Parameters<Activities[K]>[0] } }[keyof Activities];
export type Stubs = {
  [K in keyof Activities]?: (
    arg: Parameters<Activities[K]>[0],
  ) => Promise<Awaited<ReturnType<Activities[K]>>> | Awaited<ReturnType<Activities[K]>>;
};

export interface StubbedWorkflows {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Every activity call, in order. */
  calls: Call[];
  /** The calls of one activity, as called. */
  callsOf<K extends keyof Activities>(name: K): Array<Parameters<Activities[K]>[0]>;
  close(): Promise<void>;
}

export async function startStubbedWorkflows(stubs: Stubs): Promise<StubbedWorkflows> {
  const tools = JSON.parse(process.env.RELAIS_TEST_TOOLS!) as { temporalTestServer: string };
  const env = await startTestServer(tools.temporalTestServer);
  const taskQueue = `stubbed-${randomBytes(4).toString('hex')}`;
  const calls: Call[] = [];
  const activities = Object.fromEntries(
    Object.entries(stubs).map(([name, stub]) => [
      name,
      async (arg: never) => {
        calls.push({ name, arg } as Call);
        return (stub as (a: never) => unknown)(arg);
      },
    ]),
  );
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities,
    workflowBundle: { codePath: process.env.RELAIS_TEST_WORKFLOW_BUNDLE! },
    // Every workflow task replayed from its history: what the recorded-history tests check, on every step.
    maxCachedWorkflows: 0,
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    calls,
    callsOf: (name) => calls.filter((c) => c.name === name).map((c) => c.arg) as never,
    async close() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
