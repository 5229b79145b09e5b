// One order run as its workflow drives it (src/workflows/order/workflow.ts, rules O1–O10): the
// OrderSummary it keeps, what changed since the last projection write, the notices waiting to be
// sent, and every step that moves them — fulfilment events, ops and seller actions, the address
// confirmation, the deadlines. Pure: the workflow passes its clock in and performs the rest
// (risk checks, links, writes, notices) through activities.
import type { OrderChanges } from '../activities/orders';
import type { OpenException, OpsAction, OrderInput, OrderSummary, TimelineEntry } from '../workflows/order/contract';
import {
  addressLine,
  eventReason,
  holdRefusal,
  isFinished,
  transition,
  type ExceptionType,
  type Lifecycle,
  type OrderEvent,
  type OrderState,
  type Refusal,
  type StuckCause,
} from './order';
import { CUSTOMER_NEXT_STEP, itemDetails, reasonWords } from './order-words';
import type { CustomerNotice, NoticeChannel } from './preferences';
import { holdReason, type RiskAssessment } from './risk';
import { planSellerAction, type SellerAction } from './seller-actions';

/** A timeline entry before the write that numbers and dates it. */
type NewEntry = {
  [K in TimelineEntry['kind']]: Omit<Extract<TimelineEntry, { kind: K }>, 'seq' | 'at'>;
}[TimelineEntry['kind']];

/** An exception as a seller notice needs it: resolved ones carry when and how. */
export type NoticeException = OpenException & { resolution: string | null };

export type OrderNotice =
  | { audience: 'seller'; template: 'order_exception' | 'order_exception_resolved'; exception: NoticeException }
  /**
   * `confirmation`: the nonce of the address confirmation whose link and code the notice carries (added where it is recorded).
   * `channels` and `template`: what the seller chose when telling the customer themselves (not the preferences' choice).
   */
  | {
      audience: 'customer';
      notice: CustomerNotice;
      data: Record<string, unknown>;
      confirmation?: string;
      channels?: NoticeChannel[];
      template?: string;
      /** Issue 20: goes now, not held by the customer's quiet hours (the seller said so, or the order is about to ship). */
      urgent?: boolean;
    };

type Field = keyof OrderChanges['set'];
type Pending = Required<Pick<OrderChanges, 'timeline' | 'opened' | 'resolved' | 'causes'>>;
const nothingPending = (): Pending => ({ timeline: [], opened: [], resolved: [], causes: [] });

/** The later of two instants (ISO), either possibly absent. */
const latest = (a: string | null | undefined, b: string | null | undefined) =>
  ([a, b].filter(Boolean) as string[]).sort().at(-1) ?? null;

/** A refusal with the message for people and the details for programs. */
export type OrderRefusal = { message: string; details?: unknown };

/** The timeline's name for a seller's action that is not a fulfilment event of its own. */
const SELLER_ACTION_EVENTS: Record<SellerAction['type'], string> = {
  upload_document: 'document_uploaded',
  change_carrier: 'carrier_changed',
  fix_dimensions: 'dimensions_fixed',
  request_pickup: 'pickup_requested',
  tell_customer: 'customer_told',
  record_stuck_cause: 'stuck_cause_recorded',
  resolve: 'exception_resolved',
};

export class OrderRun {
  readonly s: OrderSummary;
  readonly lifecycle: Lifecycle;
  /** Notices to send, in order (O9). */
  readonly outbox: OrderNotice[] = [];
  /** Counts what happened (events recorded, notices sent): the main loop wakes up when it moves. */
  changed = 0;
  private dirty = new Set<Field>();
  private pending = nothingPending();

