// The fault suite (issue 7): six faults, one after the other, against one stack of real
// processes (test/faults/stack.ts), each under a steady stream of dispatches and orders
// (test/faults/load.ts). After each: every accepted request reached its final state and every
// expected message reached the provider exactly once — or, after a kill -9 of the worker, twice
// at most inside the documented duplicate window (N4). Recovery times are measured and printed,
// not asserted. The table goes to test/artifacts/faults.md (docs/reliability.md quotes a run).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { signSendGridPayload } from '../../src/sandbox/webhooks';
import { createPrivateKey } from 'node:crypto';
import { ROOT } from '../../scripts/lib/processes';
import { HANG_MS, Load, type Answer } from './load';
import { countPhase, drain, markFinished, messagesByItem, table, type Row } from './ledger';
import { startFaultStack, type FaultStack } from './stack';
import { timestampMs } from '../support/timestamps';
import { dispatchView } from '../../src/api/dispatch-views';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The longest wait a fault should leave is a send's retry delay (as long as it had been failing:
// about a minute here) or a killed send's one-minute start-to-close timeout. Three minutes is
// that with room; a send backing off by attempt number waits 5 minutes after a 429 storm and fails.
const DRAIN_MS = 3 * 60_000;
/** Progress on stderr as it happens (jest holds console output until the file ends): a stall shows where. */
const trace = (message: string) => {
  process.stderr.write(`[faults ${new Date().toISOString()}] ${message}\n`);
};

let stack: FaultStack;
let load: Load;
const rows: Row[] = [];
const kills: number[] = [];
let polling = true;
let poller: Promise<void>;
const suiteStarted = Date.now();

beforeAll(async () => {
  stack = await startFaultStack();
  load = new Load(stack);
  // finishedAt is only as precise as this loop: one look a second.
  poller = (async () => {
    while (polling) {
      await markFinished(stack, load.items);
      await sleep(1000);
    }
  })();
}, 300_000);

afterAll(async () => {
  polling = false;
  // Bounded: a failed phase may leave requests hanging; the report and the clean-up come first.
  // (an unref'd timer: once the race is won it must not keep jest alive for its 30 s)
  await Promise.race([Promise.all([load?.stop(), poller]), new Promise((r) => setTimeout(r, 30_000).unref())]);
  if (rows.length) {
    const report = [
      `Fault suite, ${new Date().toISOString()}, ${cpus().length} cores, ${((Date.now() - suiteStarted) / 1000).toFixed(0)} s`,
      '',
      table(rows),
      '',
    ].join('\n');
    console.log(`\n${report}`);
    mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true });
    writeFileSync(join(ROOT, 'test', 'artifacts', 'faults.md'), report);
  }
  await stack?.close();
}, 120_000);

/**
 * One fault under load: 5 s of steady stream, the fault (which resolves with the moment it ended:
 * the component back), 5 s more stream, then the backlog drains and the phase is counted.
 */
async function underLoad(
  fault: string,
  inject: () => Promise<{ end: number; notes?: string }>,
  options: { streamForMs?: number } = {},
): Promise<ReturnType<typeof countPhase> & { answers: Answer[] }> {
  const from = load.items.length;
  const phaseStarted = Date.now();
  trace(`${fault}: stream on`);
  load.start(fault);
  await sleep(5000);
  // A fault that lasts as long as the system takes to absorb it (the burst) gets a stream of bounded length.
  const capped = options.streamForMs ? sleep(options.streamForMs).then(() => load.stop()) : undefined;
  const { end, notes = '' } = await inject();
  trace(`${fault}: fault over`);
  await sleep(5000);
  await load.stop();
  await capped;
  const items = load.items.slice(from);
  trace(`${fault}: stream off, ${items.length} requests; draining`);
  await drain(stack, items, DRAIN_MS, trace);
  const byItem = messagesByItem(stack.sandbox);
  // Refused requests whose work was done anyway (an answer lost in a crash): a platform retries them with the same id (200, created: false).
  const refusedButDone = items.filter((i) => i.acceptedAt === undefined && byItem.has(i.id)).length;
  const answers = load.answers.filter((a) => a.phase === fault);
  const refusals = refusalsByKind(answers);
  if (answers.some((a) => a.status === 503))
    trace(`${fault}: what the API logged about its 503s\n${unavailableLog(phaseStarted, end)}`);
  const row = countPhase(
    fault,
    items,
    byItem,
    { end, kills },
    [notes, refusedButDone ? `${refusedButDone} refused request(s) had been applied (answer lost)` : '', refusals]
      .filter(Boolean)
      .join('; '),
  );
  rows.push(row);
  return { ...row, answers };
}

