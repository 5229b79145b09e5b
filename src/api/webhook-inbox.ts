// Issue 15: the durable webhook inbox. A provider's request, once its signature and its shape
// hold, is stored once as the bytes that were signed (one small write, `webhook_inbox`) and
// answered 2xx; this process then applies it behind the answer, from memory (nothing read back),
// a few requests at a time (those about the same address one after the other, in the order they
// came), and deletes it. What a process accepted and did not apply (a crash, a
// shutdown past its bound) stays stored: every process sweeps the inbox at start and periodically
// and takes what no process holds any more. Applying a request twice is harmless (event-ingest.ts),
// so a slow process overtaken by a sweep costs work, never a wrong state.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../db/models';
import { metrics } from '../metrics';

/** How long a process holds a request it took before any other process's sweep may take it (renewed while it holds it). */
export const INBOX_LEASE_MS = 30_000;
/** How often each process looks for requests nobody holds (a crashed process's). */
export const INBOX_SWEEP_EVERY_MS = 10_000;
/** Requests applied at once by one process. */
export const INBOX_DRAIN_CONCURRENCY = 8;
/** A failed application is retried after 0.5 s, doubling up to this. */
export const INBOX_RETRY_MAX_MS = 30_000;
/** What the provider is told to wait when the inbox is full (SendGrid retries any non-2xx on its own schedule). */
export const INBOX_RETRY_AFTER_SECONDS = 10;

/** How much accepted, unapplied work one process holds in memory before it answers 503 (ApiLimits.webhookInbox). */
export interface InboxBound {
  maxPendingRequests: number;
  maxPendingBytes: number;
}

export interface InboxEntry<T> {
  /** The inbox document's `_id`. */
  id: string;
  /** The request's id, the same whichever process applies it. */
  requestId: string;
  receivedAt: Date;
  batch: T;
}

