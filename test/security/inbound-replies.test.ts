// Rule O3, WhatsApp/SMS replies (issue 14, finding 3): a "yes" confirms the conversation it
// answers — the number the customer wrote to, and the order whose code it carries — never simply
// the newest pending confirmation of the phone, which may be another order or another tenant's.
// When it is ambiguous, the customer is asked which order, by order number and seller, and
// nothing is confirmed. Two tenants, three held orders, one phone; replies through the sandbox,
// signed as Twilio signs them.
import { customerWrites, newOrder, startStack, type Stack } from '../support/stack';

const PHONE = '+33698700201';
const OUR_NUMBER = '+15005550006'; // the stack's TWILIO_SMS_FROM / TWILIO_WHATSAPP_FROM
const held = (orderId: string) =>
  newOrder(orderId, {
    phone: PHONE,
    email: `${orderId}@example.test`,
    address: { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '750', country: 'FR' },
  });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const stateOf = async (orderId: string, key: string) =>
  (await stack.request('GET', `/v1/orders/${orderId}`, undefined, key)).body.state;
const reply = async (input: {
  body?: string;
  buttonPayload?: string;
  channel?: 'sms' | 'whatsapp';
  to?: string;
  from?: string;
}) => {
  const answer = await stack.sandbox.inbound({
    channel: input.channel ?? 'sms',
    from: input.from ?? PHONE,
    to: input.to,
    body: input.body,
    buttonPayload: input.buttonPayload,
  });
  expect(answer.status).toBe(200);
  return answer.body;
};

test('O3: a reply confirms only the order it names, for the tenant that asked; an ambiguous one is answered with a question', async () => {
  // Tenant A (English) holds two orders for the phone, tenant B (French, "Other Co") one. The customer
  // wrote on WhatsApp first: each question goes there as free text (issue 20: the first channel of an
  // address confirmation), is read, and nothing more goes.
  await customerWrites(stack, PHONE);
  for (const id of ['in-a1', 'in-a2']) expect((await stack.request('POST', '/v1/orders', held(id))).status).toBe(202);
  expect((await stack.request('POST', '/v1/orders', held('in-b1'), stack.other.key)).status).toBe(202);
  const codes = await stack.waitFor('three WhatsApp messages asking to confirm', async () => {
    const whatsapp = stack.sandbox.messages({ to: PHONE }).filter((m) => m.channel === 'whatsapp');
    if (whatsapp.length < 3) return undefined;
    const found: Record<string, string> = {};
    for (const m of whatsapp) {
      const order = /commande (in-\w+)|order (in-\w+)/.exec(m.body!)!;
      found[order[1] ?? order[2]] = /(?:YES|OUI) (\d{4})/.exec(m.body!)![1];
    }
    return found;
  });
  expect(Object.keys(codes).sort()).toEqual(['in-a1', 'in-a2', 'in-b1']);
  const unchanged = async () => ({
    a1: await stateOf('in-a1', stack.key),
    a2: await stateOf('in-a2', stack.key),
    b1: await stateOf('in-b1', stack.other.key),
  });
  expect(await unchanged()).toEqual({ a1: 'on_hold', a2: 'on_hold', b1: 'on_hold' });

  // "YES" alone while three orders wait: the customer is asked which, by the codes and sellers they were sent.
  const which = await reply({ body: 'YES' });
  expect(which).toMatch(/^<Response><Message>.*<\/Message><\/Response>$/s);
  for (const id of ['in-a1', 'in-a2', 'in-b1']) expect(which).toContain(`YES ${codes[id]} for order ${id}`);
  expect(which).toContain('Bistro Demo');
  expect(which).toContain('Other Co');
  expect(await unchanged()).toEqual({ a1: 'on_hold', a2: 'on_hold', b1: 'on_hold' });

  // A code no waiting order has: nothing confirmed, and the customer is told.
  const unknownCode = ['1111', '2222', '3333', '4444'].find((c) => !Object.values(codes).includes(c))!;
  expect(await reply({ body: `yes ${unknownCode}` })).toContain(`code ${unknownCode}`);
  // Another phone with a real code, or our code sent to another number: not this conversation.
  expect(await reply({ body: `YES ${codes['in-a2']}`, from: '+33698700299' })).toMatch(/No order of yours/);
  expect(await reply({ body: `YES ${codes['in-a2']}`, to: '+15005550099' })).toMatch(/No order of yours/);
  expect(await unchanged()).toEqual({ a1: 'on_hold', a2: 'on_hold', b1: 'on_hold' });

  // Tenant B's code, in French: only tenant B's order, and the answer is in French.
  const b = await reply({ body: `Oui ${codes['in-b1']}` });
  expect(b).toContain('in-b1');
  expect(b).toMatch(/confirmée/);
  await stack.waitFor('in-b1 released', async () => (await stateOf('in-b1', stack.other.key)) === 'placed');
  expect(await unchanged()).toEqual({ a1: 'on_hold', a2: 'on_hold', b1: 'placed' });

  // The WhatsApp quick-reply button of order a1 carries its code in the payload.
  await reply({ channel: 'whatsapp', to: `whatsapp:${OUR_NUMBER}`, buttonPayload: `confirm:${codes['in-a1']}` });
  await stack.waitFor('in-a1 released', async () => (await stateOf('in-a1', stack.key)) === 'placed');
  expect(await unchanged()).toEqual({ a1: 'placed', a2: 'on_hold', b1: 'placed' });
  expect(
    (await stack.request('GET', '/v1/orders/in-a1')).body.history.find(
      (h: { event: string }) => h.event === 'address_confirmed',
    ),
  ).toMatchObject({ by: 'customer (whatsapp)' });

  // One order left waiting for this phone: a plain "yes" is no longer ambiguous.
  expect(await reply({ body: 'yes' })).toContain('in-a2');
  await stack.waitFor('in-a2 released', async () => (await stateOf('in-a2', stack.key)) === 'placed');
  expect(await reply({ body: 'yes' })).toMatch(/No order of yours/);

  // Every reply is kept for audit, with what was done.
  const inbound = await stack.db.WebhookEvent.find({ provider: 'twilio', outcome: /^inbound/ }).lean();
  expect(inbound.map((e) => e.outcome)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/asked which order/),
      expect.stringMatching(/confirmed order in-b1/),
      expect.stringMatching(/confirmed order in-a1/),
    ]),
  );
});
