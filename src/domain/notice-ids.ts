// The ids of an order's notice dispatches, written and read back in this one module: the order
// workflow names its notices, the customer-notice workflow names one dispatch per channel tried,
// and the address-health registry reads the order back from either (a change here changes all three).
import type { NoticeChannel } from './preferences';

/** An order's notice: `order-<orderId>~<template>-<n>`, n its number among the order's notices. */
export const orderNoticeId = (orderId: string, template: string, n: number) => `order-${orderId}~${template}-${n}`;

/** The dispatch of one channel of a customer notice (issue 20: one dispatch per channel tried). */
export const channelDispatchId = (noticeId: string, channel: NoticeChannel) => `${noticeId}-${channel}`;

/** The order a notice dispatch belongs to, or null: an order notice, or one channel of a customer notice. */
export function orderOfDispatch(dispatchId: string): string | null {
  const m = /^order-(.+)~[a-z0-9_]+-\d+(?:-(?:email|sms|whatsapp))?$/.exec(dispatchId);
  return m ? m[1] : null;
}
