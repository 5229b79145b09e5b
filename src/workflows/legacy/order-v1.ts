// The order workflow as it was before issue 15 (its whole view carried in the workflow and
// written whole on every change), FROZEN: runs started by that version replay through it, step
// for step (test/workflows/order-replay.test.ts replays histories it recorded). `order` in
// ../order/workflow.ts routes such runs here: a run without the 'order-state-v2' patch marker, or one that
// this code continued as new (its carried view has a `history`). Never edit the steps below; once
// no such run remains (docs/deploy.md, "Upgrading to bounded order state"), delete this file.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { noticeRecipient, startDetachedDispatch } from './dispatch-v1';
import { eventReason, isFinished, transition, type ExceptionType, type OrderState } from '../../domain/order';
import { actionWords, CUSTOMER_NEXT_STEP, exceptionLabel, reasonWords } from '../../domain/order-words';
import { holdReason } from '../../domain/risk';
import { channelsFor, type CustomerNotice } from '../../domain/preferences';
import {
  cancelUpdate,
  confirmAddressUpdate,
  orderEventUpdate,
  orderStateQuery,
  releaseUpdate,
  type LegacyOrderException,
  type LegacyOrderView,
  type OpsAction,
  type OrderInput,
} from '../order/contract';
import {
  CONFIRMATION_EXPIRED,
  CONFIRMATION_NOT_WAITING,
  CONFIRMATION_USED,
  REFUSED,
  refuseUpdate,
} from '../failure-types';

type Activities = ReturnType<typeof createActivities>;
const { assessOrderRisk, noticePreference, createConfirmation, saveOrderState } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

type Notice =
  | { audience: 'seller'; template: 'order_exception' | 'order_exception_resolved'; exception: LegacyOrderException }
  | { audience: 'customer'; notice: CustomerNotice; data: Record<string, unknown> };