  /** `now`: the workflow's clock, as an ISO instant. */
  /** `lifecycle`: the rules the order runs under (src/domain/order.ts); a carried summary says which. */
  constructor(
    private readonly input: OrderInput,
    private readonly now: () => string,
    lifecycle: Lifecycle,
    carried?: OrderSummary,
  ) {
    this.lifecycle = lifecycle;
    this.s = carried ?? {
      shape: 2,
      state: 'placed',
      stateSince: now(),
      address: input.order.customer.address,
      risk: null,
      hold: null,
      stuck: false,
      lastTrackingAt: null,
      openExceptions: [],
      confirmation: null,
      restocked: false,
      counters: { timeline: 0, exceptions: 0, notifications: 0 },
      version: 0,
    };
    if (this.lifecycle === 3) {
      this.s.lifecycle = 3;
      this.s.ended ??= false;
      this.s.carrier ??= input.order.carrier;
    }
  }

  /** Whether the order has ended: lifecycle 3 says so when it ends; lifecycle 2 by its state. */
  finished(): boolean {
    return this.lifecycle === 3 ? this.s.ended === true : isFinished(this.s.state);
  }

  touch(...fields: Field[]): void {
    for (const f of fields) this.dirty.add(f);
  }

  /** A notice the workflow sent: its line in the timeline. */
  append(entry: NewEntry): void {
    this.s.counters.timeline += 1;
    this.pending.timeline.push({ ...entry, seq: this.s.counters.timeline, at: this.now() } as TimelineEntry);
  }

  /** An event in the timeline (`by`: who, when a person). */
  record(
    event: string,
    by: string | null,
    reason: string | null,
    details: Record<string, unknown> | null = null,
  ): void {
    this.append({ kind: 'event', event, by, reason, details });
    this.changed += 1;
  }

  /** The one place the order's state changes. */
  moveTo(next: OrderState): void {
    if (next !== this.s.state) {
      this.s.state = next;
      this.s.stateSince = this.now();
      this.touch('state');
    }
  }

  open(type: ExceptionType, reason: string, details: string | null = null, cause: StuckCause | null = null): void {
    const s = this.s;
    s.counters.exceptions += 1;
    const exception: OpenException = {
      n: s.counters.exceptions,
      type,
      reason,
      details,
      openedAt: this.now(),
      ...(cause ? { cause } : {}),
    };
    s.openExceptions.push(exception);
    this.pending.opened.push(exception);
    this.outbox.push({
      audience: 'seller',
      template: 'order_exception',
      exception: { ...exception, resolution: null },
    });
  }

  /** `quiet`: no notice of its own (the order's end tidies up what its last alert already said). */
  resolve(type: ExceptionType, resolution: string, quiet = false): void {
    for (const e of this.s.openExceptions.filter((x) => x.type === type)) {
      this.s.openExceptions = this.s.openExceptions.filter((x) => x !== e);
      this.pending.resolved.push({ n: e.n, resolvedAt: this.now(), resolution });
      // Opened and resolved in one step (a customer's cancellation): its alert, not yet sent, says it all.
      const alertPending = this.outbox.some(
        (o) => o.audience === 'seller' && o.template === 'order_exception' && o.exception.n === e.n,
      );
      if (!quiet && !alertPending)
        this.outbox.push({ audience: 'seller', template: 'order_exception_resolved', exception: { ...e, resolution } });
    }
  }

  openReason(type: ExceptionType): string | null {
    return this.s.openExceptions.find((e) => e.type === type)?.reason ?? null;
  }

  /** O2: the risk on creation; a high risk holds the order and says why. Returns whether the customer is asked to confirm the address (O3). */
  placed(risk: RiskAssessment): boolean {
    const s = this.s;
    s.risk = risk;
    this.touch('risk');
    this.record('placed', null, null, { risk: risk.level, score: risk.score });
    const hold = holdReason(risk);
    if (!hold) return false;
    this.moveTo('on_hold');
    s.hold = { reason: hold, since: this.now() };
    this.touch('hold');
    // Nobody can reach a customer whose phone and email are both invalid: the seller is told so, and nothing is sent to them.
    const unreachable = risk.reasons.some((r) => r.code === 'no_valid_contact');
    this.open('on_hold', unreachable ? 'no_valid_contact' : hold, risk.reasons.map((r) => r.detail).join('; '));
    return hold === 'address_or_contact' && !unreachable;
  }

