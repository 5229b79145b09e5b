// `npm run bench`: Relais's throughput on this machine, each figure next to a baseline measured
// on the same server in the same run. Prints the machine, progress, the load average beside every
// figure (the machine may be shared), and tables at the end. docs/performance.md explains each.
//   npm run bench                                   every section, defaults below
//   npm run bench -- --only store --store-sizes 10,10000,100000 --stores postgresql,sqlite
//   npm run bench -- --only ingest,bounce           a dispatch as it grows; bounce → escalation
//   npm run bench -- --only open-orders --open-orders 10000 --cache 250
//   npm run bench -- --only order-list --order-list-sizes 1000,10000   the orders workspace's list and counts
//   npm run bench -- --only dashboard --dashboard-sizes 10,100000   the dashboard page, a fold, the CSV export
//   npm run bench -- --target cluster   dispatches and orders with 1, 2 and 3 worker processes,
//                                       on the dev server and on a real cluster (PostgreSQL), same run
import { cpus, loadavg, totalmem } from 'node:os';
import { randomBytes, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { startCluster } from '../scripts/lib/cluster';
import { ROOT, stopProcess, toolPaths } from '../scripts/lib/processes';
import { buildWorkflowBundle } from '../src/worker';
import { dispatchKey } from '../src/db/dispatch-records';
import { newOrder, purchaseOrder, startStack, type Stack } from '../test/support/stack';
import { startLocalServers, type StoreKind } from '../test/support/servers';
import { orderEventUpdate, orderStateQuery, orderWorkflowId } from '../src/workflows/order/contract';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { benchStore, storeTable } from './store';
import { benchOrderList } from './order-list';
import {
  ActivityTimes,
  benchBounceToEscalation,
  benchIngest,
  postEvents,
  startApiProcess,
  type IngestRow,
} from './dispatch-scale';
import { benchDashboard, dashboardTable } from './dashboard';

Runtime.install({ logger: new DefaultLogger('WARN') });

const { values: args } = parseArgs({
  options: {
    dispatches: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '20' },
    'webhook-seconds': { type: 'string', default: '10' },
    'baseline-workflows': { type: 'string', default: '200' },
    orders: { type: 'string', default: '30' },
    'open-orders': { type: 'string', default: '150' },
    store: { type: 'string', default: 'postgresql' },
    stores: { type: 'string', default: 'postgresql,sqlite' },
    'store-sizes': { type: 'string', default: '10,10000,100000' },
    'order-list-sizes': { type: 'string', default: '100,1000,10000' },
    'ingest-sizes': { type: 'string', default: '10,100,1000' },
    'ingest-events': { type: 'string', default: '5' },
    'ingest-batch': { type: 'string', default: '50,500' },
    // Where the API runs: its own process (as deployed), and/or the benchmark's process (the earlier runs' set-up).
    'ingest-api': { type: 'string', default: 'process,shared' },
    // Requests posted at once (SendGrid posts from many servers at once).
    'ingest-connections': { type: 'string', default: '8,32' },
    bounces: { type: 'string', default: '30' },
    cache: { type: 'string' },
    'dashboard-sizes': { type: 'string', default: '10,100000' },
    only: {
      type: 'string',
      default: 'store,order-list,dashboard,dispatches,webhooks,ingest,bounce,orders,open-orders',
    },
    target: { type: 'string', default: 'dev' },
    workers: { type: 'string', default: '1,2,3' },
  },
});

const say = (msg: string) => console.log(`[bench] ${msg}`);
/** The load average (1, 5, 15 minutes) when a figure is taken: on a shared machine, read figures with it. */
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>, label: string) {
  let next = 0;
  let done = 0;
  const started = Date.now();
  const ticker = setInterval(
    () => say(`  ${label}: ${done}/${items.length} (${((Date.now() - started) / 1000).toFixed(0)} s)`),
    5000,
  );
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        try {
          await fn(item);
        } catch (err) {
          say(`  ${label}: item ${String(item)} failed: ${(err as Error).message}`);
          throw err;
        }
        done += 1;
      }
    }),
  );
  clearInterval(ticker);
}

