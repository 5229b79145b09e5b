// What the fault suite counts: which accepted work reached its final state (from MongoDB, the
// delivery log people read), and how many times each expected message reached the provider
// (from the sandbox, the provider's own record).
import type { Sandbox, SandboxMessage } from '../../src/sandbox';
import type { Item } from './load';
import type { FaultStack } from './stack';

/** The Relais dispatch a provider message belongs to: SendGrid custom args, Twilio's StatusCallback query. */
export function dispatchOf(m: SandboxMessage): string | undefined {
  if (m.customArgs?.relais_dispatch) return m.customArgs.relais_dispatch;
  if (m.statusCallback) return new URL(m.statusCallback).searchParams.get('dispatch') ?? undefined;
  return undefined;
}

/** Provider messages per unit of work: a dispatch `d-N`, or an order `o-N` (its alerts are dispatches `order-o-N~…`). */
export function messagesByItem(sandbox: Sandbox): Map<string, SandboxMessage[]> {
  const by = new Map<string, SandboxMessage[]>();
  for (const m of sandbox.messages()) {
    const dispatchId = dispatchOf(m);
    if (!dispatchId) continue;
    const key = /^order-(o-\d+)~/.exec(dispatchId)?.[1] ?? dispatchId;
    by.set(key, [...(by.get(key) ?? []), m]);
  }
  return by;
}

/** Messages each accepted item must have caused: one purchase order; an order's two seller alerts. */
export const expectedMessages = (item: Item) => (item.kind === 'dispatch' ? 1 : 2);

/**
 * Marks `finishedAt` on the items whose work reached its final state (D2/D9: `delivered`; O1:
 * `unfulfillable` with every alert delivered). Errors (MongoDB down) leave the items as they were.
 */
export async function markFinished(stack: FaultStack, items: Item[]): Promise<void> {
  const open = items.filter((i) => i.acceptedAt !== undefined && i.finishedAt === undefined);
  if (!open.length) return;
  try {
    const { db, tenantId } = stack;
    const now = Date.now();
    const dispatchIds = open.filter((i) => i.kind === 'dispatch').map((i) => i.id);
    const orderIds = open.filter((i) => i.kind === 'order').map((i) => i.id);
    const orders = orderIds.length
      ? await db.Order.find({ tenantId, orderId: { $in: orderIds } }, { orderId: 1, state: 1 }).lean()
      : [];
    const notices = orderIds.length
      ? await db.OrderTimeline.find(
          { tenantId, orderId: { $in: orderIds }, kind: 'notification' },
          { orderId: 1, dispatchId: 1 },
        ).lean()
      : [];
    const alertIds = notices.map((n) => n.dispatchId!);
    const ids = [...dispatchIds, ...alertIds];
    const delivered = new Set(
      ids.length
        ? (
            await db.Dispatch.find(
              { tenantId, dispatchId: { $in: ids }, result: 'delivered' },
              { dispatchId: 1 },
            ).lean()
          ).map((d) => d.dispatchId)
        : [],
    );
    for (const item of open) {
      if (item.kind === 'dispatch') {
        if (delivered.has(item.id)) item.finishedAt = now;
        continue;
      }
      const o = orders.find((x) => x.orderId === item.id);
      const alerts = notices.filter((n) => n.orderId === item.id);
      if (o?.state === 'unfulfillable' && alerts.length === 2 && alerts.every((a) => delivered.has(a.dispatchId!)))
        item.finishedAt = now;
    }
  } catch {
    // MongoDB unreachable: look again next time.
  }
}