  /**
   * O3: the confirmation created; its notice to the customer waits in the outbox. `recorded`: its
   * link and code are added where the notice is recorded (issue 15); runs started before carry them in `data`.
   */
  confirmationCreated(c: { nonce: string; expiresAt: string }, data: Record<string, unknown>, recorded: boolean): void {
    this.s.confirmation = { nonce: c.nonce, expiresAt: c.expiresAt, used: false };
    this.outbox.push({
      audience: 'customer',
      notice: 'address_confirmation',
      data: { address: addressLine(this.s.address), ...data },
      ...(recorded ? { confirmation: c.nonce } : {}),
      // Issue 20: an order about to ship cannot wait for the morning to have its address confirmed.
      ...(this.input.order.urgentAddressConfirmation ? { urgent: true } : {}),
    });
    this.touch('confirmation');
  }

  /** Why this event is refused now, or nothing: on a held order the refusal says what lifts the hold (issue 18 item 6). */
  eventRefusal(event: OrderEvent): Refusal | undefined {
    const r = transition(this.s.state, event, this.openReason('rts_failed'), this.lifecycle);
    if (r.ok) return undefined;
    return this.s.state === 'on_hold' && this.s.hold ? holdRefusal(r, this.s.hold, this.input.orderId) : r;
  }

  /** A fulfilment event, from the platform or as the seller's action amounts to it (`by`, their note and details). A refusal if the state does not accept it. */
  applyEvent(
    event: OrderEvent,
    by: string | null = null,
    note: string | null = null,
    extra: Record<string, unknown> | null = null,
  ): Refusal | undefined {
    const s = this.s;
    const { locale } = this.input;
    const result = transition(s.state, event, this.openReason('rts_failed'), this.lifecycle);
    if (!result.ok) return result;
    const t = result.transition;
    for (const type of t.resolves ?? []) this.resolve(type, event.type);
    if (t.opens) {
      const reason = eventReason(event) ?? 'unknown';
      const details = event.type === 'allocation_failed' ? itemDetails(event.sku, event.location, locale) : null;
      this.open(t.opens, reason, details);
      // Customers are told where the seed promises it: a delay on PIN code failure, a failed delivery.
      if (event.type === 'rts_failed' && event.reason === 'pincode_unserviceable')
        this.outbox.push({ audience: 'customer', notice: 'delivery_delay', data: {} });
      if (event.type === 'delivery_failed') {
        this.outbox.push({
          audience: 'customer',
          notice: 'delivery_failed',
          data: {
            reason: reasonWords(event.reason, locale),
            nextStep: CUSTOMER_NEXT_STEP[event.reason]?.[locale] ?? '',
            contactUrl: null,
          },
        });
      }
      if (event.type === 'handover_failed' && event.reason === 'customer_cancelled') {
        s.restocked = true;
        this.touch('restocked');
      }
    }
    if (event.type === 'tracking_update') {
      s.lastTrackingAt = this.now();
      this.touch('lastTrackingAt', 'stuck');
      // A carrier's update that says why the parcel is held up flags it (O7); any other clears the flag.
      if (event.stuckCause) this.flagStuck(event.stuckCause);
      else {
        s.stuck = false;
        if (s.stuckCause) {
          s.stuckCause = null;
          this.touch('stuckCause');
        }
      }
    }
    if (event.type !== 'tracking_update' && (t.resolves ?? []).includes('stuck_in_transit') && s.stuck) {
      s.stuck = false;
      s.stuckCause = null;
      this.touch('stuck', 'stuckCause');
    }
    this.moveTo(t.next);
    // O6, lifecycle 3: the cancelled order is a return; its handover exception closes with it.
    if (t.restocks) this.resolve('handover_failed', 'returned');
    if (t.ends) this.end();
    const { type, ...details } = event;
    const recorded = { ...details, ...extra };
    this.record(type, by, note ?? eventReason(event), Object.keys(recorded).length ? recorded : null);
    return undefined;
  }

