// The whole Relais stack for one test file, in-process, on the run's shared Temporal and
// MongoDB-wire servers: API (real HTTP), sandbox (real HTTP, signed webhooks), worker.
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { connectDb, type Db } from '../../src/db/models';
import { createApiKey, type Role } from '../../src/db/api-keys';
import { buildServer } from '../../src/api/server';
import { Templates } from '../../src/templates';
import { createRelaisWorker, type RelaisWorkerOptions } from '../../src/worker';
import { createSendGridSender } from '../../src/providers/sendgrid/send';
import { createTwilioSender } from '../../src/providers/twilio/send';
import { createSmtpSender } from '../../src/providers/smtp';
import { generateSendGridKeyPair, startSandbox, type Sandbox } from '../../src/sandbox';
import { freePort } from '../../scripts/lib/processes';
import type { ApiLimits } from '../../src/api/limits';
import type { AddressInfo } from 'node:net';
import { startOpsHttp } from '../../src/metrics-http';
import type { Resolve } from '../../src/outbound/post';

export interface StackOptions {
  /** Tenant policies (ISO-8601); short ones make the rules observable in seconds. */
  policies?: {
    unknownAfter?: string;
    listenFor?: string;
    stuckAfter?: string;
    confirmationLinkTtl?: string;
    readyToShipWithin?: string;
    failoverAfter?: string;
    acknowledgeWithin?: string | null;
    acknowledgeEscalateAfter?: string | null;
    moveOnAfter?: string;
  };
  eventDelayMs?: number;
  lateEventMs?: number;
  /** false: no in-process worker (a test runs `src/worker.ts` as its own process with `workerEnv`). */
  worker?: boolean;
  /** The run's real Temporal cluster (test/cluster/) instead of its dev server. */
  cluster?: { address: string; namespace: string };
  /** Another Temporal server (e.g. a time-skipping test environment) instead of the run's dev server. */
  temporal?: { client: Client; nativeConnection: NativeConnection };
  /** The in-process worker's activity interceptors (the benchmark times activities with one). */
  activityInterceptors?: RelaisWorkerOptions['activityInterceptors'];
  /** The worker's capacity (its defaults otherwise). */
  tuning?: RelaisWorkerOptions['tuning'];
  /** API body and rate limits (small ones make them observable in a few requests). */
  limits?: Partial<ApiLimits>;
  /** An SMTP server for dispatches with `"provider": "smtp"` (rule D10), e.g. smtp-server on loopback. */
  smtp?: { host: string; port: number };
  /** The API is told SMTP_URL is set without an SMTP sender here (a test's own worker process sends through it). */
  smtpConfigured?: boolean;
  /** Issue 20: where the worker's SendGrid sender goes instead of the sandbox (e.g. a server that never answers). */
  sendgridBaseUrl?: string;
  /**
   * Outbound webhooks: name resolution of the worker (tests answer for names of their own), the POST
   * timeout (default 5 s), and whether loopback/private addresses are allowed (default true: the
   * tests' receivers listen on loopback, as an operator would allow for a receiver inside).
   */
  webhooks?: { resolve?: Resolve; timeoutMs?: number; allowPrivateNetworks?: boolean };
  /** Issue 20: the tenant's quiet hours (default none, 00:00–00:00: tests run at any hour; the product's default is 08:00–21:00). */
  sendWindow?: { from: string; to: string };
  /** Approved WhatsApp templates of the worker (default TEST_WHATSAPP_TEMPLATES). */
  whatsappTemplates?: Record<string, { contentSid: string; variables: string[] }>;
}

