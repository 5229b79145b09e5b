// The foundation slice, end to end over HTTP: API → dispatch workflow → SendGrid SDK →
// sandbox → signed Event Webhook → workflow → delivery log (rules D1, D2, N3).
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { purchaseOrder, startStack, type Stack } from '../support/stack';
import { recordDispatch } from '../../src/db/dispatch-records';
import { fingerprint } from '../../src/api/fingerprint';
import { createDispatchSchema } from '../../src/api/schemas';
import { dispatchWorkflowId } from '../../src/workflows/dispatch/contract';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const dispatchOf = (id: string) => stack.request('GET', `/v1/dispatches/${id}`);
const statusOf = async (id: string, rid = 'r1') =>
  (await dispatchOf(id)).body?.recipients?.find((r: any) => r.recipientId === rid)?.status;

test('a purchase order reaches the supplier and the signed delivered event shows in the log (D2)', async () => {
  const created = await stack.request('POST', '/v1/dispatches', purchaseOrder('po-1', ['orders@acme.test']));
  expect(created.status).toBe(202);
  expect(created.body).toMatchObject({ dispatchId: 'po-1', workflowId: dispatchWorkflowId(stack.tenantId, 'po-1') });

  await stack.waitFor('delivered', async () => (await statusOf('po-1')) === 'delivered');
  const messages = stack.sandbox.messages({ to: 'orders@acme.test' });
  expect(messages).toHaveLength(1);
  expect(messages[0].subject).toContain('PO-po-1');
  expect(messages[0].customArgs).toMatchObject({
    relais_tenant: stack.tenantId,
    relais_dispatch: 'po-1',
    relais_index: '0.1',
  }); // position.attempt

  const { body } = await dispatchOf('po-1');
  expect(body.result).toBe('delivered');
  expect(body.subject).toBe(messages[0].subject);
  expect(body.html).toContain('PO-po-1');
  const events = body.recipients[0].history.map((h: any) => h.event);
  expect(events).toEqual(expect.arrayContaining(['accepted', 'processed', 'delivered']));
  expect(
    body.recipients[0].history.filter((h: any) => h.eventId).every((h: any) => typeof h.eventId === 'string'),
  ).toBe(true);
});

test('posting the same dispatch id again starts nothing new (idempotent)', async () => {
  const again = await stack.request('POST', '/v1/dispatches', purchaseOrder('po-1', ['orders@acme.test']));
  expect(again.status).toBe(200);
  expect(again.body.created).toBe(false);
  expect(stack.sandbox.messages({ to: 'orders@acme.test' })).toHaveLength(1);
});

test('the same dispatch id with another request is refused (409) and sends nothing', async () => {
  const other = await stack.request('POST', '/v1/dispatches', purchaseOrder('po-1', ['someone-else@acme.test']));
  expect(other.status).toBe(409);
  expect(other.body.error).toMatchObject({ code: 'dispatch_exists', details: [{ field: 'recipients' }] });
  expect(stack.sandbox.messages({ to: 'someone-else@acme.test' })).toHaveLength(0);
});

test('the API died after recording the dispatch, before starting it: the retried request starts it (nothing lost)', async () => {
  const body = purchaseOrder('po-half', ['half@acme.test']);
  // What the first request left: the dispatch recorded (as the route records it), no workflow.
  await recordDispatch(stack.db, {
    tenantId: stack.tenantId,
    dispatchId: 'po-half',
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: body.template,
    locale: 'en',
    document: body.document,
    sender: { ...body.sender },
    requestedBy: 'test',
    content: {
      subject: 'Purchase order PO-po-half',
      html: '<p>PO-po-half</p>',
      text: 'PO-po-half',
      templateData: body.data,
    },
    sealed: null,
    attachments: [],
    recipients: [{ recipientId: 'r1', address: 'half@acme.test', name: null }],
    parent: null,
    request: fingerprint(createDispatchSchema.parse(body), 'dispatchId'),
  });
  const retried = await stack.request('POST', '/v1/dispatches', body);
  expect(retried.status).toBe(202);
  expect(retried.body.created).toBe(true);
  await stack.waitFor('delivered', async () => (await statusOf('po-half')) === 'delivered');
  expect(stack.sandbox.messages({ to: 'half@acme.test' })).toHaveLength(1);
});