/** Refusals by what they said, e.g. "refused: 12× 503 mongodb, 3× no connection": which dependency a phase waited on. */
function refusalsByKind(answers: Answer[]): string {
  const kinds = new Map<string, number>();
  for (const a of answers) {
    if (a.status !== null && a.status < 300) continue;
    const kind =
      a.status === null
        ? `no answer (${a.error})`
        : `${a.status} ${a.body?.error?.details?.dependency ?? a.body?.error?.code ?? ''}`.trim();
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return kinds.size ? `refused: ${[...kinds].map(([k, n]) => `${n}× ${k}`).join(', ')}` : '';
}

/** The API's log lines with this message (pino's JSON: `"msg":"…"`), from the output the stack keeps. */
const apiLog = (msg: string): string[] =>
  (stack.api()?.output().split('\n') ?? []).filter((l) => l.includes(`"msg":"${msg}"`));

/**
 * The API's "dependency unavailable" warnings since `since`, by error, with when each kind was
 * first and last seen relative to the fault's end: which error a lingering 503 carries.
 */
function unavailableLog(since: number, end: number): string {
  const kinds = new Map<string, { n: number; first: number; last: number }>();
  for (const line of apiLog('dependency unavailable')) {
    let entry: { time?: number; err?: { type?: string; message?: string; code?: unknown } };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (!entry.time || entry.time < since) continue;
    const kind = `${entry.err?.type}${entry.err?.code !== undefined ? `(${String(entry.err.code)})` : ''}: ${String(entry.err?.message).slice(0, 160)}`;
    const k = kinds.get(kind) ?? { n: 0, first: entry.time, last: entry.time };
    kinds.set(kind, { n: k.n + 1, first: Math.min(k.first, entry.time), last: Math.max(k.last, entry.time) });
  }
  const rel = (t: number) => `${((t - end) / 1000).toFixed(1)} s`;
  return (
    [...kinds]
      .map(([kind, k]) => `  ${k.n}× ${kind} (from ${rel(k.first)} to ${rel(k.last)} after the fault's end)`)
      .join('\n') || '  (none in the kept output)'
  );
}

/** A history event by what it is (its one `…EventAttributes` field set), e.g. `activityTaskScheduled`. */
const eventName = (e: object): string =>
  Object.entries(e)
    .find(([k, v]) => k.endsWith('EventAttributes') && v)?.[0]
    .replace(/EventAttributes$/, '') ?? 'unknown';

const iso = (t: Parameters<typeof timestampMs>[0]) => {
  const ms = timestampMs(t);
  return ms === null ? null : new Date(ms).toISOString();
};

/**
 * Where a lost item stands: its workflow (status, pending activities with their attempts, last
 * failure and next attempt, the last history events), what the Temporal server logged about it,
 * its MongoDB record, and what the Relais processes logged about it.
 */
async function whereItStands(id: string, kind: 'dispatch' | 'order', serverLog: string[]): Promise<string> {
  const lines: string[] = [`${kind} ${id}:`];
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const handle = new Client({ connection }).workflow.getHandle(`${kind}/${stack.tenantId}/${id}`);
    const d = await handle.describe();
    lines.push(
      `  workflow ${d.status.name}, pending activities: ${JSON.stringify(
        (d.raw.pendingActivities ?? []).map((a) => ({
          type: a.activityType?.name,
          state: a.state,
          attempt: a.attempt,
          lastFailure: a.lastFailure?.message,
          lastWorker: a.lastWorkerIdentity,
          lastStarted: iso(a.lastStartedTime),
          scheduled: iso(a.scheduledTime),
          nextAttempt: iso(a.nextAttemptScheduleTime),
        })),
      )} (now ${new Date().toISOString()})`,
    );
    const history = await handle.fetchHistory();
    lines.push(
      `  last events: ${(history.events ?? [])
        .slice(-12)
        .map((e) => `${e.eventId} ${eventName(e)} ${iso(e.eventTime)}`)
        .join(', ')}`,
    );
  } catch (err) {
    lines.push(`  workflow: ${(err as Error).message}`);
  } finally {
    await connection.close();
  }
  const server = serverLog.filter((l) => new RegExp(`/${id}(\\s|"|$)`).test(l));
  lines.push(
    `  Temporal server: ${server.length} line(s) about ${id}${
      server.length
        ? `:\n    ${server
            .slice(-8)
            .map((l) => l.slice(0, 600))
            .join('\n    ')}`
        : ''
    }`,
  );
  const record =
    kind === 'dispatch' ? await dispatchView(stack.db, stack.tenantId, id, { from: 0, limit: 10 }) : undefined;
  if (record)
    lines.push(
      `  record: ${JSON.stringify({ result: record.result, recipients: record.recipients.map((r) => ({ status: r.status, history: r.history.map((h) => `${h.event}:${h.status}`) })) })}`,
    );
  for (const p of [stack.api()!, ...stack.workers()]) {
    const output = p.output();
    // Relais processes log JSON (pino), the SDK's lines included: `"workflowId":"dispatch/<tenant>/<id>"`.
    const about = output
      .split('\n')
      .filter((l) => l.includes(`/${id}"`))
      .slice(-8);
    const stuck = output.split('monitor stuck').length - 1;
    lines.push(
      `  ${p.name}: ${stuck} stuck monitor(s); about ${id}:${about.length ? `\n    ${about.map((l) => l.slice(0, 600)).join('\n    ')}` : ' nothing'}`,
    );
  }
  return lines.join('\n');
}

