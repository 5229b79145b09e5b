// A steady stream of work, as a commerce platform sends it, and the ledger the fault suite
// judges: every request, its answer, and (later) when its work reached its final state.
//   - a dispatch a second: one purchase order to its own address (D1), final when `delivered`;
//   - an order every two seconds: created, then `allocation_failed` (O1), final when the order
//     is `unfulfillable` and both seller alerts (email and SMS, O9) are `delivered`.
// A refused request (non-2xx, or no connection) is not "accepted" and not followed; an order
// event is retried by the platform until answered, as an order's events must not be dropped.
import { newOrder, purchaseOrder } from '../support/stack';
import type { FaultStack } from './stack';

export interface Answer {
  phase: string;
  at: number;
  ms: number;
  path: string;
  status: number | null;
  body: any;
  error?: string;
}

export interface Item {
  kind: 'dispatch' | 'order';
  id: string;
  phase: string;
  requestedAt: number;
  /** When the API answered 2xx to the creating request; undefined: refused. */
  acceptedAt?: number;
  /** Orders: the API took the `allocation_failed` event (2xx, or 409 after an unanswered try). */
  eventTaken?: boolean;
  /** First time the checks saw the final state. */
  finishedAt?: number;
}

/** A request with a ceiling: an API that neither answers nor refuses within it has hung. */
export const HANG_MS = 90_000;

export class Load {
  readonly items: Item[] = [];
  readonly answers: Answer[] = [];
  phase = 'idle';
  private seq = 0;
  private timers: NodeJS.Timeout[] = [];
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly stack: FaultStack) {}

  async request(method: string, path: string, body?: unknown): Promise<Answer> {
    const at = Date.now();
    try {
      const res = await fetch(`${this.stack.apiUrl}${path}`, {
        method,
        signal: AbortSignal.timeout(HANG_MS),
        headers: { authorization: `Bearer ${this.stack.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* kept as text: an answer without our error shape */
      }
      const answer = { phase: this.phase, at, ms: Date.now() - at, path, status: res.status, body: parsed };
      this.answers.push(answer);
      return answer;
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string }; message?: string };
      const answer = {
        phase: this.phase,
        at,
        ms: Date.now() - at,
        path,
        status: null,
        body: null,
        error: e.name === 'TimeoutError' ? 'hung' : (e.cause?.code ?? e.message ?? String(err)),
      };
      this.answers.push(answer);
      return answer;
    }
  }

  start(phase: string): void {
    this.phase = phase;
    this.timers.push(setInterval(() => this.track(this.dispatch()), 1000));
    this.timers.push(setInterval(() => this.track(this.order()), 2000));
  }

  /** Stops the stream and waits for every request under way (order events included). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  private track(p: Promise<void>) {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async dispatch(): Promise<void> {
    const id = `d-${++this.seq}`;
    const item: Item = { kind: 'dispatch', id, phase: this.phase, requestedAt: Date.now() };
    this.items.push(item);
    const answer = await this.request('POST', '/v1/dispatches', purchaseOrder(id, [`${id}@acme.test`]));
    if (answer.status !== null && answer.status >= 200 && answer.status < 300) item.acceptedAt = Date.now();
  }

  private async order(): Promise<void> {
    const id = `o-${++this.seq}`;
    const item: Item = { kind: 'order', id, phase: this.phase, requestedAt: Date.now() };
    this.items.push(item);
    const created = await this.request('POST', '/v1/orders', newOrder(id, { email: `${id}@example.test` }));
    if (created.status === null || created.status < 200 || created.status >= 300) return;
    item.acceptedAt = Date.now();
    // O1: out of stock at allocation → unfulfillable, seller alerted at once.
    const event = { type: 'allocation_failed', sku: 'TSHIRT-M', reason: 'out_of_stock', location: 'A-12' };
    let unanswered = false;
    const deadline = Date.now() + 5 * 60_000;
    while (Date.now() < deadline) {
      const a = await this.request('POST', `/v1/orders/${id}/events`, event);
      if (a.status !== null && a.status >= 200 && a.status < 300) {
        item.eventTaken = true;
        return;
      }
      // A try that got no answer (or a 5xx) may have been applied: the order is then finished and refuses more.
      if (a.status === 409 && unanswered) {
        item.eventTaken = true;
        return;
      }
      unanswered = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
