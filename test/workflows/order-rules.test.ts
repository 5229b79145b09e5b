// Rules O5, O7 and O9 through the real order workflow, its activities stubbed
// (test/support/stubbed-workflows.ts), on the time-skipping test server: the ready-to-ship
// deadline and the 48-hour stuck rule fire in seconds. Asserted: what the workflow wrote
// (exceptions opened and resolved) and which notice it sent to whom on which channel. The same
// rules against the whole stack: test/e2e/orders.test.ts, test/timers/order-stuck.test.ts.
import type { WorkflowHandle } from '@temporalio/client';
import type { NoticeRecordRequest } from '../../src/activities/dispatch';
import type { OrderChanges } from '../../src/activities/orders';
import type { OrderEvent } from '../../src/domain/order';
import {
  ORDER_WORKFLOW,
  orderEventUpdate,
  orderWorkflowId,
  type OrderInput,
  type OrderWorkflow,
} from '../../src/workflows/order/contract';
import { startStubbedWorkflows, type StubbedWorkflows } from '../support/stubbed-workflows';
import { waitFor } from '../support/wait';

const TENANT = 'tenant-stubbed';
const HOUR = 3_600_000;
let workflows: StubbedWorkflows;

// A test server per test: one scenario's timers never move another's clock.
beforeEach(async () => {
  workflows = await startStubbedWorkflows({
    assessOrderRisk: () => ({ level: 'low', score: 0, reasons: [] }),
    noticePreference: () => ({ enabled: true, channels: ['email'] }),
    recordOrder: () => undefined,
    recordNotice: () => undefined,
    // The notices' own dispatches.
    sendRecipients: (request) => ({
      batch: `${request.dispatchId}/send`,
      documents: [0],
      accepted: [0],
      sent: [],
      notSent: [],
    }),
    projectDispatch: () => undefined,
    recordDispatchNotice: () => undefined,
    // A customer notice's own workflow (issue 20): no quiet hours; its channel delivered at the first read.
    customerNoticeSettings: () => ({ moveOnAfterMs: 15 * 60_000, sendWindow: { from: '00:00', to: '00:00' } }),
    noticeStatuses: ({ dispatchIds }) =>
      dispatchIds.map((dispatchId) => ({ dispatchId, status: 'delivered', reasonCode: null })),
    whatsappSession: () => ({ open: false, template: false }),
    recordCustomerNotice: () => undefined,
  });
});
afterEach(async () => {
  await workflows?.close();
});

function input(orderId: string): OrderInput {
  return {
    tenantId: TENANT,
    orderId,
    locale: 'en',
    timeZone: 'Europe/Paris',
    tenantName: 'Bistro Demo',
    orderUrl: `https://relais.test/ui/orders/${orderId}`,
    number: 1,
    order: {
      items: [{ sku: 'TSHIRT-M', quantity: 1, location: 'A-12' }],
      salesChannel: 'shopify',
      carrier: 'colissimo',
      payment: { method: 'prepaid', amount: null },
      customer: {
        name: 'Chloé Client',
        phone: '+33612345670',
        email: 'chloe@example.test',
        address: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
      },
    },
    seller: { name: 'Sam Seller', email: 'sam@shop.test', phone: null, smsOptIn: false, whatsappOptIn: false },
    policy: {
      stuckAfterMs: 48 * HOUR,
      linkTtlMs: 48 * HOUR,
      readyToShipWithinMs: 24 * HOUR,
      unknownAfterMs: 30 * 60_000,
      listenForMs: 72 * HOUR,
    },
  };
}

async function start(orderId: string): Promise<WorkflowHandle<OrderWorkflow>> {
  const handle = await workflows.env.client.workflow.start<OrderWorkflow>(ORDER_WORKFLOW, {
    taskQueue: workflows.taskQueue,
    workflowId: orderWorkflowId(TENANT, orderId),
    args: [input(orderId)],
  });
  await waitFor('the order written', () => writesOf(orderId).length > 0);
  return handle;
}
const event = (handle: WorkflowHandle, e: OrderEvent) => handle.executeUpdate(orderEventUpdate, { args: [e] });
const writesOf = (orderId: string): OrderChanges[] =>
  workflows.callsOf('recordOrder').filter((w) => w.orderId === orderId);
const noticesOf = (orderId: string): NoticeRecordRequest[] =>
  workflows.callsOf('recordNotice').filter((n) => n.parent === orderWorkflowId(TENANT, orderId));
