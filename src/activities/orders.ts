// Order activities: risk with the customer's history (O2), preferences at alert time (O9),
// confirmation links (O3), and the order projection people read (O10).
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { TIMER_EXCEPTION_RULES, metrics } from '../metrics';
import type { Db } from '../db/models';
import { assessRisk, type RiskAssessment } from '../domain/risk';
import { isFinished } from '../domain/order';
import { legacyOpenExceptions, writeListEntry } from '../db/order-list';
import { effectivePreferences, type ChannelChoice } from '../domain/preferences';
import type { DigestAlert } from '../domain/alert-digest';
import {
  ALERT_DIGEST_WORKFLOW,
  alertDigestWorkflowId,
  alertQueuedSignal,
  type AlertDigestInput,
} from '../workflows/alert-digest/contract';
import { signLink } from '../links';
import {
  orderWorkflowId,
  type LegacyOrderView,
  type OpenException,
  type OrderDetails,
  type OrderSummary,
  type TimelineEntry,
} from '../workflows/order/contract';
import type { MessageSender } from '../providers/types';
import type { Locale } from '../domain/reasons';
import { noteRollupChange, type RollupDeps } from './rollups';
import { orderTenantEvents } from '../domain/order-tenant-events';
import { publishAll } from '../outbound/publish';
import type { DeliveryStarter } from '../outbound/deliveries';

/** One projection write of the order workflow: only what changed since its previous write. */
export interface OrderChanges {
  tenantId: string;
  orderId: string;
  /** The workflow's count of writes: an older write never overwrites a newer one. */
  version: number;
  /** On the first write only: the customer, and when the order was placed (its workflow's start). */
  customer?: OrderDetails['customer'];
  placedAt?: string;
  /** The order's number in the tenant's placing order, given by the API (orders started before issue 18 have none). */
  number?: number;
  set: Partial<
    Pick<
      OrderSummary,
      | 'state'
      | 'address'
      | 'risk'
      | 'hold'
      | 'stuck'
      | 'lastTrackingAt'
      | 'restocked'
      | 'confirmation'
      | 'ended'
      | 'documents'
      | 'carrier'
      | 'dimensions'
      | 'stuckCause'
    >
  >;
  timeline: TimelineEntry[];
  opened: OpenException[];
  resolved: Array<{ n: number; resolvedAt: string; resolution: string }>;
  /** Open stuck exceptions given a cause since the last write (O7). Absent from writes scheduled before issue 18. */
  causes?: Array<{ n: number; cause: string }>;
  /**
   * What the orders list shows and filters (issue 18), as it stands after this write: written whole
   * every time, so it never depends on an earlier write. Absent from writes scheduled before issue 18.
   */
  listing?: OrderListing;
}

/** An order as the orders list needs it: its state, whether it is stuck or has ended, its open exceptions. */
export interface OrderListing {
  state: string;
  stuck: boolean;
  ended: boolean;
  open: OpenException[];
}

const duplicateKey = (err: unknown) =>
  (err as { code?: number }).code === 11000 ||
  (((err as { writeErrors?: Array<{ code?: number }> }).writeErrors ?? []).every((e) => e.code === 11000) &&
    Boolean((err as { writeErrors?: unknown[] }).writeErrors?.length));

export interface ConfirmationRequest {
  tenantId: string;
  orderId: string;
  ttlMs: number;
  phone: string | null;
  companyName?: string;
  locale?: Locale;
}

/** O3: the customer's signed, expiring link to confirm or correct the address of an order (single use: the nonce). */
export function confirmationLink(
  linkSecret: string,
  publicBaseUrl: string,
  c: { tenantId: string; orderId: string; nonce: string; exp: number },
): string {
  const token = signLink(linkSecret, {
    kind: 'confirm',
    tenantId: c.tenantId,
    target: `${c.orderId}:${c.nonce}`,
    exp: c.exp,
  });
  return new URL(`/c/${token}`, publicBaseUrl).toString();
}

export interface OrderActivityDeps {
  db: Db;
  linkSecret: string;
  publicBaseUrl: string;
  twilio?: Pick<MessageSender, 'senderNumbers'>;
  rollups?: RollupDeps;
  /** Outbound webhooks: the order's events are published with the write that makes them true. */
  webhooks?: { starter: DeliveryStarter };
  /** Where sellers' alert digests run (issue 20); without it every alert goes at once. */
  alertDigests?: DeliveryStarter;
}

/** A seller alert for the seller's digest on one channel (issue 20, item 4). */
export interface QueuedAlertRequest extends Pick<
  AlertDigestInput,
  'tenantId' | 'channel' | 'seller' | 'locale' | 'timeZone' | 'tenantName' | 'policy'
> {
  everyMinutes: number;
  alert: DigestAlert;
}

