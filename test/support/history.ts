// What a workflow put into Temporal, read back from the server: every run of a workflow id
// (continue-as-new included), the size of each run's history, and its largest payload.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface PayloadFigure {
  bytes: number;
  event: string;
  eventId: number;
}

export interface RunFigures {
  runId: string;
  status: string;
  events: number;
  /** The run's history encoded as the server sends it. */
  bytes: number;
  largestPayload: PayloadFigure;
}

/** An event's type as its attributes field names it (`activityTaskScheduledEventAttributes` → `activityTaskScheduled`). */
function eventName(event: HistoryEvent): string {
  const key = Object.keys(event).find((k) => k.endsWith('EventAttributes') && (event as Record<string, unknown>)[k]);
  return key ? key.replace(/EventAttributes$/, '') : 'unknown';
}

/** Every payload under a value: objects with `data` bytes (and metadata), as Temporal encodes them. */
function payloadSizes(value: unknown, out: number[] = []): number[] {
  if (!value || typeof value !== 'object') return out;
  if (value instanceof Uint8Array) return out;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && 'metadata' in record) {
    out.push(record.data.length);
    return out;
  }
  for (const child of Array.isArray(value) ? value : Object.values(record)) payloadSizes(child, out);
  return out;
}

export function measureHistory(events: HistoryEvent[]): Omit<RunFigures, 'runId' | 'status'> {
  let largest: PayloadFigure = { bytes: 0, event: 'none', eventId: 0 };
  for (const event of events) {
    for (const bytes of payloadSizes(event)) {
      if (bytes > largest.bytes) largest = { bytes, event: eventName(event), eventId: Number(event.eventId ?? 0) };
    }
  }
  const bytes = temporal.api.history.v1.History.encode({ events }).finish().length;
  return { events: events.length, bytes, largestPayload: largest };
}

/** Each run of the workflow id (continue-as-new included), oldest first. */
async function runsOf(client: Client, workflowId: string) {
  const runs: Array<{ runId: string; status: string; startTime: Date }> = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    runs.push({ runId: run.runId, status: run.status.name, startTime: run.startTime });
  }
  return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}

/** Each run of the workflow id, oldest first, with its history's figures. */
export async function runFigures(client: Client, workflowId: string): Promise<RunFigures[]> {
  return Promise.all(
    (await runsOf(client, workflowId)).map(async (run) => {
      const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      return { runId: run.runId, status: run.status, ...measureHistory(history.events ?? []) };
    }),
  );
}

/**
 * Everything the workflow id put into Temporal, as text to search: every run's history as the
 * server keeps it, each payload's bytes (inputs, results, signals, updates, memos, markers) decoded.
 */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  const runs = await runsOf(client, workflowId);
  if (!runs.length) throw new Error(`no run of ${workflowId}`);
  const histories = await Promise.all(
    runs.map((run) => client.workflow.getHandle(workflowId, run.runId).fetchHistory()),
  );
  // Walked, not JSON.stringify'd: protobuf messages turn their bytes into base64 in toJSON.
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') texts.push(value);
    else if (value instanceof Uint8Array) texts.push(Buffer.from(value).toString('utf8'));
    else if (value && typeof value === 'object') for (const child of Object.values(value)) walk(child);
  };
  walk(histories);
  return texts.join('\n');
}

export const KIB = 1024;
export const MIB = 1024 * 1024;

/**
 * The history once the workflow has nothing left to do for now (for the recorders of replay
 * fixtures): every workflow task it was given is finished (Update events come after the task that
 * accepted them) and the history stopped growing.
 */
export async function quietHistory(client: Client, workflowId: string, runId?: string) {
  const handle = client.workflow.getHandle(workflowId, runId);
  let last = -1;
  for (let stable = 0; stable < 5;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.filter((e) => e.workflowTaskScheduledEventAttributes).length;
    const finished = events.filter(
      (e) =>
        e.workflowTaskCompletedEventAttributes ||
        e.workflowTaskFailedEventAttributes ||
        e.workflowTaskTimedOutEventAttributes,
    ).length;
    stable = scheduled === finished && events.length === last ? stable + 1 : 0;
    last = events.length;
    await new Promise((r) => setTimeout(r, 300));
  }
  return handle.fetchHistory();
}
