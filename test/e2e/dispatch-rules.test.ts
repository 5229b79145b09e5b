// Rules D3–D8 end to end: HTTP → workflow → SendGrid SDK → sandbox → signed webhooks, with
// short policy durations. Each test asserts who received which message, the result, and the
// recipients' histories.
import { purchaseOrder, startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ policies: { unknownAfter: 'PT3S', listenFor: 'PT20S' }, eventDelayMs: 50, lateEventMs: 1500 });
});
afterAll(async () => { await stack?.close(); });

const BUYER = 'bruno.buyer@bistro.test';
const PM = 'paula.pm@bistro.test';
const PM_PHONE = '+33612345678';
const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;
const mailTo = (address: string) => stack.sandbox.messages({ to: address });
const settle = () => new Promise((r) => setTimeout(r, 1500));

beforeEach(async () => { await fetch(`${stack.sandbox.url}/sandbox/messages`, { method: 'DELETE' }); });

test('D4: both supplier addresses bounce → error; buyer and purchasing manager alerted once each', async () => {
  const created = await stack.request('POST', '/v1/dispatches', purchaseOrder('d4', ['a+bounce@acme.test', 'b+drop@acme.test']));
  expect(created.status).toBe(202);
  await stack.waitFor('result error', async () => (await get('d4'))?.result === 'error');
  await stack.waitFor('escalations', async () => mailTo(BUYER).length === 1 && mailTo(PM).length === 1 && mailTo(PM_PHONE).length === 1);
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
  // The first attempt's events stay, marked with their attempt (D8).
  expect(r.history.map((h: any) => h.event)).toEqual(expect.arrayContaining(['bounce (attempt 1)', 'resent', 'delivered']));
  expect(r.history.find((h: any) => h.event === 'bounce (attempt 1)')).toMatchObject({ attempt: 1, status: 'bounced' });
  expect(mailTo('right@acme.test')).toHaveLength(1);

  const again = await stack.request('POST', '/v1/dispatches', purchaseOrder('d8-next', ['wrong+bounce@acme.test']));
  expect(again.body.warnings[0]).toMatchObject({ field: 'recipients.0.email' });
  expect(again.body.warnings[0].message).toContain('right@acme.test');

  const refused = await stack.request('POST', '/v1/dispatches/d8/recipients/r1/resend', { email: 'other@acme.test' });
  expect(refused.status).toBe(409);
  expect(refused.body.error.message).toMatch(/delivered/);
});

test('D8: a document re-sent over SMS carries a signed link that opens the copy', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d8sms', ['gone+bounce@acme.test']));
  await stack.waitFor('error', async () => (await get('d8sms'))?.result === 'error');
  const via = await stack.request('POST', '/v1/dispatches/d8sms/resend-via', { channel: 'sms', phone: '+33698765432' });
  expect(via.status).toBe(202);
  const sms = await stack.waitFor('sms', async () => mailTo('+33698765432')[0]);
  const link = /https?:\/\/\S+\/d\/[A-Za-z0-9_.-]+/.exec(sms.body ?? "")?.[0];
  expect(link).toBeTruthy();
  const page = await fetch(link!);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('PO-d8sms');
  const forged = await fetch(link!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  expect(forged.status).toBe(404);
  await stack.waitFor('sms delivered', async () => (await get(via.body.dispatchId))?.recipients?.[0]?.status === 'delivered');
});

test('D8/N1: re-sent over WhatsApp, a business-initiated message goes as the approved template', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('d8wa', ['nope+bounce@acme.test']));
  await stack.waitFor('error', async () => (await get('d8wa'))?.result === 'error');
  const via = await stack.request('POST', '/v1/dispatches/d8wa/resend-via', { channel: 'whatsapp', phone: '+33698765433' });
  expect(via.status).toBe(202);
  const wa = await stack.waitFor('whatsapp', async () => mailTo('+33698765433')[0]);
  expect(wa.channel).toBe('whatsapp');
  expect(wa.contentSid).toBe(`HX${'1'.repeat(32)}`);
  const variables = JSON.parse(wa.contentVariables!);
  expect(variables).toMatchObject({ 1: 'Bistro Demo', 2: 'purchase order PO-d8wa' });
  expect(variables[3]).toMatch(/\/d\//);
  // A date variable in words, in the tenant's zone (Europe/Paris), as in every other message.
  expect(variables[4]).toBe(new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' }).format(new Date(via.body.expiresAt)));
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
    ['1001 recipients', (b) => { b.recipients = Array.from({ length: 1001 }, (_, i) => ({ email: `s${i}@acme.test` })); }, 'recipients', 400],
    ['an empty list', (b) => { b.recipients = []; }, 'recipients', 400],
    ['a malformed email', (b) => { b.recipients = [{ email: 'not-an-email' }]; }, 'recipients.0.email', 400],
    ['a duplicate address', (b) => { b.recipients = [{ email: 'a@acme.test' }, { email: 'A@acme.test' }]; }, 'recipients.1.email', 422],
    ['an unknown template', (b) => { b.template = 'no_such_template'; }, 'template', 422],
    ['a missing template variable', (b) => { delete b.data.companyName; }, 'data.companyName', 422],
    ['an unknown outlet', (b) => { b.sender.outletId = 'nowhere'; }, 'sender.outletId', 422],
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

test('L1–L4: the log lists failed dispatches by default, filters, and never shows another tenant', async () => {
  const failed = await stack.request('GET', '/v1/dispatches');
  expect(failed.status).toBe(200);
  const results = failed.body.dispatches.map((d: any) => d.result);
  expect(results.length).toBeGreaterThan(0);
  expect(results.every((r: string) => ['alert', 'error', 'failed', 'unknown'].includes(r))).toBe(true);
  const all = await stack.request('GET', '/v1/dispatches?result=all&limit=200');
  expect(all.body.dispatches.length).toBeGreaterThan(failed.body.dispatches.length);
  const byRecipient = await stack.request('GET', '/v1/dispatches?result=all&recipient=ok@acme.test');
  expect(byRecipient.body.dispatches.map((d: any) => d.dispatchId)).toEqual(['d5']);
  const byDocument = await stack.request('GET', '/v1/dispatches?result=all&document=PO-d6');
  expect(byDocument.body.dispatches.map((d: any) => d.dispatchId)).toEqual(['d6']);
  const page1 = await stack.request('GET', '/v1/dispatches?result=all&limit=2');
  const page2 = await stack.request('GET', `/v1/dispatches?result=all&limit=2&cursor=${page1.body.nextCursor}`);
  expect(page2.body.dispatches[0].number).toBeLessThan(page1.body.dispatches[1].number);

  expect((await stack.request('GET', '/v1/dispatches/d5', undefined, stack.other.key)).status).toBe(404);
  expect((await stack.request('GET', '/v1/dispatches?result=all', undefined, stack.other.key)).body.dispatches).toEqual([]);
  expect((await stack.request('POST', '/v1/dispatches/d4/recipients/r1/resend', { email: 'x@acme.test' }, stack.other.key)).status).toBe(404);
  const writer = await stack.keyWithRoles(['dispatch:write']);
  expect((await stack.request('GET', '/v1/dispatches', undefined, writer)).status).toBe(403);
  const reader = await stack.keyWithRoles(['log:read']);
  expect((await stack.request('GET', '/v1/dispatches', undefined, reader)).status).toBe(200);
});
