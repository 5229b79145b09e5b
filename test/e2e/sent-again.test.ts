// Issue 17 end to end (Sinao, VosFactures): a delivered document sent again, a copy to the sender,
// the attachments downloaded, a document recorded as sent by hand. HTTP → workflow → SendGrid SDK
// → sandbox → signed webhooks, on the real stack.
import { purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';
import { signLink } from '../../src/links';
import { dayOf, addDays } from '../../src/domain/days';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ policies: { unknownAfter: 'PT5S', listenFor: 'PT30S' }, eventDelayMs: 50 });
});
afterAll(async () => {
  await stack?.close();
});

const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;
const failedOnly = async () =>
  (await stack.request('GET', '/v1/dispatches')).body.dispatches.map((d: { dispatchId: string }) => d.dispatchId);

describe('rule D11, L1: recorded as sent by hand (VosFactures, "Envoi manuel")', () => {
  test('rule D11: a failed dispatch marked sent on a chosen day by a named person leaves the failed-only log; its history keeps the bounce', async () => {
    await stack.request('POST', '/v1/dispatches', purchaseOrder('hand-1', ['nobody+bounce@acme.test']));
    await stack.waitFor('error', async () => (await get('hand-1'))?.result === 'error');
    await stack.waitFor('listed as failed', async () => (await failedOnly()).includes('hand-1'));
    const yesterday = addDays(dayOf(new Date(), 'Europe/Paris'), -1);

    const marked = await stack.request('POST', '/v1/dispatches/hand-1/mark-sent', {
      date: yesterday,
      by: 'Claire Martin',
      note: 'posted, registered letter',
    });
    expect(marked.status).toBe(200);
    expect(marked.body.markedSent).toMatchObject({
      on: yesterday,
      note: 'posted, registered letter',
      by: expect.stringMatching(/^Claire Martin \(key [^)]+\)$/),
    });
    // The day's start in the tenant's zone (Paris), stored in UTC.
    expect(new Date(marked.body.markedSent.at).toLocaleString('sv-SE', { timeZone: 'Europe/Paris' })).toBe(
      `${yesterday} 00:00:00`,
    );

    // Out of the failures: the default listing (page by page), the filtered one (a query) and the export count.
    expect(await failedOnly()).not.toContain('hand-1');
    const filtered = await stack.request('GET', '/v1/dispatches?result=failed&recipient=nobody%2Bbounce%40acme.test');
    expect(filtered.body.dispatches).toEqual([]);
    const all = await stack.request('GET', '/v1/dispatches?result=all&recipient=nobody%2Bbounce%40acme.test');
    expect(all.body.dispatches.map((d: { dispatchId: string }) => d.dispatchId)).toEqual(['hand-1']);
    // Later writes of the running workflow (its escalation, its final write) keep it out.
    await stack.waitFor('listening ended', async () => Boolean((await get('hand-1'))?.completedAt), 60_000);
    expect(await failedOnly()).not.toContain('hand-1');

    // Its history keeps what failed; the result stays what the provider said.
    const d = await get('hand-1');
    expect(d.result).toBe('error');
    expect(d.recipients[0].history.map((h: { event: string }) => h.event)).toEqual(expect.arrayContaining(['bounce']));
    expect(d.markedSent).toMatchObject({ on: yesterday, note: 'posted, registered letter' });

    // The proof says who, by name and key.
    const proof = await stack.request('GET', '/v1/dispatches/hand-1/proof.json');
    const pack = typeof proof.body === 'string' ? JSON.parse(proof.body) : proof.body;
    expect(pack.actions).toEqual([
      expect.objectContaining({
        action: 'marked_sent',
        by: expect.objectContaining({ person: 'Claire Martin' }),
        details: 'posted, registered letter',
      }),
    ]);
    const audit = await stack.db.Audit.findOne({
      tenantId: stack.tenantId,
      action: 'dispatch.mark_sent',
      target: 'hand-1',
    }).lean();
    expect(audit?.details).toMatchObject({ on: yesterday });
  }, 90_000);

  test('rule D11: a day after today, a day that does not exist, a moment in the future, or both a day and a moment are refused naming the field; nothing is recorded', async () => {
    await stack.request('POST', '/v1/dispatches', purchaseOrder('hand-bad', ['ok@acme.test']));
    await stack.waitFor('recorded', async () => (await get('hand-bad'))?.number);
    const tomorrow = addDays(dayOf(new Date(), 'Europe/Paris'), 1);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ date: tomorrow }, 'date'],
      [{ date: '2026-02-31' }, 'date'],
      [{ date: '6 December' }, 'date'],
      [{ at: new Date(Date.now() + 3_600_000).toISOString() }, 'at'],
      [{ at: new Date().toISOString(), date: tomorrow }, 'date'],
      [{ by: '   ' }, 'by'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.request('POST', '/v1/dispatches/hand-bad/mark-sent', body);
      // Against the schema: 400; schema-valid but refused by a rule (a day that is not one, after today, both): 422.
      const status = field === 'by' || body.date === '6 December' ? 400 : 422;
      expect({ body, status: res.status, field: res.body.error?.details?.[0]?.field }).toEqual({ body, status, field });
    }
    expect((await get('hand-bad')).markedSent?.at).toBeUndefined();
  });
});

