// A customer notice going through its channels one at a time (src/workflows/customer-notice/workflow.ts),
// as its callers see it: its id, its input and the query that shows its path. The order workflow
// starts it (startChild, abandoned on the order's close); it ends when a channel delivered or
// every channel was tried.
import { defineQuery } from '@temporalio/workflow';
import type { NoticePathEntry, NoticeState } from '../../domain/customer-notice';
import type { CustomerNotice, NoticeChannel } from '../../domain/preferences';
import type { NoticeRequest } from '../shared/notices';

export const CUSTOMER_NOTICE_WORKFLOW = 'customerNotice';
/** `noticeId`: the order's notice, `order-<orderId>~<template>-<n>`; its dispatches add `-<channel>`. */
export const customerNoticeWorkflowId = (tenantId: string, noticeId: string) =>
  `customer-notice/${tenantId}/${noticeId}`;

export interface CustomerNoticeInput {
  tenantId: string;
  orderId: string;
  noticeId: string;
  notice: CustomerNotice;
  /** The channels to try, in order, each one the customer can receive. */
  channels: NoticeChannel[];
  /** Goes now, whatever the hour: not held by quiet hours (the seller said so, or the order is about to ship). */
  urgent: boolean;
  /** The customer's zone for quiet hours (the order's customer's, else the tenant's). */
  customerTimeZone: string;
  /** What each channel's dispatch is recorded and started with. */
  request: Omit<NoticeRequest, 'dispatchId' | 'channel'>;
}

export interface CustomerNoticeView {
  state: NoticeState;
  path: NoticePathEntry[];
}
export const customerNoticeQuery = defineQuery<CustomerNoticeView>('path');
