// Rules D3–D8 end to end: HTTP → workflow → SendGrid SDK → sandbox → signed webhooks, with
// short policy durations. Each test asserts who received which message, the result, and the
// recipients' histories.
import { purchaseOrder, startStack, type Stack } from '../support/stack';
import { postSignedSendGrid } from '../support/sendgrid-webhook';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    policies: { unknownAfter: 'PT3S', listenFor: 'PT20S' },
    eventDelayMs: 50,
    lateEventMs: 1500,
  });
});
afterAll(async () => {
  await stack?.close();
});

const BUYER = 'bruno.buyer@bistro.test';
const PM = 'paula.pm@bistro.test';
const PM_PHONE = '+33612345678';
const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;
const mailTo = (address: string) => stack.sandbox.messages({ to: address });
const settle = () => new Promise((r) => setTimeout(r, 1500));

beforeEach(async () => {
  await fetch(`${stack.sandbox.url}/sandbox/messages`, { method: 'DELETE' });
});

test('D4: both supplier addresses bounce → error; buyer and purchasing manager alerted once each', async () => {
  const created = await stack.request(
    'POST',
    '/v1/dispatches',
    purchaseOrder('d4', ['a+bounce@acme.test', 'b+drop@acme.test']),
  );
  expect(created.status).toBe(202);
  await stack.waitFor('result error', async () => (await get('d4'))?.result === 'error');
  await stack.waitFor(
    'escalations',
    async () => mailTo(BUYER).length === 1 && mailTo(PM).length === 1 && mailTo(PM_PHONE).length === 1,
  );
  await settle();
  expect(mailTo(BUYER)).toHaveLength(1);
  expect(mailTo(PM)).toHaveLength(1);
  const escalation = mailTo(PM)[0];
  expect(escalation.text).toContain('a+bounce@acme.test');
  expect(escalation.text).toContain('b+drop@acme.test');
  expect(escalation.text).toContain('PO-d4');
  expect(mailTo(PM_PHONE)[0].channel).toBe('sms'); // opted in to SMS
  const d = await get('d4');
  expect(d.recipients.map((r: any) => r.status)).toEqual(['bounced', 'dropped']);
  expect(d.recipients[0].plainReason).toMatch(/does not exist/);
  expect(d.recipients[0].rawReason).toMatch(/550/);
});

test('D5: one bounces, one is delivered → alert; the sender is asked to fix it; no escalation', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d5', ['ok@acme.test', 'typo+bounce@acme.test']));
  await stack.waitFor('alert', async () => (await get('d5'))?.result === 'alert');
  await stack.waitFor('fix request', async () => mailTo(BUYER).length === 1);
  await settle();
  expect(mailTo(BUYER)[0].text).toContain('typo+bounce@acme.test');
  expect(mailTo(PM)).toHaveLength(0);
  expect(mailTo(PM_PHONE)).toHaveLength(0);
});

test('D6: deferred then delivered → temporarily failed, then a short update to the sender', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d6', ['slow+deferok@acme.test']));
  await stack.waitFor('delivered', async () => (await get('d6'))?.recipients?.[0]?.status === 'delivered');
  const history = (await get('d6')).recipients[0].history.map((h: any) => h.status);
  expect(history).toEqual(expect.arrayContaining(['deferred', 'delivered']));
  expect(history.indexOf('deferred')).toBeLessThan(history.lastIndexOf('delivered'));
  await stack.waitFor('update', async () => mailTo(BUYER).length === 1);
  expect(mailTo(BUYER)[0].text).toContain('slow+deferok@acme.test');
  expect((await get('d6')).result).toBe('delivered');
});

test('D3: no confirmation after the delay → unknown, one notice listing the address', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d3', ['quiet+silent@acme.test', 'fine@acme.test']));
  await stack.waitFor('unknown', async () => (await get('d3'))?.result === 'unknown', 20_000);
  await stack.waitFor('notice', async () => mailTo(BUYER).length === 1);
  await settle();
  expect(mailTo(BUYER)).toHaveLength(1);
  expect(mailTo(BUYER)[0].text).toContain('quiet+silent@acme.test');
  expect(mailTo(BUYER)[0].text).not.toContain('fine@acme.test');
  const d = await get('d3');
  expect(d.recipients.map((r: any) => r.status)).toEqual(['unknown', 'delivered']);
});