async function baselineWorkflows(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundle,
  count: number,
  concurrency: number,
): Promise<number> {
  const taskQueue = `bench-noop-${randomBytes(3).toString('hex')}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: { noop: async () => undefined },
  });
  return worker.runUntil(async () => {
    const started = Date.now();
    await pool(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      async (i) => {
        await env.client.workflow.execute('noopWorkflow', { taskQueue, workflowId: `noop-${taskQueue}-${i}` });
      },
      'no-op workflows',
    );
    return count / ((Date.now() - started) / 1000);
  });
}

async function benchDispatches(stack: Stack, count: number, concurrency: number) {
  const latencies: number[] = [];
  const started = Date.now();
  await pool(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const id = `bench-${i}`;
      const t0 = Date.now();
      const res = await stack.request('POST', '/v1/dispatches', purchaseOrder(id, [`supplier${i}@acme.test`]));
      if (res.status !== 202) throw new Error(`dispatch ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      for (;;) {
        const doc = await stack.db.Dispatch.findById(dispatchKey(stack.tenantId, id), { result: 1 }).lean();
        if (doc?.result === 'delivered') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      latencies.push(Date.now() - t0);
    },
    'dispatches',
  );
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: count / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

async function benchWebhooks(stack: Stack, env: TestWorkflowEnvironment, bundle: WorkflowBundle, seconds: number) {
  // Targets: running dispatches whose recipients stay silent, so every event is new work.
  const targets = 20;
  for (let i = 0; i < targets; i += 1) {
    await stack.request('POST', '/v1/dispatches', purchaseOrder(`wh-${i}`, [`quiet${i}+silent@acme.test`]));
  }
  await stack.waitFor(
    'targets recorded',
    async () => (await stack.db.Dispatch.countDocuments({ tenantId: stack.tenantId, dispatchId: /^wh-/ })) === targets,
    60_000,
  );
  const key = createPrivateKey(stack.sendgridSigningKeyPem);
  let accepted = 0;
  let n = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < deadline) {
        const events = Array.from({ length: 50 }, () => {
          n += 1;
          return {
            email: 'x@acme.test',
            timestamp: Math.floor(Date.now() / 1000),
            event: n % 2 ? 'open' : 'processed',
            sg_event_id: `bench-${n}`,
            sg_message_id: 'bench.1',
            relais_tenant: stack.tenantId,
            relais_dispatch: `wh-${n % targets}`,
            relais_index: '0.1',
          };
        });
        if (await postEvents(stack, key, events)) accepted += events.length;
      }
    }),
  );
  const webhookRate = accepted / ((Date.now() - started) / 1000);
  // Issue 15: answered once stored in the webhook inbox; applied (stored, signalled) once it is empty again.
  await stack.waitFor(
    'every accepted request applied',
    async () => (await stack.db.WebhookInbox.estimatedDocumentCount()) === 0,
    600_000,
  );
  const appliedRate = accepted / ((Date.now() - started) / 1000);

  // Baseline: raw signals from a client to waiting workflows on the same server.
  const taskQueue = `bench-sig-${randomBytes(3).toString('hex')}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: { noop: async () => undefined },
  });
  const signalRate = await worker.runUntil(async () => {
    const handles = await Promise.all(
      Array.from({ length: targets }, (_, i) =>
        env.client.workflow.start('waitForSignals', { taskQueue, workflowId: `${taskQueue}-${i}` }),
      ),
    );
    let sent = 0;
    const end = Date.now() + seconds * 1000;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        let i = w;
        while (Date.now() < end) {
          await handles[i % targets].signal('providerEvents', { n: i });
          sent += 1;
          i += 8;
        }
      }),
    );
    const rate = sent / ((Date.now() - t0) / 1000);
    await Promise.all(handles.map((h) => h.terminate('benchmark done')));
    return rate;
  });
  return { webhookRate, appliedRate, signalRate };
}

const LIFECYCLE = [
  { type: 'allocated' },
  { type: 'packed' },
  { type: 'handed_over' },
  { type: 'tracking_update', status: 'in transit', location: 'hub', at: new Date().toISOString() },
] as const;

/** Orders placed → delivered, every event posted over HTTP like a platform would. */
async function benchOrders(stack: Stack, count: number, concurrency: number) {
  const started = Date.now();
  await pool(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const id = `bench-order-${i}`;
      const customer = { email: `c${i}@example.test`, phone: `+3361${String(2000000 + i).padStart(7, '0')}` };
      const res = await stack.request('POST', '/v1/orders', newOrder(id, customer));
      if (res.status !== 202) throw new Error(`order ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      for (;;) {
        const o = await stack.request('GET', `/v1/orders/${id}`);
        if (o.body?.risk) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const event of [...LIFECYCLE, { type: 'delivered' }]) {
        const r = await stack.request('POST', `/v1/orders/${id}/events`, event);
        if (r.status !== 200) throw new Error(`order ${id} ${event.type}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    },
    'orders',
  );
  return count / ((Date.now() - started) / 1000);
}

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssMiB: number; peakRssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

/**
 * Many orders in transit, each waiting on its 48-hour timer: what holding them costs one worker.
 * The worker is `src/worker.ts` as its own process (as deployed), so its figures are its own.
 */
async function benchOpenOrders(
  env: TestWorkflowEnvironment,
  count: number,
  concurrency: number,
  cache: string | undefined,
) {
  const stack = await startStack({
    worker: false,
    temporal: { client: env.client, nativeConnection: env.nativeConnection },
  });
  const worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...stack.workerEnv, ...(cache ? { WORKER_MAX_CACHED_WORKFLOWS: cache } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const pid = worker.pid!;
  let stderr = '';
  worker.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  worker.once('exit', (code) => {
    if (code !== null && code !== 0) say(`worker process exited with ${code}:\n${stderr}`);
  });
  try {
    const place = async (i: number) => {
      const id = `open-${i}`;
      const customer = { email: `open${i}@example.test`, phone: `+3362${String(2000000 + i).padStart(7, '0')}` };
      const res = await stack.request('POST', '/v1/orders', newOrder(id, customer));
      if (res.status !== 202) throw new Error(`order ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      const handle = env.client.workflow.getHandle(orderWorkflowId(stack.tenantId, id));
      for (;;) {
        if ((await handle.query(orderStateQuery)).risk) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const event of LIFECYCLE) await handle.executeUpdate(orderEventUpdate, { args: [event as never] });
    };
    await place(0); // the worker has bundled its workflows and polls
    const started = Date.now();
    // The worker's memory as the orders accumulate: flat once its workflow cache is full, if nothing else grows.
    let placed = 1;
    const sampler = setInterval(() => {
      const u = processUsage(pid);
      say(`  worker RSS ${u.rssMiB.toFixed(0)} MiB (peak ${u.peakRssMiB.toFixed(0)}) with ${placed} orders placed`);
    }, 60_000);
    try {
      await pool(
        Array.from({ length: count - 1 }, (_, i) => i + 1),
        concurrency,
        async (i) => {
          await place(i);
          placed += 1;
        },
        'orders to in transit',
      );
    } finally {
      clearInterval(sampler);
    }
    const placingSeconds = (Date.now() - started) / 1000;
    const placedLoad = load();
    const inTransit = await env.client.workflow.count(
      `TaskQueue = "${stack.taskQueue}" AND ExecutionStatus = "Running"`,
    );
    // Quiet window: the orders only wait on timers now; what does holding them cost?
    const quietSeconds = 60;
    const before = processUsage(pid);
    await new Promise((r) => setTimeout(r, quietSeconds * 1000));
    const after = processUsage(pid);
    return {
      running: inTransit.count,
      rssMiB: after.rssMiB,
      peakRssMiB: after.peakRssMiB,
      placingPerSecond: (count - 1) / placingSeconds,
      quietCpuPercent: ((after.cpuSeconds - before.cpuSeconds) / quietSeconds) * 100,
      quietSeconds,
      placedLoad,
      load: load(),
    };
  } finally {
    await stopProcess(worker);
    await stack.close();
  }
}