describe('rule D8: a delivered document sent again (Sinao, "mon client dit ne pas l\'avoir reçu")', () => {
  const BUYER = 'bruno.buyer@bistro.test';
  const PM = 'paula.pm@bistro.test';
  const events = (d: any) =>
    d.recipients[0].history.map((h: { event: string; attempt: number }) => `${h.event}.${h.attempt}`);

  test('rule D8: sent again to the same address, then to another that bounces: new attempts in one history, D4 applying to the new attempt, audited', async () => {
    await stack.request('POST', '/v1/dispatches', purchaseOrder('again-1', ['ana.again@acme.test']));
    await stack.waitFor('delivered', async () => (await get('again-1'))?.result === 'delivered');
    // While the provider has not answered yet, nothing is sent again (409); once delivered, it is.
    const same = await stack.request('POST', '/v1/dispatches/again-1/recipients/r1/resend', {
      email: 'ana.again@acme.test',
    });
    expect(same.status).toBe(200);
    expect(same.body.recipient).toMatchObject({ address: 'ana.again@acme.test', attempt: 2 });
    await stack.waitFor('delivered again', async () => {
      const d = await get('again-1');
      return d.recipients[0].attempt === 2 && d.recipients[0].status === 'delivered';
    });
    expect(stack.sandbox.messages({ to: 'ana.again@acme.test' })).toHaveLength(2);
    expect(events(await get('again-1'))).toEqual(
      expect.arrayContaining(['delivered.1', 'resent.2', 'accepted.2', 'delivered.2']),
    );

    const other = await stack.request('POST', '/v1/dispatches/again-1/recipients/r1/resend', {
      email: 'ana.compta+bounce@acme.test',
    });
    expect(other.status).toBe(200);
    await stack.waitFor('the new attempt bounced: error', async () => (await get('again-1'))?.result === 'error');
    // D4 for the new attempt: the buyer and the purchasing manager hear that it failed.
    const about = (to: string) => stack.sandbox.messages({ to }).filter((m) => m.text?.includes('PO-again-1'));
    await stack.waitFor('escalation', async () => about(PM).length === 1 && about(BUYER).length === 1);
    expect(about(PM)[0].text).toContain('ana.compta+bounce@acme.test');
    const d = await get('again-1');
    expect(d.recipients[0]).toMatchObject({ address: 'ana.compta+bounce@acme.test', attempt: 3, status: 'bounced' });
    expect(events(d)).toEqual(expect.arrayContaining(['delivered.1', 'delivered.2', 'resent.3', 'bounce.3']));
    const resentEntry = d.recipients[0].history.find(
      (h: { event: string; attempt: number }) => h.event === 'resent' && h.attempt === 3,
    );
    expect(resentEntry.reason).toMatch(/^resent by .+, sent again after delivery to ana\.again@acme\.test$/);

    const audits = await stack.db.Audit.find({ tenantId: stack.tenantId, target: 'again-1/r1' }).sort({ at: 1 }).lean();
    expect(audits.map((a) => [a.action, (a.details as any).previousStatus])).toEqual([
      ['dispatch.send_again', 'delivered'],
      ['dispatch.send_again', 'delivered'],
    ]);
    // Not a correction: a later dispatch to ana.again@acme.test is not warned.
    expect(
      await stack.db.ContactCorrection.countDocuments({ tenantId: stack.tenantId, from: 'ana.again@acme.test' }),
    ).toBe(0);
    // The proof names who sent it again, and why.
    const proof = await stack.request('GET', '/v1/dispatches/again-1/proof.json');
    const pack = typeof proof.body === 'string' ? JSON.parse(proof.body) : proof.body;
    expect(
      pack.actions.filter((a: { action: string }) => a.action === 'resent').map((a: { details: string }) => a.details),
    ).toEqual([
      expect.stringContaining('(sent again after delivery)'),
      expect.stringContaining('(sent again after delivery to ana.again@acme.test)'),
    ]);
  }, 60_000);

  test('rule D8: an address that is not one is refused naming the field, nothing is sent', async () => {
    await stack.request('POST', '/v1/dispatches', purchaseOrder('again-bad', ['bea@acme.test']));
    await stack.waitFor('delivered', async () => (await get('again-bad'))?.result === 'delivered');
    const res = await stack.request('POST', '/v1/dispatches/again-bad/recipients/r1/resend', {
      email: 'not an address',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('email');
    expect(stack.sandbox.messages({ to: 'bea@acme.test' })).toHaveLength(1);
  });
});

describe('issue 17 item 3: the attachments to download (Sinao, "Télécharger", then send it another way)', () => {
  const invoice = Buffer.from('%PDF-1.4 invoice F-2026-17 itself');
  const sheet = Buffer.from('item;qty\ncoffee;3\n');
  // A name with quotes, accents and spaces: the download keeps it, the header stays safe.
  const NAMES = ['Facture "F-2026-17" été.pdf', 'lines.csv'];
  const body = () =>
    purchaseOrder('files-1', ['ana.files@acme.test'], {
      attachments: [
        { filename: NAMES[0], contentType: 'application/pdf', contentBase64: invoice.toString('base64') },
        { filename: NAMES[1], contentType: 'text/csv', contentBase64: sheet.toString('base64') },
      ],
    });
  const download = async (url: string, key?: string) => {
    const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      disposition: res.headers.get('content-disposition'),
      nosniff: res.headers.get('x-content-type-options'),
      bytes: Buffer.from(await res.arrayBuffer()),
    };
  };

  test('rules D8, D11, L4: each attachment as sent, to a key that reads the log (API); a key without log:read is refused; a file that is not there is 404, a position that is not one 400', async () => {
    expect((await stack.request('POST', '/v1/dispatches', body())).status).toBe(202);
    await stack.waitFor('delivered', async () => (await get('files-1'))?.result === 'delivered');
    const reader = await stack.keyWithRoles(['log:read']);
    const pdf = await download(`${stack.apiUrl}/v1/dispatches/files-1/attachments/0`, reader);
    expect(pdf).toMatchObject({ status: 200, type: 'application/pdf', nosniff: 'nosniff' });
    expect(pdf.bytes.equals(invoice)).toBe(true);
    expect(pdf.disposition).toBe(
      `attachment; filename="Facture _F-2026-17_ _t_.pdf"; filename*=UTF-8''${encodeURIComponent(NAMES[0])}`,
    );
    const csv = await download(`${stack.apiUrl}/v1/dispatches/files-1/attachments/1`, reader);
    expect(csv.bytes.equals(sheet)).toBe(true);
    expect(csv.type).toMatch(/^text\/csv/);
    // The same bytes the provider received.
    expect(stack.sandbox.messages({ to: 'ana.files@acme.test' })[0].attachments).toEqual(NAMES);

    const writer = await stack.keyWithRoles(['dispatch:write']);
    expect((await download(`${stack.apiUrl}/v1/dispatches/files-1/attachments/0`, writer)).status).toBe(403);
    expect((await stack.request('GET', '/v1/dispatches/files-1/attachments/2')).status).toBe(404);
    const bad = await stack.request('GET', '/v1/dispatches/files-1/attachments/first');
    expect([bad.status, bad.body.error.details[0].field]).toEqual([400, 'index']);
    expect(
      (await stack.request('GET', '/v1/dispatches/files-1/attachments/0', undefined, stack.other.key)).status,
    ).toBe(404);
  });

  test("rule D8: the document link sent by SMS lists the attachments, each by its own signed link expiring with it; the document's token is not in them; forged, expired or another kind of link is refused", async () => {
    await stack.waitFor('files-1 delivered', async () => (await get('files-1'))?.result === 'delivered');
    const via = await stack.request('POST', '/v1/dispatches/files-1/resend-via', {
      channel: 'sms',
      phone: '+33698761717',
    });
    expect(via.status).toBe(202);
    const sms = await stack.waitFor('sms', async () => stack.sandbox.messages({ to: '+33698761717' })[0]);
    const link = /https?:\/\/\S+\/d\/[A-Za-z0-9_.-]+/.exec(sms.body ?? '')![0];
    const documentToken = link.slice(link.lastIndexOf('/') + 1);
    const page = await fetch(link);
    const html = await page.text();
    expect(html).toContain('PO-files-1');
    // What the browser reads of the escaped HTML: entities decoded (the name's quotes are escaped in the page).
    const text = (escaped: string) =>
      escaped.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(quot|amp|lt|gt));/gi, (_, dec, hex, name) =>
        dec || hex
          ? String.fromCharCode(dec ? Number(dec) : parseInt(hex, 16))
          : ({ quot: '"', amp: '&', lt: '<', gt: '>' } as Record<string, string>)[name.toLowerCase()],
      );
    const hrefs = [...html.matchAll(/<a href="(\/d\/[^"]+)" download>([^<]+)<\/a>/g)].map((m) => ({
      href: text(m[1]),
      label: m[2],
    }));
    expect(hrefs.map((h) => h.label)).toEqual(['Facture &quot;F-2026-17&quot; été.pdf', 'lines.csv']);
    expect(hrefs.map((h) => text(h.label))).toEqual(['Facture "F-2026-17" été.pdf', 'lines.csv']);
    for (const h of hrefs) expect(h.href).not.toContain(documentToken);

    const first = await download(`${stack.apiUrl}${hrefs[0].href}`);
    expect(first).toMatchObject({ status: 200, type: 'application/pdf', nosniff: 'nosniff' });
    expect(first.bytes.equals(invoice)).toBe(true);
    expect(first.disposition).toContain(`filename*=UTF-8''${encodeURIComponent(NAMES[0])}`);
    expect((await download(`${stack.apiUrl}${hrefs[1].href}`)).bytes.equals(sheet)).toBe(true);
    // The file's token expires when the document's does.
    const claims = JSON.parse(Buffer.from(hrefs[0].href.split('/')[2].split('.')[0], 'base64url').toString('utf8'));
    expect(claims).toMatchObject({
      kind: 'attachment',
      target: 'files-1/0',
      exp: new Date(via.body.expiresAt).getTime(),
    });

    const token = hrefs[0].href.split('/')[2];
    const forged = token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await download(`${stack.apiUrl}/d/${forged}/x.pdf`)).status).toBe(404);
    // The document's own token is not a file's.
    expect((await download(`${stack.apiUrl}/d/${documentToken}/x.pdf`)).status).toBe(404);
    const expired = signLink(SANDBOX_SECRETS.linkSecret, {
      kind: 'attachment',
      tenantId: stack.tenantId,
      target: 'files-1/0',
      exp: Date.now() - 1000,
    });
    expect((await download(`${stack.apiUrl}/d/${expired}/x.pdf`)).status).toBe(410);
    const missing = signLink(SANDBOX_SECRETS.linkSecret, {
      kind: 'attachment',
      tenantId: stack.tenantId,
      target: 'files-1/7',
      exp: Date.now() + 60_000,
    });
    expect((await download(`${stack.apiUrl}/d/${missing}/x.pdf`)).status).toBe(404);
    const otherTenant = signLink(SANDBOX_SECRETS.linkSecret, {
      kind: 'attachment',
      tenantId: stack.other.tenantId,
      target: 'files-1/0',
      exp: Date.now() + 60_000,
    });
    expect((await download(`${stack.apiUrl}/d/${otherTenant}/x.pdf`)).status).toBe(404);
  });
});