export async function orderV1(input: OrderInput, carried?: LegacyOrderView): Promise<LegacyOrderView> {
  const s: LegacyOrderView = carried ?? {
    state: 'placed',
    address: input.order.customer.address,
    risk: null,
    hold: null,
    stuck: false,
    lastTrackingAt: null,
    exceptions: [],
    history: [],
    notifications: [],
    confirmation: null,
    restocked: false,
    version: 0,
  };
  const outbox: Notice[] = [];
  let changed = 0;
  let stateSince = Date.now();
  const now = () => new Date().toISOString();
  const { locale } = input;

  const open = (type: ExceptionType, reason: string, details: string | null = null) => {
    const exception: LegacyOrderException = {
      type,
      reason,
      details,
      openedAt: now(),
      resolvedAt: null,
      resolution: null,
    };
    s.exceptions.push(exception);
    outbox.push({ audience: 'seller', template: 'order_exception', exception });
  };
  const resolve = (type: ExceptionType, resolution: string) => {
    for (const e of s.exceptions.filter((x) => x.type === type && !x.resolvedAt)) {
      e.resolvedAt = now();
      e.resolution = resolution;
      outbox.push({ audience: 'seller', template: 'order_exception_resolved', exception: e });
    }
  };
  const moveTo = (next: OrderState) => {
    if (next !== s.state) {
      s.state = next;
      stateSince = Date.now();
    }
  };
  const record = (
    event: string,
    by: string | null,
    reason: string | null,
    details: Record<string, unknown> | null = null,
  ) => {
    s.history.push({ event, at: now(), by, reason, details });
    changed += 1;
  };
  const openReason = (type: ExceptionType) =>
    s.exceptions.find((e) => e.type === type && !e.resolvedAt)?.reason ?? null;

  // One projection write at a time, in order (Update handlers and the main loop both persist).
  let writing: Promise<void> = Promise.resolve();
  const persist = () => {
    writing = writing.then(async () => {
      s.version += 1;
      await saveOrderState({
        tenantId: input.tenantId,
        orderId: input.orderId,
        customer: input.order.customer,
        state: s,
      });
    });
    return writing;
  };

  setHandler(orderStateQuery, () => s);

  setHandler(
    orderEventUpdate,
    async (event) => {
      const result = transition(s.state, event, openReason('rts_failed'));
      if (!result.ok) throw new Error(result.message);
      const t = result.transition;
      for (const type of t.resolves ?? []) resolve(type, event.type);
      if (t.opens) {
        const reason = eventReason(event) ?? 'unknown';
        const details =
          event.type === 'allocation_failed'
            ? `SKU ${event.sku}${event.location ? `, location ${event.location}` : ''}`
            : null;
        open(t.opens, reason, details);
        // Customers are told where the seed promises it: a delay on PIN code failure, a failed delivery.
        if (event.type === 'rts_failed' && event.reason === 'pincode_unserviceable')
          outbox.push({ audience: 'customer', notice: 'delivery_delay', data: {} });
        if (event.type === 'delivery_failed') {
          outbox.push({
            audience: 'customer',
            notice: 'delivery_failed',
            data: {
              reason: reasonWords(event.reason, locale),
              nextStep: CUSTOMER_NEXT_STEP[event.reason]?.[locale] ?? '',
              contactUrl: null,
            },
          });
        }
        if (event.type === 'handover_failed' && event.reason === 'customer_cancelled') s.restocked = true;
      }
      if (event.type === 'tracking_update') {
        s.lastTrackingAt = now();
        s.stuck = false;
      }
      moveTo(t.next);
      const { type, ...details } = event;
      record(type, null, eventReason(event), Object.keys(details).length ? details : null);
      await persist(); // the caller's next read sees this event
      return s;
    },
    {
      validator: (event) => {
        const r = transition(s.state, event, openReason('rts_failed'));
        if (!r.ok) throw refuseUpdate(REFUSED, r.message);
      },
    },
  );

  // O4: ops release or cancel a held order, with a reason; anything else is refused.
  for (const [def, action, next] of [
    [releaseUpdate, 'released', 'placed'],
    [cancelUpdate, 'cancelled', 'cancelled'],
  ] as const) {
    setHandler(
      def,
      async ({ by, reason }) => {
        s.hold = null;
        resolve('on_hold', `${action} by ${by}: ${reason}`);
        moveTo(next);
        record(action, by, reason);
        await persist();
        return s;
      },
      {
        validator: (_request: OpsAction) => {
          if (s.state !== 'on_hold')
            throw refuseUpdate(
              REFUSED,
              `cannot ${action === 'released' ? 'release' : 'cancel'}: the order is ${s.state}, not on hold`,
              { state: s.state },
            );
        },
      },
    );
  }

  setHandler(
    confirmAddressUpdate,
    async ({ via, corrected }) => {
      s.confirmation!.used = true;
      if (corrected) {
        // A corrected address is checked again before the hold lifts (O3).
        s.address = corrected;
        s.risk = await assessOrderRisk({
          tenantId: input.tenantId,
          orderId: input.orderId,
          customer: { ...input.order.customer, address: corrected },
        });
        record('address_corrected', `customer (${via})`, null, { address: corrected, risk: s.risk.level });
      } else {
        record('address_confirmed', `customer (${via})`, null);
      }
      if (!corrected || !holdReason(s.risk!)) {
        s.hold = null;
        resolve('on_hold', corrected ? 'address corrected by the customer' : 'address confirmed by the customer');
        moveTo('placed');
      }
      await persist();
      return s;
    },
    {
      validator: ({ nonce }) => {
        const c = s.confirmation;
        if (c && c.nonce === nonce && c.used)
          throw refuseUpdate(CONFIRMATION_USED, 'this confirmation link was already used');
        if (c && c.nonce === nonce && Date.now() >= Date.parse(c.expiresAt))
          throw refuseUpdate(CONFIRMATION_EXPIRED, 'this confirmation link has expired');
        if (s.state !== 'on_hold' || !c)
          throw refuseUpdate(CONFIRMATION_NOT_WAITING, 'this order is not waiting for an address confirmation');
        if (c.nonce !== nonce)
          throw refuseUpdate(CONFIRMATION_NOT_WAITING, 'this confirmation link is not the current one');
      },
    },
  );

  /** Sends queued notices as dispatches, on the channels the seller's preferences choose now (O9). */
  const sendNotices = async () => {
    while (outbox.length) {
      const notice = outbox.shift()!;
      const key = notice.audience === 'seller' ? notice.exception.type : notice.notice;
      const choice = await noticePreference({ tenantId: input.tenantId, audience: notice.audience, key });
      const customer = input.order.customer;
      const person =
        notice.audience === 'seller'
          ? input.seller
          : { name: customer.name, email: customer.email, phone: customer.phone };
      const template =
        notice.audience === 'seller'
          ? notice.template
          : notice.notice === 'delivery_failed'
            ? 'delivery_failed_customer'
            : notice.notice;
      const data =
        notice.audience === 'seller'
          ? {
              personName: person.name,
              orderId: input.orderId,
              exceptionLabel: exceptionLabel(notice.exception.type, locale),
              reason: reasonWords(notice.exception.reason, locale),
              action: actionWords(notice.exception.reason, locale),
              details: notice.exception.details,
              resolution: notice.exception.resolution ?? '',
              orderUrl: input.orderUrl,
              // Variables the templates gained after this code was frozen (a notice's data is not part of replay).
              lastTrackingAt: notice.exception.type === 'stuck_in_transit' ? s.lastTrackingAt : null,
            }
          : { customerName: customer.name, orderId: input.orderId, companyName: input.tenantName, ...notice.data };
      for (const channel of channelsFor(choice, person)) {
        const dispatchId = `order-${input.orderId}~${template}-${s.notifications.length + 1}`;
        await startDetachedDispatch({
          tenantId: input.tenantId,
          dispatchId,
          kind: 'notification',
          ...noticeRecipient(person, channel),
          template,
          data,
          locale,
          timeZone: input.timeZone,
          tenantName: input.tenantName,
          document: null,
          sender: { ...input.seller, outletId: null },
          escalateTo: [],
          requestedBy: 'relais',
          policy: { unknownAfterMs: input.policy.unknownAfterMs, listenForMs: input.policy.listenForMs },
          dispatchUrl: input.orderUrl,
        });
        s.notifications.push({ dispatchId, audience: notice.audience, channel, template, at: now() });
      }
      changed += 1;
    }
  };

  if (!carried) {
    // O2: risk on creation; a high risk holds the order and says why.
    s.risk = await assessOrderRisk({
      tenantId: input.tenantId,
      orderId: input.orderId,
      customer: input.order.customer,
    });
    record('placed', null, null, { risk: s.risk.level, score: s.risk.score });
    const hold = holdReason(s.risk);
    if (hold) {
      moveTo('on_hold');
      s.hold = { reason: hold, since: now() };
      open('on_hold', hold, s.risk.reasons.map((r) => r.detail).join('; '));
      if (hold === 'address_or_contact') {
        // O3: the customer confirms or corrects the address through a signed, expiring, single-use link.
        const c = await createConfirmation({
          tenantId: input.tenantId,
          orderId: input.orderId,
          ttlMs: input.policy.linkTtlMs,
          phone: input.order.customer.phone,
        });
        s.confirmation = { nonce: c.nonce, expiresAt: c.expiresAt, used: false };
        const a = s.address;
        outbox.push({
          audience: 'customer',
          notice: 'address_confirmation',
          data: {
            address: [a.line1, a.line2, `${a.postalCode} ${a.city}`, a.country].filter(Boolean).join(', '),
            link: c.link,
            expiresAt: c.expiresAt,
            confirmationCode: c.code ?? null,
          },
        });
      }
    }
    await sendNotices();
    await persist();
  }

  while (!isFinished(s.state)) {
    const seen = changed;
    // Timers: the ready-to-ship deadline (O5) while allocated, the stuck rule (O7) while in transit.
    let deadline: number | undefined;
    if (s.state === 'allocated') deadline = stateSince + input.policy.readyToShipWithinMs;
    if (s.state === 'in_transit' && !s.stuck)
      deadline = Date.parse(s.lastTrackingAt ?? new Date(stateSince).toISOString()) + input.policy.stuckAfterMs;
    const news = () => changed !== seen || outbox.length > 0;
    const woke =
      deadline === undefined
        ? (await condition(news), true)
        : await condition(news, Math.max(1, deadline - Date.now()));
    if (!woke && deadline !== undefined && Date.now() >= deadline) {
      if (s.state === 'allocated') {
        moveTo('rts_failed');
        open('rts_failed', 'not_ready_in_time');
        record('rts_deadline_passed', null, 'not_ready_in_time');
      } else if (s.state === 'in_transit') {
        s.stuck = true;
        open('stuck_in_transit', 'no_tracking_update', s.lastTrackingAt ? `last update ${s.lastTrackingAt}` : null);
        record('stuck_in_transit', null, 'no_tracking_update');
      }
    }
    await sendNotices();
    await persist();
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof orderV1>(input, { ...s, history: s.history.slice(-200) });
    }
  }
  // The event that finished the order is still answering its caller: let it.
  await condition(allHandlersFinished);
  await sendNotices();
  await persist();
  return s;
}
