// The order workflow: one per order (rules O1–O10). Risk check on start, hold and address
// confirmation, release/cancel, fulfilment events, the ready-to-ship deadline and the 48-hour
// stuck-in-transit rule, and alerts per the seller's preferences. Every alert is a dispatch.
// Its state is an OrderSummary, bounded whatever the number of events: the timeline and resolved
// exceptions are appended to MongoDB as they happen, and each projection write carries only what
// changed since the last one (docs/architecture.md, "Where order state lives").
import { allHandlersFinished, condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { OrderChanges } from '../activities/orders';
import { RECORDED_NOTICES_PATCH, startNotice } from './notices';
import {
  eventReason, holdRefusal, isFinished, transition, type ExceptionType, type Lifecycle, type OrderEvent, type OrderState, type Refusal, type StuckCause,
} from '../domain/order';
import { planSellerAction, type SellerAction } from '../domain/seller-actions';
import { actionWords, CUSTOMER_NEXT_STEP, exceptionLabel, itemDetails, reasonWords, resolutionWords } from '../domain/order-words';
import { holdReason } from '../domain/risk';
import { channelsFor, type CustomerNotice, type NoticeChannel } from '../domain/preferences';
import { orderV1, type LegacyOrderView } from './legacy/order-v1';
import {
  cancelUpdate, confirmAddressUpdate, orderEventUpdate, orderStateQuery, releaseUpdate, sellerActionUpdate, ORDER_STATE_V2, ORDER_WORKSPACE_V3,
  type OpenException, type OpsAction, type OrderInput, type OrderSummary, type TimelineEntry,
} from './order-contract';
import { CONFIRMATION_EXPIRED, CONFIRMATION_NOT_WAITING, CONFIRMATION_USED, REFUSED, refuseUpdate } from './failure-types';

export * from './order-contract';

type Activities = ReturnType<typeof createActivities>;
const { assessOrderRisk, noticePreference, createConfirmation, createAddressConfirmation, recordOrder } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** A timeline entry before the write that numbers and dates it. */
type NewEntry = { [K in TimelineEntry['kind']]: Omit<Extract<TimelineEntry, { kind: K }>, 'seq' | 'at'> }[TimelineEntry['kind']];

/** An exception as a seller notice needs it: resolved ones carry when and how. */
type NoticeException = OpenException & { resolution: string | null };

type Notice =
  | { audience: 'seller'; template: 'order_exception' | 'order_exception_resolved'; exception: NoticeException }
  /**
   * `confirmation`: the nonce of the address confirmation whose link and code the notice carries (added where it is recorded).
   * `channels` and `template`: what the seller chose when telling the customer themselves (not the preferences' choice).
   */
  | { audience: 'customer'; notice: CustomerNotice; data: Record<string, unknown>; confirmation?: string; channels?: NoticeChannel[]; template?: string };

/** A refusal the caller can read: the message, and what programs need (state, allowed events, hold …) as details. */
const refused = (r: { message: string; details?: unknown }) => refuseUpdate(REFUSED, r.message, r.details);

/** The later of two instants (ISO), either possibly absent. */
const latest = (a: string | null | undefined, b: string | null | undefined) => ([a, b].filter(Boolean) as string[]).sort().at(-1) ?? null;

export async function order(input: OrderInput, carried?: OrderSummary | LegacyOrderView): Promise<OrderSummary | LegacyOrderView> {
  // Runs of the earlier version stay on it to the end: those it continued as new carry its view,
  // those it started have no patch marker in their history.
  if (carried && !('shape' in carried)) return orderV1(input, carried);
  if (!carried && !patched(ORDER_STATE_V2)) return orderV1(input);
  return orderV2(input, carried);
}

async function orderV2(input: OrderInput, carried?: OrderSummary): Promise<OrderSummary> {
  const now = () => new Date().toISOString();
  // Lifecycle 3 (issue 18) for runs started or continued since; a run replaying a history recorded
  // before keeps lifecycle 2 to its end, step for step (test/workflows/order-v2-replay.test.ts).
  const lifecycle: Lifecycle = carried?.lifecycle ?? (patched(ORDER_WORKSPACE_V3) ? 3 : 2);
  const s: OrderSummary = carried ?? {
    shape: 2, state: 'placed', stateSince: now(), address: input.order.customer.address, risk: null, hold: null, stuck: false,
    lastTrackingAt: null, openExceptions: [], confirmation: null, restocked: false, counters: { timeline: 0, exceptions: 0, notifications: 0 }, version: 0,
  };
  if (lifecycle === 3) { s.lifecycle = 3; s.ended ??= false; s.carrier ??= input.order.carrier; }
  const outbox: Notice[] = [];
  let changed = 0;
  const { locale } = input;
  /** Whether the order has ended: lifecycle 3 says so when it ends; lifecycle 2 by its state. */
  const finished = () => (lifecycle === 3 ? s.ended === true : isFinished(s.state));

  // What the next projection write carries: the fields changed (their values as they are at the
  // write), the timeline entries and the exceptions opened, resolved or given a cause since the last write.
  type Field = keyof OrderChanges['set'];
  let dirty = new Set<Field>();
  const nothingPending = (): Required<Pick<OrderChanges, 'timeline' | 'opened' | 'resolved' | 'causes'>> => ({ timeline: [], opened: [], resolved: [], causes: [] });
  let pending = nothingPending();
  const touch = (...fields: Field[]) => { for (const f of fields) dirty.add(f); };
  const append = (entry: NewEntry) => {
    s.counters.timeline += 1;
    pending.timeline.push({ ...entry, seq: s.counters.timeline, at: now() } as TimelineEntry);
  };

  const open = (type: ExceptionType, reason: string, details: string | null = null, cause: StuckCause | null = null) => {
    s.counters.exceptions += 1;
    const exception: OpenException = { n: s.counters.exceptions, type, reason, details, openedAt: now(), ...(cause ? { cause } : {}) };
    s.openExceptions.push(exception);
    pending.opened.push(exception);
    outbox.push({ audience: 'seller', template: 'order_exception', exception: { ...exception, resolution: null } });
  };
  /** `quiet`: no notice of its own (the order's end tidies up what its last alert already said). */
  const resolve = (type: ExceptionType, resolution: string, quiet = false) => {
    for (const e of s.openExceptions.filter((x) => x.type === type)) {
      s.openExceptions = s.openExceptions.filter((x) => x !== e);
      pending.resolved.push({ n: e.n, resolvedAt: now(), resolution });
      // Opened and resolved in one step (a customer's cancellation): its alert, not yet sent, says it all.
      const alertPending = outbox.some((o) => o.audience === 'seller' && o.template === 'order_exception' && o.exception.n === e.n);
      if (!quiet && !alertPending) outbox.push({ audience: 'seller', template: 'order_exception_resolved', exception: { ...e, resolution } });
    }
  };
  const moveTo = (next: OrderState) => { if (next !== s.state) { s.state = next; s.stateSince = now(); touch('state'); } };
  const record = (event: string, by: string | null, reason: string | null, details: Record<string, unknown> | null = null) => {
    append({ kind: 'event', event, by, reason, details });
    changed += 1;
  };
  const openReason = (type: ExceptionType) => s.openExceptions.find((e) => e.type === type)?.reason ?? null;
  /** Lifecycle 3: the order ends here; whatever is still open is resolved with it (issue 18 item 4). */
  const end = () => {
    for (const e of [...s.openExceptions]) resolve(e.type, 'order_ended', true);
    s.ended = true;
    touch('ended');
  };
  /** O7: the parcel is stuck, for this cause: the exception opens (seller alerted) or, already open, is given the cause. */
  const flagStuck = (cause: StuckCause) => {
    s.stuck = true;
    s.stuckCause = cause;
    touch('stuck', 'stuckCause');
    const current = s.openExceptions.find((e) => e.type === 'stuck_in_transit');
    if (!current) open('stuck_in_transit', cause, null, cause);
    else { current.cause = cause; pending.causes.push({ n: current.n, cause }); }
  };

  // One projection write at a time, in order (Update handlers and the main loop both persist).
  let writing: Promise<void> = Promise.resolve();
  const persist = () => {
    writing = writing.then(async () => {
      // The first write records the whole summary; later ones only what changed.
      if (s.version === 0) touch('state', 'address', 'risk', 'hold', 'stuck', 'lastTrackingAt', 'restocked', 'confirmation', ...(lifecycle === 3 ? ['ended', 'carrier'] as const : []));
      if (!dirty.size && !pending.timeline.length && !pending.opened.length && !pending.resolved.length && !pending.causes.length) return;
      const changes = { ...pending, set: Object.fromEntries([...dirty].map((f) => [f, s[f]])) };
      pending = nothingPending();
      dirty = new Set();
      s.version += 1;
      await recordOrder({
        tenantId: input.tenantId, orderId: input.orderId, version: s.version, ...changes,
        // What the orders list shows and filters (issue 18): a few fields, whatever changed.
        listing: { state: s.state, stuck: s.stuck, ended: finished(), open: s.openExceptions },
        ...(s.version === 1 ? { customer: input.order.customer, placedAt: workflowInfo().runStartTime.toISOString(), number: input.number } : {}),
      });
    });
    return writing;
  };

  setHandler(orderStateQuery, () => s);

  /** Why this event is refused now, or nothing: on a held order the refusal says what lifts the hold (issue 18 item 6). */
  const eventRefusal = (event: OrderEvent): Refusal | undefined => {
    const r = transition(s.state, event, openReason('rts_failed'), lifecycle);
    if (r.ok) return undefined;
    return s.state === 'on_hold' && s.hold ? holdRefusal(r, s.hold, input.orderId) : r;
  };

  /** A fulfilment event, from the platform or as the seller's action amounts to it (`by`, their note and details). */
  const applyEvent = (event: OrderEvent, by: string | null = null, note: string | null = null, extra: Record<string, unknown> | null = null) => {
    const result = transition(s.state, event, openReason('rts_failed'), lifecycle);
    if (!result.ok) throw refused(result);
    const t = result.transition;
    for (const type of t.resolves ?? []) resolve(type, event.type);
    if (t.opens) {
      const reason = eventReason(event) ?? 'unknown';
      const details = event.type === 'allocation_failed' ? itemDetails(event.sku, event.location, locale) : null;
      open(t.opens, reason, details);
      // Customers are told where the seed promises it: a delay on PIN code failure, a failed delivery.
      if (event.type === 'rts_failed' && event.reason === 'pincode_unserviceable') outbox.push({ audience: 'customer', notice: 'delivery_delay', data: {} });
      if (event.type === 'delivery_failed') {
        outbox.push({ audience: 'customer', notice: 'delivery_failed', data: { reason: reasonWords(event.reason, locale), nextStep: CUSTOMER_NEXT_STEP[event.reason]?.[locale] ?? '', contactUrl: null } });
      }
      if (event.type === 'handover_failed' && event.reason === 'customer_cancelled') { s.restocked = true; touch('restocked'); }
    }
    if (event.type === 'tracking_update') {
      s.lastTrackingAt = now();
      touch('lastTrackingAt', 'stuck');
      // A carrier's update that says why the parcel is held up flags it (O7); any other clears the flag.
      if (event.stuckCause) flagStuck(event.stuckCause);
      else { s.stuck = false; if (s.stuckCause) { s.stuckCause = null; touch('stuckCause'); } }
    }
    if (event.type !== 'tracking_update' && (t.resolves ?? []).includes('stuck_in_transit') && s.stuck) { s.stuck = false; s.stuckCause = null; touch('stuck', 'stuckCause'); }
    moveTo(t.next);
    // O6, lifecycle 3: the cancelled order is a return; its handover exception closes with it.
    if (t.restocks) resolve('handover_failed', 'returned');
    if (t.ends) end();
    const { type, ...details } = event;
    const recorded = { ...details, ...extra };
    record(type, by, note ?? eventReason(event), Object.keys(recorded).length ? recorded : null);
  };

  setHandler(orderEventUpdate, async (event) => {
    applyEvent(event);
    await persist(); // the caller's next read sees this event
    return s;
  }, { validator: (event) => { const r = eventRefusal(event); if (r) throw refused(r); } });

  // O4: ops release or cancel a held order, with a reason; anything else is refused.
  for (const [def, action, next] of [[releaseUpdate, 'released', 'placed'], [cancelUpdate, 'cancelled', 'cancelled']] as const) {
    setHandler(def, async ({ by, reason }: OpsAction) => {
      s.hold = null;
      touch('hold');
      resolve('on_hold', `${action} by ${by}: ${reason}`);
      moveTo(next);
      if (lifecycle === 3 && next === 'cancelled') end();
      record(action, by, reason);
      await persist();
      return s;
    }, {
      validator: (_request: OpsAction) => {
        if (s.state !== 'on_hold') throw refuseUpdate(REFUSED, `cannot ${action === 'released' ? 'release' : 'cancel'}: the order is ${s.state}, not on hold`, { state: s.state });
      },
    });
  }

  // Issue 18: the seller's actions from the orders workspace (src/domain/seller-actions.ts), the
  // same Update for the API and the operator page; the caller audits who and when.
  const actionFacts = () => ({
    state: s.state, ended: finished(), open: s.openExceptions,
    documents: { label: Boolean(s.documents?.label), invoice: Boolean(s.documents?.invoice) },
    customer: { email: input.order.customer.email, phone: input.order.customer.phone },
  });
  setHandler(sellerActionUpdate, async ({ by, action }) => {
    const planned = planSellerAction(actionFacts(), action);
    if (!planned.ok) throw refused({ message: planned.message, details: { field: planned.field, state: s.state } });
    const { plan } = planned;
    const note = 'note' in action ? action.note : null;
    const facts = sellerActionFacts(action);
    if (action.type === 'upload_document') { s.documents = { label: null, invoice: null, ...s.documents, [action.kind]: action.document }; touch('documents'); }
    if (action.type === 'change_carrier') { s.carrier = action.carrier; touch('carrier'); }
    if (action.type === 'fix_dimensions') { s.dimensions = action.dimensions; touch('dimensions'); }
    if (plan.event) {
      applyEvent(plan.event, by, note, facts);
    } else if (plan.resolve) {
      const { type, next, ends } = plan.resolve;
      resolve(type, `resolved by ${by}: ${note}`);
      if (type === 'stuck_in_transit') { s.stuck = false; s.stuckCause = null; s.clockFrom = now(); touch('stuck', 'stuckCause'); }
      moveTo(next);
      if (ends && lifecycle === 3) end();
      record('exception_resolved', by, note, facts);
    } else {
      if (plan.stuck) flagStuck(plan.stuck);
      if (plan.notice) outbox.push(toldNotice(plan.notice.notice, plan.notice.channels));
      record(SELLER_ACTION_EVENTS[action.type], by, note, facts);
    }
    await persist();
    return s;
  }, {
    validator: ({ action }) => {
      const planned = planSellerAction(actionFacts(), action);
      if (!planned.ok) throw refused({ message: planned.message, details: { field: planned.field, state: s.state } });
    },
  });

  /** What the seller tells the customer (O5, O8): the failed delivery's words, or a delay in the words of where the order is. */
  const toldNotice = (notice: 'delivery_delay' | 'delivery_failed', channels: NoticeChannel[]): Notice => {
    const failure = s.openExceptions.find((e) => e.type === 'delivery_failed')?.reason;
    if (notice === 'delivery_failed' && failure) {
      return { audience: 'customer', notice, channels, data: { reason: reasonWords(failure, locale), nextStep: CUSTOMER_NEXT_STEP[failure]?.[locale] ?? '', contactUrl: null } };
    }
    // The PIN-code delay has its own words (another carrier); any other delay says where the order is.
    if (openReason('rts_failed') === 'pincode_unserviceable') return { audience: 'customer', notice: 'delivery_delay', channels, data: {} };
    const cause = s.stuckCause ?? null;
    return {
      audience: 'customer', notice: 'delivery_delay', channels, template: 'order_delayed',
      data: { inTransit: s.state === 'handed_over' || s.state === 'in_transit', cause: cause ? reasonWords(cause, locale) : null },
    };
  };

  setHandler(confirmAddressUpdate, async ({ via, corrected }) => {
    s.confirmation!.used = true;
    touch('confirmation');
    if (corrected) {
      // A corrected address is checked again before the hold lifts (O3).
      s.address = corrected;
      s.risk = await assessOrderRisk({ tenantId: input.tenantId, orderId: input.orderId, customer: { ...input.order.customer, address: corrected } });
      touch('address', 'risk');
      record('address_corrected', `customer (${via})`, null, { address: corrected, risk: s.risk.level });
    } else if (lifecycle === 3) {
      // Confirmed as it is: scored again, the customer's word counting for the address (issue 18 item 5).
      s.risk = await assessOrderRisk({ tenantId: input.tenantId, orderId: input.orderId, customer: input.order.customer, addressConfirmed: true });
      touch('risk');
      record('address_confirmed', `customer (${via})`, null, { risk: s.risk.level });
    } else {
      record('address_confirmed', `customer (${via})`, null);
    }
    const stillHeld = (corrected || lifecycle === 3) ? holdReason(s.risk!) : null;
    if (!stillHeld) {
      s.hold = null;
      touch('hold');
      resolve('on_hold', corrected ? 'address corrected by the customer' : 'address confirmed by the customer');
      moveTo('placed');
    } else if (lifecycle === 3 && s.hold && s.hold.reason !== stillHeld) {
      // It stays held, and the hold says why now (the risk's reasons give the detail).
      s.hold = { ...s.hold, reason: stillHeld };
      touch('hold');
    }
    await persist();
    return s;
  }, {
    validator: ({ nonce }) => {
      const c = s.confirmation;
      if (c && c.nonce === nonce && c.used) throw refuseUpdate(CONFIRMATION_USED, 'this confirmation link was already used');
      if (c && c.nonce === nonce && Date.now() >= Date.parse(c.expiresAt)) throw refuseUpdate(CONFIRMATION_EXPIRED, 'this confirmation link has expired');
      if (s.state !== 'on_hold' || !c) throw refuseUpdate(CONFIRMATION_NOT_WAITING, 'this order is not waiting for an address confirmation');
      if (c.nonce !== nonce) throw refuseUpdate(CONFIRMATION_NOT_WAITING, 'this confirmation link is not the current one');
    },
  });

  /** Sends queued notices as dispatches, on the channels the seller's preferences choose now (O9). */
  const sendNotices = async () => {
    while (outbox.length) {
      const notice = outbox.shift()!;
      const key = notice.audience === 'seller' ? notice.exception.type : notice.notice;
      // Told by the seller on the channels they chose; otherwise as the preferences say now.
      const choice = notice.audience === 'customer' && notice.channels ? { enabled: true, channels: notice.channels } : await noticePreference({ tenantId: input.tenantId, audience: notice.audience, key });
      const customer = input.order.customer;
      const person = notice.audience === 'seller' ? input.seller : { name: customer.name, email: customer.email, phone: customer.phone };
      const template = notice.audience === 'seller' ? notice.template : notice.template ?? (notice.notice === 'delivery_failed' ? 'delivery_failed_customer' : notice.notice);
      const data = notice.audience === 'seller'
        ? {
          personName: person.name, orderId: input.orderId, exceptionLabel: exceptionLabel(notice.exception.type, locale),
          reason: reasonWords(notice.exception.reason, locale), action: actionWords(notice.exception.reason, locale),
          details: notice.exception.details, resolution: resolutionWords(notice.exception.resolution ?? '', locale), orderUrl: input.orderUrl,
          // A date goes to the template as a date, which shows it in the tenant's zone and words (O7).
          lastTrackingAt: notice.exception.type === 'stuck_in_transit' ? s.lastTrackingAt : null,
        }
        : { customerName: customer.name, orderId: input.orderId, companyName: input.tenantName, ...notice.data };
      for (const channel of channelsFor(choice, person)) {
        const dispatchId = `order-${input.orderId}~${template}-${s.counters.notifications + 1}`;
        await startNotice({
          tenantId: input.tenantId, dispatchId, template, data, locale, timeZone: input.timeZone, tenantName: input.tenantName, person, channel,
          sender: { ...input.seller, outletId: null }, policy: { unknownAfterMs: input.policy.unknownAfterMs, listenForMs: input.policy.listenForMs },
          dispatchUrl: input.orderUrl, parent: workflowInfo().workflowId,
          ...(notice.audience === 'customer' && notice.confirmation ? { confirmation: notice.confirmation } : {}),
        });
        s.counters.notifications += 1;
        append({ kind: 'notification', dispatchId, audience: notice.audience, channel, template });
      }
      changed += 1;
    }
  };

  if (!carried) {
    // O2: risk on creation; a high risk holds the order and says why.
    s.risk = await assessOrderRisk({ tenantId: input.tenantId, orderId: input.orderId, customer: input.order.customer });
    touch('risk');
    record('placed', null, null, { risk: s.risk.level, score: s.risk.score });
    const hold = holdReason(s.risk);
    if (hold) {
      moveTo('on_hold');
      s.hold = { reason: hold, since: now() };
      touch('hold');
      // Nobody can reach a customer whose phone and email are both invalid: the seller is told so, and nothing is sent to them.
      const unreachable = s.risk.reasons.some((r) => r.code === 'no_valid_contact');
      open('on_hold', unreachable ? 'no_valid_contact' : hold, s.risk.reasons.map((r) => r.detail).join('; '));
      if (hold === 'address_or_contact' && !unreachable) {
        // O3: the customer confirms or corrects the address through a signed, expiring, single-use link.
        const request = {
          tenantId: input.tenantId, orderId: input.orderId, ttlMs: input.policy.linkTtlMs, phone: input.order.customer.phone, companyName: input.tenantName, locale,
        };
        const a = s.address;
        const address = [a.line1, a.line2, `${a.postalCode} ${a.city}`, a.country].filter(Boolean).join(', ');
        if (patched(RECORDED_NOTICES_PATCH)) {
          // The link and the reply code are a customer's secrets: the activity that records the
          // notice adds them (src/activities/dispatch.ts), so they never enter this history.
          const c = await createAddressConfirmation(request);
          s.confirmation = { nonce: c.nonce, expiresAt: c.expiresAt, used: false };
          outbox.push({ audience: 'customer', notice: 'address_confirmation', data: { address, expiresAt: c.expiresAt }, confirmation: c.nonce });
        } else {
          // Runs started before issue 15 created the link here and carried it in the notice's data.
          const c = await createConfirmation(request);
          s.confirmation = { nonce: c.nonce, expiresAt: c.expiresAt, used: false };
          // The code lets an SMS/WhatsApp "YES <code>" name this order (null from a run started before codes).
          outbox.push({ audience: 'customer', notice: 'address_confirmation', data: { address, link: c.link, expiresAt: c.expiresAt, confirmationCode: c.code ?? null } });
        }
        touch('confirmation');
      }
    }
    await sendNotices();
    await persist();
  }

  while (!finished()) {
    const seen = changed;
    // Timers: the ready-to-ship deadline (O5) while allocated, the stuck rule (O7) while in transit
    // and, lifecycle 3, after handover before any scan; a stuck exception the seller resolved restarts it.
    let deadline: number | undefined;
    if (s.state === 'allocated') deadline = Date.parse(s.stateSince) + input.policy.readyToShipWithinMs;
    if (s.state === 'in_transit' && !s.stuck) deadline = Date.parse(latest(s.lastTrackingAt ?? s.stateSince, s.clockFrom)!) + input.policy.stuckAfterMs;
    if (lifecycle === 3 && s.state === 'handed_over' && !s.stuck) deadline = Date.parse(latest(s.stateSince, s.clockFrom)!) + input.policy.stuckAfterMs;
    const news = () => changed !== seen || outbox.length > 0;
    const woke = deadline === undefined ? (await condition(news), true) : await condition(news, Math.max(1, deadline - Date.now()));
    if (!woke && deadline !== undefined && Date.now() >= deadline) {
      if (s.state === 'allocated') {
        moveTo('rts_failed');
        open('rts_failed', 'not_ready_in_time');
        record('rts_deadline_passed', null, 'not_ready_in_time');
      } else if (s.state === 'in_transit' || s.state === 'handed_over') {
        const reason = s.state === 'in_transit' ? 'no_tracking_update' : 'not_scanned_since_handover';
        s.stuck = true;
        touch('stuck');
        open('stuck_in_transit', reason);
        record('stuck_in_transit', null, reason);
      }
    }
    await sendNotices();
    await persist();
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof order>(input, s);
    }
  }
  // The event that finished the order is still answering its caller: let it.
  await condition(allHandlersFinished);
  await sendNotices();
  await persist();
  return s;
}

/** The timeline's name for a seller's action that is not a fulfilment event of its own. */
const SELLER_ACTION_EVENTS: Record<SellerAction['type'], string> = {
  upload_document: 'document_uploaded', change_carrier: 'carrier_changed', fix_dimensions: 'dimensions_fixed', request_pickup: 'pickup_requested',
  tell_customer: 'customer_told', record_stuck_cause: 'stuck_cause_recorded', resolve: 'exception_resolved',
};

/** What the timeline keeps of an action (its note is the entry's reason). */
function sellerActionFacts(action: SellerAction): Record<string, unknown> | null {
  switch (action.type) {
    case 'upload_document': return { kind: action.kind, documentId: action.document.documentId, filename: action.document.filename };
    case 'change_carrier': return { carrier: action.carrier };
    case 'fix_dimensions': return { ...action.dimensions };
    case 'tell_customer': return { notice: action.notice, channels: action.channels };
    case 'record_stuck_cause': return { cause: action.cause };
    case 'resolve': return { exception: action.exception };
    case 'request_pickup': return null;
  }
}