export interface Stack {
  apiUrl: string;
  sandbox: Sandbox;
  db: Db;
  client: Client;
  taskQueue: string;
  tenantId: string;
  /** Admin key of the tenant. */
  key: string;
  /** This process's operations port (/metrics), as the API process serves it on API_METRICS_PORT. */
  metricsUrl: string;
  /** Environment for `src/worker.ts` as a separate process, wired to this stack. */
  workerEnv: Record<string, string>;
  /** The sandbox's SendGrid signing key, for tests that sign webhooks themselves. */
  sendgridSigningKeyPem: string;
  /** A second tenant, for isolation tests. */
  other: { tenantId: string; key: string };
  keyWithRoles(roles: Role[]): Promise<string>;
  /** Starts the in-process worker, on the run's workflow bundle or another one (an earlier version's, test/upgrade/). */
  startWorker(bundle?: WorkflowBundleOption): Promise<void>;
  stopWorker(): Promise<void>;
  request(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export const SANDBOX_SECRETS = {
  sendgridApiKey: 'SG.sandbox-key',
  twilioAccountSid: `AC${'0'.repeat(32)}`,
  twilioAuthToken: 'sandbox-auth-token-0123456789abcdef',
  linkSecret: randomBytes(32).toString('base64url'),
};

/** An "approved" WhatsApp template for the document link, as a tenant would configure it. */
export const TEST_WHATSAPP_TEMPLATES = {
  'document_link.en': {
    contentSid: `HX${'1'.repeat(32)}`,
    variables: ['companyName', 'documentLabel', 'link', 'expiresAt'],
  },
};

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const address = options.cluster?.address ?? process.env.RELAIS_TEST_TEMPORAL_ADDRESS!;
  const namespace = options.cluster?.namespace ?? 'default';
  const mongoUri = process.env.RELAIS_TEST_MONGODB_URI!;
  const suffix = randomBytes(4).toString('hex');
  const taskQueue = `test-${suffix}`;
  const db = await connectDb(mongoUri, { dbName: `relais_test_${suffix}` });
  const connection = options.temporal ? undefined : await Connection.connect({ address });
  const client = options.temporal?.client ?? new Client({ connection: connection!, namespace });
  const nativeConnection = options.temporal?.nativeConnection ?? (await NativeConnection.connect({ address }));
  const workflowBundle = { codePath: process.env.RELAIS_TEST_WORKFLOW_BUNDLE! };
  const keys = generateSendGridKeyPair();
  const templates = new Templates();
  const smtp = options.smtp && createSmtpSender({ ...options.smtp, connectionTimeoutMs: 5_000 });

  // The API's port is chosen first: the sandbox calls it back, and signatures cover its URL.
  const apiUrl = `http://127.0.0.1:${await freePort()}`;
  const app: FastifyInstance = buildServer({
    db,
    temporal: client,
    templates,
    taskQueue,
    publicBaseUrl: apiUrl,
    sendgridWebhookPublicKey: keys.publicKeyBase64,
    twilioAuthToken: SANDBOX_SECRETS.twilioAuthToken,
    linkSecret: SANDBOX_SECRETS.linkSecret,
    smtpConfigured: Boolean(options.smtp) || options.smtpConfigured === true,
    webhooks: { allowPrivateNetworks: options.webhooks?.allowPrivateNetworks ?? true },
    // The sandbox is a whole provider posting from one address: the per-address webhook limit is
    // raised so load and scale runs measure Relais, not the limiter (test/contract/limits.test.ts sets its own).
    limits: { webhookRate: { max: 1_000_000, windowMs: 60_000 }, ...options.limits },
  });
  await app.listen({ host: '127.0.0.1', port: Number(new URL(apiUrl).port) });
  const ops = await startOpsHttp({ host: '127.0.0.1', port: 0 });
  const metricsUrl = `http://127.0.0.1:${(ops.address() as AddressInfo).port}`;

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
    eventDelayMs: options.eventDelayMs ?? 50,
    lateEventMs: options.lateEventMs ?? 1500,
    // SendGrid retries for 24 hours; a suite on a loaded machine must not see the sandbox give up
    // on a webhook within a test's wait (12 attempts: about 3 minutes of retrying).
    maxDeliveryAttempts: 12,
  });

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const startWorker = async (bundle: WorkflowBundleOption = workflowBundle) => {
    worker = await createRelaisWorker({
      connection: nativeConnection,
      namespace,
      taskQueue,
      workflowBundle: bundle,
      activityInterceptors: options.activityInterceptors,
      tuning: options.tuning,
      activities: {
        db,
        templates,
        publicBaseUrl: apiUrl,
        emailFrom: 'notifications@relais.test',
        linkSecret: SANDBOX_SECRETS.linkSecret,
        whatsappTemplates: options.whatsappTemplates ?? TEST_WHATSAPP_TEMPLATES,
        webhooks: {
          starter: { client, taskQueue },
          allowPrivateNetworks: options.webhooks?.allowPrivateNetworks ?? true,
          timeoutMs: options.webhooks?.timeoutMs ?? 5_000,
          resolve: options.webhooks?.resolve,
        },
        rollups: { client, taskQueue },
        alertDigests: { client, taskQueue },
        sendgrid: createSendGridSender({
          apiKey: SANDBOX_SECRETS.sendgridApiKey,
          baseUrl: options.sendgridBaseUrl ?? sandbox.url,
        }),
        smtp,
        twilio: createTwilioSender({
          accountSid: SANDBOX_SECRETS.twilioAccountSid,
          authToken: SANDBOX_SECRETS.twilioAuthToken,
          baseUrl: sandbox.url,
          smsFrom: '+15005550006',
          whatsappFrom: '+15005550006',
        }),
      },
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (!worker) return;
    worker.shutdown();
    await running;
    worker = undefined;
  };

  const tenantId = `t-${suffix}`;
  await db.Tenant.create({
    _id: tenantId,
    name: 'Bistro Demo',
    locale: 'en',
    timeZone: 'Europe/Paris',
    emailFrom: { email: 'orders@bistro.test', name: 'Bistro Demo' },
    policies: {
      unknownAfter: 'PT30M',
      listenFor: 'P3D',
      stuckAfter: 'P2D',
      confirmationLinkTtl: 'P2D',
      readyToShipWithin: 'P1D',
      ...options.policies,
    },
    sendWindow: options.sendWindow ?? { from: '00:00', to: '00:00' },
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
  });
  const { key } = await createApiKey(db, { tenantId, roles: ['admin'] });
  const otherId = `o-${suffix}`;
  // Without quiet hours either: a test asking the other tenant's customer must not wait for 08:00 when the suite runs at night.
  await db.Tenant.create({
    _id: otherId,
    name: 'Other Co',
    emailFrom: { email: 'x@other.test' },
    sendWindow: options.sendWindow ?? { from: '00:00', to: '00:00' },
  });
  const { key: otherKey } = await createApiKey(db, { tenantId: otherId, roles: ['admin'] });

  if (options.worker !== false) await startWorker();
  const workerEnv = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MONGODB_URI: `${mongoUri.replace(/\/$/, '')}/${db.connection.name}`,
    PUBLIC_BASE_URL: apiUrl,
    SENDGRID_API_KEY: SANDBOX_SECRETS.sendgridApiKey,
    SENDGRID_BASE_URL: sandbox.url,
    TWILIO_ACCOUNT_SID: SANDBOX_SECRETS.twilioAccountSid,
    TWILIO_AUTH_TOKEN: SANDBOX_SECRETS.twilioAuthToken,
    TWILIO_BASE_URL: sandbox.url,
    TWILIO_SMS_FROM: '+15005550006',
    TWILIO_WHATSAPP_FROM: '+15005550006',
    LINK_SECRET: SANDBOX_SECRETS.linkSecret,
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WORKER_HTTP_PORT: '0',
    API_METRICS_PORT: '0', // several worker and API processes may run at once
    // Worker processes start from the run's bundle: three bundling at once on a loaded CI machine took minutes.
    ...(process.env.RELAIS_TEST_WORKFLOW_BUNDLE
      ? { WORKFLOW_BUNDLE_PATH: process.env.RELAIS_TEST_WORKFLOW_BUNDLE }
      : {}),
  };

  const request: Stack['request'] = async (method, path, body, useKey = key) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${useKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    // JSON answers parsed; a file (a CSV export, a PDF) as its text.
    return {
      status: res.status,
      body: text ? (/json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text) : null,
    };
  };

  const waitFor: Stack['waitFor'] = async (what, probe, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value as never;
      last = value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  return {
    apiUrl,
    metricsUrl,
    sandbox,
    db,
    client,
    taskQueue,
    tenantId,
    key,
    sendgridSigningKeyPem: keys.privateKeyPem,
    workerEnv,
    other: { tenantId: otherId, key: otherKey },
    keyWithRoles: async (roles) => (await createApiKey(db, { tenantId, roles })).key,
    startWorker,
    stopWorker,
    request,
    waitFor,
    async close() {
      await stopWorker();
      smtp?.close();
      await sandbox.close();
      await app.close();
      await new Promise((r) => ops.close(r));
      if (!options.temporal) {
        await connection!.close();
        await nativeConnection.close();
      }
      await db.connection.dropDatabase().catch(() => undefined);
      await db.close();
    },
  };
}

/** A dispatch request body: a purchase order to the given addresses. */
export function purchaseOrder(dispatchId: string, emails: string[], extra: Record<string, unknown> = {}) {
  return {
    dispatchId,
    template: 'purchase_order',
    document: { type: 'purchase_order', number: `PO-${dispatchId}` },
    data: {
      document: { number: `PO-${dispatchId}`, url: null },
      senderName: 'Bruno Buyer',
      companyName: 'Bistro Demo',
      message: null,
      deliveryDate: null,
    },
    sender: { name: 'Bruno Buyer', email: 'bruno.buyer@bistro.test', outletId: 'paris-1' },
    recipients: emails.map((email) => ({ email })),
    ...extra,
  };
}

/** A customer's WhatsApp message to the tenant, through the sandbox's signed inbound webhook (it opens WhatsApp's 24 h window, issue 20). */
export async function customerWrites(stack: Stack, from: string, body = 'Bonjour'): Promise<void> {
  const answer = await stack.sandbox.inbound({ channel: 'whatsapp', from, body });
  if (answer.status !== 200) throw new Error(`the inbound webhook answered ${answer.status}`);
}

/** An order body with a complete, deliverable French address (low risk). */
export function newOrder(orderId: string, customer: Record<string, unknown> = {}) {
  return {
    orderId,
    items: [{ sku: 'TSHIRT-M', quantity: 1, location: 'A-12' }],
    customer: {
      name: 'Chloé Client',
      phone: '+33612345670',
      email: 'chloe.client@example.test',
      address: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
      ...customer,
    },
    payment: { method: 'cash_on_delivery', amount: '49.90 EUR' },
    salesChannel: 'shopify',
    carrier: 'colissimo',
  };
}
