// `npm run bench`: Relais's throughput on this machine, each figure next to a baseline measured
// on the same server in the same run. Prints the machine, progress, and a table at the end.
//   npm run bench -- --dispatches 100 --webhook-seconds 10 --orders 30 --open-orders 150 (the defaults)
//   npm run bench -- --only open-orders --open-orders 10000 --store postgresql   (FerretDB on PostgreSQL)
//   npm run bench -- --target cluster   dispatches and orders with 1, 2 and 3 worker processes,
//                                       on the dev server and on a real cluster (PostgreSQL), same run
import { cpus, totalmem } from 'node:os';
import { randomBytes, createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { clusterToolPaths, startCluster } from '../scripts/lib/cluster';
import { ROOT, freePort, startFerretDb, startPostgres, stopProcess, toolPaths } from '../scripts/lib/processes';
import { buildWorkflowBundle } from '../src/worker';
import { newOrder, purchaseOrder, startStack, type Stack } from '../test/support/stack';
import { orderEventUpdate, orderStateQuery } from '../src/workflows/order';
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });

const { values: args } = parseArgs({
  options: {
    dispatches: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '20' },
    'webhook-seconds': { type: 'string', default: '10' },
    'baseline-workflows': { type: 'string', default: '200' },
    orders: { type: 'string', default: '30' },
    'open-orders': { type: 'string', default: '150' },
    store: { type: 'string', default: 'sqlite' },
    only: { type: 'string', default: 'dispatches,webhooks,orders,open-orders' },
    target: { type: 'string', default: 'dev' },
    workers: { type: 'string', default: '1,2,3' },
  },
});

const say = (msg: string) => console.log(`[bench] ${msg}`);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>, label: string) {
  let next = 0;
  let done = 0;
  const started = Date.now();
  const ticker = setInterval(() => say(`  ${label}: ${done}/${items.length} (${((Date.now() - started) / 1000).toFixed(0)} s)`), 5000);
  await Promise.all(Array.from({ length: concurrency }, async () => {
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
  }));
  clearInterval(ticker);
}

