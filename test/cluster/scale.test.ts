// Horizontal scale on the real cluster: three worker processes (src/worker.ts, configured only
// through the environment) poll one task queue; a burst of dispatches and orders arrives; one
// worker is killed with SIGKILL mid-run; every workflow still completes, and the work was spread.
// Who did what is read from the workflow histories: every task records the identity
// (pid@host) of the worker that ran it.
import { killAllRelais, spawnRelais, type RelaisProcess } from '../support/relais-process';
import { newOrder, purchaseOrder, startStack, type Stack } from '../support/stack';
import { clusterTarget } from './target';

const DISPATCHES = 24;
const ORDERS = 8;

let stack: Stack;

function startWorkerProcess(): RelaisProcess {
  // A small slot count per process, so that one process alone cannot take the whole burst. Its
  // log at info says when it started and under which identity (and why, if it dies first).
  return spawnRelais('src/worker.ts', {
    ...stack.workerEnv,
    LOG_LEVEL: 'info',
    WORKER_MAX_CONCURRENT_ACTIVITIES: '4',
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '4',
  });
}

/**
 * Each process's identity once it logs `worker started` (it polls from then on). Read from its log,
 * not from the task queue's pollers: a real cluster lists only the pollers of the queue's root
 * partition, which an idle worker's long polls may not reach for minutes.
 */
function startedIdentity(p: RelaisProcess): string | undefined {
  if (p.child.exitCode !== null || p.child.signalCode !== null)
    throw new Error(`a worker process exited before it started:\n${p.output().slice(-4000)}`);
  // A whole line only (the output may end mid-line).
  const line = p
    .output()
    .split('\n')
    .find((l) => l.includes('"msg":"worker started"') && l.trimEnd().endsWith('}'));
  return line ? (JSON.parse(line) as { identity: string }).identity : undefined;
}

// Each dispatch listens two minutes for its provider events (D7). Webhooks reach the API one batch
// after another; with the rest of the suite on both cores a CI run once saw them lag by more than
// 30 s, and a dispatch then finished `queued` with its `delivered` event still on the way.
beforeAll(async () => {
  stack = await startStack({
    cluster: clusterTarget(),
    worker: false,
    policies: { listenFor: 'PT2M' },
    eventDelayMs: 500,
  });
});
afterAll(async () => {
  killAllRelais();
  await stack?.close();
});

/** Tasks per worker identity over the given workflows' histories (continued runs included). */
async function workByIdentity(
  workflowIds: string[],
): Promise<Map<string, { workflowTasks: number; activities: number }>> {
  const work = new Map<string, { workflowTasks: number; activities: number }>();
  const add = (identity: string | null | undefined, key: 'workflowTasks' | 'activities') => {
    const id = identity ?? '?';
    const row = work.get(id) ?? { workflowTasks: 0, activities: 0 };
    row[key] += 1;
    work.set(id, row);
  };
  for (const workflowId of workflowIds) {
    for await (const execution of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await stack.client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
      for (const event of history.events ?? []) {
        if (event.workflowTaskCompletedEventAttributes)
          add(event.workflowTaskCompletedEventAttributes.identity, 'workflowTasks');
        if (event.activityTaskStartedEventAttributes)
          add(event.activityTaskStartedEventAttributes.identity, 'activities');
      }
    }
  }
  return work;
}

/** How long webhooks took to be taken by the API, from the moment each event fell due. */
function webhookLag(): { count: number; median: number; max: number } {
  const lags = stack.sandbox
    .messages({})
    .flatMap((m) => m.events)
    .map((e) => ({ due: Date.parse(e.at), ok: e.deliveries.find((d) => d.status !== null && d.status < 300) }))
    .filter((e) => e.ok)
    .map((e) => Date.parse(e.ok!.at) - e.due)
    .sort((a, b) => a - b);
  return { count: lags.length, median: lags[Math.floor(lags.length / 2)] ?? 0, max: lags.at(-1) ?? 0 };
}