test('D9 failed: the provider refuses the request → nothing sent; the sender and the purchasing manager are alerted at once, with the reason (issue 16 item 2)', async () => {
  await fetch(`${stack.sandbox.url}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'sendgrid', status: 400, count: 1 }),
  });
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d9-refused', ['orders@acme.test', 'books@acme.test']));
  await stack.waitFor('failed', async () => (await get('d9-refused'))?.result === 'failed');
  // At once, by email to both, and by SMS to the manager (opted in), as an escalation (rule D4's people and channels).
  await stack.waitFor(
    'alerts',
    async () => mailTo(BUYER).length === 1 && mailTo(PM).length === 1 && mailTo(PM_PHONE).length === 1,
  );
  for (const alert of [mailTo(BUYER)[0], mailTo(PM)[0]]) {
    expect(alert.subject).toBe('URGENT: purchase order PO-d9-refused was not sent to anyone');
    expect(alert.text).toContain('the sending service refused the request itself, so nothing was sent');
    expect(alert.text).toMatch(
      /The sending service's answer: SendGrid refused the request: .*content value must be a string/,
    );
    expect(alert.text).toContain('Recipients: orders@acme.test, books@acme.test');
    expect(alert.text).toContain(`/ui/dispatches/d9-refused`);
    expect(alert.html).toContain('Action needed: this document was not emailed');
  }
  expect(mailTo(PM_PHONE)[0]).toMatchObject({
    channel: 'sms',
    body: expect.stringMatching(
      /^URGENT Bistro Demo: this document was not emailed to anyone: purchase order PO-d9-refused/,
    ),
  });
  expect(stack.sandbox.messages().filter((m) => m.to.endsWith('@acme.test'))).toHaveLength(0);
  const d = await get('d9-refused');
  expect(d.recipients.map((r: any) => [r.status, r.reasonCode])).toEqual([
    ['not_sent', 'request_refused'],
    ['not_sent', 'request_refused'],
  ]);
  expect(d.recipients[0].plainReason).toBe('the sending service refused the request itself, so nothing was sent');
  expect(d.recipients[0].rawReason).toMatch(/SendGrid refused the request/);
  await settle();
  expect([mailTo(BUYER), mailTo(PM), mailTo(PM_PHONE)].map((m) => m.length)).toEqual([1, 1, 1]); // once
});

test("D3/D6: a recipient still deferred after the delay — the sender is told with the provider's 451 reply; the failed-only log lists it with its own marker; at the window's end it is dropped and D5 applies (issue 16 item 3)", async () => {
  await stack.request(
    'POST',
    '/v1/dispatches',
    purchaseOrder('d3-deferred', ['slow+defer@acme.test', 'fine@acme.test']),
  );
  await stack.waitFor(
    'deferred and delivered',
    async () =>
      JSON.stringify((await get('d3-deferred'))?.recipients?.map((r: any) => r.status)) === '["deferred","delivered"]',
  );
  // Deferred: its latest reason, in plain words and the provider's own (rule D2, issue 16 item 8).
  const before = (await get('d3-deferred')).recipients[0];
  expect(before).toMatchObject({
    reasonCode: 'temporarily_refused',
    rawReason: expect.stringMatching(/^451 4\.2\.0 mailbox temporarily unavailable/),
  });
  expect(before.plainReason).toBe("the recipient's server refuses it for now; the provider keeps trying");

  // unknownAfter (3 s): the sender alone is told, once, with the 451 answer; the recipient stays Deferred.
  const notice = await stack.waitFor('the deferred notice', async () => mailTo(BUYER)[0]);
  expect(notice.subject).toBe('Not delivered yet: purchase order PO-d3-deferred');
  expect(notice.text).toContain(
    "slow+defer@acme.test: the recipient's server refuses it for now; the provider keeps trying.",
  );
  expect(notice.text).toContain('Latest server reply: 451 4.2.0 mailbox temporarily unavailable, try again later');
  expect(notice.text).not.toContain('fine@acme.test');
  expect(mailTo(PM)).toHaveLength(0);
  const d = await get('d3-deferred');
  expect([d.result, d.recipients[0].status, d.overdueDeferred]).toEqual(['processed', 'deferred', 1]);
  // The failed-only log (the default) lists it, with the deferred address named and counted.
  const row = (await stack.request('GET', '/v1/dispatches')).body.dispatches.find(
    (r: any) => r.dispatchId === 'd3-deferred',
  );
  expect(row).toMatchObject({
    result: 'processed',
    overdueDeferred: 1,
    failures: [
      { address: 'slow+defer@acme.test', status: 'deferred', plainReason: expect.stringMatching(/refuses it for now/) },
    ],
  });

  // The window (20 s) ends without a final status: dropped (the provider stopped trying) → D5 (one was delivered).
  await stack.waitFor("dropped at the window's end", async () => (await get('d3-deferred'))?.completedAt, 40_000);
  const end = await get('d3-deferred');
  expect(end.result).toBe('alert');
  expect(end.recipients[0]).toMatchObject({
    status: 'dropped',
    reasonCode: 'retries_expired',
    rawReason: expect.stringMatching(/^451 /),
  });
  expect(end.recipients[0].history.map((h: any) => h.event).slice(-2)).toEqual(['deferred', 'final']);
  const fix = await stack.waitFor('the fix request', async () =>
    mailTo(BUYER).find((m) => /correct/i.test(m.subject ?? '')),
  );
  expect(fix.text).toContain(
    "slow+defer@acme.test: the recipient's server kept refusing it for now until the provider stopped trying.",
  );
  expect(fix.text).toContain('Server reply: 451 4.2.0');
  expect(mailTo(BUYER)).toHaveLength(2);
}, 60_000);

test('D7: a late bounce after delivered turns the result into error and escalates', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d7', ['later+latebounce@acme.test']));
  await stack.waitFor('delivered', async () => (await get('d7'))?.result === 'delivered');
  await stack.waitFor('late bounce → error', async () => (await get('d7'))?.result === 'error');
  await stack.waitFor('escalation', async () => mailTo(BUYER).length === 1 && mailTo(PM).length === 1);
  const history = (await get('d7')).recipients[0].history.map((h: any) => h.status);
  expect(history.indexOf('delivered')).toBeLessThan(history.lastIndexOf('bounced'));
});

test('D8: a bounced address corrected and resent reaches delivered, history kept; the correction is remembered', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d8', ['wrong+bounce@acme.test']));
  await stack.waitFor('error', async () => (await get('d8'))?.result === 'error');
  const resent = await stack.request('POST', '/v1/dispatches/d8/recipients/r1/resend', { email: 'right@acme.test' });
  expect(resent.status).toBe(200);
  expect(resent.body.recipient.address).toBe('right@acme.test');
  await stack.waitFor('delivered', async () => (await get('d8'))?.result === 'delivered');
  const r = (await get('d8')).recipients[0];
  expect(r.attempt).toBe(2);
  // Every entry carries its attempt, in the order Relais received them (issue 16 item 8): the old attempt's, the
  // resend and its send, then the provider's answers (in whatever order they came).
  expect(r.history.slice(0, 5).map((h: any) => [h.event, h.attempt])).toEqual([
    ['accepted', 1],
    ['processed', 1],
    ['bounce', 1],
    ['resent', 2],
    ['accepted', 2],
  ]);
  expect(
    r.history
      .slice(5)
      .map((h: any) => [h.event, h.attempt])
      .sort(),
  ).toEqual([
    ['delivered', 2],
    ['processed', 2],
  ]);
  const received = r.history.map((h: any) => Date.parse(h.receivedAt));
  expect(received).toEqual([...received].sort((a, b) => a - b));
  expect(mailTo('right@acme.test')).toHaveLength(1);

  const again = await stack.request('POST', '/v1/dispatches', purchaseOrder('d8-next', ['wrong+bounce@acme.test']));
  expect(again.body.warnings[0]).toMatchObject({ field: 'recipients.0.email' });
  expect(again.body.warnings[0].message).toContain('right@acme.test');

  // A delivered recipient can now be sent again (issue 17: test/e2e/sent-again.test.ts); one the dispatch does not have cannot.
  const refused = await stack.request('POST', '/v1/dispatches/d8/recipients/r9/resend', { email: 'other@acme.test' });
  expect(refused.status).toBe(409);
  expect(refused.body.error.message).toMatch(/no recipient r9/);
});

test('D8: a document re-sent over SMS carries a signed link that opens the copy', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d8sms', ['gone+bounce@acme.test']));
  await stack.waitFor('error', async () => (await get('d8sms'))?.result === 'error');
  const via = await stack.request('POST', '/v1/dispatches/d8sms/resend-via', { channel: 'sms', phone: '+33698765432' });
  expect(via.status).toBe(202);
  const sms = await stack.waitFor('sms', async () => mailTo('+33698765432')[0]);
  const link = /https?:\/\/\S+\/d\/[A-Za-z0-9_.-]+/.exec(sms.body ?? '')?.[0];
  expect(link).toBeTruthy();
  const page = await fetch(link!);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('PO-d8sms');
  const forged = await fetch(link!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  expect(forged.status).toBe(404);
  await stack.waitFor(
    'sms delivered',
    async () => (await get(via.body.dispatchId))?.recipients?.[0]?.status === 'delivered',
  );
});

test('D8/N1: re-sent over WhatsApp, a business-initiated message goes as the approved template', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d8wa', ['nope+bounce@acme.test']));
  await stack.waitFor('error', async () => (await get('d8wa'))?.result === 'error');
  const via = await stack.request('POST', '/v1/dispatches/d8wa/resend-via', {
    channel: 'whatsapp',
    phone: '+33698765433',
  });
  expect(via.status).toBe(202);
  const wa = await stack.waitFor('whatsapp', async () => mailTo('+33698765433')[0]);
  expect(wa.channel).toBe('whatsapp');
  expect(wa.contentSid).toBe(`HX${'1'.repeat(32)}`);
  const variables = JSON.parse(wa.contentVariables!);
  expect(variables).toMatchObject({ 1: 'Bistro Demo', 2: 'purchase order PO-d8wa' });
  expect(variables[3]).toMatch(/\/d\//);
  // A date variable in words, in the tenant's zone (Europe/Paris), as in every other message.
  expect(variables[4]).toBe(
    new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' }).format(
      new Date(via.body.expiresAt),
    ),
  );
  expect(wa.body ?? '').toBe('');
  await stack.waitFor('read', async () => (await get(via.body.dispatchId))?.recipients?.[0]?.opened === true);
});

test('settings: policies, locale and time zone are read and changed by an admin, validated', async () => {
  const read = await stack.request('GET', '/v1/settings');
  expect(read.status).toBe(200);
  expect(read.body.policies).toMatchObject({ unknownAfter: 'PT3S', listenFor: 'PT20S' });
  const bad = await stack.request('PUT', '/v1/settings', { policies: { unknownAfter: '30 minutes' } });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details[0].field).toBe('policies.unknownAfter');
  const tz = await stack.request('PUT', '/v1/settings', { timeZone: 'Mars/Olympus' });
  expect(tz.body.error.details[0].field).toBe('timeZone');
  const ok = await stack.request('PUT', '/v1/settings', { timeZone: 'America/Toronto', locale: 'fr' });
  expect(ok.status).toBe(200);
  expect(ok.body).toMatchObject({ timeZone: 'America/Toronto', locale: 'fr', policies: { unknownAfter: 'PT3S' } });
  expect(ok.body.outlets.map((o: any) => o.id)).toEqual(['paris-1']); // what was not sent is left as it was
  const reader = await stack.keyWithRoles(['log:read']);
  expect((await stack.request('PUT', '/v1/settings', { locale: 'en' }, reader)).status).toBe(403);
  await stack.request('PUT', '/v1/settings', { timeZone: 'Europe/Paris', locale: 'en' });
});

test('D11: a document marked sent by hand records who and when', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d11', ['x+bounce@acme.test']));
  await stack.waitFor('recorded', async () => (await get('d11'))?.number);
  const marked = await stack.request('POST', '/v1/dispatches/d11/mark-sent', { note: 'posted on Monday' });
  expect(marked.status).toBe(200);
  expect(marked.body.markedSent).toMatchObject({ note: 'posted on Monday' });
  expect((await get('d11')).markedSent.by).toBeTruthy();
  await new Promise((r) => setTimeout(r, 1000)); // later projection writes keep it
  expect((await get('d11')).markedSent).toMatchObject({ note: 'posted on Monday' });
});

describe('D1: bad input is refused before anything is sent, naming the field', () => {
  // 400: not what the contract (/openapi.json) says; 422: schema-valid, refused by a rule the schema can't express.
  const cases: Array<[string, (b: any) => void, string, number]> = [
    [
      '1001 recipients',
      (b) => {
        b.recipients = Array.from({ length: 1001 }, (_, i) => ({ email: `s${i}@acme.test` }));
      },
      'recipients',
      400,
    ],
    [
      'an empty list',
      (b) => {
        b.recipients = [];
      },
      'recipients',
      400,
    ],
    [
      'a malformed email',
      (b) => {
        b.recipients = [{ email: 'not-an-email' }];
      },
      'recipients.0.email',
      400,
    ],
    [
      'a duplicate address',
      (b) => {
        b.recipients = [{ email: 'a@acme.test' }, { email: 'A@acme.test' }];
      },
      'recipients.1.email',
      422,
    ],
    [
      'an unknown template',
      (b) => {
        b.template = 'no_such_template';
      },
      'template',
      422,
    ],
    [
      'a missing template variable',
      (b) => {
        delete b.data.companyName;
      },
      'data.companyName',
      422,
    ],
    [
      'an unknown outlet',
      (b) => {
        b.sender.outletId = 'nowhere';
      },
      'sender.outletId',
      422,
    ],
  ];
  test.each(cases)('%s is refused', async (_name, mutate, field, status) => {
    const body = purchaseOrder(`bad-${field}`, ['a@acme.test']);
    mutate(body);
    const res = await stack.request('POST', '/v1/dispatches', body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    expect(stack.sandbox.messages().filter((m) => m.to.endsWith('@acme.test'))).toHaveLength(0);
    expect((await stack.request('GET', `/v1/dispatches/bad-${field}`)).status).toBe(404);
  });
});

test("L2/D2: history entries keep the order Relais received them in when the provider's whole-second times tie, each with its attempt; a deferred one shows its latest reason (issue 16 item 8)", async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d2-ties', ['tie+silent@acme.test']));
  await stack.waitFor('processed', async () => (await get('d2-ties'))?.recipients?.[0]?.status === 'processed');
  const sent = mailTo('tie+silent@acme.test')[0];
  // One second for all, the second of the send: SendGrid's timestamps are whole seconds, Relais's own are not.
  const second = Math.floor(Date.parse((await get('d2-ties')).recipients[0].history[0].at) / 1000);
  const event = (type: string, id: string, extra: Record<string, unknown> = {}) => ({
    email: sent.to,
    timestamp: second,
    event: type,
    sg_event_id: id,
    sg_message_id: `${sent.providerMessageId}.0`,
    ...sent.customArgs,
    ...extra,
  });
  expect(
    (
      await postSignedSendGrid(stack, [
        event('deferred', 'tie-1', { response: '451 4.7.1 greylisted, try again in 5 minutes', attempt: '1' }),
        event('deferred', 'tie-2', { response: '452 4.2.2 mailbox over quota', attempt: '2' }),
      ])
    ).status,
  ).toBe(200);
  await stack.waitFor('deferred', async () => (await get('d2-ties'))?.recipients?.[0]?.history?.length === 4);
  const r = (await get('d2-ties')).recipients[0];
  expect(r.history.map((h: any) => [h.event, h.status, h.attempt])).toEqual([
    ['accepted', 'queued', 1],
    ['processed', 'processed', 1],
    ['deferred', 'deferred', 1],
    ['deferred', 'deferred', 1],
  ]);
  // The provider's times tie (or come before Relais's own record of the send): the order is the order received.
  expect(new Set(r.history.slice(1).map((h: any) => Date.parse(h.at) / 1000)).size).toBe(1);
  expect(Date.parse(r.history[1].at)).toBeLessThanOrEqual(Date.parse(r.history[0].at));
  // The latest deferral's reply, as a bounce's reason is shown.
  expect(r).toMatchObject({
    status: 'deferred',
    reasonCode: 'temporarily_refused',
    rawReason: '452 4.2.2 mailbox over quota',
  });
  expect(r.history[3]).toMatchObject({
    reasonCode: 'temporarily_refused',
    plainReason: expect.stringMatching(/refuses it for now/),
    response: '452 4.2.2 mailbox over quota',
  });
});

test('L1–L4: the log lists failed dispatches by default, filters, and never shows another tenant', async () => {
  const failed = await stack.request('GET', '/v1/dispatches');
  expect(failed.status).toBe(200);
  const results = failed.body.dispatches.map((d: any) => d.result);
  expect(results.length).toBeGreaterThan(0);
  // A failed result, or a recipient still deferred after the delay (issue 16 item 3).
  expect(
    failed.body.dispatches.every(
      (d: any) => ['alert', 'error', 'failed', 'unknown'].includes(d.result) || d.overdueDeferred > 0,
    ),
  ).toBe(true);
  const all = await stack.request('GET', '/v1/dispatches?result=all&limit=200');
  expect(all.body.dispatches.length).toBeGreaterThan(failed.body.dispatches.length);
  const byRecipient = await stack.request('GET', '/v1/dispatches?result=all&recipient=ok@acme.test');
  expect(byRecipient.body.dispatches.map((d: any) => d.dispatchId)).toEqual(['d5']);
  const byDocument = await stack.request('GET', '/v1/dispatches?result=all&document=PO-d6');
  expect(byDocument.body.dispatches.map((d: any) => d.dispatchId)).toEqual(['d6']);
  const page1 = await stack.request('GET', '/v1/dispatches?result=all&limit=2');
  const page2 = await stack.request('GET', `/v1/dispatches?result=all&limit=2&cursor=${page1.body.nextCursor}`);
  expect(page2.body.dispatches[0].number).toBeLessThan(page1.body.dispatches[1].number);

  // Notices are dispatches too, listed with the documents (issue 16 item 7): the record numbers have no gaps.
  // (Read until no notice is on its way: earlier tests' late notices may still be recorded meanwhile.)
  const list = async (query: string) =>
    (await stack.request('GET', `/v1/dispatches?result=all&limit=200${query}`)).body.dispatches;
  const { notices, documents } = await stack.waitFor(
    'every record number listed once, documents and notices',
    async () => {
      const [every, notification, document] = await Promise.all([
        list(''),
        list('&kind=notification'),
        list('&kind=document'),
      ]);
      const numbers = every.map((d: any) => d.number);
      const contiguous =
        JSON.stringify(numbers) ===
        JSON.stringify(Array.from({ length: numbers.length }, (_, i) => numbers.length - i));
      return (
        contiguous &&
        notification.length + document.length === numbers.length && { notices: notification, documents: document }
      );
    },
  );
  expect(notices.every((d: any) => d.kind === 'notification' && d.about)).toBe(true);
  expect(documents.every((d: any) => d.kind === 'document')).toBe(true);
  // Each says what it is about: D4's escalation of d4 to the buyer, by its subject.
  expect(notices.find((d: any) => d.about.dispatchId === 'd4' && /URGENT/.test(d.subject))).toMatchObject({
    template: 'dispatch_escalation',
    result: 'delivered',
  });
  expect(notices.filter((d: any) => d.about.dispatchId === 'd4')).toHaveLength(3); // buyer and manager by email, the manager by SMS
  const badKind = await stack.request('GET', '/v1/dispatches?kind=notices');
  expect([badKind.status, badKind.body.error.details[0].field]).toEqual([400, 'kind']);

  expect((await stack.request('GET', '/v1/dispatches/d5', undefined, stack.other.key)).status).toBe(404);
  expect((await stack.request('GET', '/v1/dispatches?result=all', undefined, stack.other.key)).body.dispatches).toEqual(
    [],
  );
  expect(
    (await stack.request('POST', '/v1/dispatches/d4/recipients/r1/resend', { email: 'x@acme.test' }, stack.other.key))
      .status,
  ).toBe(404);
  const writer = await stack.keyWithRoles(['dispatch:write']);
  expect((await stack.request('GET', '/v1/dispatches', undefined, writer)).status).toBe(403);
  const reader = await stack.keyWithRoles(['log:read']);
  expect((await stack.request('GET', '/v1/dispatches', undefined, reader)).status).toBe(200);
});
