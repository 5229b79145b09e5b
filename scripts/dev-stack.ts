// `npm start`: the whole stack on this machine, on embedded defaults, bound to loopback.
// Temporal dev server (SQLite file), FerretDB on a private PostgreSQL cluster unless MONGODB_URI is set, the provider
// sandbox, the worker and the API; each restarted if it dies; Ctrl-C stops them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { loadConfig, ConfigError, type Config } from '../src/config';
import { connectDb } from '../src/db/models';
import { createApiKey } from '../src/db/api-keys';
import { generateSendGridKeyPair } from '../src/sandbox';
import {
  portOpen,
  postgresBin,
  ROOT,
  startFerretDb,
  startPostgres,
  stopProcess,
  toolPaths,
  waitForPort,
  type PostgresServer,
} from './lib/processes';

const say = (msg: string) => console.log(`[relais] ${msg}`);

/** Ready means work gets done: the worker has bundled its workflows and polls its task queue. */
async function waitForWorker(config: Config, launchedAt: number): Promise<void> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const started = Date.now();
    let lastSaid = started;
    for (;;) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: { name: config.TEMPORAL_TASK_QUEUE }, // type unset: workflow pollers
      });
      // The server remembers pollers for minutes: only one seen since this worker launched counts.
      const polledAt = (p: (typeof pollers)[number]) =>
        Number(p.lastAccessTime?.seconds ?? 0) * 1000 + Math.floor((p.lastAccessTime?.nanos ?? 0) / 1e6);
      if (pollers.some((p) => polledAt(p) >= launchedAt)) return;
      if (Date.now() - lastSaid >= 5000) {
        say(
          `  waiting for the worker to poll ${config.TEMPORAL_TASK_QUEUE} (${Math.round((Date.now() - started) / 1000)} s)`,
        );
        lastSaid = Date.now();
      }
      if (Date.now() - started > 180_000)
        throw new Error('the worker did not start polling within 3 minutes: see its output above');
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await connection.close();
  }
}

interface DevSecrets {
  sendgridApiKey: string;
  sendgridPrivateKeyPem: string;
  sendgridPublicKey: string;
  twilioAccountSid: string;
  twilioAuthToken: string;
  linkSecret: string;
}