/** Worker identities polling the stack's task queue for workflow tasks. */
async function pollerCount(stack: Stack): Promise<number> {
  const res = await stack.client.workflowService.describeTaskQueue({
    namespace: stack.client.options.namespace,
    taskQueue: { name: stack.taskQueue },
    taskQueueType: 1,
  });
  return new Set((res.pollers ?? []).map((p) => p.identity)).size;
}

/** Runs `body` while `n` worker processes (src/worker.ts, as deployed) poll the stack's task queue. */
async function withWorkerProcesses<T>(stack: Stack, n: number, body: () => Promise<T>): Promise<T> {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...stack.workerEnv },
      stdio: 'ignore',
    }),
  );
  try {
    await stack.waitFor(`${n} worker processes polling`, async () => (await pollerCount(stack)) >= n, 300_000);
    return await body();
  } finally {
    await Promise.all(children.map((c) => stopProcess(c, 30_000)));
  }
}

/** `--target cluster`: the same two benchmarks, 1..3 worker processes, dev server next to the cluster. */
async function benchTargets(
  env: TestWorkflowEnvironment,
  dir: string,
  machine: string,
  store: string,
): Promise<string> {
  say('starting a Temporal cluster: server 1.29.1 on PostgreSQL (scripts/lib/cluster.ts)');
  const cluster = await startCluster({ dir: join(dir, 'cluster'), temporalCli: toolPaths().temporal });
  const workerCounts = args.workers.split(',').map(Number);
  const count = Number(args.dispatches);
  const orders = Number(args.orders);
  const concurrency = Number(args.concurrency);
  const rows: string[] = [];
  try {
    for (const target of ['dev server', 'cluster'] as const) {
      for (const n of workerCounts) {
        const stack = await startStack({
          worker: false,
          eventDelayMs: 20,
          ...(target === 'cluster'
            ? { cluster: { address: cluster.address, namespace: cluster.namespace } }
            : { temporal: { client: env.client, nativeConnection: env.nativeConnection } }),
        });
        try {
          say(`${target}, ${n} worker process(es): ${count} dispatches, then ${orders} orders`);
          const [d, o] = await withWorkerProcesses(
            stack,
            n,
            async () =>
              [
                await benchDispatches(stack, count, concurrency),
                await benchOrders(stack, orders, concurrency),
              ] as const,
          );
          rows.push(
            `| ${target} | ${n} | ${d.perSecond.toFixed(2)} /s (p50 ${(d.p50 / 1000).toFixed(1)} s, p99 ${(d.p99 / 1000).toFixed(1)} s) | ${o.toFixed(2)} /s | ${load()} |`,
          );
          say(`  ${rows.at(-1)}`);
        } finally {
          await stack.close();
        }
      }
    }
  } finally {
    await cluster.stop();
  }
  return [
    `Targets — machine: ${machine}; MongoDB-wire: ${store}; ${count} dispatches and ${orders} orders per row, ${concurrency} at a time`,
    '',
    '| Temporal | worker processes | dispatches to delivered | orders placed → delivered | load (1, 5, 15 min) |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const only = new Set(args.only!.split(','));
  const started = new Date();
  say(`machine: ${machine}; load ${load()}`);
  const dir = mkdtempSync(join(tmpdir(), 'relais-bench-'));
  const tables: string[] = [];
  try {
    if (only.has('store')) {
      const sizes = args['store-sizes']!.split(',').map(Number);
      say(
        `store: reads by key, projection writes and the log's first page at ${sizes.join(', ')} stored documents (${args.stores})`,
      );
      const rows = await benchStore({ kinds: args.stores!.split(',') as StoreKind[], sizes, dir, say, load });
      tables.push(
        `### The embedded store (median of up to 15 runs; load average at the row's last size in the log)\n\n${storeTable(rows, sizes)}`,
      );
    }
    if (only.has('order-list')) {
      const sizes = args['order-list-sizes']!.split(',').map(Number);
      say(
        `order list: the workspace's pages and counts at ${sizes.join(', ')} orders with an open exception (${args.stores})`,
      );
      const rows = await benchOrderList({ kinds: args.stores!.split(',') as StoreKind[], sizes, dir, say, load });
      tables.push(
        `### The orders workspace's list (median of up to 15 runs; columns: orders with an open exception, each beside 3 ended ones)\n\n${storeTable(rows, sizes)}`,
      );
    }
    const rest = [...only].filter((o) => o !== 'store' && o !== 'order-list');
    if (rest.length) tables.push(await benchWorkflows(new Set(rest), machine, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nRelais benchmark — ${started.toISOString()} to ${new Date().toISOString()}\nmachine: ${machine}\n`);
  for (const table of tables) console.log(`${table}\n`);
}

/** Every section that runs workflows, on a Temporal dev server and the chosen store. */
async function benchWorkflows(only: Set<string>, machine: string, dir: string): Promise<string> {
  if (args.store !== 'postgresql' && args.store !== 'sqlite')
    throw new Error(`--store must be postgresql or sqlite, not ${args.store}`);
  const servers = await startLocalServers({ store: args.store, say });
  const { env } = servers;
  if (args.target === 'cluster') {
    try {
      return await benchTargets(env, dir, machine, servers.store);
    } finally {
      await servers.stop();
    }
  }
  if (args.target !== 'dev') throw new Error(`--target is dev or cluster, not ${args.target}`);
  const times = new ActivityTimes();
  const stack = await startStack({
    eventDelayMs: 20,
    temporal: { client: env.client, nativeConnection: env.nativeConnection },
    activityInterceptors: [times.interceptor],
  });
  const rows: string[] = [];
  const extra: string[] = [];
  try {
    const count = Number(args.dispatches);
    const concurrency = Number(args.concurrency);
    const noopBundle = await buildWorkflowBundle(require.resolve('./noop-workflows'));
    let noopRate = 0;
    let noopLoad = '';
    if (only.has('dispatches') || only.has('orders')) {
      say(`baseline: ${args['baseline-workflows']} no-op workflows with one no-op activity`);
      noopRate = await baselineWorkflows(env, noopBundle, Number(args['baseline-workflows']), concurrency);
      noopLoad = load();
      say(`  ${noopRate.toFixed(1)} /s (load ${noopLoad})`);
    }
    if (only.has('dispatches')) {
      say(
        `dispatches: ${count} through API → workflow → SendGrid SDK → sandbox → signed webhooks → delivered (${concurrency} at a time)`,
      );
      const d = await benchDispatches(stack, count, concurrency);
      rows.push(
        `| dispatches to delivered | ${d.perSecond.toFixed(1)} /s (p50 ${d.p50} ms, p99 ${d.p99} ms) | no-op workflow + activity: ${noopRate.toFixed(1)} /s | ${(d.perSecond / noopRate).toFixed(2)} | ${load()} |`,
      );
      say(`  ${rows.at(-1)}`);
    }
    if (only.has('webhooks')) {
      say(
        `webhooks: signed SendGrid batches of 50 for ${args['webhook-seconds']} s, then raw client signals for as long`,
      );
      const w = await benchWebhooks(stack, env, noopBundle, Number(args['webhook-seconds']));
      rows.push(
        `| webhook events accepted (verified, stored in the inbox; applied: ${w.appliedRate.toFixed(0)} /s) | ${w.webhookRate.toFixed(0)} /s | client.workflow.signal: ${w.signalRate.toFixed(0)} /s | ${(w.webhookRate / w.signalRate).toFixed(2)} | ${load()} |`,
      );
      say(`  ${rows.at(-1)}`);
    }
    if (only.has('ingest')) {
      const sizes = args['ingest-sizes']!.split(',').map(Number);
      const batchSizes = args['ingest-batch']!.split(',').map(Number);
      say(
        `ingest: one dispatch each of ${sizes.join(', ')} recipients, ${args['ingest-events']} new events per recipient in signed batches of ${batchSizes.join(' and of ')}`,
      );
      const ingest: IngestRow[] = [];
      const run = (apiUrl: string | undefined) => async (connections: number) =>
        ingest.push(
          ...(await benchIngest(
            stack,
            times,
            sizes,
            Number(args['ingest-events']),
            batchSizes,
            load,
            say,
            apiUrl,
            connections,
          )),
        );
      const connections = args['ingest-connections']!.split(',').map(Number);
      for (const where of args['ingest-api']!.split(',')) {
        if (where === 'process') {
          say('  the API in a process of its own (src/api/main.ts, as npm start runs it)');
          const api = await startApiProcess(stack);
          try {
            for (const c of connections) await run(api.url)(c);
          } finally {
            await api.stop();
          }
        } else {
          say("  the API in the benchmark's process (beside the signing client, the sandbox and the worker)");
          await run(undefined)(connections[0]);
        }
      }
      const lines = [
        '| API | requests at once | recipients | events | events per request | accepted /s (answered 2xx) | applied /s (stored and signalled) | activity: calls, mean, p99 (the projection writes among them) | load |',
        '|---|---|---|---|---|---|---|---|---|',
      ];
      for (const r of ingest) {
        lines.push(
          `| ${r.api} | ${r.connections} | ${r.recipients} | ${r.events} | ${r.batch} | ${r.perSecond.toFixed(0)} | ${r.appliedPerSecond.toFixed(0)} | ${r.activities.map((a) => `${a.type} ×${a.calls}, ${a.meanMs.toFixed(1)} ms, p99 ${a.p99Ms.toFixed(0)} ms`).join('; ')} | ${r.load} |`,
        );
      }
      extra.push(`### A dispatch as it grows: events ingested\n\n${lines.join('\n')}`);
    }
    if (only.has('bounce')) {
      say(`bounce → escalation: ${args.bounces} dispatches to a bouncing address, one at a time`);
      const b = await benchBounceToEscalation(stack, Number(args.bounces), say);
      rows.push(
        `| bounce webhook accepted → escalation at the provider (${b.samples.length}) | p50 ${b.p50} ms, p99 ${b.p99} ms | — | — | ${load()} |`,
      );
      say(`  ${rows.at(-1)}`);
    }
    if (only.has('orders')) {
      say(`orders: ${args.orders} placed → delivered with 6 events each over HTTP`);
      const ordersPerSecond = await benchOrders(stack, Number(args.orders), concurrency);
      rows.push(
        `| orders placed → delivered (6 HTTP events each) | ${ordersPerSecond.toFixed(2)} /s | no-op workflow + activity: ${noopRate.toFixed(1)} /s (load ${noopLoad}) | ${(ordersPerSecond / noopRate).toFixed(2)} | ${load()} |`,
      );
      say(`  ${rows.at(-1)}`);
    }
    if (only.has('dashboard')) {
      const sizes = args['dashboard-sizes']!.split(',').map(Number);
      say(`dashboard: the page, a fold and the CSV export at ${sizes.join(' and ')} stored dispatches`);
      const d = await benchDashboard(stack, { sizes, say, load });
      extra.push(
        `### The dashboard and the export as dispatches accumulate (median of up to 15 page loads, 3 folds, one export)\n\n${dashboardTable(d, sizes)}`,
      );
    }
    if (only.has('open-orders')) {
      say(
        `open orders: ${args['open-orders']} moved to in transit by a worker process of their own (cache ${args.cache ?? 'WORKER_MAX_CACHED_WORKFLOWS default'}), then a quiet minute on their 48-hour timers`,
      );
      const open = await benchOpenOrders(env, Number(args['open-orders']), concurrency, args.cache);
      rows.push(
        `| ${args['open-orders']} open orders waiting on 48-hour timers (${open.running} running; cache ${args.cache ?? 'default'}) | worker process RSS ${open.rssMiB.toFixed(0)} MiB (peak ${open.peakRssMiB.toFixed(0)} MiB, bundling included), CPU ${open.quietCpuPercent.toFixed(1)} % of a core over ${open.quietSeconds} s of waiting; placed at ${open.placingPerSecond.toFixed(1)} /s (load ${open.placedLoad} when placed) | — | — | ${open.load} |`,
      );
      say(`  ${rows.at(-1)}`);
    }
  } finally {
    await stack.close();
    await servers.stop();
  }
  const head = `Temporal: dev server (CLI v1.5.1, SQLite file); MongoDB-wire: ${servers.store}\n\n| measure | Relais | baseline (same server, same run) | ratio | load (1, 5, 15 min) |\n|---|---|---|---|---|`;
  return [rows.length ? `${head}\n${rows.join('\n')}` : '', ...extra].filter(Boolean).join('\n\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
