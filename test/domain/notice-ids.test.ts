// The ids of an order's notice dispatches: the registry reads back the order the workflows wrote
// (issue 20: one dispatch per channel of a customer notice).
import { channelDispatchId, orderNoticeId, orderOfDispatch } from '../../src/domain/notice-ids';

test.each([
  ['order-o-1~delivery_delay-3', 'o-1'],
  ['order-A~B~address_confirmation-1', 'A~B'],
  ['order-o-1~delivery_delay-3-sms', 'o-1'],
  ['order-o-1~delivery_delay-3-whatsapp', 'o-1'],
  ['order-o-1~delivery_delay-3-fax', null],
  ['po-1042', null],
  ['order-x', null],
])('orderOfDispatch(%p) → %p', (dispatchId, orderId) => {
  expect(orderOfDispatch(dispatchId)).toBe(orderId);
});

test.each([
  ['o-1', 'delivery_delay', 3, undefined, 'order-o-1~delivery_delay-3'],
  ['A~B', 'address_confirmation', 1, undefined, 'order-A~B~address_confirmation-1'],
  ['o-1', 'delivery_failed_customer', 2, 'email', 'order-o-1~delivery_failed_customer-2-email'],
  ['o-1', 'delivery_delay', 12, 'sms', 'order-o-1~delivery_delay-12-sms'],
  ['o-1', 'delivery_delay', 1, 'whatsapp', 'order-o-1~delivery_delay-1-whatsapp'],
] as const)('%p, %p #%p on %p → %p, read back as its order', (orderId, template, n, channel, id) => {
  const notice = orderNoticeId(orderId, template, n);
  const dispatchId = channel ? channelDispatchId(notice, channel) : notice;
  expect(dispatchId).toBe(id);
  expect(orderOfDispatch(dispatchId)).toBe(orderId);
});