describe('issue 17 item 2: a copy to the sender (Sinao, "dans le cas où vous êtes en copie des mails envoyés")', () => {
  const messagesTo = (address: string) => stack.sandbox.messages({ to: address });
  afterAll(async () => {
    await stack.request('PUT', '/v1/settings', { copyToSender: null });
  });

  test("rules D2, D9: the tenant's default (bcc) puts the sender in blind copy of the first recipient's email, once; the copy is tracked on its own and the recipients' histories hold none of its events", async () => {
    const set = await stack.request('PUT', '/v1/settings', { copyToSender: 'bcc' });
    expect([set.status, set.body.copyToSender]).toEqual([200, 'bcc']);
    expect((await stack.request('PUT', '/v1/settings', { copyToSender: 'always' })).body.error.details[0].field).toBe(
      'copyToSender',
    );
    const sender = { name: 'Bruno Buyer', email: 'bruno.copy@bistro.test', outletId: 'paris-1' };
    expect(
      (
        await stack.request(
          'POST',
          '/v1/dispatches',
          purchaseOrder('copy-1', ['ana.c@acme.test', 'bob.c@acme.test'], { sender }),
        )
      ).status,
    ).toBe(202);
    await stack.waitFor('the copy delivered', async () => (await get('copy-1'))?.copy?.status === 'delivered');
    // One copy, in blind copy, beside the first recipient's email, with that email's content.
    const copies = messagesTo('bruno.copy@bistro.test');
    expect(copies.map((m) => m.kind)).toEqual(['bcc']);
    expect(copies[0].customArgs).toMatchObject({ relais_index: '0.1', relais_copy: 'bruno.copy@bistro.test' });
    expect(copies[0].html).toBe(messagesTo('ana.c@acme.test')[0].html);
    await stack.waitFor('delivered', async () => (await get('copy-1'))?.result === 'delivered');
    const d = await get('copy-1');
    expect(d.copy).toMatchObject({
      mode: 'bcc',
      address: 'bruno.copy@bistro.test',
      status: 'delivered',
      reasonCode: null,
    });
    expect(d.copy.history.map((h: { event: string }) => h.event)).toEqual(
      expect.arrayContaining(['accepted', 'processed', 'delivered']),
    );
    // The copy's events are its own: the first recipient's history is like the second's.
    const shape = (r: any) => r.history.map((h: { event: string }) => h.event).sort();
    expect(shape(d.recipients[0])).toEqual(shape(d.recipients[1]));
    expect(d.recipientCount).toBe(2);
    // The proof of sending holds the copy's events as SendGrid sent them.
    const proof = await stack.request('GET', '/v1/dispatches/copy-1/proof.json');
    const pack = typeof proof.body === 'string' ? JSON.parse(proof.body) : proof.body;
    expect(pack.senderCopy).toMatchObject({ mode: 'bcc', address: 'bruno.copy@bistro.test', status: 'delivered' });
    const delivered = pack.senderCopy.events.find((e: { event: string }) => e.event === 'delivered');
    expect(delivered).toMatchObject({
      source: 'sendgrid',
      payload: { email: 'bruno.copy@bistro.test', relais_copy: 'bruno.copy@bistro.test' },
    });
    expect(copies[0].events.map((e) => e.eventId)).toContain(delivered.eventId);
    // A dispatch can ask for none.
    await stack.request(
      'POST',
      '/v1/dispatches',
      purchaseOrder('copy-none', ['cleo.c@acme.test'], {
        sender: { ...sender, email: 'bruno.none@bistro.test' },
        copyToSender: null,
      }),
    );
    await stack.waitFor('delivered', async () => (await get('copy-none'))?.result === 'delivered');
    expect((await get('copy-none')).copy).toBeNull();
    expect(messagesTo('bruno.none@bistro.test')).toHaveLength(0);
  });

  test("rules D4, D5, D9: a copy in cc that bounces shows its reason; the dispatch's result and its notices follow the recipients only", async () => {
    const sender = { name: 'Bruno Buyer', email: 'bruno+bounce@bistro.test', outletId: 'paris-1' };
    expect(
      (
        await stack.request(
          'POST',
          '/v1/dispatches',
          purchaseOrder('copy-bounce', ['dan.c@acme.test'], { sender, copyToSender: 'cc' }),
        )
      ).status,
    ).toBe(202);
    await stack.waitFor('the copy bounced', async () => (await get('copy-bounce'))?.copy?.status === 'bounced');
    await stack.waitFor('delivered', async () => (await get('copy-bounce'))?.result === 'delivered');
    const d = await get('copy-bounce');
    expect(messagesTo('bruno+bounce@bistro.test').map((m) => m.kind)).toEqual(['cc']);
    expect(d.copy).toMatchObject({
      mode: 'cc',
      status: 'bounced',
      reasonCode: 'invalid_address',
      rawReason: expect.stringMatching(/550/),
    });
    expect(d.recipients[0]).toMatchObject({ status: 'delivered' });
    // No fix request, no escalation: nothing but the copy ever went to the sender.
    await new Promise((r) => setTimeout(r, 1500));
    expect(messagesTo('bruno+bounce@bistro.test')).toHaveLength(1);
    expect(messagesTo('paula.pm@bistro.test').filter((m) => m.subject?.includes('copy-bounce'))).toHaveLength(0);
  });

  test("rule D1: a copy asked for where it cannot go is refused naming copyToSender; by the tenant's default it is left out with a warning", async () => {
    const cases: Array<[string, Record<string, unknown>, number]> = [
      ['not a mode', { copyToSender: 'to' }, 400],
      ['the sender is a recipient', { copyToSender: 'cc', recipients: [{ email: 'bruno.buyer@bistro.test' }] }, 422],
      ['over SMTP', { copyToSender: 'bcc', provider: 'smtp' }, 422],
      [
        '1000 recipients and a copy',
        { copyToSender: 'bcc', recipients: Array.from({ length: 1000 }, (_, i) => ({ email: `n${i}@acme.test` })) },
        422,
      ],
    ];
    for (const [name, extra, status] of cases) {
      const res = await stack.request(
        'POST',
        '/v1/dispatches',
        purchaseOrder(`copy-bad-${status}-${name.length}`, ['eve.c@acme.test'], extra),
      );
      expect({ name, status: res.status, field: res.body.error?.details?.[0]?.field }).toEqual({
        name,
        status,
        field: 'copyToSender',
      });
    }
    await stack.request('PUT', '/v1/settings', { copyToSender: 'cc' });
    const res = await stack.request(
      'POST',
      '/v1/dispatches',
      purchaseOrder('copy-default-skipped', ['bruno.buyer@bistro.test']),
    );
    expect(res.status).toBe(202);
    expect(res.body.warnings).toEqual([
      { field: 'copyToSender', message: expect.stringContaining('is a recipient already') },
    ]);
    await stack.waitFor('delivered', async () => (await get('copy-default-skipped'))?.result === 'delivered');
    expect((await get('copy-default-skipped')).copy).toBeNull();
    await stack.request('PUT', '/v1/settings', { copyToSender: null });
  });
});