/** The Temporal server's warnings and errors, counted by message, with the first and last time each was seen. */
function serverLogSummary(serverLog: string[]): string {
  const seen = new Map<string, { n: number; first: string; last: string }>();
  for (const line of serverLog) {
    // The dev server logs slog's text form: time=… level=WARN msg="…" key=value …
    const m = /^time=(\S+) level=(\w+) msg=("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
    if (!m) continue;
    const key = `${m[2]} ${m[3]}`;
    const entry = seen.get(key) ?? { n: 0, first: m[1], last: m[1] };
    entry.n += 1;
    entry.last = m[1];
    seen.set(key, entry);
  }
  return (
    [...seen].map(([msg, e]) => `  ${e.n} × ${msg.slice(0, 200)} (${e.first} … ${e.last})`).join('\n') || '  nothing'
  );
}

/** What every phase must show: nothing lost, no duplicate outside the N4 window, refusals that are answers. */
async function expectClean(r: Awaited<ReturnType<typeof underLoad>>) {
  expect(r.accepted).toBeGreaterThan(0);
  if (r.lostIds.length) {
    const serverLog = stack.temporalLog().split('\n');
    for (const id of r.lostIds)
      trace(
        await whereItStands(id, id.startsWith('d-') ? 'dispatch' : 'order', serverLog).catch(
          (err) => `${id}: no diagnostics (${(err as Error).message})`,
        ),
      );
    trace(`what the Temporal server logged (warn and above), by message:\n${serverLogSummary(serverLog)}`);
  }
  expect({ lost: r.lostIds, where: r.lostDetails }).toEqual({ lost: [], where: [] });
  expect({
    duplicatedOutsideWindow: r.duplicated - r.inWindow,
    where: r.duplicated > r.inWindow ? r.duplicateDetails : [],
  }).toEqual({ duplicatedOutsideWindow: 0, where: [] });
  // A dependency down is a 503 in the API's error shape, not a 500 and not a hang; a dead API
  // refuses the connection; a retried order event may find itself already applied (409).
  const bad = r.answers.filter((a) =>
    a.status === null
      ? a.error === 'hung'
      : a.status >= 300 &&
        !(a.status === 409 && a.path.endsWith('/events')) &&
        !(a.status === 503 && typeof a.body?.error?.code === 'string' && typeof a.body?.error?.message === 'string'),
  );
  // What the API logged about a 500 says which error went unrecognised.
  if (bad.some((a) => a.status === 500)) trace(`API errors:\n${apiLog('unhandled error').join('\n')}`);
  expect(bad.map(({ path, status, ms, body, error }) => ({ path, status, ms, body, error }))).toEqual([]);
}

test('1. kill -9 of the worker mid-send, then a new worker (N4)', async () => {
  const r = await underLoad('1. worker kill -9 mid-send', async () => {
    // Mid-send by construction: the moment the provider has just taken a message.
    const seen = stack.sandbox.messages().length;
    while (stack.sandbox.messages().length === seen) await sleep(5);
    const worker = stack.workers().at(-1)!;
    kills.push(Date.now());
    await stack.stop(worker, 'SIGKILL');
    await stack.startWorker(); // bundles its workflows first: the outage is that long
    return { end: Date.now() };
  });
  await expectClean(r);
}, 600_000);

test('2. the Temporal dev server restarted (SQLite file) mid-run', async () => {
  const r = await underLoad('2. Temporal restart', async () => {
    await stack.stopTemporal();
    await stack.startTemporal();
    return { end: Date.now() };
  });
  await expectClean(r);
}, 600_000);

test('3. the MongoDB-wire server (FerretDB) stopped for 30 s', async () => {
  const r = await underLoad('3. FerretDB down 30 s', async () => {
    await stack.stopFerret();
    await sleep(30_000);
    await stack.startFerret();
    return { end: Date.now() };
  });
  await expectClean(r);
}, 600_000);

// 500s after 429s are the hard case: Temporal counts the rate-limited attempts too, so a send
// that backed off by attempt number would wait 5 minutes after the last 500 (domain/retry.ts).
test('4. the providers answer 500, then 429, then 500 again, for a minute', async () => {
  const r = await underLoad('4. providers 500/429/500 for 60 s', async () => {
    for (const fault of [{ status: 500 }, { status: 429, retryAfterSeconds: 5 }, { status: 500 }] as const) {
      stack.sandbox.clearFaults();
      stack.sandbox.fault({ provider: 'any', count: 1_000_000, ...fault });
      await sleep(20_000);
    }
    stack.sandbox.clearFaults();
    return { end: Date.now() };
  });
  await expectClean(r);
}, 600_000);

test('5. the API killed and restarted while webhooks arrive (the sandbox retries them, as SendGrid does)', async () => {
  const before = webhookGaveUp();
  const r = await underLoad('5. API kill -9 + restart', async () => {
    await stack.stop(stack.api()!, 'SIGKILL');
    await stack.startApi();
    return { end: Date.now() };
  });
  await expectClean(r);
  expect(webhookGaveUp()).toBe(before); // no webhook given up on: every one was retried until taken
}, 600_000);

/** Webhook events the sandbox stopped retrying (should stay 0: Relais answers 2xx once it has them). */
function webhookGaveUp(): number {
  return stack.sandbox
    .messages()
    .flatMap((m) => m.events)
    .filter((e) => e.outcome === 'gave_up').length;
}

test('6. a burst of 10,000 SendGrid events, a third of them duplicates (N3: a replay changes nothing)', async () => {
  // Ten delivered dispatches of the earlier phases (still listening, D7) receive 10,000 signed
  // `open` events — 6,667 unique, 3,333 replays, shuffled — in ten POSTs of 1000, four at a time,
  // while the stream runs. Few targets: each POST signals each of them once.
  const targets = load.items.filter((i) => i.kind === 'dispatch' && i.finishedAt !== undefined).slice(0, 10);
  expect(targets.length).toBeGreaterThanOrEqual(5);
  const TOTAL = 10_000;
  const BATCH = 1000;
  const UNIQUE = Math.round((TOTAL * 2) / 3);
  const key = createPrivateKey(stack.sendgridSigningKeyPem);
  let postsRefused = 0;
  let lastAnswered = 0;
  const post = async (batch: unknown[]) => {
    const body = `${JSON.stringify(batch)}\r\n`;
    for (let attempt = 1; ; attempt += 1) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const res = await fetch(`${stack.apiUrl}/webhooks/sendgrid`, {
        method: 'POST',
        signal: AbortSignal.timeout(HANG_MS),
        body,
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-signature': signSendGridPayload(timestamp, body, key),
          'x-twilio-email-event-webhook-timestamp': timestamp,
        },
      }).catch(() => undefined);
      if (res?.ok) {
        lastAnswered = Date.now();
        return;
      }
      postsRefused += 1; // retried as SendGrid retries
      if (attempt >= 20) throw new Error(`burst batch refused 20 times (last: ${res?.status})`);
      await sleep(1000);
    }
  };

  const r = await underLoad(
    '6. burst: 10,000 webhook events',
    async () => {
      const now = Math.floor(Date.now() / 1000);
      const unique = Array.from({ length: UNIQUE }, (_, n) => {
        const t = targets[n % targets.length];
        return {
          email: `${t.id}@acme.test`,
          timestamp: now,
          event: 'open',
          sg_event_id: `burst-${n}`,
          useragent: 'Mozilla/5.0',
          ip: '192.0.2.1',
          relais_tenant: stack.tenantId,
          relais_dispatch: t.id,
          relais_index: '0.1',
        };
      });
      const events = [...unique, ...Array.from({ length: TOTAL - UNIQUE }, (_, n) => unique[(n * 7919) % UNIQUE])];
      for (let i = events.length - 1; i > 0; i -= 1) {
        const j = (i * 2654435761) % (i + 1);
        [events[i], events[j]] = [events[j], events[i]];
      }
      const queue = Array.from({ length: TOTAL / BATCH }, (_, i) => events.slice(i * BATCH, (i + 1) * BATCH));
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let batch = queue.shift(); batch; batch = queue.shift()) await post(batch);
        }),
      );
      return { end: lastAnswered };
    },
    { streamForMs: 30_000 },
  );

  // Every unique event recorded once in its recipient's history; no replay recorded.
  const recorded = async () => {
    const views = await Promise.all(
      targets.map((t) => dispatchView(stack.db, stack.tenantId, t.id, { from: 0, limit: 1 })),
    );
    return views.flatMap((d) =>
      (d?.recipients ?? []).flatMap((rc) =>
        rc.history.map((h) => h.eventId).filter((id): id is string => Boolean(id?.startsWith('burst-'))),
      ),
    );
  };
  const deadline = Date.now() + DRAIN_MS;
  let ids = await recorded();
  while (new Set(ids).size < UNIQUE && Date.now() < deadline) {
    await sleep(3000);
    ids = await recorded();
  }
  const drainedAt = Date.now();
  const distinct = new Set(ids);
  rows.push({
    fault: '6. burst: the events themselves',
    accepted: TOTAL,
    refused: 0,
    finished: distinct.size,
    lost: UNIQUE - distinct.size,
    duplicated: ids.length - distinct.size,
    inWindow: 0,
    firstSendMs: null,
    firstSuccessMs: null,
    drainedMs: drainedAt - lastAnswered,
    notes: `${UNIQUE} unique + ${TOTAL - UNIQUE} replays over ${targets.length} dispatches, ${TOTAL / BATCH} signed POSTs; ${postsRefused} POST attempts refused and retried`,
  });
  expect({ unique: distinct.size, recordedTwice: ids.length - distinct.size }).toEqual({
    unique: UNIQUE,
    recordedTwice: 0,
  });
  await expectClean(r); // the stream that ran during the burst
}, 900_000);

test('across the run: no message sent more than once outside the N4 window, no webhook given up on', async () => {
  // Late copies (a retry after its phase was counted) would show here.
  const all = countPhase('whole run', load.items, messagesByItem(stack.sandbox), { end: Date.now(), kills });
  expect({ lost: all.lostIds, duplicatedOutsideWindow: all.duplicated - all.inWindow }).toEqual({
    lost: [],
    duplicatedOutsideWindow: 0,
  });
  expect(webhookGaveUp()).toBe(0);
});
