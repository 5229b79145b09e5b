// The Temporal worker: runs the workflows in src/workflows and the activities built from
// their dependencies. `createRelaisWorker` is what tests use; the bottom of this file is the process.
import { Client, Connection } from '@temporalio/client';
import {
  NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkerOptions,
  type WorkflowBundle,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { join } from 'node:path';
import { createActivities, type ActivityDeps } from './activities';
import { connectDb } from './db/models';
import { backfillOrderList } from './db/order-list';
import { loadConfig, type Config } from './config';
import { Templates } from './templates';
import { createLogger } from './logger';
import { createSendGridSender } from './providers/sendgrid/send';
import { createTwilioSender } from './providers/twilio/send';
import { createSmtpSender } from './providers/smtp';
import { temporalConnectionOptions } from './temporal-connection';
import { installRuntime, startWorkerHttp } from './worker-runtime';

export const WORKFLOWS_PATH = join(__dirname, 'workflows');

export interface RelaisWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  activities: ActivityDeps;
  /** A prebuilt bundle (tests build it once for the whole run); otherwise the worker bundles at start. */
  workflowBundle?: WorkflowBundleOption;
  tuning?: Partial<WorkerTuning>;
  /** Activity interceptors (the benchmark times each activity type with one). */
  activityInterceptors?: NonNullable<WorkerOptions['interceptors']>['activity'];
}

/** Capacity of one worker process (docs/deploy.md explains the defaults). */
export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  maxCachedWorkflows: number;
  /** Across all workers of the task queue: the server hands out no more activities than this per second. */
  maxTaskQueueActivitiesPerSecond?: number;
}

export function tuningFromConfig(config: Config): WorkerTuning {
  return {
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    maxTaskQueueActivitiesPerSecond: config.WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND,
  };
}

export function createRelaisWorker(options: RelaisWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve(WORKFLOWS_PATH) }),
    activities: createActivities(options.activities),
    ...(options.activityInterceptors ? { interceptors: { activity: options.activityInterceptors } } : {}),
    ...options.tuning,
  });
}

/** The bundler reports every module at INFO; tests and benchmarks want none of it. */
export const QUIET_BUNDLER_LOGGER = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never;

export function buildWorkflowBundle(workflowsPath = require.resolve(WORKFLOWS_PATH)): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger: QUIET_BUNDLER_LOGGER });
}

/** Provider senders from configuration: the real services, or the sandbox when *_BASE_URL points at it. */
export function sendersFromConfig(config: Config): Pick<ActivityDeps, 'sendgrid' | 'twilio' | 'smtp'> {
  return {
    sendgrid: config.SENDGRID_API_KEY
      ? createSendGridSender({
          apiKey: config.SENDGRID_API_KEY,
          baseUrl: config.SENDGRID_BASE_URL,
          timeoutMs: config.SENDGRID_TIMEOUT_MS,
        })
      : undefined,
    twilio:
      config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN
        ? createTwilioSender({
            accountSid: config.TWILIO_ACCOUNT_SID,
            authToken: config.TWILIO_AUTH_TOKEN,
            baseUrl: config.TWILIO_BASE_URL,
            smsFrom: config.TWILIO_SMS_FROM,
            whatsappFrom: config.TWILIO_WHATSAPP_FROM,
            timeoutMs: config.TWILIO_TIMEOUT_MS,
          })
        : undefined,
    smtp: config.SMTP_URL
      ? smtpFromUrl(config.SMTP_URL, {
          connectionTimeoutMs: config.SMTP_CONNECTION_TIMEOUT_MS,
          socketTimeoutMs: config.SMTP_SOCKET_TIMEOUT_MS,
        })
      : undefined,
  };
}

function smtpFromUrl(url: string, timeouts: { connectionTimeoutMs: number; socketTimeoutMs: number }) {
  const u = new URL(url);
  return createSmtpSender({
    ...timeouts,
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'smtps:' ? 465 : 587)),
    secure: u.protocol === 'smtps:',
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
  });
}

async function main() {
  const config = loadConfig();
  const log = createLogger(config, 'worker');
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is not set (npm start sets it to the embedded FerretDB)');
  if (!config.LINK_SECRET)
    throw new Error('LINK_SECRET is not set: the worker signs document links with it (32+ random characters)');
  const { sdkMetricsUrl } = await installRuntime(log);
  const db = await connectDb(config.MONGODB_URI, { log });
  // Once per database: orders recorded before the orders list existed get their entry (issue 18).
  await backfillOrderList(db, log);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  // Outbound webhooks and the dashboard's rollups: activities start and signal workflows through a client of the same namespace.
  const clientConnection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const worker = await createRelaisWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    tuning: tuningFromConfig(config),
    // A prebuilt bundle starts a process in a second instead of the bundler's tens of seconds of CPU.
    ...(config.WORKFLOW_BUNDLE_PATH ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : {}),
    activities: {
      db,
      templates: new Templates(),
      publicBaseUrl: config.PUBLIC_BASE_URL,
      emailFrom: config.EMAIL_FROM,
      linkSecret: config.LINK_SECRET,
      previousLinkSecret: config.LINK_SECRET_PREVIOUS,
      whatsappTemplates: config.WHATSAPP_TEMPLATES,
      webhooks: {
        starter: { client, taskQueue: config.TEMPORAL_TASK_QUEUE },
        allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      },
      rollups: { client, taskQueue: config.TEMPORAL_TASK_QUEUE },
      alertDigests: { client, taskQueue: config.TEMPORAL_TASK_QUEUE },
      ...sendersFromConfig(config),
    },
  });
  const http = await startWorkerHttp({
    host: config.HOST,
    port: config.WORKER_HTTP_PORT,
    sdkMetricsUrl,
    running: () => worker.getState() === 'RUNNING',
  });
  log.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      temporal: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      identity: worker.options.identity,
      http: config.WORKER_HTTP_PORT,
    },
    'worker started',
  );
  // SIGINT/SIGTERM: the SDK stops polling and waits for the tasks in flight before run() resolves
  // (it also requests their cancellation, which Relais's activities do not act on: they finish).
  // /healthz answers 503 meanwhile.
  await worker.run();
  http.close();
  await connection.close();
  await clientConnection.close();
  await db.close();
  log.info('worker stopped');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