interface Log {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

type StoredRequest = { _id: string; requestId: string; body: string; receivedAt: Date };

export type Accepted = { accepted: true } | { accepted: false; pendingRequests: number; pendingBytes: number };

export interface WebhookInbox<T> {
  /** Stores the request and queues it; `accepted: false` (nothing stored) past the bound or while closing. */
  accept(body: string, batch: T): Promise<Accepted>;
  /** Takes the requests whose lease expired (as many as the bound has room for) and queues them; returns how many. */
  sweep(): Promise<number>;
  /** Sweeps now and every INBOX_SWEEP_EVERY_MS; renews the lease of what this process holds. */
  start(): void;
  /** Stops taking work and waits up to `timeoutMs` for what is held to be applied; the rest is left to a sweep. */
  close(timeoutMs: number): Promise<void>;
}

export function createWebhookInbox<T>(options: {
  db: Db;
  provider: 'sendgrid';
  bound: InboxBound;
  /**
   * What orders a request's application after earlier ones (e.g. the addresses its events are
   * about): requests sharing a key are applied one after the other, in the order they were taken;
   * the others at once, up to INBOX_DRAIN_CONCURRENCY.
   */
  orderKeys(batch: T): string[];
  /** A stored body read back by a sweep (its signature was checked when it was accepted); undefined if it no longer parses. */
  parse(body: string): T | undefined;
  apply(entry: InboxEntry<T>): Promise<void>;
  log: Log;
  leaseMs?: number;
  sweepEveryMs?: number;
}): WebhookInbox<T> {
  const { db, provider, bound, log } = options;
  const leaseMs = options.leaseMs ?? INBOX_LEASE_MS;
  const sweepEveryMs = options.sweepEveryMs ?? INBOX_SWEEP_EVERY_MS;
  const owner = randomUUID();
  // Reached when used: a server built only to describe its routes has no store.
  const inbox = () => db.WebhookInbox.collection;
  /** Everything this process holds (stored, queued or being applied), by id: its size in bytes. */
  const held = new Map<string, number>();
  let heldBytes = 0;
  const queue: Array<InboxEntry<T>> = [];
  let applying = 0;
  let closing = false;
  const abandon = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let idle: (() => void) | undefined;

  const hasRoom = (bytes: number) => held.size < bound.maxPendingRequests && heldBytes + bytes <= bound.maxPendingBytes;
  const hold = (id: string, bytes: number) => {
    held.set(id, bytes);
    heldBytes += bytes;
  };
  const release = (id: string) => {
    heldBytes -= held.get(id) ?? 0;
    held.delete(id);
    if (!held.size) idle?.();
  };
  const leaseFromNow = () => new Date(Date.now() + leaseMs);

  /** Applies one request until it is applied and deleted; a failure waits and tries again (never dropped). */
  async function drain(entry: InboxEntry<T>) {
    let applied = false;
    for (let attempt = 0; !abandon.signal.aborted; attempt += 1) {
      try {
        if (!applied) await options.apply(entry);
        applied = true;
        await inbox().deleteOne({ _id: entry.id as never });
        return;
      } catch (err) {
        metrics.webhookInboxRetries.inc({ provider });
        const waitMs = Math.min(INBOX_RETRY_MAX_MS, 500 * 2 ** attempt);
        log.warn({ err, request: entry.id, attempt, retryInMs: waitMs }, 'webhook request not applied yet; retrying');
        await sleep(waitMs, undefined, { signal: abandon.signal }).catch(() => undefined);
      }
    }
  }

  /** Per order key: when the last request taken with it is applied. */
  const lastWith = new Map<string, Promise<void>>();

  function pump() {
    while (applying < INBOX_DRAIN_CONCURRENCY && queue.length && !abandon.signal.aborted) {
      const entry = queue.shift()!;
      applying += 1;
      const keys = [...new Set(options.orderKeys(entry.batch))];
      // drain() never rejects: a failure is retried inside it.
      const done = Promise.all(keys.map((k) => lastWith.get(k))).then(() => drain(entry));
      for (const k of keys) lastWith.set(k, done);
      void done.finally(() => {
        for (const k of keys) if (lastWith.get(k) === done) lastWith.delete(k);
        applying -= 1;
        release(entry.id);
        pump();
      });
    }
  }

  function enqueue(entry: InboxEntry<T>) {
    queue.push(entry);
    pump();
  }

  /**
   * Takes a request nobody holds by moving it: a copy under a new id that this process holds, then
   * the original deleted. Only one process deletes a document (the store says how many it
   * deleted), so only one applies it; the others delete their copy. A crash between the two steps
   * leaves both, each applied once more: harmless.
   */
  async function take(doc: StoredRequest) {
    const id = randomUUID();
    await inbox().insertOne({
      _id: id as never,
      requestId: doc.requestId,
      provider,
      body: doc.body,
      receivedAt: doc.receivedAt,
      leaseUntil: leaseFromNow(),
      owner,
    });
    const { deletedCount } = await inbox().deleteOne({ _id: doc._id as never });
    if (deletedCount === 1) return id;
    await inbox().deleteOne({ _id: id as never });
    return undefined;
  }

  let sweeping: Promise<number> | undefined;
  /** One sweep at a time in a process (a slow one is not overlapped by the next tick). */
  function sweep() {
    sweeping ??= sweepOnce().finally(() => (sweeping = undefined));
    return sweeping;
  }

  async function sweepOnce() {
    if (closing) return 0;
    const room = bound.maxPendingRequests - held.size;
    if (room <= 0) return 0;
    const expired = (await db.WebhookInbox.find({ provider, leaseUntil: { $lt: new Date() } })
      .sort({ receivedAt: 1 })
      .limit(room)
      .lean()) as StoredRequest[];
    let taken = 0;
    for (const doc of expired) {
      const bytes = Buffer.byteLength(doc.body);
      if (closing || !hasRoom(bytes)) break;
      const batch = options.parse(doc.body);
      if (batch === undefined) {
        log.error({ request: doc._id }, 'a stored webhook request no longer parses; left in the inbox');
        continue;
      }
      const id = await take(doc);
      if (!id) continue;
      hold(id, bytes);
      enqueue({ id, requestId: doc.requestId, receivedAt: doc.receivedAt, batch });
      taken += 1;
    }
    if (taken) log.info({ taken, provider }, 'webhook requests taken over from the inbox');
    return taken;
  }

  /** What this process holds stays its own while it works through it. */
  async function renewLeases() {
    if (!held.size) return;
    await inbox().updateMany({ _id: { $in: [...held.keys()] as never[] } }, { $set: { leaseUntil: leaseFromNow() } });
  }

  return {
    async accept(body, batch) {
      const bytes = Buffer.byteLength(body);
      if (closing || !hasRoom(bytes)) {
        metrics.webhookInboxRefusals.inc({ provider });
        return { accepted: false, pendingRequests: held.size, pendingBytes: heldBytes };
      }
      const id = randomUUID();
      const receivedAt = new Date();
      hold(id, bytes); // counted from now: requests arriving together cannot overshoot the bound
      try {
        await inbox().insertOne({
          _id: id as never,
          requestId: id,
          provider,
          body,
          receivedAt,
          leaseUntil: leaseFromNow(),
          owner,
        });
      } catch (err) {
        release(id);
        throw err;
      }
      enqueue({ id, requestId: id, receivedAt, batch });
      return { accepted: true };
    },
    sweep,
    start() {
      const every = (ms: number, what: string, run: () => Promise<unknown>) => {
        const timer = setInterval(() => void run().catch((err) => log.warn({ err }, what)), ms);
        timer.unref();
        timers.push(timer);
      };
      void sweep().catch((err) => log.warn({ err }, 'webhook inbox sweep failed'));
      every(sweepEveryMs, 'webhook inbox sweep failed', sweep);
      every(Math.max(1, Math.floor(leaseMs / 3)), 'webhook inbox lease renewal failed', renewLeases);
    },
    async close(timeoutMs) {
      closing = true;
      timers.forEach(clearInterval);
      if (held.size) {
        const drained = new Promise<void>((resolve) => (idle = resolve));
        await Promise.race([drained, sleep(timeoutMs, undefined, { ref: false })]);
      }
      if (held.size)
        log.warn(
          { left: held.size, provider },
          'stopping with webhook requests not applied: they stay in the inbox for any process to take',
        );
      abandon.abort();
    },
  };
}
