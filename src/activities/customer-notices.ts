// Activities of the customer notice workflow (issue 20): the tenant's delay and send window, the
// statuses of the notice's dispatches (from their projections), WhatsApp's session window, and
// the notice's path for the order page and the API.
import type { Db } from '../db/models';
import { recipientsKey, dispatchKey } from '../db/dispatch-records';
import { policyMs } from '../domain/durations';
import {
  DEFAULT_SEND_WINDOW,
  type AttemptStatus,
  type NoticePathEntry,
  type NoticeState,
  type SendWindow,
} from '../domain/customer-notice';
import type { RecipientStatus } from '../domain/dispatch-status';
import type { WhatsAppTemplates } from './deps';

/** WhatsApp delivers free text only within 24 h of the customer's last message. */
export const WHATSAPP_SESSION_MS = 24 * 3_600_000;

export function createCustomerNoticeActivities({
  db,
  whatsappTemplates,
}: {
  db: Db;
  whatsappTemplates?: WhatsAppTemplates;
}) {
  return {
    /** The tenant's "move on after" delay and send window, read when the notice starts. */
    async customerNoticeSettings(request: {
      tenantId: string;
    }): Promise<{ moveOnAfterMs: number; sendWindow: SendWindow }> {
      const tenant = await db.Tenant.findById(request.tenantId, { policies: 1, sendWindow: 1 }).lean();
      const window = tenant?.sendWindow as Partial<SendWindow> | null | undefined;
      return {
        moveOnAfterMs: policyMs(tenant?.policies).moveOnAfterMs,
        sendWindow: window?.from && window.to ? { from: window.from, to: window.to } : DEFAULT_SEND_WINDOW,
      };
    },

    /** Each dispatch's recipient status (a notice has one); a request the provider refused counts as not sent. */
    async noticeStatuses(request: { tenantId: string; dispatchIds: string[] }): Promise<AttemptStatus[]> {
      const { tenantId, dispatchIds } = request;
      const [dispatches, recipients] = await Promise.all([
        db.Dispatch.find({ _id: { $in: dispatchIds.map((d) => dispatchKey(tenantId, d)) } }, { result: 1 }).lean(),
        db.DispatchRecipients.find(
          { _id: { $in: dispatchIds.map((d) => recipientsKey(tenantId, d, 0)) } },
          { dispatchId: 1, recipients: 1 },
        ).lean(),
      ]);
      return dispatchIds.map((dispatchId) => {
        const refused = dispatches.find((d) => d._id === dispatchKey(tenantId, dispatchId))?.result === 'failed';
        const r = recipients.find((x) => x.dispatchId === dispatchId)?.recipients[0];
        return {
          dispatchId,
          status: refused ? 'not_sent' : ((r?.status as RecipientStatus | undefined) ?? null),
          reasonCode: r?.reasonCode ?? null,
        };
      });
    },

    /** Whether free text may go to this WhatsApp number now, and whether an approved template exists for the notice. */
    async whatsappSession(request: {
      phone: string;
      template: string;
      locale: string;
    }): Promise<{ open: boolean; template: boolean }> {
      const session = await db.WhatsappSession.findById(request.phone, { lastInboundAt: 1 }).lean();
      return {
        open: Boolean(session && session.lastInboundAt.getTime() > Date.now() - WHATSAPP_SESSION_MS),
        template: Boolean(whatsappTemplates?.[`${request.template}.${request.locale}`]),
      };
    },

    /** The notice's path as it stands (written whole: a few entries per channel). */
    async recordCustomerNotice(request: {
      tenantId: string;
      orderId: string;
      noticeId: string;
      notice: string;
      state: NoticeState;
      path: NoticePathEntry[];
    }): Promise<void> {
      const { tenantId, noticeId } = request;
      await db.CustomerNotice.updateOne(
        { _id: `${tenantId}/${noticeId}` },
        { $set: { ...request, updatedAt: new Date() } },
        { upsert: true },
      );
    },
  };
}
