// The MongoDB driver's server monitor can wait for ever on a heartbeat (src/db/heartbeat-watchdog.ts
// says how): the server then stays "Unknown" and every operation fails, though the server is up.
// Here a TCP proxy in front of the test FerretDB puts the driver in that state on purpose: the
// monitor's connection stops carrying bytes (with no connect timeout, its heartbeat never ends)
// and the pooled connections are cut (the server is marked Unknown). Without the watchdog,
// nothing brings the client back; with it, operations succeed again.
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { heartbeatBoundMs } from '../../src/db/heartbeat-watchdog';
import { connectDb, type Db } from '../../src/db/models';
import { metrics } from '../../src/metrics';

/** Forwards TCP to the test FerretDB; any connection can be frozen (kept open, nothing forwarded) or cut. */
class Proxy {
  readonly connections: { client: Socket; upstream: Socket }[] = [];
  private server?: Server;
  constructor(private readonly target: { host: string; port: number }) {}

  async listen(): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect(this.target);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      client.pipe(upstream).pipe(client);
      this.connections.push({ client, upstream });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return (this.server.address() as { port: number }).port;
  }

  freeze(c: { client: Socket; upstream: Socket }) {
    c.client.unpipe(c.upstream);
    c.upstream.unpipe(c.client);
    c.client.pause();
    c.upstream.pause();
  }

  cut(c: { client: Socket; upstream: Socket }) {
    c.client.destroy();
    c.upstream.destroy();
  }

  async close() {
    for (const c of this.connections) this.cut(c);
    await new Promise((r) => this.server?.close(r));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let proxy: Proxy | undefined;
let db: Db | undefined;
afterEach(async () => {
  // Dropped over a direct connection: the proxied one may still be stuck.
  if (db) {
    const direct = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, { dbName: db.connection.name });
    await direct.connection.dropDatabase();
    await direct.close();
    await db.close();
  }
  await proxy?.close();
  db = undefined;
  proxy = undefined;
});

async function stuckMonitor(stuckAfterMs: number) {
  const target = new URL(process.env.RELAIS_TEST_MONGODB_URI!);
  const p = new Proxy({ host: target.hostname, port: Number(target.port) });
  proxy = p;
  const port = await p.listen();
  const logged: string[] = [];
  const log = {
    error: (_: object, msg: string) => {
      logged.push(msg);
    },
    warn: (_: object, msg: string) => {
      logged.push(msg);
    },
  };
  const proxied = await connectDb(`mongodb://127.0.0.1:${port}/`, {
    dbName: `relais_test_${randomBytes(4).toString('hex')}`,
    serverSelectionTimeoutMS: 1000,
    log,
    // No connect timeout: a heartbeat on a frozen connection then never ends, as in the driver's fault.
    watchdog: { stuckAfterMs, connectTimeoutMS: 0, heartbeatFrequencyMS: 500 },
  });
  db = proxied;
  await proxied.Tenant.countDocuments();
  // The monitor opens the first connection (the pool waits for its first heartbeat); let it beat once more.
  await sleep(1000);
  const [monitor, ...pooled] = p.connections;
  p.freeze(monitor);
  for (const c of pooled) p.cut(c);
  return { db: proxied, logged };
}

const reconnects = async () => (await metrics.mongodbReconnects.get()).values[0]?.value ?? 0;

/** The first success of `op` within `ms`, or the last error. */
async function eventually<T>(
  op: () => Promise<T>,
  ms: number,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  const deadline = Date.now() + ms;
  let error = '';
  while (Date.now() < deadline) {
    try {
      return { ok: true, value: await op() };
    } catch (err) {
      error = (err as Error).message;
    }
    await sleep(200);
  }
  return { ok: false, error };
}

test('a server monitor stuck on a heartbeat: the watchdog reconnects the client and operations succeed again', async () => {
  const reconnectsBefore = await reconnects();
  const { db, logged } = await stuckMonitor(2000);
  expect(await eventually(() => db.Tenant.countDocuments(), 20_000)).toEqual({ ok: true, value: 0 });
  expect(logged).toContain('MongoDB server monitor stuck: reconnecting the client');
  expect(await reconnects()).toBe(reconnectsBefore + 1);
  // A new monitor, through a new connection, and it keeps the server known.
  await sleep(1500);
  expect(await db.Tenant.countDocuments()).toBe(0);
}, 40_000);

test('the same state without the watchdog (bound out of reach): operations go on failing', async () => {
  // What the watchdog is for: the driver alone does not come back.
  const { db, logged } = await stuckMonitor(10 * 60_000);
  const result = await eventually(() => db.Tenant.countDocuments(), 8_000);
  expect(result.ok).toBe(false);
  expect(logged).toEqual([]);
}, 40_000);

test.each([
  [{ heartbeatFrequencyMS: 10_000, connectTimeoutMS: 10_000 }, 35_000],
  [{ heartbeatFrequencyMS: 10_000, connectTimeoutMS: 30_000 }, 75_000],
  [{ heartbeatFrequencyMS: 500, connectTimeoutMS: 1_000 }, 7_500],
])('the longest a live heartbeat can take, %j: %i ms', (driver, bound) => {
  expect(heartbeatBoundMs(driver)).toBe(bound);
});