  /** O4: why ops cannot release or cancel the order now, or nothing. */
  opsRefusal(action: 'released' | 'cancelled'): string | undefined {
    return this.s.state === 'on_hold'
      ? undefined
      : `cannot ${action === 'released' ? 'release' : 'cancel'}: the order is ${this.s.state}, not on hold`;
  }

  /** O4: ops release or cancel a held order, with a reason. */
  opsAction(action: 'released' | 'cancelled', { by, reason }: OpsAction): void {
    const next = action === 'released' ? 'placed' : 'cancelled';
    this.s.hold = null;
    this.touch('hold');
    this.resolve('on_hold', `${action} by ${by}: ${reason}`);
    this.moveTo(next);
    if (this.lifecycle === 3 && next === 'cancelled') this.end();
    this.record(action, by, reason);
  }

  /** Issue 18: why the seller's action is refused now (with the field at fault), or nothing. */
  sellerActionRefusal(action: SellerAction): OrderRefusal | undefined {
    const planned = planSellerAction(this.actionFacts(), action);
    return planned.ok
      ? undefined
      : { message: planned.message, details: { field: planned.field, state: this.s.state } };
  }

  /** Issue 18: the seller's action from the orders workspace (src/domain/seller-actions.ts). */
  sellerAction(by: string, action: SellerAction): OrderRefusal | undefined {
    const s = this.s;
    const planned = planSellerAction(this.actionFacts(), action);
    if (!planned.ok) return { message: planned.message, details: { field: planned.field, state: s.state } };
    const { plan } = planned;
    const note = 'note' in action ? action.note : null;
    const facts = sellerActionFacts(action);
    if (action.type === 'upload_document') {
      s.documents = { label: null, invoice: null, ...s.documents, [action.kind]: action.document };
      this.touch('documents');
    }
    if (action.type === 'change_carrier') {
      s.carrier = action.carrier;
      this.touch('carrier');
    }
    if (action.type === 'fix_dimensions') {
      s.dimensions = action.dimensions;
      this.touch('dimensions');
    }
    if (plan.event) return this.applyEvent(plan.event, by, note, facts);
    if (plan.resolve) {
      const { type, next, ends } = plan.resolve;
      this.resolve(type, `resolved by ${by}: ${note}`);
      if (type === 'stuck_in_transit') {
        s.stuck = false;
        s.stuckCause = null;
        s.clockFrom = this.now();
        this.touch('stuck', 'stuckCause');
      }
      this.moveTo(next);
      if (ends && this.lifecycle === 3) this.end();
      this.record('exception_resolved', by, note, facts);
    } else {
      if (plan.stuck) this.flagStuck(plan.stuck);
      if (plan.notice) {
        const told = this.toldNotice(plan.notice.notice, plan.notice.channels);
        this.outbox.push(plan.notice.urgent && told.audience === 'customer' ? { ...told, urgent: true } : told);
      }
      this.record(SELLER_ACTION_EVENTS[action.type], by, note, facts);
    }
    return undefined;
  }

  /** O3: why this confirmation is refused, or nothing. */
  confirmationRefusal(
    nonce: string,
    now: number,
  ): { reason: 'used' | 'expired' | 'not_waiting'; message: string } | undefined {
    const c = this.s.confirmation;
    if (c && c.nonce === nonce && c.used) return { reason: 'used', message: 'this confirmation link was already used' };
    if (c && c.nonce === nonce && now >= Date.parse(c.expiresAt))
      return { reason: 'expired', message: 'this confirmation link has expired' };
    if (this.s.state !== 'on_hold' || !c)
      return { reason: 'not_waiting', message: 'this order is not waiting for an address confirmation' };
    if (c.nonce !== nonce) return { reason: 'not_waiting', message: 'this confirmation link is not the current one' };
    return undefined;
  }

  /** O3: the link is used; a corrected address replaces the order's. */
  confirmationUsed(corrected: OrderSummary['address'] | null): void {
    this.s.confirmation!.used = true;
    this.touch('confirmation');
    if (corrected) this.s.address = corrected;
  }

