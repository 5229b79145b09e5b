// One customer notice, `customer-notice/<tenant>/<noticeId>` (issue 20): its channels one at a
// time, in the tenant's order (src/domain/customer-notice.ts). SMS and WhatsApp wait for the
// customer's send window unless urgent; WhatsApp outside the 24 h session window goes as the
// approved template or is skipped. Each channel is a dispatch of its own (startNotice); its status
// is read from the dispatch's projection every STATUS_READ_EVERY_MS: the dispatch workflow stays
// as it is, and a notice that outlives the order still learns of late deliveries. The path (at
// most a few entries per channel) is recorded for the order page and the API after each step.
import { proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import {
  cascadeStep,
  deliveredAttempt,
  heldByQuietHours,
  sendWindowOpensAt,
  type NoticePathEntry,
  type NoticeState,
} from '../../domain/customer-notice';
import type { NoticeChannel } from '../../domain/preferences';
import { channelDispatchId } from '../../domain/notice-ids';
import { startNotice } from '../shared/notices';
import { customerNoticeQuery, type CustomerNoticeInput, type CustomerNoticeView } from './contract';

const { customerNoticeSettings, noticeStatuses, whatsappSession, recordCustomerNotice } = proxyActivities<
  ReturnType<typeof createActivities>
>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function customerNotice(input: CustomerNoticeInput): Promise<CustomerNoticeView> {
  const { tenantId } = input;
  const path: NoticePathEntry[] = [];
  let state = 'running' as NoticeState;
  setHandler(customerNoticeQuery, () => ({ state, path }));
  const note = (channel: NoticeChannel, event: NoticePathEntry['event'], more: Partial<NoticePathEntry> = {}) =>
    path.push({ at: new Date().toISOString(), channel, event, ...more });
  const record = () =>
    recordCustomerNotice({
      tenantId,
      orderId: input.orderId,
      noticeId: input.noticeId,
      notice: input.notice,
      state,
      path,
    });

  const settings = await customerNoticeSettings({ tenantId });
  const sent: Array<{ dispatchId: string; channel: NoticeChannel }> = [];
  /** Whether a channel already sent delivered (then the cascade stops there). */
  const deliveredEarlier = async () => {
    if (!sent.length) return false;
    const statuses = await noticeStatuses({ tenantId, dispatchIds: sent.map((s) => s.dispatchId) });
    const delivered = deliveredAttempt(statuses);
    if (delivered) deliver(delivered.dispatchId);
    return Boolean(delivered);
  };
  const deliver = (dispatchId: string) => {
    note(sent.find((s) => s.dispatchId === dispatchId)!.channel, 'delivered', { dispatchId });
    state = 'delivered';
  };

  for (const channel of input.channels) {
    if (heldByQuietHours(channel) && !input.urgent) {
      const opensAt = sendWindowOpensAt(Date.now(), input.customerTimeZone, settings.sendWindow);
      if (opensAt > Date.now()) {
        note(channel, 'held', { until: new Date(opensAt).toISOString(), reason: 'quiet_hours' });
        await record();
        await sleep(opensAt - Date.now());
        if (await deliveredEarlier()) break;
      }
    }
    if (channel === 'whatsapp') {
      const session = await whatsappSession({
        phone: input.request.person.phone ?? '',
        template: input.request.template,
        locale: input.request.locale,
      });
      if (!session.open && !session.template) {
        note(channel, 'skipped', { reason: 'whatsapp_window' });
        await record();
        continue;
      }
    }
    const dispatchId = channelDispatchId(input.noticeId, channel);
    await startNotice({ ...input.request, dispatchId, channel });
    sent.push({ dispatchId, channel });
    note(channel, 'sent', { dispatchId });
    await record();
    const sentAt = Date.now();
    let stopped = false;
    for (;;) {
      const statuses = await noticeStatuses({ tenantId, dispatchIds: sent.map((s) => s.dispatchId) });
      const step = cascadeStep(statuses, dispatchId, sentAt, Date.now(), settings.moveOnAfterMs);
      if (step.kind === 'wait') {
        await sleep(step.ms);
        continue;
      }
      if (step.kind === 'stop') {
        deliver(step.dispatchId);
        stopped = true;
      } else if (step.why === 'failed')
        note(channel, 'failed', { dispatchId, ...(step.reason ? { reason: step.reason } : {}) });
      else note(channel, 'silent', { dispatchId, reason: 'no_delivery_in_time' });
      break;
    }
    if (stopped) break;
    await record();
  }
  if (state !== 'delivered') state = 'exhausted';
  await record();
  return { state, path };
}
