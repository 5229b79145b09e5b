// Webhooks the sandbox sends back, signed as the providers sign them, and retried as SendGrid
// retries them: any answer other than 2xx, or no answer, is tried again after an exponential
// backoff, a bounded number of times. Every attempt is recorded on the events it carried.
// First attempts go out in the order the events happened (per SendGrid webhook, per Twilio
// message), one at a time; retries are not held back, so a retried event can arrive after a
// later one, as with the real providers.
import { sign, type KeyObject } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import twilio from 'twilio';
import type { SandboxEvent } from './store';

/** Owns every timer and in-flight request of one sandbox, so close() stops them all. */
export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controller = new AbortController();
  private inflight = 0;
  // Every webhook request under way listens on the one close signal: many at once are normal.
  constructor() {
    setMaxListeners(0, this.controller.signal);
  }
  closed = false;
  /** Keep-alive connections of this sandbox's webhooks, closed with it. */
  readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  /** Aborted on close: in-flight webhook requests stop with it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.closed) fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inflight += 1;
    try {
      return await work();
    } finally {
      this.inflight -= 1;
    }
  }

  /** True while something is scheduled or a request is under way. */
  get busy(): boolean {
    return this.timers.size > 0 || this.inflight > 0;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.controller.abort();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

export interface RetryPolicy {
  /** Wait before the second attempt; doubled each time after. */
  firstDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  body: string;
  contentType?: string;
}

/**
 * One POST; rejects on network failure, timeout or close. node:http rather than fetch: fetch
 * refuses some ports outright (6000, 6665 …), which a provider would not.
 */
export function postOnce(
  scheduler: Scheduler,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const https = target.protocol === 'https:';
    const options = {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      signal: scheduler.signal,
      timeout: timeoutMs,
    };
    const onAnswer = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          contentType: res.headers['content-type'],
        }),
      );
    };
    const req = https
      ? httpsRequest(target, { ...options, agent: scheduler.agents.https }, onAnswer)
      : httpRequest(target, { ...options, agent: scheduler.agents.http }, onAnswer);
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9`. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.cause?.code || e?.cause?.message) return `${e.cause.code ?? e.name}: ${e.cause.message ?? e.message}`;
  return `${e?.code ?? e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}

export class WebhookDeliverer {
  private readonly pending = new Set<SandboxEvent[]>();
  /** The last first-attempt of each in-order line (see deliver). */
  private readonly lines = new Map<string, Promise<void>>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly policy: RetryPolicy,
  ) {}

  /** Delay before attempt `n + 1` after attempt `n` failed. */
  backoff(n: number): number {
    return Math.min(this.policy.maxDelayMs, this.policy.firstDelayMs * 2 ** (n - 1));
  }

  /**
   * Runs `attempt` (which builds, signs and POSTs the webhook, returning the HTTP status) until the
   * receiver answers 2xx or the attempts run out, recording each attempt on every event in `events`.
   */
  deliver(events: SandboxEvent[], attempt: (n: number) => Promise<number>, options: { inOrder?: string } = {}): void {
    this.pending.add(events);
    if (!options.inOrder) {
      this.run(events, attempt, 1);
      return;
    }
    // First attempts with the same `inOrder` key go one after the other, so a receiver sees them in
    // the order they were emitted; a retry waits for no one, so later events may arrive before it
    // (as with the real providers).
    const key = options.inOrder;
    const next = (this.lines.get(key) ?? Promise.resolve()).then(
      () => new Promise<void>((resolve) => this.run(events, attempt, 1, resolve)),
    );
    this.lines.set(key, next);
    void this.scheduler
      .track(() => next)
      .finally(() => {
        if (this.lines.get(key) === next) this.lines.delete(key);
      });
  }

  private run(
    events: SandboxEvent[],
    attempt: (n: number) => Promise<number>,
    n: number,
    attempted?: () => void,
  ): void {
    if (this.scheduler.closed) {
      attempted?.();
      return;
    }
    void this.scheduler.track(async () => {
      let status: number | null = null;
      let error: string | undefined;
      try {
        status = await attempt(n);
      } catch (err) {
        error = describeError(err);
      }
      attempted?.();
      if (this.scheduler.closed) return;
      const at = new Date().toISOString();
      for (const e of events) e.deliveries.push({ at, attempt: n, status, ...(error ? { error } : {}) });
      const done = status !== null && status >= 200 && status < 300;
      if (done || n >= this.policy.maxAttempts) {
        for (const e of events) e.outcome = done ? 'delivered' : 'gave_up';
        this.pending.delete(events);
        return;
      }
      this.scheduler.later(this.backoff(n), () => this.run(events, attempt, n + 1));
    });
  }

  /** On close: whatever was still waiting is marked cancelled. */
  cancelAll(): void {
    for (const events of this.pending) for (const e of events) if (e.outcome === 'pending') e.outcome = 'cancelled';
    this.pending.clear();
  }
}

/** SendGrid's Event Webhook signature: ECDSA P-256 over SHA-256 of `timestamp + body`, base64 DER. */
export function signSendGridPayload(timestamp: string, body: string, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');
}

/**
 * SendGrid's Event Webhook: events that fall due within `batchWindowMs` of each other (any
 * recipients, any messages) go out together as one JSON array, at most `maxBatch` per POST.
 * The body ends with CRLF, as SendGrid's does; each attempt is signed with a fresh timestamp.
 */
export class SendGridEventStream {
  private queue: SandboxEvent[] = [];
  private flushScheduled = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly deliverer: WebhookDeliverer,
    private readonly options: {
      url: string;
      privateKey: KeyObject;
      batchWindowMs: number;
      maxBatch: number;
      timeoutMs: number;
    },
  ) {}

  emit(record: SandboxEvent): void {
    this.queue.push(record);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.scheduler.later(this.options.batchWindowMs, () => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += this.options.maxBatch) {
      const batch = all.slice(i, i + this.options.maxBatch);
      const body = `${JSON.stringify(batch.map((r) => r.payload))}\r\n`;
      this.deliverer.deliver(
        batch,
        async () => {
          const timestamp = String(Math.floor(Date.now() / 1000));
          const answer = await postOnce(
            this.scheduler,
            this.options.url,
            body,
            {
              'content-type': 'application/json',
              'user-agent': 'SendGrid Event API',
              'x-twilio-email-event-webhook-signature': signSendGridPayload(timestamp, body, this.options.privateKey),
              'x-twilio-email-event-webhook-timestamp': timestamp,
            },
            this.options.timeoutMs,
          );
          return answer.status;
        },
        { inOrder: 'sendgrid' },
      );
    }
  }
}

/** Form body and `X-Twilio-Signature` of a Twilio webhook to `url` (signed over the exact URL, query included). */
export function signedTwilioForm(
  authToken: string,
  url: string,
  params: Record<string, string>,
): { body: string; headers: Record<string, string> } {
  return {
    body: new URLSearchParams(params).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'user-agent': 'TwilioProxy/1.1',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params),
    },
  };
}
