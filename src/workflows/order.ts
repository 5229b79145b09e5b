// The order workflow: one per order (rules O1–O10). Risk check on start, hold and address
// confirmation, release/cancel, fulfilment events, the ready-to-ship deadline and the 48-hour
// stuck-in-transit rule, and alerts per the seller's preferences. Every alert is a dispatch.
// Its state is an OrderSummary, bounded whatever the number of events: the timeline and resolved
// exceptions are appended to MongoDB as they happen, and each projection write carries only what
// changed since the last one (docs/architecture.md, "Where order state lives").
import {
  allHandlersFinished, condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { OrderChanges } from '../activities/orders';
import { RECORDED_NOTICES_PATCH, startNotice } from './notices';
import { eventReason, isFinished, transition, type ExceptionType, type OrderState } from '../domain/order';
import { actionWords, CUSTOMER_NEXT_STEP, exceptionLabel, itemDetails, reasonWords, resolutionWords } from '../domain/order-words';
import { holdReason } from '../domain/risk';
import { channelsFor, type CustomerNotice } from '../domain/preferences';
import { orderV1, type LegacyOrderView } from './legacy/order-v1';
import {
  cancelUpdate, confirmAddressUpdate, orderEventUpdate, orderStateQuery, releaseUpdate, ORDER_STATE_V2,
  type OpenException, type OpsAction, type OrderInput, type OrderSummary, type TimelineEntry,
} from './order-contract';

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
  /** `confirmation`: the nonce of the address confirmation whose link and code the notice carries (added where it is recorded). */
  | { audience: 'customer'; notice: CustomerNotice; data: Record<string, unknown>; confirmation?: string };

export async function order(input: OrderInput, carried?: OrderSummary | LegacyOrderView): Promise<OrderSummary | LegacyOrderView> {
  // Runs of the earlier version stay on it to the end: those it continued as new carry its view,
  // those it started have no patch marker in their history.
  if (carried && !('shape' in carried)) return orderV1(input, carried);
  if (!carried && !patched(ORDER_STATE_V2)) return orderV1(input);
  return orderV2(input, carried);
}

async function orderV2(input: OrderInput, carried?: OrderSummary): Promise<OrderSummary> {
  const now = () => new Date().toISOString();
  const s: OrderSummary = carried ?? {
    shape: 2, state: 'placed', stateSince: now(), address: input.order.customer.address, risk: null, hold: null, stuck: false,
    lastTrackingAt: null, openExceptions: [], confirmation: null, restocked: false, counters: { timeline: 0, exceptions: 0, notifications: 0 }, version: 0,
  };
  const outbox: Notice[] = [];
  let changed = 0;
  const { locale } = input;

  // What the next projection write carries: the fields changed (their values as they are at the
  // write), the timeline entries and the exceptions opened or resolved since the last write.
  type Field = keyof OrderChanges['set'];
  let dirty = new Set<Field>();
  let pending: Omit<OrderChanges, 'tenantId' | 'orderId' | 'version' | 'set'> = { timeline: [], opened: [], resolved: [] };
  const touch = (...fields: Field[]) => { for (const f of fields) dirty.add(f); };
  const append = (entry: NewEntry) => {
    s.counters.timeline += 1;
    pending.timeline.push({ ...entry, seq: s.counters.timeline, at: now() } as TimelineEntry);
  };

  const open = (type: ExceptionType, reason: string, details: string | null = null) => {
    s.counters.exceptions += 1;
    const exception: OpenException = { n: s.counters.exceptions, type, reason, details, openedAt: now() };
    s.openExceptions.push(exception);
    pending.opened.push(exception);
    outbox.push({ audience: 'seller', template: 'order_exception', exception: { ...exception, resolution: null } });
  };
  const resolve = (type: ExceptionType, resolution: string) => {
    for (const e of s.openExceptions.filter((x) => x.type === type)) {
      s.openExceptions = s.openExceptions.filter((x) => x !== e);
      pending.resolved.push({ n: e.n, resolvedAt: now(), resolution });
      outbox.push({ audience: 'seller', template: 'order_exception_resolved', exception: { ...e, resolution } });
    }
  };
  const moveTo = (next: OrderState) => { if (next !== s.state) { s.state = next; s.stateSince = now(); touch('state'); } };
  const record = (event: string, by: string | null, reason: string | null, details: Record<string, unknown> | null = null) => {
    append({ kind: 'event', event, by, reason, details });
    changed += 1;
  };
  const openReason = (type: ExceptionType) => s.openExceptions.find((e) => e.type === type)?.reason ?? null;

  // One projection write at a time, in order (Update handlers and the main loop both persist).
  let writing: Promise<void> = Promise.resolve();
  const persist = () => {
    writing = writing.then(async () => {
      // The first write records the whole summary; later ones only what changed.
      if (s.version === 0) touch('state', 'address', 'risk', 'hold', 'stuck', 'lastTrackingAt', 'restocked', 'confirmation');
      if (!dirty.size && !pending.timeline.length && !pending.opened.length && !pending.resolved.length) return;
      const changes = { ...pending, set: Object.fromEntries([...dirty].map((f) => [f, s[f]])) };
      pending = { timeline: [], opened: [], resolved: [] };
      dirty = new Set();
      s.version += 1;
      await recordOrder({
        tenantId: input.tenantId, orderId: input.orderId, version: s.version, ...changes,
        ...(s.version === 1 ? { customer: input.order.customer } : {}),
      });
    });
    return writing;
  };

  setHandler(orderStateQuery, () => s);

  setHandler(orderEventUpdate, async (event) => {
    const result = transition(s.state, event, openReason('rts_failed'));
    if (!result.ok) throw new Error(result.message);
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
    if (event.type === 'tracking_update') { s.lastTrackingAt = now(); s.stuck = false; touch('lastTrackingAt', 'stuck'); }
    moveTo(t.next);
    const { type, ...details } = event;
    record(type, null, eventReason(event), Object.keys(details).length ? details : null);
    await persist(); // the caller's next read sees this event
    return s;
  }, { validator: (event) => { const r = transition(s.state, event, openReason('rts_failed')); if (!r.ok) throw new Error(r.message); } });

  // O4: ops release or cancel a held order, with a reason; anything else is refused.
  for (const [def, action, next] of [[releaseUpdate, 'released', 'placed'], [cancelUpdate, 'cancelled', 'cancelled']] as const) {
    setHandler(def, async ({ by, reason }: OpsAction) => {
      s.hold = null;
      touch('hold');
      resolve('on_hold', `${action} by ${by}: ${reason}`);
      moveTo(next);
      record(action, by, reason);
      await persist();
      return s;
    }, {
      validator: (_request: OpsAction) => {
        if (s.state !== 'on_hold') throw new Error(`cannot ${action === 'released' ? 'release' : 'cancel'}: the order is ${s.state}, not on hold`);
      },
    });
  }

  setHandler(confirmAddressUpdate, async ({ via, corrected }) => {
    s.confirmation!.used = true;
    touch('confirmation');
    if (corrected) {
      // A corrected address is checked again before the hold lifts (O3).
      s.address = corrected;
      s.risk = await assessOrderRisk({ tenantId: input.tenantId, orderId: input.orderId, customer: { ...input.order.customer, address: corrected } });
      touch('address', 'risk');
      record('address_corrected', `customer (${via})`, null, { address: corrected, risk: s.risk.level });
    } else {
      record('address_confirmed', `customer (${via})`, null);
    }
    if (!corrected || !holdReason(s.risk!)) {
      s.hold = null;
      touch('hold');
      resolve('on_hold', corrected ? 'address corrected by the customer' : 'address confirmed by the customer');
      moveTo('placed');
    }
    await persist();
    return s;
  }, {
    validator: ({ nonce }) => {
      const c = s.confirmation;
      if (c && c.nonce === nonce && c.used) throw new Error('this confirmation link was already used');
      if (c && c.nonce === nonce && Date.now() >= Date.parse(c.expiresAt)) throw new Error('this confirmation link has expired');
      if (s.state !== 'on_hold' || !c) throw new Error('this order is not waiting for an address confirmation');
      if (c.nonce !== nonce) throw new Error('this confirmation link is not the current one');
    },
  });

  /** Sends queued notices as dispatches, on the channels the seller's preferences choose now (O9). */
  const sendNotices = async () => {
    while (outbox.length) {
      const notice = outbox.shift()!;
      const key = notice.audience === 'seller' ? notice.exception.type : notice.notice;
      const choice = await noticePreference({ tenantId: input.tenantId, audience: notice.audience, key });
      const customer = input.order.customer;
      const person = notice.audience === 'seller' ? input.seller : { name: customer.name, email: customer.email, phone: customer.phone };
      const template = notice.audience === 'seller' ? notice.template : notice.notice === 'delivery_failed' ? 'delivery_failed_customer' : notice.notice;
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
      open('on_hold', hold, s.risk.reasons.map((r) => r.detail).join('; '));
      if (hold === 'address_or_contact') {
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

  while (!isFinished(s.state)) {
    const seen = changed;
    // Timers: the ready-to-ship deadline (O5) while allocated, the stuck rule (O7) while in transit.
    let deadline: number | undefined;
    if (s.state === 'allocated') deadline = Date.parse(s.stateSince) + input.policy.readyToShipWithinMs;
    if (s.state === 'in_transit' && !s.stuck) deadline = Date.parse(s.lastTrackingAt ?? s.stateSince) + input.policy.stuckAfterMs;
    const news = () => changed !== seen || outbox.length > 0;
    const woke = deadline === undefined ? (await condition(news), true) : await condition(news, Math.max(1, deadline - Date.now()));
    if (!woke && deadline !== undefined && Date.now() >= deadline) {
      if (s.state === 'allocated') {
        moveTo('rts_failed');
        open('rts_failed', 'not_ready_in_time');
        record('rts_deadline_passed', null, 'not_ready_in_time');
      } else if (s.state === 'in_transit') {
        s.stuck = true;
        touch('stuck');
        open('stuck_in_transit', 'no_tracking_update');
        record('stuck_in_transit', null, 'no_tracking_update');
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