const opened = (orderId: string) => writesOf(orderId).flatMap((w) => w.opened.map((e) => [e.type, e.reason]));
const told = (n: NoticeRecordRequest) => [n.template, n.person.email, n.channel, n.dispatchId];

test('rule O5: allocated and not packed within the deadline: ready-to-ship failed, the seller alerted (O9); packing resolves it', async () => {
  const handle = await start('o5');
  await event(handle, { type: 'allocated' });
  await workflows.env.sleep(24 * HOUR - 60_000);
  expect(opened('o5')).toEqual([]);
  await workflows.env.sleep(120_000);
  await waitFor('the alert', () => noticesOf('o5').length);
  expect(opened('o5')).toEqual([['rts_failed', 'not_ready_in_time']]);
  expect(noticesOf('o5').map(told)).toEqual([
    ['order_exception', 'sam@shop.test', 'email', 'order-o5~order_exception-1'],
  ]);
  expect(noticesOf('o5')[0].data).toMatchObject({
    orderId: 'o5',
    reason: expect.any(String),
    action: expect.any(String),
  });
  expect(writesOf('o5').at(-1)!.listing).toMatchObject({
    state: 'rts_failed',
    open: [expect.objectContaining({ type: 'rts_failed' })],
  });

  await event(handle, { type: 'packed' });
  await waitFor('the resolution', () => noticesOf('o5').length === 2);
  expect(told(noticesOf('o5')[1])).toEqual([
    'order_exception_resolved',
    'sam@shop.test',
    'email',
    'order-o5~order_exception_resolved-2',
  ]);
  expect(writesOf('o5').flatMap((w) => w.resolved.map((r) => r.resolution))).toEqual(['packed']);
});

test('rule O7: no tracking update for 48 hours: stuck, the seller alerted with the last update; the next update resolves it', async () => {
  const handle = await start('o7');
  for (const e of [{ type: 'allocated' }, { type: 'packed' }, { type: 'handed_over' }] as OrderEvent[])
    await event(handle, e);
  await event(handle, {
    type: 'tracking_update',
    status: 'in transit',
    location: 'Lyon hub',
    at: new Date().toISOString(),
  });
  await workflows.env.sleep(47 * HOUR);
  expect(opened('o7')).toEqual([]);
  await workflows.env.sleep(2 * HOUR);
  await waitFor('the stuck alert', () => noticesOf('o7').length);
  expect(opened('o7')).toEqual([['stuck_in_transit', 'no_tracking_update']]);
  const [alert] = noticesOf('o7');
  expect(told(alert)).toEqual(['order_exception', 'sam@shop.test', 'email', 'order-o7~order_exception-1']);
  expect(alert.data.lastTrackingAt).toEqual(expect.any(String));
  expect(writesOf('o7').at(-1)!.listing).toMatchObject({ state: 'in_transit', stuck: true });

  await event(handle, {
    type: 'tracking_update',
    status: 'in transit',
    location: 'Paris hub',
    at: new Date().toISOString(),
  });
  await waitFor('the resolution', () => noticesOf('o7').length === 2);
  expect(noticesOf('o7')[1].template).toBe('order_exception_resolved');
  expect(writesOf('o7').at(-1)!.listing).toMatchObject({ stuck: false, open: [] });
});

test('rule O8: a failed delivery alerts the seller and tells the customer what happens next, on the channels the preferences choose (O9)', async () => {
  const handle = await start('o8');
  for (const e of [{ type: 'allocated' }, { type: 'packed' }, { type: 'handed_over' }] as OrderEvent[])
    await event(handle, e);
  await event(handle, { type: 'delivery_failed', reason: 'customer_unavailable' });
  await waitFor('both notices', () => noticesOf('o8').length === 2);
  expect(noticesOf('o8').map(told)).toEqual([
    ['order_exception', 'sam@shop.test', 'email', 'order-o8~order_exception-1'],
    // The customer's notice goes through its own workflow, one dispatch per channel tried (issue 20).
    ['delivery_failed_customer', 'chloe@example.test', 'email', 'order-o8~delivery_failed_customer-2-email'],
  ]);
  expect(noticesOf('o8')[1].data).toMatchObject({
    customerName: 'Chloé Client',
    orderId: 'o8',
    nextStep: expect.any(String),
  });
  await event(handle, { type: 'delivered' });
  expect(await handle.result()).toMatchObject({ state: 'delivered', ended: true, openExceptions: [] });
});