  /** O3: the customer confirmed or corrected the address (`risk`: scored again, when it was). The hold lifts unless the risk still holds it. */
  addressConfirmed(via: string, corrected: OrderSummary['address'] | null, risk: RiskAssessment | null): void {
    const s = this.s;
    if (corrected) {
      s.risk = risk;
      this.touch('address', 'risk');
      this.record('address_corrected', `customer (${via})`, null, { address: corrected, risk: risk!.level });
    } else if (this.lifecycle === 3) {
      s.risk = risk;
      this.touch('risk');
      this.record('address_confirmed', `customer (${via})`, null, { risk: risk!.level });
    } else {
      this.record('address_confirmed', `customer (${via})`, null);
    }
    const stillHeld = corrected || this.lifecycle === 3 ? holdReason(s.risk!) : null;
    if (!stillHeld) {
      s.hold = null;
      this.touch('hold');
      this.resolve('on_hold', corrected ? 'address corrected by the customer' : 'address confirmed by the customer');
      this.moveTo('placed');
    } else if (this.lifecycle === 3 && s.hold && s.hold.reason !== stillHeld) {
      // It stays held, and the hold says why now (the risk's reasons give the detail).
      s.hold = { ...s.hold, reason: stillHeld };
      this.touch('hold');
    }
  }

  /**
   * The next deadline, if a timer runs: the ready-to-ship deadline (O5) while allocated, the stuck
   * rule (O7) while in transit and, lifecycle 3, after handover before any scan; a stuck exception
   * the seller resolved restarts it.
   */
  deadline(): number | undefined {
    const { s } = this;
    const { policy } = this.input;
    if (s.state === 'allocated') return Date.parse(s.stateSince) + policy.readyToShipWithinMs;
    if (s.state === 'in_transit' && !s.stuck)
      return Date.parse(latest(s.lastTrackingAt ?? s.stateSince, s.clockFrom)!) + policy.stuckAfterMs;
    if (this.lifecycle === 3 && s.state === 'handed_over' && !s.stuck)
      return Date.parse(latest(s.stateSince, s.clockFrom)!) + policy.stuckAfterMs;
    return undefined;
  }

  /** The deadline passed: ready-to-ship failed (O5), or the parcel is stuck (O7). */
  deadlinePassed(): void {
    const { s } = this;
    if (s.state === 'allocated') {
      this.moveTo('rts_failed');
      this.open('rts_failed', 'not_ready_in_time');
      this.record('rts_deadline_passed', null, 'not_ready_in_time');
    } else if (s.state === 'in_transit' || s.state === 'handed_over') {
      const reason = s.state === 'in_transit' ? 'no_tracking_update' : 'not_scanned_since_handover';
      s.stuck = true;
      this.touch('stuck');
      this.open('stuck_in_transit', reason);
      this.record('stuck_in_transit', null, reason);
    }
  }

  /** A notice sent as the dispatch `dispatchId`: counted, and its line in the timeline. */
  noticeSent(dispatchId: string, audience: 'seller' | 'customer', channel: NoticeChannel, template: string): void {
    this.s.counters.notifications += 1;
    this.append({ kind: 'notification', dispatchId, audience, channel, template });
  }

  /** Issue 20: a customer notice started on its channel order (its dispatches are the notice's, named as they go). */
  noticeCascaded(noticeId: string, channel: NoticeChannel, template: string): void {
    this.s.counters.notifications += 1;
    this.append({ kind: 'notification', dispatchId: null, noticeId, audience: 'customer', channel, template });
  }

  /** Issue 20: a seller alert queued in the seller's digest: its dispatch is the digest's, named when it goes. */
  noticeDigested(channel: NoticeChannel, template: string): void {
    this.append({ kind: 'notification', dispatchId: null, digest: true, audience: 'seller', channel, template });
  }

