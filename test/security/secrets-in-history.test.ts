// A customer's signed links and reply codes never enter Temporal (issue 15, after issue 14's
// finding 1): the histories of the order, of each notice it sent and of a document re-sent over
// SMS hold neither the address confirmation's /c/ link nor its reply code, nor the /d/ document
// link, in any input, result, signal, update or memo, whoever can read the Temporal server (its
// UI, `temporal workflow show`, its database, its backups). They live only in MongoDB, sealed
// where a lesser role could read the copy (test/security/roles.test.ts).
import { customerNoticeWorkflowId } from '../../src/workflows/customer-notice/contract';
import { historyText } from '../support/history';
import { newOrder, purchaseOrder, startStack, TEST_WHATSAPP_TEMPLATES, type Stack } from '../support/stack';
import { dispatchWorkflowId } from '../../src/workflows/dispatch/contract';
import { orderWorkflowId } from '../../src/workflows/order/contract';

// Ends in 0001: WhatsApp and SMS come back undelivered, so the notice goes on all three channels in turn (issue 20).
const PHONE = '+33698700001';
const EMAIL = 'nora.notice@example.test';
const DOCUMENT_PHONE = '+33698700202';

let stack: Stack;
beforeAll(async () => {
  // The approved WhatsApp template takes the link as a variable: the send must still find it.
  stack = await startStack({
    whatsappTemplates: {
      ...TEST_WHATSAPP_TEMPLATES,
      'address_confirmation.en': { contentSid: `HX${'3'.repeat(32)}`, variables: ['orderId', 'link'] },
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

test('rule O3: an order held for its address asks the customer with a signed link and a reply code that no workflow history holds', async () => {
  const order = newOrder('secret-held', {
    phone: PHONE,
    email: EMAIL,
    address: { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '750', country: 'FR' },
  });
  expect((await stack.request('POST', '/v1/orders', order)).status).toBe(202);
  const sent = await stack.waitFor('the customer asked on every channel', async () => {
    const email = stack.sandbox.messages({ to: EMAIL })[0];
    const sms = stack.sandbox.messages({ to: PHONE }).find((m) => m.channel === 'sms');
    const whatsapp = stack.sandbox.messages({ to: PHONE }).find((m) => m.channel === 'whatsapp');
    return email && sms && whatsapp && { email, sms, whatsapp };
  });
  // What the customer got: the real link on every channel, the code in the text messages.
  const link = /https?:\/\/\S+\/c\/[A-Za-z0-9_.-]+/.exec(sent.email.text!)![0];
  const [tokenBody, tokenMac] = link.split('/c/')[1].split('.');
  expect(sent.sms.body).toContain(link);
  expect(JSON.parse(sent.whatsapp.contentVariables!)).toEqual({ 1: 'secret-held', 2: link });
  const code = /YES (\d{4})/.exec(sent.sms.body!)![1];

  const held = (await stack.request('GET', '/v1/orders/secret-held')).body;
  const notices: string[] = held.notifications.map((n: { dispatchId: string }) => n.dispatchId);
  expect(notices.length).toBeGreaterThanOrEqual(4); // the seller's hold alert, the customer on three channels
  for (const workflowId of [
    orderWorkflowId(stack.tenantId, 'secret-held'),
    ...notices.map((id) => dispatchWorkflowId(stack.tenantId, id)),
    // Issue 20: the notice that went through the channels one at a time.
    ...held.customerNotices.map((c: { noticeId: string }) => customerNoticeWorkflowId(stack.tenantId, c.noticeId)),
  ]) {
    const text = await historyText(stack.client, workflowId);
    // The signature alone would let no one forge a link, but it is the part nobody may learn.
    expect({
      workflowId,
      link: text.includes(link),
      body: text.includes(tokenBody),
      mac: text.includes(tokenMac),
    }).toEqual({ workflowId, link: false, body: false, mac: false });
    expect({
      workflowId,
      code: [`YES ${code}`, `"confirmationCode":"${code}"`, `"code":"${code}"`, `confirm:${code}`].filter((c) =>
        text.includes(c),
      ),
    }).toEqual({ workflowId, code: [] });
  }
});

test("rule D8: a document re-sent over SMS carries a signed link that neither the dispatch's history nor the new one's holds", async () => {
  expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('secret-doc', ['sofia@acme.test']))).status).toBe(
    202,
  );
  await stack.waitFor(
    'the dispatch delivered',
    async () => (await stack.request('GET', '/v1/dispatches/secret-doc')).body?.result === 'delivered',
  );
  const via = await stack.request('POST', '/v1/dispatches/secret-doc/resend-via', {
    channel: 'sms',
    phone: DOCUMENT_PHONE,
  });
  expect(via.status).toBe(202);
  const sms = await stack.waitFor('the document SMS', async () => stack.sandbox.messages({ to: DOCUMENT_PHONE })[0]);
  const token = /\/d\/([A-Za-z0-9_.-]+)/.exec(sms.body!)![1];
  for (const workflowId of [
    dispatchWorkflowId(stack.tenantId, 'secret-doc'),
    dispatchWorkflowId(stack.tenantId, via.body.dispatchId),
  ]) {
    const text = await historyText(stack.client, workflowId);
    expect({ workflowId, token: text.includes(token), mac: text.includes(token.split('.')[1]) }).toEqual({
      workflowId,
      token: false,
      mac: false,
    });
  }
});
