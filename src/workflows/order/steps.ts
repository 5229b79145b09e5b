// The effects of one order run (workflow.ts): writing the projection and sending the notices the
// run's steps queued (src/domain/order-run.ts). Deterministic code only: workflow time, activity types.
import { ParentClosePolicy, patched, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import { REFUSED, refuseUpdate } from '../failure-types';
import type { createActivities } from '../../activities';
import type { OrderNotice, OrderRun } from '../../domain/order-run';
import { orderNoticeId } from '../../domain/notice-ids';
import { actionWords, exceptionLabel, reasonWords, resolutionWords } from '../../domain/order-words';
import type { DigestAlert } from '../../domain/alert-digest';
import { channelsFor, type NoticeChannel } from '../../domain/preferences';
import { startNotice, type NoticeRequest } from '../shared/notices';
import {
  CUSTOMER_NOTICE_WORKFLOW,
  customerNoticeWorkflowId,
  type CustomerNoticeInput,
} from '../customer-notice/contract';
import type { customerNotice } from '../customer-notice/workflow';
import { serialWriter } from '../shared/serial-writer';
import type { OrderInput } from './contract';

type Activities = ReturnType<typeof createActivities>;
export const {
  assessOrderRisk,
  noticePreference,
  createConfirmation,
  createAddressConfirmation,
  recordOrder,
  queueSellerAlert,
  reachableNoticeChannels,
} = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Runs with this patch queue a seller's alerts in the seller's digest when they chose one (issue 20). */
export const SELLER_ALERT_DIGEST_PATCH = 'seller-alert-digest';

/** Runs with this patch leave SMS out of a customer notice to a number that cannot take it (issue 20). */
export const ADDRESS_HEALTH_NOTICES_PATCH = 'address-health-notice-channels';
/** Runs with this patch send a customer notice on its channel order, one channel at a time (issue 20). */
export const CUSTOMER_NOTICE_CASCADE_PATCH = 'customer-notice-cascade';

/** A refusal the caller can read: the message, and what programs need (state, allowed events, hold …) as details. */
export const refused = (r: { message: string; details?: unknown }) => refuseUpdate(REFUSED, r.message, r.details);

export class OrderSteps {
  private readonly serialize = serialWriter();

  constructor(
    readonly input: OrderInput,
    readonly run: OrderRun,
  ) {}

  /** Writes what changed since the last write, one write at a time (Update handlers and the main loop both persist). */
  persist(): Promise<void> {
    return this.serialize(async () => {
      const { input, run } = this;
      const changes = run.takeChanges();
      if (!changes) return;
      await recordOrder({
        tenantId: input.tenantId,
        orderId: input.orderId,
        ...changes,
        ...(changes.version === 1
          ? {
              customer: input.order.customer,
              placedAt: workflowInfo().runStartTime.toISOString(),
              number: input.number,
            }
          : {}),
      });
    });
  }

  /** Sends queued notices as dispatches, on the channels the seller's preferences choose now (O9). */
  async sendNotices(): Promise<void> {
    const { input, run } = this;
    while (run.outbox.length) {
      const notice = run.outbox.shift()!;
      const key = notice.audience === 'seller' ? notice.exception.type : notice.notice;
      // Told by the seller on the channels they chose; otherwise as the preferences say now.
      const choice =
        notice.audience === 'customer' && notice.channels
          ? { enabled: true, channels: notice.channels }
          : await noticePreference({ tenantId: input.tenantId, audience: notice.audience, key });
      const { person, template, data } = this.noticeContent(notice);
      const chosen = channelsFor(choice, person);
      // Issue 20: no SMS to a customer's number that opted out; the notice falls to another channel they have.
      const channels =
        notice.audience === 'customer' && chosen.includes('sms') && patched(ADDRESS_HEALTH_NOTICES_PATCH)
          ? await reachableNoticeChannels({ tenantId: input.tenantId, person, channels: chosen })
          : chosen;
      const request = (channel: NoticeChannel, dispatchId: string): NoticeRequest => ({
        tenantId: input.tenantId,
        dispatchId,
        template,
        data,
        locale: input.locale,
        timeZone: input.timeZone,
        tenantName: input.tenantName,
        person,
        channel,
        sender: { ...input.seller, outletId: null },
        policy: { unknownAfterMs: input.policy.unknownAfterMs, listenForMs: input.policy.listenForMs },
        dispatchUrl: input.orderUrl,
        parent: workflowInfo().workflowId,
        ...(notice.audience === 'customer' && notice.confirmation ? { confirmation: notice.confirmation } : {}),
      });
      if (notice.audience === 'customer' && channels.length && patched(CUSTOMER_NOTICE_CASCADE_PATCH)) {
        const noticeId = orderNoticeId(input.orderId, template, run.s.counters.notifications + 1);
        await this.startCustomerNotice(notice, noticeId, channels, request(channels[0], noticeId));
      } else {
        for (const channel of channels) {
          if (notice.audience === 'seller' && (await this.digested(choice, channel, notice.template, data))) continue;
          const dispatchId = orderNoticeId(input.orderId, template, run.s.counters.notifications + 1);
          await startNotice(request(channel, dispatchId));
          run.noticeSent(dispatchId, notice.audience, channel, template);
        }
      }
      run.changed += 1;
    }
  }

  /** Who a notice goes to, its template, and what the template is given. */
  private noticeContent(notice: OrderNotice) {
    const { input, run } = this;
    const { locale } = input;
    const customer = input.order.customer;
    if (notice.audience === 'seller') {
      const { exception } = notice;
      return {
        person: input.seller,
        template: notice.template,
        data: {
          personName: input.seller.name,
          orderId: input.orderId,
          exceptionLabel: exceptionLabel(exception.type, locale),
          reason: reasonWords(exception.reason, locale),
          action: actionWords(exception.reason, locale),
          details: exception.details,
          resolution: resolutionWords(exception.resolution ?? '', locale),
          orderUrl: input.orderUrl,
          // A date goes to the template as a date, which shows it in the tenant's zone and words (O7).
          lastTrackingAt: exception.type === 'stuck_in_transit' ? run.s.lastTrackingAt : null,
        } as Record<string, unknown>,
      };
    }
    return {
      person: { name: customer.name, email: customer.email, phone: customer.phone },
      template: notice.template ?? (notice.notice === 'delivery_failed' ? 'delivery_failed_customer' : notice.notice),
      data: { customerName: customer.name, orderId: input.orderId, companyName: input.tenantName, ...notice.data },
    };
  }

  /** One customer notice, its channels one at a time: its own workflow, which outlives the order's run (issue 20). */
  private async startCustomerNotice(
    notice: Extract<OrderNotice, { audience: 'customer' }>,
    noticeId: string,
    channels: NoticeChannel[],
    first: NoticeRequest,
  ) {
    const { input, run } = this;
    const { dispatchId: _d, channel: _c, ...shared } = first;
    const cascade: CustomerNoticeInput = {
      tenantId: input.tenantId,
      orderId: input.orderId,
      noticeId,
      notice: notice.notice,
      channels,
      urgent: notice.urgent ?? false,
      customerTimeZone: input.order.customer.timeZone ?? input.timeZone,
      request: shared,
    };
    await startChild<typeof customerNotice>(CUSTOMER_NOTICE_WORKFLOW, {
      workflowId: customerNoticeWorkflowId(input.tenantId, noticeId),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [cascade],
    });
    run.noticeCascaded(noticeId, channels[0], first.template);
  }

  /**
   * Issue 20: a seller who chose a digest gets the alert in it (the digest workflow sends at most
   * one message per window); the order's timeline says it was queued there.
   */
  private async digested(
    choice: { digestMinutes?: number | null },
    channel: NoticeChannel,
    template: DigestAlert['template'],
    data: Record<string, unknown>,
  ): Promise<boolean> {
    if (!choice.digestMinutes || !patched(SELLER_ALERT_DIGEST_PATCH)) return false;
    const { input, run } = this;
    const { personName: _name, ...alert } = data as Omit<DigestAlert, 'template' | 'at'> & { personName: string };
    const queued = await queueSellerAlert({
      tenantId: input.tenantId,
      channel,
      seller: input.seller,
      locale: input.locale,
      timeZone: input.timeZone,
      tenantName: input.tenantName,
      policy: { unknownAfterMs: input.policy.unknownAfterMs, listenForMs: input.policy.listenForMs },
      everyMinutes: choice.digestMinutes,
      alert: { ...alert, template, at: new Date().toISOString() },
    });
    if (queued) run.noticeDigested(channel, template);
    return queued;
  }
}
