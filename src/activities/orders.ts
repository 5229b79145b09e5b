// Order activities: risk with the customer's history (O2), preferences at alert time (O9),
// confirmation links (O3), and the order projection people read (O10).
import { randomBytes, randomInt } from 'node:crypto';
import { TIMER_EXCEPTION_RULES, metrics } from '../metrics';
import type { Db } from '../db/models';
import { assessRisk, type RiskAssessment } from '../domain/risk';
import { effectivePreferences, type ChannelChoice } from '../domain/preferences';
import { signLink } from '../links';
import type { OrderDetails, OrderStateView } from '../workflows/order';
import type { MessageSender } from '../providers/types';
import type { Locale } from '../domain/reasons';

export interface OrderActivityDeps { db: Db; linkSecret: string; publicBaseUrl: string; twilio?: Pick<MessageSender, 'senderNumbers'> }

/** The customer-history documents an order's customer is known by: one per contact (email, phone). */
const historyIds = (tenantId: string, c: { email: string | null; phone: string | null }) =>
  [c.email?.toLowerCase(), c.phone].filter((k): k is string => Boolean(k)).map((key) => `${tenantId}/${key}`);

export function createOrderActivities({ db, linkSecret, publicBaseUrl, twilio }: OrderActivityDeps) {
  /** A reply code none of the phone's pending confirmations has (a clash would only make a reply ambiguous: then the customer is asked). */
  const freshCode = async (phone: string) => {
    const taken = new Set((await db.Confirmation.find({ phone, expiresAt: { $gt: new Date() } }, { code: 1 }).lean()).map((c) => c.code));
    let code = String(randomInt(1000, 10_000));
    for (let tries = 0; taken.has(code) && tries < 50; tries += 1) code = String(randomInt(1000, 10_000));
    return code;
  };

  return {
    async assessOrderRisk(request: { tenantId: string; orderId: string; customer: OrderDetails['customer'] }): Promise<RiskAssessment> {
      const histories = await Promise.all(historyIds(request.tenantId, request.customer).map((id) => db.CustomerHistory.findById(id).lean()));
      // The same past order may be known by both the email and the phone: count it once.
      const others = (field: 'cancelled' | 'failedDeliveries') =>
        new Set(histories.flatMap((h) => h?.[field] ?? []).filter((orderId) => orderId !== request.orderId)).size;
      return assessRisk({
        address: request.customer.address, phone: request.customer.phone, email: request.customer.email,
        history: { cancellations: others('cancelled'), failedDeliveries: others('failedDeliveries') },
      });
    },

    async noticePreference(request: { tenantId: string; audience: 'seller' | 'customer'; key: string }): Promise<ChannelChoice> {
      const tenant = await db.Tenant.findById(request.tenantId, { preferences: 1 }).lean();
      const prefs = effectivePreferences(tenant?.preferences as never);
      const table = request.audience === 'seller' ? prefs.sellerAlerts : prefs.customerNotices;
      return (table as Record<string, ChannelChoice>)[request.key] ?? { enabled: false, channels: [] };
    },

    async createConfirmation(request: { tenantId: string; orderId: string; ttlMs: number; phone: string | null; companyName?: string; locale?: Locale }): Promise<{ nonce: string; link: string; expiresAt: string; code: string | null }> {
      const nonce = randomBytes(16).toString('base64url');
      const exp = Date.now() + request.ttlMs;
      const code = request.phone ? await freshCode(request.phone) : null;
      await db.Confirmation.create({
        _id: nonce, tenantId: request.tenantId, orderId: request.orderId, phone: request.phone, code, replyTo: [...(twilio?.senderNumbers ?? [])],
        companyName: request.companyName ?? null, locale: request.locale ?? 'en', expiresAt: new Date(exp), createdAt: new Date(),
      });
      const token = signLink(linkSecret, { kind: 'confirm', tenantId: request.tenantId, target: `${request.orderId}:${nonce}`, exp });
      return { nonce, link: new URL(`/c/${token}`, publicBaseUrl).toString(), expiresAt: new Date(exp).toISOString(), code };
    },

    async saveOrderState(request: { tenantId: string; orderId: string; customer: OrderDetails['customer']; state: OrderStateView }): Promise<void> {
      const { tenantId, orderId, state } = request;
      // O5/O7 fired: count each timer-opened exception once, on the write that first records it.
      const timerExceptions = state.exceptions.filter((e) => TIMER_EXCEPTION_RULES[e.reason]);
      const recorded = timerExceptions.length
        ? new Set(((await db.Order.findOne({ tenantId, orderId }, { view: 1 }).lean())?.view as OrderStateView | undefined)?.exceptions.map((e) => `${e.reason}@${e.openedAt}`))
        : new Set<string>();
      const written = await db.Order.updateOne(
        { tenantId, orderId, stateVersion: { $lt: state.version } },
        { $set: { state: state.state, view: state, stateVersion: state.version, customer: request.customer },
          $setOnInsert: { workflowId: `order/${tenantId}/${orderId}` } },
        { upsert: true },
      ).catch((err: { code?: number }) => { if (err.code !== 11000) throw err; }); // an older write lost the race: fine
      if (written && (written.modifiedCount === 1 || written.upsertedCount === 1)) {
        for (const e of timerExceptions) if (!recorded.has(`${e.reason}@${e.openedAt}`)) metrics.timerRuleFirings.inc({ rule: TIMER_EXCEPTION_RULES[e.reason] });
      }
      // O2: what this order will say about its customer next time ($addToSet: a repeated save adds nothing).
      const record = {
        ...(state.state === 'cancelled' ? { cancelled: orderId } : {}),
        ...(state.exceptions.some((e) => e.type === 'delivery_failed') ? { failedDeliveries: orderId } : {}),
      };
      if (Object.keys(record).length === 0) return;
      for (const id of historyIds(tenantId, request.customer)) {
        await db.CustomerHistory.updateOne({ _id: id }, { $addToSet: record, $setOnInsert: { tenantId } }, { upsert: true });
      }
    },
  };
}
