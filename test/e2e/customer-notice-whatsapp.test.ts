// Issue 20, item 2, on the real stack (dev server, FerretDB, HTTP, the sandbox through the Twilio
// SDK): WhatsApp outside its 24 h session window. A customer who never wrote gets the approved
// template when the tenant has one, free text once they wrote within 24 h, and when neither holds
// the channel is skipped with the reason; Twilio's 63016 moves the notice on to the next channel.
import { customerWrites, newOrder, startStack, TEST_WHATSAPP_TEMPLATES, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    eventDelayMs: 30,
    whatsappTemplates: {
      ...TEST_WHATSAPP_TEMPLATES,
      // Approved for the English address confirmation only: the French one has none.
      'address_confirmation.en': { contentSid: `HX${'2'.repeat(32)}`, variables: ['customerName', 'orderId', 'link'] },
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

const INCOMPLETE = { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '7500', country: 'FR' };
const messages = (to: string) => stack.sandbox.messages({ to });
const notice = async (id: string) => (await stack.request('GET', `/v1/orders/${id}`)).body.customerNotices?.[0];
const steps = (n: any) => n.path.map((p: any) => `${p.event} ${p.channel}`);
const held = async (orderId: string, customer: Record<string, unknown>) =>
  expect(
    (await stack.request('POST', '/v1/orders', newOrder(orderId, { address: INCOMPLETE, ...customer }))).status,
  ).toBe(202);
const settled = (id: string) =>
  stack.waitFor(`${id} settled`, async () => {
    const n = await notice(id);
    return n && n.state !== 'running' && n;
  });

test('outside the window with an approved template: WhatsApp goes as the template (ContentSid), delivered, nothing more', async () => {
  const phone = '+33612345101';
  await held('wa-template', { phone });
  const n = await settled('wa-template');
  expect(n.state).toBe('delivered');
  expect(steps(n)).toEqual(['sent whatsapp', 'delivered whatsapp']);
  const [sent] = messages(phone);
  expect(messages(phone)).toHaveLength(1);
  expect(sent).toMatchObject({ channel: 'whatsapp', contentSid: `HX${'2'.repeat(32)}` });
  expect(sent.body ?? '').toBe('');
});

test('outside the window without a template: WhatsApp is skipped with the reason, the SMS goes', async () => {
  const phone = '+33612345102';
  await stack.request('PUT', '/v1/settings', { locale: 'fr' });
  try {
    await held('wa-skipped', { phone });
    const n = await settled('wa-skipped');
    expect(steps(n)).toEqual(['skipped whatsapp', 'sent sms', 'delivered sms']);
    expect(n.path[0].reason).toBe('whatsapp_window');
    expect(messages(phone).map((m) => m.channel)).toEqual(['sms']);
  } finally {
    await stack.request('PUT', '/v1/settings', { locale: 'en' });
  }
});

test('inside the window (the customer wrote within 24 h): WhatsApp goes as free text', async () => {
  const phone = '+33612345103';
  await stack.request('PUT', '/v1/settings', { locale: 'fr' });
  try {
    await customerWrites(stack, phone);
    await held('wa-session', { phone });
    const n = await settled('wa-session');
    expect(steps(n)).toEqual(['sent whatsapp', 'delivered whatsapp']);
    const [sent] = messages(phone);
    expect(sent.channel).toBe('whatsapp');
    expect(sent.contentSid).toBeUndefined();
    expect(sent.body).toContain('wa-session');
  } finally {
    await stack.request('PUT', '/v1/settings', { locale: 'en' });
  }
});

test("Twilio's 63016 (outside the window) moves the notice on at once to the SMS, with the reason", async () => {
  const phone = '+33612340006';
  await stack.request('PUT', '/v1/settings', { locale: 'fr' });
  try {
    // Relais believes the window open (the customer wrote), Twilio says otherwise.
    await customerWrites(stack, phone);
    await held('wa-63016', { phone });
    const n = await settled('wa-63016');
    expect(steps(n)).toEqual(['sent whatsapp', 'failed whatsapp', 'sent sms', 'delivered sms']);
    expect(n.path[1].reason).toBe('whatsapp_window');
    expect(messages(phone).map((m) => m.channel)).toEqual(['whatsapp', 'sms']);
  } finally {
    await stack.request('PUT', '/v1/settings', { locale: 'en' });
  }
});