  /**
   * What the next projection write carries, or nothing when nothing changed: the fields changed
   * (their values now), the timeline entries and the exceptions opened, resolved or given a cause
   * since the last write. The first write records the whole summary.
   */
  takeChanges(): Omit<OrderChanges, 'tenantId' | 'orderId' | 'customer' | 'placedAt' | 'number'> | undefined {
    const s = this.s;
    if (s.version === 0)
      this.touch(
        'state',
        'address',
        'risk',
        'hold',
        'stuck',
        'lastTrackingAt',
        'restocked',
        'confirmation',
        ...(this.lifecycle === 3 ? (['ended', 'carrier'] as const) : []),
      );
    const p = this.pending;
    if (!this.dirty.size && !p.timeline.length && !p.opened.length && !p.resolved.length && !p.causes.length)
      return undefined;
    const changes = { ...p, set: Object.fromEntries([...this.dirty].map((f) => [f, s[f]])) };
    this.pending = nothingPending();
    this.dirty = new Set();
    s.version += 1;
    // What the orders list shows and filters (issue 18): a few fields, whatever changed.
    return {
      version: s.version,
      ...changes,
      listing: { state: s.state, stuck: s.stuck, ended: this.finished(), open: s.openExceptions },
    };
  }

  private actionFacts() {
    const { s, input } = this;
    return {
      state: s.state,
      ended: this.finished(),
      open: s.openExceptions,
      documents: { label: Boolean(s.documents?.label), invoice: Boolean(s.documents?.invoice) },
      customer: { email: input.order.customer.email, phone: input.order.customer.phone },
    };
  }

  /** Lifecycle 3: the order ends here; whatever is still open is resolved with it (issue 18 item 4). */
  private end(): void {
    for (const e of [...this.s.openExceptions]) this.resolve(e.type, 'order_ended', true);
    this.s.ended = true;
    this.touch('ended');
  }

  /** O7: the parcel is stuck, for this cause: the exception opens (seller alerted) or, already open, is given the cause. */
  private flagStuck(cause: StuckCause): void {
    const s = this.s;
    s.stuck = true;
    s.stuckCause = cause;
    this.touch('stuck', 'stuckCause');
    const current = s.openExceptions.find((e) => e.type === 'stuck_in_transit');
    if (!current) this.open('stuck_in_transit', cause, null, cause);
    else {
      current.cause = cause;
      this.pending.causes.push({ n: current.n, cause });
    }
  }

  /** What the seller tells the customer (O5, O8): the failed delivery's words, or a delay in the words of where the order is. */
  private toldNotice(notice: 'delivery_delay' | 'delivery_failed', channels: NoticeChannel[]): OrderNotice {
    const { s } = this;
    const { locale } = this.input;
    const failure = s.openExceptions.find((e) => e.type === 'delivery_failed')?.reason;
    if (notice === 'delivery_failed' && failure) {
      return {
        audience: 'customer',
        notice,
        channels,
        data: {
          reason: reasonWords(failure, locale),
          nextStep: CUSTOMER_NEXT_STEP[failure]?.[locale] ?? '',
          contactUrl: null,
        },
      };
    }
    // The PIN-code delay has its own words (another carrier); any other delay says where the order is.
    if (this.openReason('rts_failed') === 'pincode_unserviceable')
      return { audience: 'customer', notice: 'delivery_delay', channels, data: {} };
    const cause = s.stuckCause ?? null;
    return {
      audience: 'customer',
      notice: 'delivery_delay',
      channels,
      template: 'order_delayed',
      data: {
        inTransit: s.state === 'handed_over' || s.state === 'in_transit',
        cause: cause ? reasonWords(cause, locale) : null,
      },
    };
  }
}

/** What the timeline keeps of an action (its note is the entry's reason). */
function sellerActionFacts(action: SellerAction): Record<string, unknown> | null {
  switch (action.type) {
    case 'upload_document':
      return { kind: action.kind, documentId: action.document.documentId, filename: action.document.filename };
    case 'change_carrier':
      return { carrier: action.carrier };
    case 'fix_dimensions':
      return { ...action.dimensions };
    case 'tell_customer':
      return { notice: action.notice, channels: action.channels };
    case 'record_stuck_cause':
      return { cause: action.cause };
    case 'resolve':
      return { exception: action.exception };
    case 'request_pickup':
      return null;
  }
}
