// Benchmarks of a dispatch as it grows (issue 15): events ingested per second and what each
// activity costs per event batch at 10, 100 and 1000 recipients, and the time from a bounce
// webhook to the escalation accepted by the provider. They use only the public surface (the API,
// signed webhooks, the sandbox's record), so they measure whatever shape the dispatch workflow
// and its projection have: the events replay the routing arguments the sandbox really received.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import type { ActivityInboundCallsInterceptor, ActivityExecuteInput, Next } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { purchaseOrder, type Stack } from '../test/support/stack';
import { dispatchWorkflowId } from '../src/workflows/dispatch/contract';
import { freePort, ROOT, stopProcess } from '../scripts/lib/processes';

/** Times every activity the worker runs, by type, while `recording` is on. */
export class ActivityTimes {
  recording = false;
  private times = new Map<string, number[]>();
  interceptor = (): { inbound: ActivityInboundCallsInterceptor } => {
    return {
      inbound: {
        execute: async (input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) => {
          const started = process.hrtime.bigint();
          try {
            return await next(input);
          } finally {
            if (this.recording) {
              const type = Context.current().info.activityType;
              this.times.set(type, [...(this.times.get(type) ?? []), Number(process.hrtime.bigint() - started) / 1e6]);
            }
          }
        },
      },
    };
  };

  take(): Array<{ type: string; calls: number; meanMs: number; p99Ms: number }> {
    const rows = [...this.times.entries()].map(([type, t]) => {
      const sorted = [...t].sort((a, b) => a - b);
      return {
        type,
        calls: t.length,
        meanMs: t.reduce((a, b) => a + b, 0) / t.length,
        p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))],
      };
    });
    this.times.clear();
    return rows.sort((a, b) => b.calls - a.calls);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Posts one signed SendGrid Event Webhook batch (to the stack's API, or `apiUrl`); true when the API accepted it. */
export async function postEvents(
  stack: Stack,
  key: ReturnType<typeof createPrivateKey>,
  events: unknown[],
  apiUrl = stack.apiUrl,
): Promise<boolean> {
  const body = JSON.stringify(events) + '\r\n';
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(`${apiUrl}/webhooks/sendgrid`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(ts + body), key).toString('base64'),
      'x-twilio-email-event-webhook-timestamp': ts,
    },
  });
  await res.arrayBuffer();
  return res.status === 200;
}

/**
 * The API as it is deployed: `src/api/main.ts` in a process of its own (what `npm start` runs),
 * on the stack's store, Temporal and task queue, verifying the sandbox's signing key. The
 * benchmark's own process (the client signing and posting, the sandbox, the in-process worker)
 * then does not share the API's event loop.
 */
export async function startApiProcess(
  stack: Stack,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const publicKey = createPublicKey(createPrivateKey(stack.sendgridSigningKeyPem))
    .export({ type: 'spki', format: 'der' })
    .toString('base64');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...stack.workerEnv,
      API_PORT: String(port),
      SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey,
      // The sandbox is a whole provider posting from one address: measure Relais, not the limiter.
      RATE_LIMIT_WEBHOOK_MAX: '1000000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await stack.waitFor(
    'the API process ready',
    async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok,
    120_000,
  );
  return { url, child, stop: () => stopProcess(child, 30_000) };
}

export interface IngestRow {
  /** Where the API ran: its own process, or the benchmark's (with the client, the sandbox and the worker). */
  api: 'own process' | 'shared process';
  recipients: number;
  events: number;
  batch: number;
  connections: number;
  seconds: number;
  /** Answered 2xx (stored in the webhook inbox). */
  perSecond: number;
  /** Applied: every event stored in `dispatch_events` and signalled (the inbox emptied), from the first POST. */
  appliedPerSecond: number;
  activities: ReturnType<ActivityTimes['take']>;
  load: string;
}

/**
 * A dispatch of `recipients` silent addresses (the sandbox sends nothing after `processed`), then
 * `eventsPerRecipient` new `deferred` events for each, in signed batches of `batchSize` posted 8 at
 * a time: the rate the API accepts them (answered 2xx), the rate it applies them (issue 15: the
 * webhook inbox emptied, so every event stored and signalled), and each activity's calls and time
 * meanwhile (the projection writes among them), until the workflow has taken every batch. SendGrid itself posts
 * what accumulated in up to 30 s, up to 768 KB a request: a busy sender's batches hold hundreds of
 * events; 50 is the small-batch case.
 */