/** Polls until every accepted item of `items` is finished or `timeoutMs` passes. */
export async function drain(
  stack: FaultStack,
  items: Item[],
  timeoutMs: number,
  trace: (message: string) => void,
): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let reported = started;
  for (;;) {
    await markFinished(stack, items);
    const open = items.filter((i) => i.acceptedAt !== undefined && i.finishedAt === undefined);
    if (!open.length) return;
    if (Date.now() > deadline) {
      trace(`drain gave up after ${Math.round(timeoutMs / 1000)} s; still open: ${open.map((i) => i.id).join(' ')}`);
      return;
    }
    if (Date.now() - reported >= 30_000) {
      reported = Date.now();
      trace(
        `draining for ${Math.round((reported - started) / 1000)} s: ${open.length} of ${items.filter((i) => i.acceptedAt !== undefined).length} accepted still open (${open
          .slice(0, 8)
          .map((i) => i.id)
          .join(' ')}${open.length > 8 ? ' …' : ''})`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface Row {
  fault: string;
  accepted: number;
  refused: number;
  finished: number;
  lost: number;
  duplicated: number;
  /** Of `duplicated`: copies whose first one the provider took before a worker was killed (N4). */
  inWindow: number;
  /** From the end of the fault to the first message the provider took after it. */
  firstSendMs: number | null;
  /** From the end of the fault to the first request accepted after it whose work then finished. */
  firstSuccessMs: number | null;
  /** From the end of the fault until all work accepted before it had finished. */
  drainedMs: number | null;
  notes: string;
}

/**
 * Counts one phase. Lost: accepted and not finished, or an expected message never sent.
 * Duplicated: copies beyond the first per expected message.
 */
export function countPhase(
  fault: string,
  items: Item[],
  byItem: Map<string, SandboxMessage[]>,
  window: { end: number; kills: number[] },
  notes = '',
): Row & { lostIds: string[]; duplicateIds: string[]; lostDetails: unknown[]; duplicateDetails: unknown[] } {
  const accepted = items.filter((i) => i.acceptedAt !== undefined);
  const lostIds: string[] = [];
  const duplicateIds: string[] = [];
  let duplicated = 0;
  let inWindow = 0;
  for (const item of accepted) {
    const messages = byItem.get(item.id) ?? [];
    if (item.finishedAt === undefined || messages.length < expectedMessages(item)) lostIds.push(item.id);
    // Copies of the same message: same dispatch, same channel.
    const copies = new Map<string, SandboxMessage[]>();
    for (const m of messages)
      copies.set(`${dispatchOf(m)}/${m.channel}`, [...(copies.get(`${dispatchOf(m)}/${m.channel}`) ?? []), m]);
    for (const list of copies.values()) {
      if (list.length < 2) continue;
      duplicateIds.push(item.id);
      duplicated += list.length - 1;
      const first = Date.parse(list[0].receivedAt);
      const last = Date.parse(list[list.length - 1].receivedAt);
      if (window.kills.some((k) => k >= first && k <= last)) inWindow += list.length - 1;
    }
  }
  const sendsAfter = accepted
    .flatMap((i) => byItem.get(i.id) ?? [])
    .map((m) => Date.parse(m.receivedAt))
    .filter((t) => t >= window.end);
  const firstSendMs = sendsAfter.length ? Math.min(...sendsAfter) - window.end : null;
  // For a failure message: where the lost work stopped (messages at the provider, their webhooks).
  const details = (ids: string[]) =>
    ids.slice(0, 3).map((id) => ({
      id,
      item: items.find((i) => i.id === id),
      messages: (byItem.get(id) ?? []).map((m) => ({
        dispatch: dispatchOf(m),
        at: m.receivedAt,
        status: m.status,
        events: m.events.map((e) => `${e.type}:${e.outcome}:${e.deliveries.map((d) => d.status ?? d.error).join(',')}`),
      })),
    }));
  const lostDetails = details(lostIds);
  const duplicateDetails = details(duplicateIds);
  const after = accepted.filter((i) => i.acceptedAt! >= window.end && i.finishedAt !== undefined);
  const before = accepted.filter((i) => i.acceptedAt! < window.end);
  const firstSuccessMs = after.length ? Math.max(0, Math.min(...after.map((i) => i.finishedAt!)) - window.end) : null;
  const drainedMs = before.every((i) => i.finishedAt !== undefined)
    ? Math.max(0, ...before.map((i) => i.finishedAt! - window.end))
    : null;
  return {
    fault,
    accepted: accepted.length,
    refused: items.length - accepted.length,
    finished: accepted.filter((i) => i.finishedAt !== undefined).length,
    lost: lostIds.length,
    duplicated,
    inWindow,
    firstSendMs,
    firstSuccessMs,
    drainedMs,
    notes,
    lostIds,
    duplicateIds,
    lostDetails,
    duplicateDetails,
  };
}

const secs = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

export function table(rows: Row[]): string {
  const head =
    '| fault | accepted | refused | finished | lost | duplicated (in N4 window) | first send after | first success after | backlog drained after | notes |';
  const line = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|';
  const body = rows.map(
    (r) =>
      `| ${r.fault} | ${r.accepted} | ${r.refused} | ${r.finished} | ${r.lost} | ${r.duplicated} (${r.inWindow}) | ${secs(r.firstSendMs)} | ${secs(r.firstSuccessMs)} | ${secs(r.drainedMs)} | ${r.notes} |`,
  );
  return [head, line, ...body].join('\n');
}
