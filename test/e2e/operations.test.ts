// Operations (docs/deploy.md): the worker and the API as their own processes, as deployed.
// - worker: JSON log lines carrying the workflow id; /metrics with Relais's counters and the
//   SDK's; SIGTERM drains (an activity in flight, held by a slow SMTP server, still finishes;
//   /healthz says "stopping" meanwhile), then the process exits 0.
// - API: SIGTERM during a request still answers that request, then the process exits 0.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../scripts/lib/processes';
import { killAllRelais, spawnRelais } from '../support/relais-process';
import { relaisEventId } from '../../src/domain/dispatch';
import { purchaseOrder, startStack, type Stack } from '../support/stack';

let stack: Stack;
let smtp: SMTPServer;
let smtpPort: number;
/** Resolves the SMTP server's hold on the message it is receiving. */
let releaseSmtp: (() => void) | undefined;
let smtpReceiving: Promise<void>;
let markReceiving: () => void;

const startProcess = (entry: 'src/worker.ts' | 'src/api/main.ts', env: Record<string, string>) =>
  spawnRelais(entry, { ...stack.workerEnv, ...env });

beforeAll(async () => {
  // The worker process below sends through the test's SMTP server (SMTP_URL): the API is told it has one.
  stack = await startStack({ worker: false, smtpConfigured: true, policies: { listenFor: 'PT1S' } });
  smtpReceiving = new Promise((r) => {
    markReceiving = r;
  });
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      stream.resume();
      stream.on('end', () => {
        markReceiving();
        // The reply waits until the test lets it go: the send activity is in flight meanwhile.
        void new Promise<void>((r) => {
          releaseSmtp = r;
        }).then(() => cb(null, '250 2.0.0 queued as SLOW1'));
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});
afterAll(async () => {
  releaseSmtp?.();
  killAllRelais();
  await new Promise<void>((r) => smtp.close(() => r()));
  await stack?.close();
});

test('worker: logs carry workflow ids, /metrics has Relais and SDK metrics, SIGTERM drains an activity in flight then exits 0', async () => {
  const httpPort = await freePort();
  const worker = startProcess('src/worker.ts', {
    WORKER_HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'info',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  });
  const url = (path: string) => `http://127.0.0.1:${httpPort}${path}`;
  await stack.waitFor('worker started', async () => worker.lines().find((l) => l.msg === 'worker started'), 120_000);
  expect((await fetch(url('/healthz'))).status).toBe(200);

  // A dispatch through the sandbox runs to completion: one "delivered" counted, one log line with its workflow id.
  const done = await stack.request('POST', '/v1/dispatches', purchaseOrder('po-ops', ['ops@acme.test']));
  expect(done.status).toBe(202);
  await stack.client.workflow.getHandle(done.body.workflowId).result();
  const sent = await stack.waitFor('the "dispatch sent" log line', async () =>
    worker.lines().find((l) => l.msg === 'dispatch sent' && l.dispatchId === 'po-ops'),
  );
  expect(sent).toMatchObject({
    level: 30,
    process: 'worker',
    workflowId: done.body.workflowId,
    activityType: 'sendRecipients',
  });
  const metrics = await (await fetch(url('/metrics'))).text();
  expect(metrics).toMatch(/^relais_dispatches_total\{result="delivered"\} 1$/m);
  expect(metrics).toMatch(/^# TYPE relais_escalations_total counter$/m);
  expect(metrics).toMatch(/^temporal_\w+/m); // the SDK's own (task slots, polls, latencies)

  // D10 over a slow SMTP server: the send activity is in flight when SIGTERM arrives.
  const slow = await stack.request(
    'POST',
    '/v1/dispatches',
    purchaseOrder('po-drain', ['drain@acme.test'], { provider: 'smtp' }),
  );
  expect(slow.status).toBe(202);
  await smtpReceiving;
  worker.child.kill('SIGTERM');
  await stack.waitFor(
    '/healthz says stopping',
    async () => (await fetch(url('/healthz')).catch(() => undefined))?.status === 503,
  );
  expect(worker.child.exitCode).toBeNull(); // still draining
  releaseSmtp!();
  expect(await worker.exited).toBe(0);
  expect(worker.lines().at(-1)).toMatchObject({ msg: 'worker stopped' });
  // The send finished on the stopping worker: its completion is in the workflow's history (the
  // workflow itself moves on with the next worker), and nothing timed out or failed.
  const events = (await stack.client.workflow.getHandle(slow.body.workflowId).fetchHistory()).events ?? [];
  const sendScheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendRecipients',
  );
  const completed = events.find(
    (e) =>
      e.activityTaskCompletedEventAttributes &&
      String(e.activityTaskCompletedEventAttributes.scheduledEventId) === String(sendScheduled?.eventId),
  );
  expect(completed).toBeDefined();
  expect(events.some((e) => e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes)).toBe(false);
  expect(
    JSON.parse(Buffer.from(completed!.activityTaskCompletedEventAttributes!.result!.payloads![0].data!).toString()),
  ).toMatchObject({ sent: [0], notSent: [], accepted: [] });
  // The server's reply is in the recipient's history (not in the workflow's history).
  expect(
    await stack.db.DispatchEvent.findById(relaisEventId(stack.tenantId, 'po-drain', 0, 1, 'sent')).lean(),
  ).toMatchObject({ event: 'sent', response: expect.stringContaining('queued as SLOW1') });
}, 300_000);

test('API: SIGTERM while a request is being received; the request is answered, then the process exits 0', async () => {
  const apiPort = await freePort();
  const api = startProcess('src/api/main.ts', { API_PORT: String(apiPort), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  await stack.waitFor(
    'API listening',
    async () => (await fetch(`http://127.0.0.1:${apiPort}/healthz`).catch(() => undefined))?.ok,
    120_000,
  );

  const body = Buffer.from(JSON.stringify(purchaseOrder('po-inflight', ['inflight@acme.test'])));
  const answered = new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: apiPort,
        method: 'POST',
        path: '/v1/dispatches',
        headers: {
          authorization: `Bearer ${stack.key}`,
          'content-type': 'application/json',
          'content-length': body.length,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    // Half the body now; SIGTERM; the rest once the API has begun stopping.
    req.write(body.subarray(0, 20));
    setTimeout(() => {
      api.child.kill('SIGTERM');
      stack
        .waitFor('the API stopping', async () =>
          api.lines().find((l) => l.msg === 'stopping: finishing in-flight requests'),
        )
        .then(() => req.end(body.subarray(20)), reject);
    }, 300);
  });
  const res = await answered;
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ dispatchId: 'po-inflight', created: true });
  expect(await api.exited).toBe(0);
});

test('API /metrics (its operations port): a webhook whose signature does not verify is counted by provider and reason', async () => {
  const metric = async () =>
    (await (await fetch(`${stack.metricsUrl}/metrics`)).text()).match(
      /^relais_webhook_verify_failures_total\{provider="sendgrid",code="unsigned"\} (\d+)$/m,
    )?.[1];
  const before = Number((await metric()) ?? 0);
  const res = await fetch(`${stack.apiUrl}/webhooks/sendgrid`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '[]',
  });
  expect(res.status).toBe(401);
  expect(Number(await metric())).toBe(before + 1);
});