test('a webhook with a wrong signature gets 401 and changes nothing (N3)', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('po-sig', ['silent+silent@acme.test']));
  await stack.waitFor('processed', async () => (await statusOf('po-sig')) === 'processed');
  const before = (await dispatchOf('po-sig')).body;

  const forged =
    JSON.stringify([
      {
        email: 'silent+silent@acme.test',
        timestamp: Math.floor(Date.now() / 1000),
        event: 'bounce',
        sg_event_id: 'forged-1',
        relais_tenant: stack.tenantId,
        relais_dispatch: 'po-sig',
        relais_index: '0.1',
        reason: '550 forged',
        type: 'bounce',
      },
    ]) + '\r\n';
  const ts = String(Math.floor(Date.now() / 1000));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }); // not the sandbox's key
  const signature = sign(
    'sha256',
    Buffer.from(ts + forged),
    createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })),
  ).toString('base64');

  const attempts: Array<Record<string, string>> = [
    { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': ts },
    {},
  ];
  for (const headers of attempts) {
    const res = await fetch(`${stack.apiUrl}/webhooks/sendgrid`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: forged,
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toMatch(/signature|unsigned/);
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = (await dispatchOf('po-sig')).body;
  expect(after.recipients[0].status).toBe('processed');
  expect(after.recipients[0].history).toEqual(before.recipients[0].history);
});

test('a worker stopped after the send and replaced loses nothing and sends nothing twice', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('po-restart', ['restart@acme.test']));
  await stack.waitFor('the send', async () => stack.sandbox.messages({ to: 'restart@acme.test' }).length === 1);
  await stack.stopWorker();
  // The provider's events arrive while no worker runs: Temporal keeps the signals.
  await stack.waitFor('webhooks delivered', async () =>
    stack.sandbox.messages({ to: 'restart@acme.test' })[0].events.some((e: any) => e.type === 'delivered'),
  );
  expect((await stack.request('GET', '/v1/dispatches/po-restart')).body.recipients[0].status).not.toBe('delivered');
  await stack.startWorker();
  // Under 1 s on a quiet machine; one CI run, with the fuzzer on both cores, went past 30 s and
  // the cause was not found: 90 s, and a timeout says where the recipient stood.
  let recipient: any;
  await stack
    .waitFor(
      'delivered after restart',
      async () => {
        recipient = (await dispatchOf('po-restart')).body?.recipients?.[0];
        return recipient?.status === 'delivered';
      },
      90_000,
    )
    .catch((err: Error) => {
      throw new Error(`${err.message}; the recipient: ${JSON.stringify(recipient)}`);
    });
  expect(stack.sandbox.messages({ to: 'restart@acme.test' })).toHaveLength(1);
});

test('the document travels as a PDF attachment; the log keeps its name (D11)', async () => {
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n').toString('base64');
  const body = {
    ...purchaseOrder('po-pdf', ['pdf@acme.test']),
    attachments: [{ filename: 'PO-po-pdf.pdf', contentType: 'application/pdf', contentBase64: pdf }],
  };
  expect((await stack.request('POST', '/v1/dispatches', body)).status).toBe(202);
  await stack.waitFor('delivered', async () => (await statusOf('po-pdf')) === 'delivered');
  expect(stack.sandbox.messages({ to: 'pdf@acme.test' })[0].attachments).toEqual(['PO-po-pdf.pdf']);
  expect((await dispatchOf('po-pdf')).body.attachments).toEqual(['PO-po-pdf.pdf']);

  const tooMany = {
    ...body,
    dispatchId: 'po-pdf-2',
    attachments: Array.from({ length: 11 }, () => body.attachments[0]),
  };
  const refused = await stack.request('POST', '/v1/dispatches', tooMany);
  expect(refused.status).toBe(400);
  expect(refused.body.error.details[0].field).toBe('attachments');
});