export async function benchIngest(
  stack: Stack,
  times: ActivityTimes,
  sizes: number[],
  eventsPerRecipient: number,
  batchSizes: number[],
  load: () => string,
  say: (msg: string) => void,
  /** The API process's URL (startApiProcess); without it, the stack's in-process API. */
  apiUrl: string | undefined,
  /** Requests posted at once (a provider posts from many servers, each on its own connection). */
  connections: number,
): Promise<IngestRow[]> {
  const key = createPrivateKey(stack.sendgridSigningKeyPem);
  const api = apiUrl ? 'own process' : 'shared process';
  const rows: IngestRow[] = [];
  for (const batchSize of batchSizes)
    for (const size of sizes) {
      const dispatchId = `ingest-${size}-${batchSize}-${connections}-${Date.now()}`;
      const emails = Array.from({ length: size }, (_, i) => `r${i}+silent@scale.test`);
      const res = await stack.request('POST', '/v1/dispatches', purchaseOrder(dispatchId, emails));
      if (res.status !== 202) throw new Error(`dispatch ${dispatchId}: ${res.status} ${JSON.stringify(res.body)}`);
      // Every recipient reached the sandbox and its `processed` event reached Relais.
      const sent = await stack.waitFor(
        `${size} recipients sent`,
        async () => {
          const messages = stack.sandbox
            .messages()
            .filter((m) => m.customArgs && Object.values(m.customArgs).includes(dispatchId));
          return messages.length === size && messages.every((m) => m.events.every((e) => e.outcome === 'delivered'))
            ? messages
            : undefined;
        },
        300_000,
      );
      await sleep(2000); // the workflow's own writes after `processed` settle
      const events = sent.flatMap((m, i) =>
        Array.from({ length: eventsPerRecipient }, (_, n) => ({
          email: m.to,
          timestamp: Math.floor(Date.now() / 1000),
          event: 'deferred',
          attempt: String(n + 1),
          response: '451 4.2.0 mailbox temporarily unavailable',
          sg_event_id: `${dispatchId}-${i}-${n}`,
          sg_message_id: `${m.providerMessageId}.${i}`,
          ...m.customArgs,
        })),
      );
      const batches: unknown[][] = [];
      for (let i = 0; i < events.length; i += batchSize) batches.push(events.slice(i, i + batchSize));
      say(`  ${size} recipients: posting ${events.length} events in ${batches.length} signed batches`);
      times.take();
      times.recording = true;
      const started = Date.now();
      let next = 0;
      let accepted = 0;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (next < batches.length) {
            const batch = batches[next++];
            for (let attempt = 0; !(await postEvents(stack, key, batch, apiUrl)); attempt += 1) {
              if (attempt > 20) throw new Error('the API keeps refusing a batch');
              await sleep(500);
            }
            accepted += batch.length;
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      say(`  accepted ${accepted} events in ${seconds.toFixed(1)} s: ${(accepted / seconds).toFixed(0)} /s; applying…`);
      // Applied: the inbox holds a request until its events are stored and signalled.
      // Polled twice a second, by one small read: a count every 100 ms would itself load the store it measures.
      for (const deadline = Date.now() + 600_000; await stack.db.WebhookInbox.exists({}); await sleep(500))
        if (Date.now() > deadline) throw new Error('the inbox still holds requests after 10 minutes');
      const appliedSeconds = (Date.now() - started) / 1000;
      const stored = await stack.db.DispatchEvent.countDocuments({
        tenantId: stack.tenantId,
        dispatchId,
        event: 'deferred',
      });
      if (stored !== events.length) throw new Error(`${stored} of ${events.length} events stored once applied`);
      // Let the workflow take what was signalled before reading what its activities cost.
      await stack.waitFor(
        'the workflow idle',
        async () => {
          const handle = stack.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, dispatchId));
          const d = await handle.describe();
          return (d.raw.pendingActivities ?? []).length === 0 && !d.raw.pendingWorkflowTask ? true : undefined;
        },
        600_000,
      );
      await sleep(1000);
      times.recording = false;
      const row: IngestRow = {
        api,
        connections,
        recipients: size,
        events: accepted,
        batch: batchSize,
        seconds,
        perSecond: accepted / seconds,
        appliedPerSecond: accepted / appliedSeconds,
        activities: times.take(),
        load: load(),
      };
      rows.push(row);
      say(
        `  API in its ${api}, ${size} recipients, ${batchSize} a request, ${connections} at once: ${row.perSecond.toFixed(0)} events/s accepted, ${row.appliedPerSecond.toFixed(0)} applied (load ${row.load}); ${row.activities.map((a) => `${a.type} ×${a.calls} mean ${a.meanMs.toFixed(1)} ms`).join(', ')}`,
      );
      await stack.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, dispatchId)).terminate('benchmark done');
    }
  return rows;
}

/**
 * D4 escalation latency: dispatches to one `+bounce` address each (one at a time); for each, from
 * the moment the sandbox's bounce webhook was accepted by Relais to the moment the escalation to
 * the buyer reached the sandbox (accepted by the provider).
 */
export async function benchBounceToEscalation(
  stack: Stack,
  count: number,
  say: (msg: string) => void,
): Promise<{ p50: number; p99: number; samples: number[] }> {
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const dispatchId = `bounce-${i}-${Date.now()}`;
    const res = await stack.request(
      'POST',
      '/v1/dispatches',
      purchaseOrder(dispatchId, [`supplier${i}+bounce@acme.test`]),
    );
    if (res.status !== 202) throw new Error(`dispatch ${dispatchId}: ${res.status} ${JSON.stringify(res.body)}`);
    const bouncedAt = await stack.waitFor(
      'the bounce accepted by Relais',
      async () => {
        const m = stack.sandbox
          .messages({ to: `supplier${i}+bounce@acme.test` })
          .find((x) => x.customArgs && Object.values(x.customArgs).includes(dispatchId));
        const ok = m?.events
          .find((e) => e.type === 'bounce')
          ?.deliveries.find((d) => d.status !== null && d.status < 300);
        return ok ? Date.parse(ok.at) : undefined;
      },
      120_000,
    );
    const escalatedAt = await stack.waitFor(
      'the escalation at the provider',
      async () => {
        const m = stack.sandbox
          .messages({ to: 'bruno.buyer@bistro.test' })
          .find((x) => x.categories?.includes('dispatch_escalation') && (x.text ?? '').includes(`PO-${dispatchId}`));
        return m ? Date.parse(m.receivedAt) : undefined;
      },
      120_000,
    );
    samples.push(escalatedAt - bouncedAt);
    if ((i + 1) % 10 === 0) say(`  bounce → escalation: ${i + 1}/${count}`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { p50: pct(50), p99: pct(99), samples };
}