async function baselineWorkflows(env: TestWorkflowEnvironment, bundle: WorkflowBundle, count: number, concurrency: number): Promise<number> {
  const taskQueue = `bench-noop-${randomBytes(3).toString('hex')}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: { noop: async () => undefined } });
  return worker.runUntil(async () => {
    const started = Date.now();
    await pool(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
      await env.client.workflow.execute('noopWorkflow', { taskQueue, workflowId: `noop-${taskQueue}-${i}` });
    }, 'no-op workflows');
    return count / ((Date.now() - started) / 1000);
  });
}

async function benchDispatches(stack: Stack, count: number, concurrency: number) {
  const latencies: number[] = [];
  const started = Date.now();
  await pool(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
    const id = `bench-${i}`;
    const t0 = Date.now();
    const res = await stack.request('POST', '/v1/dispatches', purchaseOrder(id, [`supplier${i}@acme.test`]));
    if (res.status !== 202) throw new Error(`dispatch ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    for (;;) {
      const doc = await stack.db.Dispatch.findOne({ tenantId: stack.tenantId, dispatchId: id }, { result: 1 }).lean();
      if (doc?.result === 'delivered') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    latencies.push(Date.now() - t0);
  }, 'dispatches');
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
  await stack.waitFor('targets recorded', async () => (await stack.db.Dispatch.countDocuments({ tenantId: stack.tenantId, dispatchId: /^wh-/ })) === targets, 60_000);
  const key = createPrivateKey(stack.sendgridSigningKeyPem);
  let accepted = 0;
  let n = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (Date.now() < deadline) {
      const events = Array.from({ length: 50 }, () => {
        n += 1;
        return {
          email: 'x@acme.test', timestamp: Math.floor(Date.now() / 1000), event: n % 2 ? 'open' : 'processed',
          sg_event_id: `bench-${n}`, sg_message_id: 'bench.1',
          relais_tenant: stack.tenantId, relais_dispatch: `wh-${n % targets}`, relais_recipient: 'r1.1',
        };
      });
      const body = JSON.stringify(events) + '\r\n';
      const ts = String(Math.floor(Date.now() / 1000));
      const res = await fetch(`${stack.apiUrl}/webhooks/sendgrid`, {
        method: 'POST', body,
        headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(ts + body), key).toString('base64'), 'x-twilio-email-event-webhook-timestamp': ts },
      });
      await res.arrayBuffer();
      if (res.status === 200) accepted += events.length;
    }
  }));
  const webhookRate = accepted / ((Date.now() - started) / 1000);

  // Baseline: raw signals from a client to waiting workflows on the same server.
  const taskQueue = `bench-sig-${randomBytes(3).toString('hex')}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: { noop: async () => undefined } });
  const signalRate = await worker.runUntil(async () => {
    const handles = await Promise.all(Array.from({ length: targets }, (_, i) => env.client.workflow.start('waitForSignals', { taskQueue, workflowId: `${taskQueue}-${i}` })));
    let sent = 0;
    const end = Date.now() + seconds * 1000;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      let i = w;
      while (Date.now() < end) {
        await handles[i % targets].signal('providerEvents', { n: i });
        sent += 1;
        i += 8;
      }
    }));
    const rate = sent / ((Date.now() - t0) / 1000);
    await Promise.all(handles.map((h) => h.terminate('benchmark done')));
    return rate;
  });
  return { webhookRate, signalRate };
}

const LIFECYCLE = [
  { type: 'allocated' }, { type: 'packed' }, { type: 'handed_over' },
  { type: 'tracking_update', status: 'in transit', location: 'hub', at: new Date().toISOString() },
] as const;

/** Orders placed → delivered, every event posted over HTTP like a platform would. */
async function benchOrders(stack: Stack, count: number, concurrency: number) {
  const started = Date.now();
  await pool(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
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
  }, 'orders');
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
async function benchOpenOrders(env: TestWorkflowEnvironment, count: number, concurrency: number) {
  const stack = await startStack({ worker: false, temporal: { client: env.client, nativeConnection: env.nativeConnection } });
  const worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], { cwd: ROOT, env: { ...process.env, ...stack.workerEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
  const pid = worker.pid!;
  let stderr = '';
  worker.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  worker.once('exit', (code) => { if (code !== null && code !== 0) say(`worker process exited with ${code}:\n${stderr}`); });
  try {
    const place = async (i: number) => {
      const id = `open-${i}`;
      const customer = { email: `open${i}@example.test`, phone: `+3362${String(2000000 + i).padStart(7, '0')}` };
      const res = await stack.request('POST', '/v1/orders', newOrder(id, customer));
      if (res.status !== 202) throw new Error(`order ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      const handle = env.client.workflow.getHandle(`order/${stack.tenantId}/${id}`);
      for (;;) {
        if ((await handle.query(orderStateQuery)).risk) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const event of LIFECYCLE) await handle.executeUpdate(orderEventUpdate, { args: [event as never] });
    };
    await place(0); // the worker has bundled its workflows and polls
    const started = Date.now();
    await pool(Array.from({ length: count - 1 }, (_, i) => i + 1), concurrency, place, 'orders to in transit');
    const placingSeconds = (Date.now() - started) / 1000;
    const inTransit = await env.client.workflow.count(`TaskQueue = "${stack.taskQueue}" AND ExecutionStatus = "Running"`);
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
    };
  } finally {
    await stopProcess(worker);
    await stack.close();
  }
}

/** Worker identities polling the stack's task queue for workflow tasks. */
async function pollerCount(stack: Stack): Promise<number> {
  const res = await stack.client.workflowService.describeTaskQueue({ namespace: stack.client.options.namespace, taskQueue: { name: stack.taskQueue }, taskQueueType: 1 });
  return new Set((res.pollers ?? []).map((p) => p.identity)).size;
}

