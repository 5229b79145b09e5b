// Issue 20, items 3 and 4: a customer notice goes on its channels one at a time, on the
// time-skipping test server at the real defaults (moveOnAfter PT15M, quiet hours 08:00–21:00;
// MongoDB, HTTP, the sandbox and the SDKs are real). Channels come from the sandbox's fates:
// a phone ending 0404 stays silent after "sent", 0002 fails (30005), others are delivered.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { newOrder, type Stack } from '../support/stack';
import { startTimeSkippingStack } from '../support/time-skipping';
import { orderStateQuery, orderWorkflowId } from '../../src/workflows/order/contract';
import { zonedInstant } from '../../src/domain/customer-notice';

let env: TestWorkflowEnvironment;
let stack: Stack;
let close: () => Promise<void>;
let ops: string;
beforeAll(async () => {
  ({ env, stack, close } = await startTimeSkippingStack({}));
  ops = await stack.keyWithRoles(['ops']);
  // The product's defaults: the test stack turns quiet hours off for the other tests.
  const put = await stack.request('PUT', '/v1/settings', { sendWindow: { from: '08:00', to: '21:00' } });
  expect(put.status).toBe(200);
  expect(put.body.policies.moveOnAfter).toBe('PT15M');
  // SMS first: the sandbox's phone fates decide each scenario (WhatsApp's window has its own tests, e2e).
  const prefs = await stack.request('PUT', '/v1/preferences', {
    customerNotices: { address_confirmation: { enabled: true, channels: ['sms', 'email'] } },
  });
  expect(prefs.status).toBe(200);
});
afterAll(async () => {
  await close?.();
});

const INCOMPLETE = { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '7500', country: 'FR' };
const messages = (to: string) => stack.sandbox.messages({ to });
const order = async (id: string) => (await stack.request('GET', `/v1/orders/${id}`)).body;
const notice = async (id: string) => (await order(id)).customerNotices[0];
const events = async (id: string) => ((await notice(id))?.path ?? []).map((p: any) => `${p.event} ${p.channel}`);

/** An order held for its address: the customer gets the address confirmation (O3) on its channel order. */
async function held(orderId: string, customer: Record<string, unknown>, more: Record<string, unknown> = {}) {
  const body = { ...newOrder(orderId, { address: INCOMPLETE, ...customer }), ...more };
  const res = await stack.request('POST', '/v1/orders', body);
  expect(res.status).toBe(202);
  const handle = env.client.workflow.getHandle(orderWorkflowId(stack.tenantId, orderId));
  await stack.waitFor(`${orderId} held`, async () => (await handle.query(orderStateQuery)).state === 'on_hold');
}

/** Sleeps the test server's clock to the next time of day `hh:mm` in Paris. */
async function sleepUntilParis(hh: number, mm: number) {
  const now = await env.currentTimeMs();
  const today = new Date(now).toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });
  let at = zonedInstant(today, hh * 60 + mm, 'Europe/Paris');
  if (at <= now)
    at = zonedInstant(
      new Date(now + 86_400_000).toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' }),
      hh * 60 + mm,
      'Europe/Paris',
    );
  await env.sleep(at - now);
}

test('issue 20: a channel silent for 14 minutes gets nothing more; at 15 minutes the next channel goes; its delivery stops the notice', async () => {
  await sleepUntilParis(10, 0);
  const phone = '+33612340404';
  const email = 'silent.sms@example.test';
  await held('cn-silent', { phone, email });
  await stack.waitFor('the SMS', async () => messages(phone).find((m) => m.channel === 'sms'));
  await env.sleep('14 minutes');
  expect(messages(email)).toHaveLength(0);
  expect(await events('cn-silent')).toEqual(['sent sms']);
  await env.sleep('1 minute');
  const mail = await stack.waitFor('the email after 15 minutes', async () => messages(email)[0]);
  expect(mail.text).toMatch(/\/c\/[A-Za-z0-9_.-]+/);
  await stack.waitFor('delivered by email', async () => (await notice('cn-silent')).state === 'delivered');
  expect(await events('cn-silent')).toEqual(['sent sms', 'silent sms', 'sent email', 'delivered email']);
  const o = await order('cn-silent');
  expect(o.notifications).toContainEqual(
    expect.objectContaining({
      audience: 'customer',
      channel: 'email',
      noticeId: expect.any(String),
      status: 'delivered',
    }),
  );
  expect(messages(phone)).toHaveLength(1);
});

test('issue 20: a failed SMS (Twilio 30005) moves on at the next read, without waiting for the delay', async () => {
  await sleepUntilParis(10, 0);
  const phone = '+33612340002';
  const email = 'failed.sms@example.test';
  await held('cn-failed', { phone, email });
  await stack.waitFor('the SMS failed', async () =>
    (await events('cn-failed')).includes('failed sms') ? true : (await env.sleep('30 seconds'), false),
  );
  const path = (await notice('cn-failed')).path;
  expect(path[1]).toMatchObject({ event: 'failed', channel: 'sms', reason: 'unknown_phone' });
  // Moved on well before the 15 minutes of a silent channel.
  expect(Date.parse(path[1].at) - Date.parse(path[0].at)).toBeLessThan(15 * 60_000);
  await stack.waitFor('the email', async () => messages(email)[0]);
});

