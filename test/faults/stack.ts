// The fault suite's own stack, every part a real process it may kill, stop or restart without
// touching the servers other test files share: a Temporal dev server on a SQLite file, FerretDB
// on a private PostgreSQL (its production-like backend: on SQLite, FerretDB v1 scans whole
// collections and the 10,000-event burst saturates it for many minutes), the API process and
// worker process(es) as deployed. The provider sandbox runs
// in this process (it is the outside world: what it received is the evidence, and its faults
// are armed directly).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { connectDb, type Db } from '../../src/db/models';
import { createApiKey } from '../../src/db/api-keys';
import { generateSendGridKeyPair, startSandbox, type Sandbox } from '../../src/sandbox';
import {
  freePort,
  ROOT,
  startFerretDb,
  startPostgres,
  startTemporalDevServer,
  stopProcess,
  toolPaths,
} from '../../scripts/lib/processes';
import { clusterToolPaths } from '../../scripts/lib/cluster';
import { SANDBOX_SECRETS } from '../support/stack';

/** A Relais process (API or worker) with the tail of its output, for diagnostics. */
export interface RelaisProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

export interface FaultStack {
  apiUrl: string;
  /** The Temporal frontend, for the diagnostics of a phase that lost work. */
  temporalAddress: string;
  /** What the Temporal server logged at warn level and above, across its restarts. */
  temporalLog(): string;
  sandbox: Sandbox;
  /** This process's own connection, for the checks (not used while FerretDB is down). */
  db: Db;
  tenantId: string;
  key: string;
  sendgridSigningKeyPem: string;
  /** Starts a worker process and resolves once it polls (it bundles the workflows first). */
  startWorker(): Promise<RelaisProcess>;
  workers(): RelaisProcess[];
  startApi(): Promise<RelaisProcess>;
  api(): RelaisProcess | undefined;
  /** Sends `signal` to the process and waits for it to exit. */
  stop(p: RelaisProcess, signal: NodeJS.Signals): Promise<void>;
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  stopFerret(): Promise<void>;
  startFerret(): Promise<void>;
  close(): Promise<void>;
}

// Enough of each process's output (about 4,000 request log lines) to find what it logged about a failed phase.
const TAIL = 2_000_000;