test('three workers, a burst, one worker killed mid-run: every workflow completes and the work is spread', async () => {
  const processes = [startWorkerProcess(), startWorkerProcess(), startWorkerProcess()];
  const identities = await stack.waitFor(
    'three workers started',
    async () => {
      const started = processes.map(startedIdentity);
      return started.every(Boolean) ? (started as string[]) : undefined;
    },
    240_000,
  );
  const victim = identities[0];
  expect(victim).toMatch(new RegExp(`^${processes[0].child.pid}@`));

  const posted = await Promise.all([
    ...Array.from({ length: DISPATCHES }, (_, i) =>
      stack.request('POST', '/v1/dispatches', purchaseOrder(`po-scale-${i}`, [`supplier${i}@acme.test`])),
    ),
    ...Array.from({ length: ORDERS }, (_, i) =>
      stack.request(
        'POST',
        '/v1/orders',
        newOrder(`ord-scale-${i}`, { email: `c${i}@example.test`, phone: `+3361200${String(1000 + i)}` }),
      ),
    ),
  ]);
  expect(posted.map((r) => r.status)).toEqual(posted.map(() => 202));
  const workflowIds = posted.map((r) => r.body.workflowId as string);

  // Mid-run: once a quarter of the purchase orders have reached the provider, the first worker dies.
  await stack.waitFor(
    'a quarter of the burst sent',
    async () => stack.sandbox.messages({}).length >= DISPATCHES / 4,
    120_000,
  );
  processes[0].child.kill('SIGKILL');
  await processes[0].exited;

  for (let i = 0; i < ORDERS; i += 1) {
    const id = `ord-scale-${i}`;
    await stack.waitFor(
      `${id} assessed`,
      async () => (await stack.request('GET', `/v1/orders/${id}`)).body?.risk,
      120_000,
    );
    for (const type of ['allocated', 'packed', 'handed_over', 'delivered']) {
      expect((await stack.request('POST', `/v1/orders/${id}/events`, { type })).status).toBe(200);
    }
  }

  const results = await Promise.all(workflowIds.map((id) => stack.client.workflow.getHandle(id).result()));
  const lag = webhookLag();
  console.log(
    `[scale] webhook lag (event due → receiver answered 2xx): median ${lag.median} ms, max ${lag.max} ms over ${lag.count} events`,
  );
  for (const [i, result] of results.entries()) {
    if (i < DISPATCHES) {
      // On failure, say what the sandbox did with that recipient's events (late, retried, refused).
      const seen = stack.sandbox.messages({ to: `supplier${i}@acme.test` }).map((m) => ({
        receivedAt: m.receivedAt,
        status: m.status,
        events: m.events.map((e) => ({ type: e.type, at: e.at, outcome: e.outcome, deliveries: e.deliveries })),
      }));
      expect({ ...result, sandbox: seen }).toMatchObject({ result: 'delivered' });
    } else expect(result).toMatchObject({ state: 'delivered' });
  }
  for (let i = 0; i < DISPATCHES; i += 1)
    expect(stack.sandbox.messages({ to: `supplier${i}@acme.test` }).length).toBeGreaterThanOrEqual(1);

  const work = await workByIdentity(workflowIds);
  console.log(
    `[scale] ${DISPATCHES} dispatches + ${ORDERS} orders on 3 workers, ${victim} killed mid-run:\n${[...work]
      .map(
        ([id, w]) =>
          `  ${id}${id === victim ? ' (killed)' : ''}: ${w.workflowTasks} workflow tasks, ${w.activities} activities`,
      )
      .join('\n')}`,
  );
  // The killed worker had done part of the work before it died; the two survivors both did some.
  expect(work.get(victim!)?.workflowTasks ?? 0).toBeGreaterThan(0);
  const survivors = identities.filter((id) => id !== victim);
  for (const id of survivors)
    expect((work.get(id)?.workflowTasks ?? 0) + (work.get(id)?.activities ?? 0)).toBeGreaterThan(0);
  expect([...work.keys()].every((id) => identities.includes(id))).toBe(true);
}, 600_000);