test('issue 20: a delivered SMS stops the notice: nothing more goes', async () => {
  await sleepUntilParis(10, 0);
  const phone = '+33612340111';
  const email = 'delivered.sms@example.test';
  await held('cn-delivered', { phone, email });
  await stack.waitFor('delivered by SMS', async () =>
    (await notice('cn-delivered'))?.state === 'delivered' ? true : (await env.sleep('30 seconds'), false),
  );
  await env.sleep('30 minutes');
  expect(messages(email)).toHaveLength(0);
  expect(messages(phone)).toHaveLength(1);
  expect(await events('cn-delivered')).toEqual(['sent sms', 'delivered sms']);
});

test("issue 20: quiet hours: a notice due at 22:30 in Paris is held until 08:00 the next day, email is not held; the seller's urgent message and an order about to ship go at once", async () => {
  // Placed in the day, told at night.
  const urgentPhone = '+33612340333';
  expect(
    (await stack.request('POST', '/v1/orders', newOrder('cn-urgent', { phone: urgentPhone, email: null }))).status,
  ).toBe(202);
  const handle = env.client.workflow.getHandle(orderWorkflowId(stack.tenantId, 'cn-urgent'));
  await stack.waitFor('cn-urgent placed', async () => (await handle.query(orderStateQuery)).risk !== null);

  await sleepUntilParis(22, 30);
  const phone = '+33612340222';
  const email = 'night@example.test';
  await held('cn-night', { phone, email });
  const first = await stack.waitFor('held', async () => (await notice('cn-night'))?.path[0]);
  expect(first).toMatchObject({ event: 'held', channel: 'sms', reason: 'quiet_hours' });
  const until = new Date(first.until);
  expect(until.toLocaleTimeString('fr-FR', { timeZone: 'Europe/Paris' })).toBe('08:00:00');
  // Due at 22:30 and a few seconds (the order's set-up), held about nine and a half hours.
  expect(until.getTime() - Date.parse(first.at)).toBeGreaterThan(9.4 * 3_600_000);
  expect(until.getTime() - Date.parse(first.at)).toBeLessThanOrEqual(9.5 * 3_600_000);

  // The bypass: the seller's "tell the customer" marked urgent goes now.
  const told = await stack.request(
    'POST',
    '/v1/orders/cn-urgent/actions',
    { type: 'tell_customer', notice: 'delivery_delay', channels: ['sms'], urgent: true },
    ops,
  );
  expect(told.status).toBe(200);
  await stack.waitFor('the urgent SMS at 22:30', async () => messages(urgentPhone)[0]);
  await stack.waitFor('the urgent notice recorded', async () => (await notice('cn-urgent'))?.path[0]);
  expect((await notice('cn-urgent')).path[0]).toMatchObject({ event: 'sent', channel: 'sms' });

  // An order about to ship: its address confirmation goes now too (O3 cannot wait for the morning).
  const expressPhone = '+33612340444';
  await held('cn-express', { phone: expressPhone, email: 'express@example.test' }, { urgentAddressConfirmation: true });
  await stack.waitFor('the express confirmation at 22:30', async () => messages(expressPhone)[0]);
  expect(messages(expressPhone)[0].body).toContain('/c/');
  const express = await stack.waitFor('the express notice recorded', async () => (await notice('cn-express'))?.path[0]);
  expect(express).toMatchObject({ event: 'sent', channel: 'sms' });
  expect(messages(phone)).toHaveLength(0);

  await sleepUntilParis(7, 59);
  expect(messages(phone)).toHaveLength(0);
  await env.sleep('1 minute');
  await stack.waitFor('the SMS at 08:00', async () => messages(phone)[0]);
  expect(messages(email)).toHaveLength(0);
});

test('bad input: a delay out of bounds or a malformed send window is a 4xx naming the field, and changes nothing', async () => {
  for (const value of ['PT30S', 'P2D']) {
    const res = await stack.request('PUT', '/v1/settings', { policies: { moveOnAfter: value } });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].field).toBe('policies.moveOnAfter');
  }
  for (const sendWindow of [{ from: '8:00', to: '21:00' }, { from: '08:00', to: '24:00' }, { from: '08:00' }]) {
    const res = await stack.request('PUT', '/v1/settings', { sendWindow });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain('sendWindow.');
  }
  const settings = (await stack.request('GET', '/v1/settings')).body;
  expect(settings.policies.moveOnAfter).toBe('PT15M');
  expect(settings.sendWindow).toEqual({ from: '08:00', to: '21:00' });
});