export async function startFaultStack(): Promise<FaultStack> {
  const tools = toolPaths();
  if (!tools.ferretdb) throw new Error('FerretDB is not built: run `node scripts/tools.mjs`.');
  const dir = mkdtempSync(join(tmpdir(), 'relais-faults-'));
  const [temporalPort, ferretPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  const mongoUri = `mongodb://127.0.0.1:${ferretPort}/relais_faults`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const temporalLogPath = join(dir, 'temporal.log');
  let temporal: ChildProcess | undefined;
  let ferret: ChildProcess | undefined;
  const startTemporal = async () => {
    const log = openSync(temporalLogPath, 'a');
    try {
      temporal = await startTemporalDevServer({
        bin: tools.temporal,
        port: temporalPort,
        dbFilename: join(dir, 'temporal.sqlite'),
        log,
        logLevel: 'warn',
      });
    } finally {
      closeSync(log);
    } // the child holds its own copy
    // The port opens before the frontend serves: ready when the namespace answers.
    const connection = await Connection.connect({ address: temporalAddress });
    try {
      for (let i = 0; ; i += 1) {
        try {
          await connection.workflowService.describeNamespace({ namespace: 'default' });
          return;
        } catch (err) {
          if (i > 300) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      await connection.close();
    }
  };
  // Fault 3 stops FerretDB (the MongoDB-wire server); PostgreSQL behind it stays up, as a managed database would.
  const postgres = await startPostgres(clusterToolPaths().postgresBin);
  const startFerret = async () => {
    ferret = await startFerretDb({
      bin: tools.ferretdb!,
      port: ferretPort,
      dir: join(dir, 'ferretdb'),
      postgresql: postgres,
    });
  };
  await Promise.all([startTemporal(), startFerret()]);

  const db = await connectDb(mongoUri);
  const tenantId = 'faults';
  await db.Tenant.create({
    _id: tenantId,
    name: 'Bistro Faults',
    locale: 'en',
    timeZone: 'Europe/Paris',
    emailFrom: { email: 'orders@bistro.test', name: 'Bistro Faults' },
    seller: {
      name: 'Sam Seller',
      email: 'sam.seller@bistro.test',
      phone: '+33611111111',
      smsOptIn: true,
      whatsappOptIn: false,
    },
    outlets: [
      {
        id: 'paris-1',
        name: 'Paris 11e',
        purchasingManager: {
          name: 'Paula Manager',
          email: 'paula.pm@bistro.test',
          phone: '+33612345678',
          smsOptIn: true,
          whatsappOptIn: false,
        },
      },
    ],
    // O9: the unfulfillable alert by email and SMS, so every order exercises both providers.
    preferences: { sellerAlerts: { unfulfillable: { enabled: true, channels: ['email', 'sms'] } } },
    // No quiet hours: the suite runs at any hour (issue 20's 08:00–21:00 would hold a customer's SMS at night).
    sendWindow: { from: '00:00', to: '00:00' },
  });
  const { key } = await createApiKey(db, { tenantId, roles: ['admin'] });

  const keys = generateSendGridKeyPair();
  const sandbox = await startSandbox({
    port: 0,
    sendgrid: {
      apiKey: SANDBOX_SECRETS.sendgridApiKey,
      signingPrivateKeyPem: keys.privateKeyPem,
      webhookUrl: `${apiUrl}/webhooks/sendgrid`,
    },
    twilio: {
      accountSid: SANDBOX_SECRETS.twilioAccountSid,
      authToken: SANDBOX_SECRETS.twilioAuthToken,
      inboundWebhookUrl: `${apiUrl}/webhooks/twilio/inbound`,
    },
    eventDelayMs: 200,
    // SendGrid retries a refused webhook with backoff for a day (REFERENCE.md); the sandbox keeps
    // the shape on a compressed clock: up to 25 attempts, at most 10 s apart (about 4 minutes),
    // longer than any outage below.
    maxDeliveryAttempts: 25,
    retryMaxDelayMs: 10_000,
  });

  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'faults',
    MONGODB_URI: mongoUri,
    HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    PUBLIC_BASE_URL: apiUrl,
    SENDGRID_API_KEY: SANDBOX_SECRETS.sendgridApiKey,
    SENDGRID_BASE_URL: sandbox.url,
    SENDGRID_WEBHOOK_PUBLIC_KEY: keys.publicKeyBase64,
    TWILIO_ACCOUNT_SID: SANDBOX_SECRETS.twilioAccountSid,
    TWILIO_AUTH_TOKEN: SANDBOX_SECRETS.twilioAuthToken,
    TWILIO_BASE_URL: sandbox.url,
    TWILIO_SMS_FROM: '+15005550006',
    TWILIO_WHATSAPP_FROM: '+15005550006',
    LINK_SECRET: SANDBOX_SECRETS.linkSecret,
    WORKER_HTTP_PORT: '0',
    API_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };

  const launch = (name: string, entry: string): RelaisProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Chunks, trimmed to the last TAIL characters only once they reach twice that: no copy per chunk.
    let chunks: string[] = [];
    let size = 0;
    const keep = (c: Buffer) => {
      chunks.push(c.toString());
      size += c.length;
      if (size > 2 * TAIL) {
        chunks = [chunks.join('').slice(-TAIL)];
        size = chunks[0].length;
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return { name, child, output: () => chunks.join('').slice(-TAIL), exited };
  };
  const until = async (
    what: string,
    p: RelaisProcess,
    ready: () => Promise<boolean> | boolean,
    timeoutMs = 180_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
      if (p.child.exitCode !== null)
        throw new Error(`${p.name} exited (${p.child.exitCode}) before ${what}:\n${p.output()}`);
      if (Date.now() > deadline) throw new Error(`${p.name}: no ${what} within ${timeoutMs / 1000} s:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const workers: RelaisProcess[] = [];
  let api: RelaisProcess | undefined;
  const startWorker = async () => {
    const w = launch(`worker ${workers.length + 1}`, 'src/worker.ts');
    workers.push(w);
    await until('"worker started"', w, () => w.output().includes('"msg":"worker started"'));
    return w;
  };
  const startApi = async () => {
    api = launch('api', 'src/api/main.ts');
    const p = api;
    await until('/healthz', p, async () => (await fetch(`${apiUrl}/healthz`).catch(() => undefined))?.ok === true);
    return p;
  };
  const stop = async (p: RelaisProcess, signal: NodeJS.Signals) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill(signal);
    await p.exited;
  };

  await Promise.all([startApi(), startWorker()]);

  return {
    apiUrl,
    temporalAddress,
    temporalLog: () => readFileSync(temporalLogPath, 'utf8'),
    sandbox,
    db,
    tenantId,
    key,
    sendgridSigningKeyPem: keys.privateKeyPem,
    startWorker,
    workers: () => [...workers],
    startApi,
    api: () => api,
    stop,
    stopTemporal: () => stopProcess(temporal),
    startTemporal,
    stopFerret: () => stopProcess(ferret),
    startFerret,
    async close() {
      for (const p of [...workers, ...(api ? [api] : [])])
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await sandbox.close();
      await db.close().catch(() => undefined);
      await stopProcess(temporal);
      await stopProcess(ferret);
      await stopProcess(postgres.child);
      rmSync(dir, { recursive: true, force: true });
      rmSync(postgres.dir, { recursive: true, force: true });
    },
  };
}