/** Keys the local services share, made once and kept in DATA_DIR so restarts agree with earlier signatures. */
function devSecrets(dataDir: string): DevSecrets {
  const file = join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const keys = generateSendGridKeyPair();
  const secrets: DevSecrets = {
    sendgridApiKey: `SG.${randomBytes(16).toString('base64url')}`,
    sendgridPrivateKeyPem: keys.privateKeyPem,
    sendgridPublicKey: keys.publicKeyBase64,
    twilioAccountSid: `AC${randomBytes(16).toString('hex')}`,
    twilioAuthToken: randomBytes(16).toString('hex'),
    linkSecret: randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  writeFileSync(join(dataDir, 'sandbox-sendgrid-key.pem'), keys.privateKeyPem, { mode: 0o600 });
  return secrets;
}

/** First start only: a platform admin key and a demo tenant with an outlet and its purchasing manager. */
async function bootstrap(config: Config, mongoUri: string, dataDir: string) {
  const file = join(dataDir, 'dev-credentials.json');
  if (existsSync(file)) return file;
  const db = await connectDb(mongoUri);
  try {
    const admin = await createApiKey(db, { tenantId: null, roles: ['platform'], label: 'dev platform admin' });
    const tenantId = 'demo';
    if (!(await db.Tenant.exists({ _id: tenantId }))) {
      await db.Tenant.create({
        _id: tenantId,
        name: 'Bistro Démo',
        locale: 'fr',
        timeZone: 'Europe/Paris',
        emailFrom: { email: 'commandes@bistro-demo.localhost', name: 'Bistro Démo' },
        outlets: [
          {
            id: 'paris-11',
            name: 'Paris 11e',
            purchasingManager: {
              name: 'Paula Martin',
              email: 'paula.martin@bistro-demo.localhost',
              phone: '+33612345678',
              smsOptIn: true,
              whatsappOptIn: false,
            },
          },
        ],
      });
    }
    const tenantKey = await createApiKey(db, { tenantId, roles: ['admin'], label: 'dev tenant admin' });
    writeFileSync(
      file,
      JSON.stringify(
        {
          adminKey: admin.key,
          tenant: { id: tenantId, apiKey: tenantKey.key, outletId: 'paris-11' },
          apiUrl: `http://${config.HOST}:${config.API_PORT}`,
        },
        null,
        2,
      ) + '\n',
      { mode: 0o600 },
    );
    return file;
  } finally {
    await db.close();
  }
}

interface Supervised {
  name: string;
  child?: ChildProcess;
  stopping: boolean;
  restarts: number;
}

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const started = Date.now();
  const tools = toolPaths();
  const dataDir = resolve(ROOT, config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const secrets = devSecrets(dataDir);

  const ports: Array<[string, number, boolean]> = [
    ['API_PORT', config.API_PORT, true],
    ['API_METRICS_PORT', config.API_METRICS_PORT, true],
    ['SANDBOX_PORT', config.SANDBOX_PORT, true],
    ['TEMPORAL_ADDRESS port', Number(config.TEMPORAL_ADDRESS.split(':').pop()), true],
    ['TEMPORAL_UI_PORT', config.TEMPORAL_UI_PORT, true],
    ['FERRETDB_PORT', config.FERRETDB_PORT, !config.MONGODB_URI],
  ];
  for (const [name, port, needed] of ports) {
    if (needed && (await portOpen(port, config.HOST))) {
      console.error(
        `Port ${port} (${name}) on ${config.HOST} is already in use: stop what runs there or set ${name.split(' ')[0]} to another value.`,
      );
      process.exit(1);
    }
  }

  const processes: Supervised[] = [];
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say('stopping…');
    for (const p of [...processes].reverse()) {
      p.stopping = true;
      await stopProcess(p.child);
      say(`  ${p.name} stopped`);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  /** Starts a child and restarts it (after a pause) if it dies while the stack runs. */
  const supervise = (name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess => {
    const entry: Supervised = { name, stopping: false, restarts: 0 };
    const launch = () => {
      const child = spawn(command, args, {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      entry.child = child;
      child.on('exit', (code, signal) => {
        if (entry.stopping || shuttingDown) return;
        entry.restarts += 1;
        const delay = Math.min(30_000, 1000 * 2 ** Math.min(entry.restarts, 5));
        say(`${name} exited (${signal ?? code}); restarting in ${delay / 1000} s`);
        setTimeout(() => {
          if (!shuttingDown) launch();
        }, delay);
      });
      return child;
    };
    processes.push(entry);
    return launch();
  };

  const temporalPort = Number(config.TEMPORAL_ADDRESS.split(':').pop());
  say(
    `starting Temporal dev server on ${config.HOST}:${temporalPort} (UI ${config.TEMPORAL_UI_PORT}, data ${join(config.DATA_DIR, 'temporal.sqlite')})`,
  );
  const temporal = supervise('temporal', tools.temporal, [
    'server',
    'start-dev',
    '--ip',
    config.HOST,
    '--port',
    String(temporalPort),
    '--ui-port',
    String(config.TEMPORAL_UI_PORT),
    '--db-filename',
    join(dataDir, 'temporal.sqlite'),
    '--namespace',
    config.TEMPORAL_NAMESPACE,
    '--log-level',
    'warn',
  ]);

  let mongoUri = config.MONGODB_URI;
  if (!mongoUri) {
    if (!tools.ferretdb) throw new Error('FerretDB is not built: run `node scripts/tools.mjs`.');
    // PostgreSQL by default: FerretDB pushes equality filters down to it, where indexes serve them
    // (docs/architecture.md, "The embedded store"); on SQLite every query reads the whole collection.
    let postgres: PostgresServer | undefined;
    if (config.EMBEDDED_STORE === 'postgresql') {
      say(`starting PostgreSQL for FerretDB (data ${join(config.DATA_DIR, 'postgresql')})`);
      postgres = await startPostgres(postgresBin(), {
        dir: join(dataDir, 'postgresql'),
        log: (msg) => say(`  ${msg}`),
      });
      processes.push({ name: 'postgresql', child: postgres.child, stopping: false, restarts: 0 });
    }
    say(
      `starting FerretDB on ${config.HOST}:${config.FERRETDB_PORT} (${postgres ? 'on PostgreSQL' : `SQLite files in ${join(config.DATA_DIR, 'ferretdb')}`})`,
    );
    const ferret = await startFerretDb({
      bin: tools.ferretdb,
      port: config.FERRETDB_PORT,
      dir: join(dataDir, 'ferretdb'),
      host: config.HOST,
      log: 'inherit',
      postgresql: postgres,
    });
    processes.push({ name: 'ferretdb', child: ferret, stopping: false, restarts: 0 });
    mongoUri = `mongodb://${config.HOST}:${config.FERRETDB_PORT}/relais`;
  }
  await waitForPort(temporalPort, 'Temporal dev server', 60_000, temporal);
  say(`Temporal and MongoDB are up (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  const credentialsFile = await bootstrap(config, mongoUri, dataDir);
  const sandboxUrl = `http://${config.HOST}:${config.SANDBOX_PORT}`;
  const env: NodeJS.ProcessEnv = {
    MONGODB_URI: mongoUri,
    SENDGRID_API_KEY: config.SENDGRID_API_KEY ?? secrets.sendgridApiKey,
    SENDGRID_BASE_URL: config.SENDGRID_BASE_URL ?? sandboxUrl,
    SENDGRID_WEBHOOK_PUBLIC_KEY: config.SENDGRID_WEBHOOK_PUBLIC_KEY ?? secrets.sendgridPublicKey,
    TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID ?? secrets.twilioAccountSid,
    TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN ?? secrets.twilioAuthToken,
    TWILIO_BASE_URL: config.TWILIO_BASE_URL ?? sandboxUrl,
    TWILIO_SMS_FROM: config.TWILIO_SMS_FROM ?? '+15005550006',
    TWILIO_WHATSAPP_FROM: config.TWILIO_WHATSAPP_FROM ?? '+15005550006',
    LINK_SECRET: config.LINK_SECRET ?? secrets.linkSecret,
    // On a developer's machine the tenant's webhook receiver is usually local too (docs/webhooks.md).
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: process.env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? 'true',
  };
  const tsx = ['--import', 'tsx'];
  say(`starting the provider sandbox on ${sandboxUrl}`);
  supervise('sandbox', process.execPath, [...tsx, 'src/sandbox/main.ts'], {
    ...env,
    SANDBOX_HOST: config.HOST,
    SANDBOX_PORT: String(config.SANDBOX_PORT),
    SANDBOX_SENDGRID_PRIVATE_KEY_FILE: join(dataDir, 'sandbox-sendgrid-key.pem'),
    SANDBOX_SENDGRID_WEBHOOK_URL: `${config.PUBLIC_BASE_URL}/webhooks/sendgrid`,
    SANDBOX_TWILIO_INBOUND_URL: `${config.PUBLIC_BASE_URL}/webhooks/twilio/inbound`,
  });
  say('starting the worker (it bundles the workflow code first: a few seconds)');
  const workerLaunchedAt = Date.now();
  supervise('worker', process.execPath, [...tsx, 'src/worker.ts'], env);
  say(`starting the API on ${config.PUBLIC_BASE_URL}`);
  supervise('api', process.execPath, [...tsx, 'src/api/main.ts'], env);
  await waitForPort(config.API_PORT, 'API', 60_000);
  await waitForPort(config.SANDBOX_PORT, 'sandbox', 60_000);
  await waitForWorker(config, workerLaunchedAt);

  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  say(`  API            ${config.PUBLIC_BASE_URL}   (health: /healthz, /readyz)`);
  say(`  Temporal UI    http://${config.HOST}:${config.TEMPORAL_UI_PORT}`);
  say(`  sandbox inbox  ${sandboxUrl}/sandbox`);
  say(`  MongoDB        ${mongoUri}`);
  say(`  keys           ${credentialsFile}`);
  say('Ctrl-C stops everything; data stays in ' + config.DATA_DIR + '/');
}

main().catch((err) => {
  console.error(`[relais] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
