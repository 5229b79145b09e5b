// Order activities: risk with the customer's history (O2), preferences at alert time (O9),
// confirmation links (O3), and the order projection people read (O10).
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/models';
import { assessRisk, type RiskAssessment } from '../domain/risk';
import { effectivePreferences, type ChannelChoice } from '../domain/preferences';
import { signLink } from '../links';
import type { OrderDetails, OrderStateView } from '../workflows/order';

export interface OrderActivityDeps { db: Db; linkSecret: string; publicBaseUrl: string }

const customerKeys = (c: { email: string | null; phone: string | null }) =>
  [c.email?.toLowerCase(), c.phone].filter((k): k is string => Boolean(k));

export function createOrderActivities({ db, linkSecret, publicBaseUrl }: OrderActivityDeps) {
  return {
    async assessOrderRisk(request: { tenantId: string; orderId: string; customer: OrderDetails['customer'] }): Promise<RiskAssessment> {
      const keys = customerKeys(request.customer);
      const past = keys.length
        ? await db.Order.find({ tenantId: request.tenantId, customerKey: { $in: keys }, orderId: { $ne: request.orderId } }, { state: 1, view: 1 }).lean()
        : [];
      const cancellations = past.filter((o) => o.state === 'cancelled').length;
      const failedDeliveries = past.filter((o) => (o.view as OrderStateView).exceptions?.some((e) => e.type === 'delivery_failed')).length;
      return assessRisk({ address: request.customer.address, phone: request.customer.phone, email: request.customer.email, history: { cancellations, failedDeliveries } });
    },

    async noticePreference(request: { tenantId: string; audience: 'seller' | 'customer'; key: string }): Promise<ChannelChoice> {
      const tenant = await db.Tenant.findById(request.tenantId, { preferences: 1 }).lean();
      const prefs = effectivePreferences(tenant?.preferences as never);
      const table = request.audience === 'seller' ? prefs.sellerAlerts : prefs.customerNotices;
      return (table as Record<string, ChannelChoice>)[request.key] ?? { enabled: false, channels: [] };
    },

    async createConfirmation(request: { tenantId: string; orderId: string; ttlMs: number; phone: string | null }): Promise<{ nonce: string; link: string; expiresAt: string }> {
      const nonce = randomBytes(16).toString('base64url');
      const exp = Date.now() + request.ttlMs;
      await db.Confirmation.create({ _id: nonce, tenantId: request.tenantId, orderId: request.orderId, phone: request.phone, expiresAt: new Date(exp), createdAt: new Date() });
      const token = signLink(linkSecret, { kind: 'confirm', tenantId: request.tenantId, target: `${request.orderId}:${nonce}`, exp });
      return { nonce, link: new URL(`/c/${token}`, publicBaseUrl).toString(), expiresAt: new Date(exp).toISOString() };
    },

    async saveOrderState(request: { tenantId: string; orderId: string; customer: OrderDetails['customer']; state: OrderStateView }): Promise<void> {
      const { tenantId, orderId, state } = request;
      await db.Order.updateOne(
        { tenantId, orderId, stateVersion: { $lt: state.version } },
        { $set: { state: state.state, view: state, stateVersion: state.version, customer: request.customer, customerKey: customerKeys(request.customer) },
          $setOnInsert: { workflowId: `order/${tenantId}/${orderId}` } },
        { upsert: true },
      ).catch((err: { code?: number }) => { if (err.code !== 11000) throw err; }); // an older write lost the race: fine
    },
  };
}