/** Runs `body` while `n` worker processes (src/worker.ts, as deployed) poll the stack's task queue. */
async function withWorkerProcesses<T>(stack: Stack, n: number, body: () => Promise<T>): Promise<T> {
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT, env: { ...process.env, ...stack.workerEnv }, stdio: 'ignore',
  }));
  try {
    await stack.waitFor(`${n} worker processes polling`, async () => (await pollerCount(stack)) >= n, 300_000);
    return await body();
  } finally {
    await Promise.all(children.map((c) => stopProcess(c, 30_000)));
  }
}

/** `--target cluster`: the same two benchmarks, 1..3 worker processes, dev server next to the cluster. */
async function benchTargets(env: TestWorkflowEnvironment, dir: string, machine: string, store: string) {
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
          worker: false, eventDelayMs: 20,
          ...(target === 'cluster' ? { cluster: { address: cluster.address, namespace: cluster.namespace } } : { temporal: { client: env.client, nativeConnection: env.nativeConnection } }),
        });
        try {
          say(`${target}, ${n} worker process(es): ${count} dispatches, then ${orders} orders`);
          const [d, o] = await withWorkerProcesses(stack, n, async () => [await benchDispatches(stack, count, concurrency), await benchOrders(stack, orders, concurrency)] as const);
          rows.push(`| ${target} | ${n} | ${d.perSecond.toFixed(2)} /s (p50 ${(d.p50 / 1000).toFixed(1)} s, p99 ${(d.p99 / 1000).toFixed(1)} s) | ${o.toFixed(2)} /s |`);
          say(`  ${rows.at(-1)}`);
        } finally {
          await stack.close();
        }
      }
    }
  } finally {
    await cluster.stop();
  }
  console.log(`\nRelais benchmark, targets — ${new Date().toISOString()}\nmachine: ${machine}\nMongoDB-wire: ${store}; ${count} dispatches and ${orders} orders per row, ${concurrency} at a time\n`);
  console.log('| Temporal | worker processes | dispatches to delivered | orders placed → delivered |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
}

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const only = new Set(args.only!.split(','));
  say(`machine: ${machine}`);
  const tools = toolPaths();
  const dir = mkdtempSync(join(tmpdir(), 'relais-bench-'));
  say('starting a Temporal dev server (file-backed SQLite)');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: tools.temporal }, ip: '127.0.0.1', port: await freePort(), ui: false, dbFilename: join(dir, 'temporal.sqlite') },
  });
  const mongoPort = await freePort();
  let store = 'MONGODB_URI';
  let postgres: Awaited<ReturnType<typeof startPostgres>> | undefined;
  let ferret: Awaited<ReturnType<typeof startFerretDb>> | undefined;
  if (!process.env.MONGODB_URI) {
    if (args.store === 'postgresql') {
      say('starting PostgreSQL and FerretDB on it');
      postgres = await startPostgres(clusterToolPaths().postgresBin);
      store = 'FerretDB 1.24 on PostgreSQL';
    } else if (args.store === 'sqlite') {
      say('starting FerretDB on SQLite');
      store = 'FerretDB 1.24 on SQLite';
    } else {
      throw new Error(`--store must be sqlite or postgresql, not ${args.store}`);
    }
    ferret = await startFerretDb({ bin: tools.ferretdb!, port: mongoPort, dir: join(dir, 'ferretdb'), postgresql: postgres });
  }
  process.env.RELAIS_TEST_MONGODB_URI = process.env.MONGODB_URI ?? `mongodb://127.0.0.1:${mongoPort}/`;
  process.env.RELAIS_TEST_TEMPORAL_ADDRESS = env.connection.options.address;
  say('bundling the workflow code');
  const bundlePath = join(dir, 'bundle.js');
  writeFileSync(bundlePath, (await buildWorkflowBundle()).code);
  process.env.RELAIS_TEST_WORKFLOW_BUNDLE = bundlePath;
  if (args.target === 'cluster') {
    try {
      await benchTargets(env, dir, machine, store);
    } finally {
      await env.teardown();
      await stopProcess(ferret);
      await stopProcess(postgres?.child);
      if (postgres) rmSync(postgres.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  if (args.target !== 'dev') throw new Error(`--target is dev or cluster, not ${args.target}`);
  const stack = await startStack({ eventDelayMs: 20, temporal: { client: env.client, nativeConnection: env.nativeConnection } });
  const rows: string[] = [];
  try {
    const count = Number(args.dispatches);
    const concurrency = Number(args.concurrency);
    const noopBundle = await buildWorkflowBundle(require.resolve('./noop-workflows'));
    let noopRate = 0;
    if (only.has('dispatches') || only.has('orders')) {
      say(`baseline: ${args['baseline-workflows']} no-op workflows with one no-op activity`);
      noopRate = await baselineWorkflows(env, noopBundle, Number(args['baseline-workflows']), concurrency);
    }
    if (only.has('dispatches')) {
      say(`dispatches: ${count} through API → workflow → SendGrid SDK → sandbox → signed webhooks → delivered (${concurrency} at a time)`);
      const d = await benchDispatches(stack, count, concurrency);
      rows.push(`| dispatches to delivered | ${d.perSecond.toFixed(1)} /s (p50 ${d.p50} ms, p99 ${d.p99} ms) | no-op workflow + activity: ${noopRate.toFixed(1)} /s | ${(d.perSecond / noopRate).toFixed(2)} |`);
    }
    if (only.has('webhooks')) {
      say(`webhooks: signed SendGrid batches of 50 for ${args['webhook-seconds']} s, then raw client signals for as long`);
      const w = await benchWebhooks(stack, env, noopBundle, Number(args['webhook-seconds']));
      rows.push(`| webhook events accepted (verified, signalled) | ${w.webhookRate.toFixed(0)} /s | client.workflow.signal: ${w.signalRate.toFixed(0)} /s | ${(w.webhookRate / w.signalRate).toFixed(2)} |`);
    }
    if (only.has('orders')) {
      say(`orders: ${args.orders} placed → delivered with 6 events each over HTTP`);
      const ordersPerSecond = await benchOrders(stack, Number(args.orders), concurrency);
      rows.push(`| orders placed → delivered (6 HTTP events each) | ${ordersPerSecond.toFixed(2)} /s | no-op workflow + activity: ${noopRate.toFixed(1)} /s | ${(ordersPerSecond / noopRate).toFixed(2)} |`);
    }
    if (only.has('open-orders')) {
      say(`open orders: ${args['open-orders']} moved to in transit by a worker process of their own, then a quiet minute on their 48-hour timers`);
      const open = await benchOpenOrders(env, Number(args['open-orders']), concurrency);
      rows.push(`| ${args['open-orders']} open orders waiting on 48-hour timers (${open.running} running) | worker process RSS ${open.rssMiB.toFixed(0)} MiB (peak ${open.peakRssMiB.toFixed(0)} MiB, bundling included), CPU ${open.quietCpuPercent.toFixed(1)} % of a core over ${open.quietSeconds} s of waiting; placed at ${open.placingPerSecond.toFixed(1)} /s | — | — |`);
    }

    console.log(`\nRelais benchmark — ${new Date().toISOString()}\nmachine: ${machine}\nTemporal: dev server (CLI v1.5.1, SQLite file); MongoDB-wire: ${store}\n`);
    console.log('| measure | Relais | baseline (same server, same run) | ratio |');
    console.log('|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    await stack.close();
    await env.teardown();
    await stopProcess(ferret);
    await stopProcess(postgres?.child);
    if (postgres) rmSync(postgres.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