/** The customer-history documents an order's customer is known by: one per contact (email, phone). */
const historyIds = (tenantId: string, c: { email: string | null; phone: string | null }) =>
  [c.email?.toLowerCase(), c.phone].filter((k): k is string => Boolean(k)).map((key) => `${tenantId}/${key}`);

export function createOrderActivities({
  db,
  linkSecret,
  publicBaseUrl,
  twilio,
  rollups,
  webhooks,
  alertDigests,
}: OrderActivityDeps) {
  /** A reply code none of the phone's pending confirmations has (a clash would only make a reply ambiguous: then the customer is asked). */
  const freshCode = async (phone: string) => {
    const taken = new Set(
      (await db.Confirmation.find({ phone, expiresAt: { $gt: new Date() } }, { code: 1 }).lean()).map((c) => c.code),
    );
    let code = String(randomInt(1000, 10_000));
    for (let tries = 0; taken.has(code) && tries < 50; tries += 1) code = String(randomInt(1000, 10_000));
    return code;
  };
  /** Records a pending confirmation: its nonce (the `_id`), expiry, and the code an SMS/WhatsApp reply names it by. */
  const newConfirmation = async (request: ConfirmationRequest) => {
    const nonce = randomBytes(16).toString('base64url');
    const exp = Date.now() + request.ttlMs;
    const code = request.phone ? await freshCode(request.phone) : null;
    await db.Confirmation.create({
      _id: nonce,
      tenantId: request.tenantId,
      orderId: request.orderId,
      phone: request.phone,
      code,
      replyTo: [...(twilio?.senderNumbers ?? [])],
      companyName: request.companyName ?? null,
      locale: request.locale ?? 'en',
      expiresAt: new Date(exp),
      createdAt: new Date(),
    });
    return { nonce, expiresAt: new Date(exp).toISOString(), code };
  };
  const rememberCustomer = async (
    tenantId: string,
    customer: OrderDetails['customer'],
    record: { cancelled?: string; failedDeliveries?: string },
  ) => {
    for (const id of historyIds(tenantId, customer)) {
      await db.CustomerHistory.updateOne(
        { _id: id },
        { $addToSet: record, $setOnInsert: { tenantId } },
        { upsert: true },
      );
    }
  };
  return {
    async assessOrderRisk(request: {
      tenantId: string;
      orderId: string;
      customer: OrderDetails['customer'];
      addressConfirmed?: boolean;
    }): Promise<RiskAssessment> {
      const histories = await Promise.all(
        historyIds(request.tenantId, request.customer).map((id) => db.CustomerHistory.findById(id).lean()),
      );
      // The same past order may be known by both the email and the phone: count it once.
      const others = (field: 'cancelled' | 'failedDeliveries') =>
        new Set(histories.flatMap((h) => h?.[field] ?? []).filter((orderId) => orderId !== request.orderId)).size;
      return assessRisk({
        address: request.customer.address,
        phone: request.customer.phone,
        email: request.customer.email,
        history: { cancellations: others('cancelled'), failedDeliveries: others('failedDeliveries') },
        addressConfirmed: request.addressConfirmed,
      });
    },

    async noticePreference(request: {
      tenantId: string;
      audience: 'seller' | 'customer';
      key: string;
    }): Promise<ChannelChoice & { digestMinutes?: number | null }> {
      const tenant = await db.Tenant.findById(request.tenantId, { preferences: 1 }).lean();
      const prefs = effectivePreferences(tenant?.preferences as never);
      const table = request.audience === 'seller' ? prefs.sellerAlerts : prefs.customerNotices;
      const choice = (table as Record<string, ChannelChoice>)[request.key] ?? { enabled: false, channels: [] };
      return request.audience === 'seller' ? { ...choice, digestMinutes: prefs.sellerDigestMinutes } : choice;
    },

    /**
     * Issue 20: queues a seller alert in the seller's digest on that channel, starting the digest
     * when none runs. False when digests cannot run here: the caller sends the alert itself.
     */
    async queueSellerAlert(request: QueuedAlertRequest): Promise<boolean> {
      if (!alertDigests) return false;
      const address = request.channel === 'email' ? request.seller.email : (request.seller.phone ?? '');
      const hash = createHash('sha256').update(`${request.tenantId}/${address.toLowerCase()}`).digest('hex');
      const key = `alert-digest-${request.channel}-${hash.slice(0, 16)}`;
      const input: AlertDigestInput = {
        tenantId: request.tenantId,
        key,
        channel: request.channel,
        seller: request.seller,
        locale: request.locale,
        timeZone: request.timeZone,
        tenantName: request.tenantName,
        policy: request.policy,
        ordersUrl: new URL('/ui/orders', publicBaseUrl).toString(),
        everyMs: request.everyMinutes * 60_000,
      };
      await alertDigests.client.workflow.signalWithStart<(i: AlertDigestInput) => Promise<void>, [DigestAlert]>(
        ALERT_DIGEST_WORKFLOW,
        {
          workflowId: alertDigestWorkflowId(request.tenantId, key),
          taskQueue: alertDigests.taskQueue,
          args: [input],
          signal: alertQueuedSignal,
          signalArgs: [request.alert],
        },
      );
      return true;
    },

    /** O3: a pending confirmation and its signed link and reply code (runs started before issue 15, whose notice carries them in its data). */
    async createConfirmation(
      request: ConfirmationRequest,
    ): Promise<{ nonce: string; link: string; expiresAt: string; code: string | null }> {
      const c = await newConfirmation(request);
      return {
        ...c,
        link: confirmationLink(linkSecret, publicBaseUrl, {
          tenantId: request.tenantId,
          orderId: request.orderId,
          nonce: c.nonce,
          exp: Date.parse(c.expiresAt),
        }),
      };
    },

    /**
     * O3: a pending confirmation, answered by its nonce and expiry only: its signed link and reply
     * code are put into the customer's notice by the activity that records it (recordNotice), so
     * neither enters a workflow's history.
     */
    async createAddressConfirmation(request: ConfirmationRequest): Promise<{ nonce: string; expiresAt: string }> {
      const { nonce, expiresAt } = await newConfirmation(request);
      return { nonce, expiresAt };
    },

    /**
     * Appends the order's new timeline entries and exceptions and sets the fields that changed
     * (O10). Idempotent: entries and exceptions are keyed by their number, a retried write of an
     * entry inserts nothing, and the version guard skips an older write arriving late.
     */
    async recordOrder(changes: OrderChanges): Promise<void> {
      const { tenantId, orderId } = changes;
      const key = (n: number) => `${tenantId}/${orderId}/${n}`;
      // The tenant's events first, from the state before this write: a retry after a failed
      // write derives the same events (same ids: published once), so none is lost.
      const before = await db.Order.findOne({ tenantId, orderId }, { state: 1, risk: 1 }).lean();
      // Read one by one by _id: FerretDB pushes an equality down, not an `$in`. One opened in this same write is not stored yet.
      const resolved = [];
      for (const r of changes.resolved) {
        const e =
          changes.opened.find((o) => o.n === r.n) ??
          (await db.OrderException.findById(key(r.n))
            .lean()
            .then(
              (d) =>
                d && {
                  type: d.type as OpenException['type'],
                  reason: d.reason,
                  details: d.details ?? null,
                  openedAt: d.openedAt.toISOString(),
                },
            ));
        if (e)
          resolved.push({
            n: r.n,
            type: e.type,
            reason: e.reason,
            details: e.details,
            openedAt: e.openedAt,
            resolvedAt: r.resolvedAt,
            resolution: r.resolution,
          });
      }
      await publishAll(
        db,
        webhooks?.starter,
        tenantId,
        orderTenantEvents({
          orderId,
          changes,
          resolved,
          before: {
            state: (before?.state as string | undefined) ?? null,
            riskLevel: (before?.risk as { level?: 'low' | 'medium' | 'high' } | null)?.level ?? null,
          },
        }),
      );
      if (changes.timeline.length) {
        await db.OrderTimeline.insertMany(
          changes.timeline.map((e) => ({ ...e, _id: key(e.seq), tenantId, orderId, at: new Date(e.at) })),
          { ordered: false },
        ).catch((err) => {
          if (!duplicateKey(err)) throw err;
        });
      }
      for (const e of changes.opened) {
        const fresh = await db.OrderException.create({
          _id: key(e.n),
          tenantId,
          orderId,
          n: e.n,
          type: e.type,
          reason: e.reason,
          details: e.details,
          cause: e.cause ?? null,
          open: true,
          openedAt: new Date(e.openedAt),
        }).then(
          () => true,
          (err) => {
            if (duplicateKey(err)) return false;
            throw err;
          },
        );
        // O5/O7 fired: counted once, by the write that first records the exception.
        if (fresh && TIMER_EXCEPTION_RULES[e.reason])
          metrics.timerRuleFirings.inc({ rule: TIMER_EXCEPTION_RULES[e.reason] });
      }
      for (const r of changes.resolved) {
        await db.OrderException.updateOne(
          { _id: key(r.n) },
          { $set: { resolvedAt: new Date(r.resolvedAt), resolution: r.resolution, open: false } },
        );
      }
      for (const c of changes.causes ?? [])
        await db.OrderException.updateOne({ _id: key(c.n) }, { $set: { cause: c.cause } });
      // The dashboard counts exceptions opened and resolved per day.
      const exceptions = [...changes.opened.map((e) => e.n), ...changes.resolved.map((r) => r.n)];
      if (exceptions.length) await noteRollupChange(rollups, tenantId, { orders: [{ orderId, exceptions }] });
      const { confirmation, ...set } = changes.set;
      await db.Order.updateOne(
        { tenantId, orderId, stateVersion: { $lt: changes.version } },
        {
          $set: {
            ...set,
            ...(confirmation ? { confirmation: { expiresAt: confirmation.expiresAt, used: confirmation.used } } : {}),
            stateVersion: changes.version,
          },
          $setOnInsert: {
            workflowId: orderWorkflowId(tenantId, orderId),
            ...(changes.customer ? { customer: changes.customer } : {}),
            ...(changes.placedAt ? { placedAt: new Date(changes.placedAt) } : {}),
          },
        },
        { upsert: true },
      ).catch((err: { code?: number }) => {
        if (err.code !== 11000) throw err;
      }); // an older write lost the race: fine
      if (changes.listing) {
        // An order of lifecycle 2 that ended with an exception still open (a customer's cancellation
        // after packing): closed here, so no finished order keeps one (issue 18 item 4).
        const leftOpen = changes.listing.ended ? changes.listing.open : [];
        for (const e of leftOpen)
          await db.OrderException.updateOne(
            { _id: key(e.n), resolvedAt: null },
            { $set: { resolvedAt: new Date(), resolution: 'order_ended', open: false } },
          );
        const open = changes.listing.ended ? [] : changes.listing.open;
        await writeListEntry(db, {
          tenantId,
          orderId,
          version: changes.version,
          state: changes.listing.state,
          stuck: changes.listing.stuck,
          ended: changes.listing.ended,
          open,
          customerName: changes.customer?.name ?? null,
          placedAt: changes.placedAt ? new Date(changes.placedAt) : undefined,
          number: changes.number,
        });
      }
      // O2: what this order will say about its customer next time ($addToSet: a repeated write adds nothing).
      const record = {
        ...(changes.set.state === 'cancelled' ? { cancelled: orderId } : {}),
        ...(changes.opened.some((e) => e.type === 'delivery_failed') ? { failedDeliveries: orderId } : {}),
      };
      if (Object.keys(record).length === 0) return;
      const customer =
        changes.customer ??
        ((await db.Order.findOne({ tenantId, orderId }, { customer: 1 }).lean())?.customer as OrderDetails['customer']);
      await rememberCustomer(tenantId, customer, record);
    },

    /** The whole-view write of orders started before issue 15 (legacy/order-v1.ts), until they finish. */
    async saveOrderState(request: {
      tenantId: string;
      orderId: string;
      customer: OrderDetails['customer'];
      state: LegacyOrderView;
    }): Promise<void> {
      const { tenantId, orderId, state } = request;
      // O5/O7 fired: count each timer-opened exception once, on the write that first records it.
      const timerExceptions = state.exceptions.filter((e) => TIMER_EXCEPTION_RULES[e.reason]);
      const recorded = timerExceptions.length
        ? new Set(
            (
              (await db.Order.findOne({ tenantId, orderId }, { view: 1 }).lean())?.view as LegacyOrderView | undefined
            )?.exceptions.map((e) => `${e.reason}@${e.openedAt}`),
          )
        : new Set<string>();
      const written = await db.Order.updateOne(
        { tenantId, orderId, stateVersion: { $lt: state.version } },
        {
          $set: { state: state.state, view: state, stateVersion: state.version, customer: request.customer },
          $setOnInsert: { workflowId: orderWorkflowId(tenantId, orderId) },
        },
        { upsert: true },
      ).catch((err: { code?: number }) => {
        if (err.code !== 11000) throw err;
      }); // an older write lost the race: fine
      // The orders list (issue 18): the view's open exceptions, none once the order has ended.
      await writeListEntry(db, {
        tenantId,
        orderId,
        version: state.version,
        state: state.state,
        stuck: state.stuck,
        ended: isFinished(state.state),
        open: isFinished(state.state) ? [] : legacyOpenExceptions(state),
        customerName: request.customer.name,
      });
      if (written && (written.modifiedCount === 1 || written.upsertedCount === 1)) {
        for (const e of timerExceptions)
          if (!recorded.has(`${e.reason}@${e.openedAt}`))
            metrics.timerRuleFirings.inc({ rule: TIMER_EXCEPTION_RULES[e.reason] });
      }
      // O2: what this order will say about its customer next time ($addToSet: a repeated save adds nothing).
      const record = {
        ...(state.state === 'cancelled' ? { cancelled: orderId } : {}),
        ...(state.exceptions.some((e) => e.type === 'delivery_failed') ? { failedDeliveries: orderId } : {}),
      };
      if (Object.keys(record).length === 0) return;
      await rememberCustomer(tenantId, request.customer, record);
    },
  };
}
