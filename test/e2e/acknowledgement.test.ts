// Issue 20 item 1 end to end: a purchase order that asks its recipients to acknowledge receipt.
// HTTP → workflow → SendGrid SDK → sandbox (each recipient's email carries its own signed link) →
// the link opened over HTTP, the form posted → the workflow's Update → the log, the API, the
// tenant's events. Single use; forged, expired and other-tenant links; the live links readable
// nowhere else (the stored copy, the API, the pages, the database, the logs).
import { purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';
import { signLink } from '../../src/links';
import { createApiKey } from '../../src/db/api-keys';
import { addDays, dayOf } from '../../src/domain/days';
import { loggableUrl } from '../../src/logger';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ policies: { unknownAfter: 'PT5M', listenFor: 'PT1H' }, eventDelayMs: 50 });
});
afterAll(async () => {
  await stack?.close();
});

const get = async (id: string, key?: string) =>
  (await stack.request('GET', `/v1/dispatches/${id}`, undefined, key)).body;
const LINK = /(http:\/\/[^\s"<>]+\/a\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+))/;
const linkIn = (text: string | undefined) => LINK.exec(text ?? '');

/** The email the sandbox received for an address, and the receipt link in its text and HTML (the same). */
async function receivedLink(address: string) {
  const email = await stack.waitFor('the email', async () => stack.sandbox.messages({ to: address })[0], 60_000);
  const inText = linkIn(email.text);
  const inHtml = linkIn(email.html);
  expect(inText?.[1]).toBeDefined();
  expect(inHtml?.[1]).toBe(inText![1]);
  return { url: inText![1], token: inText![2], email };
}

const post = (url: string, form: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });

const visibleText = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/\s+/g, ' ');

describe('issue 20: receipt acknowledgement through a signed, single-use link per recipient', () => {
  test('the link in the received email opens the page, the note is recorded through the workflow and read back through the API; a second use changes nothing', async () => {
    const to = ['orders@supplier-a.test', 'sales@supplier-b.test'];
    const created = await stack.request('POST', '/v1/dispatches', purchaseOrder('ack-1', to, { acknowledge: true }));
    expect(created.status).toBe(202);
    const a = await receivedLink(to[0]);
    const b = await receivedLink(to[1]);
    // One link each: the other recipient's would acknowledge for them.
    expect(a.token).not.toBe(b.token);
    expect(a.email.text).toContain('Confirm receipt of purchase order PO-ack-1');
    await stack.waitFor('delivered', async () => (await get('ack-1')).result === 'delivered');

    // The stored copy (API, what a log reader sees) has the placeholder, never a live link.
    const before = await get('ack-1');
    expect(before.html).toContain('https://receipt-link-withheld-from-this-copy.invalid/');
    expect(before.text).toContain('https://receipt-link-withheld-from-this-copy.invalid/');
    expect(JSON.stringify(before)).not.toContain(a.token);
    expect(before.acknowledgement).toEqual({ requested: true, acknowledged: 0, awaiting: 2 });

    const opened = await fetch(a.url);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await opened.text();
    expect(page).not.toMatch(/<script/i);
    expect(visibleText(page)).toContain('purchase order PO-ack-1');
    expect(visibleText(page)).toContain(to[0]);
    expect(visibleText(page)).toContain('Confirm receipt of purchase order PO-ack-1');

    const deliveryDate = addDays(dayOf(new Date(), 'Europe/Paris'), 3);
    const answered = await post(a.url, { name: 'Sophie Fournier', deliveryDate, note: 'Delivery by the back door.' });
    expect(answered.status).toBe(200);
    expect(visibleText(await answered.text())).toContain('Thank you! Your confirmation of receipt is recorded');

    const after = await get('ack-1');
    const [first, second] = after.recipients;
    expect(first.acknowledged).toMatchObject({
      by: to[0],
      name: 'Sophie Fournier',
      deliveryDate,
      note: 'Delivery by the back door.',
    });
    // Beside the delivery status, which it does not change.
    expect(first.status).toBe('delivered');
    expect(second.acknowledged).toBeNull();
    expect(after.result).toBe('delivered');
    await stack.waitFor('the counts', async () => (await get('ack-1')).acknowledgement.acknowledged === 1);
    expect((await get('ack-1')).acknowledgement).toEqual({ requested: true, acknowledged: 1, awaiting: 1 });
    const history = (await get('ack-1')).recipients[0].history;
    expect(history.map((h: { event: string }) => h.event)).toContain('acknowledged');
    expect(history.find((h: { event: string }) => h.event === 'acknowledged').reason).toContain('Sophie Fournier');

    // The list filter: someone still owes an acknowledgement.
    const owing = await stack.request('GET', '/v1/dispatches?acknowledged=false');
    expect(owing.body.dispatches.map((d: { dispatchId: string }) => d.dispatchId)).toContain('ack-1');
    expect(owing.body.dispatches.find((d: { dispatchId: string }) => d.dispatchId === 'ack-1').acknowledgement).toEqual(
      {
        acknowledged: 1,
        awaiting: 1,
      },
    );

    // The tenant's systems are told (dispatch.acknowledged), once.
    const event = await stack.waitFor('the event', async () =>
      stack.db.TenantEvent.findOne({ tenantId: stack.tenantId, type: 'dispatch.acknowledged' }).lean(),
    );
    expect(JSON.parse(event!.body).data).toMatchObject({
      dispatchId: 'ack-1',
      document: { type: 'purchase_order', number: 'PO-ack-1' },
      recipientId: 'r1',
      address: to[0],
      note: `delivery date: ${deliveryDate}; Delivery by the back door.`,
    });

    // Single use: the page says when, a second post changes nothing.
    const again = await post(a.url, { note: 'again' });
    expect(again.status).toBe(409);
    expect(visibleText(await again.text())).toContain('Receipt of this document was already confirmed on');
    const reopened = await fetch(a.url);
    expect(reopened.status).toBe(200);
    expect(visibleText(await reopened.text())).toContain('already confirmed on');
    const unchanged = (await get('ack-1')).recipients[0];
    expect(unchanged.acknowledged).toEqual(first.acknowledged);
    expect(await stack.db.TenantEvent.countDocuments({ tenantId: stack.tenantId, type: 'dispatch.acknowledged' })).toBe(
      1,
    );

    // The second recipient acknowledges without a note: nobody owes it any more.
    expect((await post(b.url, {})).status).toBe(200);
    await stack.waitFor('all acknowledged', async () => (await get('ack-1')).acknowledgement.awaiting === 0);
    const done = await stack.request('GET', '/v1/dispatches?acknowledged=true');
    expect(done.body.dispatches.map((d: { dispatchId: string }) => d.dispatchId)).toContain('ack-1');
    const stillOwing = await stack.request('GET', '/v1/dispatches?acknowledged=false');
    expect(stillOwing.body.dispatches.map((d: { dispatchId: string }) => d.dispatchId)).not.toContain('ack-1');

    // Rule L: a key that only reads the log finds neither link: not in the API, nor the pages, nor the database.
    const { key: reader } = await createApiKey(stack.db, { tenantId: stack.tenantId, roles: ['log:read'] });
    const seen = JSON.stringify([
      await get('ack-1', reader),
      (await stack.request('GET', '/v1/dispatches?result=all', undefined, reader)).body,
      (await stack.request('GET', '/v1/dispatches/ack-1/proof.json', undefined, reader)).body,
    ]);
    const everything = JSON.stringify(
      await Promise.all(Object.values(stack.db.connection.collections).map((c) => c.find({}).toArray())),
    );
    for (const token of [a.token, b.token]) {
      expect(seen).not.toContain(token);
      expect(everything).not.toContain(token);
      expect(loggableUrl(`/a/${token}`)).toBe('/a/[token]');
    }
  }, 120_000);

  test('a forged, expired or other-tenant link gets a clear 4xx page and changes nothing; a bad form names the field', async () => {
    const created = await stack.request(
      'POST',
      '/v1/dispatches',
      purchaseOrder('ack-2', ['orders@supplier-c.test'], { acknowledge: true }),
    );
    expect(created.status).toBe(202);
    const { url, token } = await receivedLink('orders@supplier-c.test');
    const base = url.slice(0, url.indexOf('/a/'));

    // Forged: one character of the signature changed.
    const forged = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;
    const forgedPage = await fetch(`${base}/a/${forged}`);
    expect(forgedPage.status).toBe(404);
    expect(visibleText(await forgedPage.text())).toContain('This link is not valid');
    expect((await post(`${base}/a/${forged}`, {})).status).toBe(404);

    // Expired: signed with the right secret, past its time.
    const target = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).target as string;
    const expired = signLink(SANDBOX_SECRETS.linkSecret, {
      kind: 'receipt',
      tenantId: stack.tenantId,
      target,
      exp: Date.now() - 1000,
    });
    const expiredPage = await fetch(`${base}/a/${expired}`);
    expect(expiredPage.status).toBe(410);
    expect(visibleText(await expiredPage.text())).toContain('This link has expired');

    // Another tenant's link to a dispatch of the same id: that tenant has none.
    const other = signLink(SANDBOX_SECRETS.linkSecret, {
      kind: 'receipt',
      tenantId: stack.other.tenantId,
      target,
      exp: Date.now() + 3_600_000,
    });
    expect((await fetch(`${base}/a/${other}`)).status).toBe(404);
    expect((await post(`${base}/a/${other}`, {})).status).toBe(404);
    // A link of another kind (a customer's address confirmation) opens nothing here.
    const confirm = signLink(SANDBOX_SECRETS.linkSecret, {
      kind: 'confirm',
      tenantId: stack.tenantId,
      target,
      exp: Date.now() + 3_600_000,
    });
    expect((await fetch(`${base}/a/${confirm}`)).status).toBe(404);

    // A note too long, a day that does not exist: 400, the field named, nothing recorded.
    const long = await post(url, { note: 'x'.repeat(1001) });
    expect(long.status).toBe(400);
    expect(visibleText(await long.text())).toContain('A note for the sender (optional) — at most 1000 characters');
    const badDay = await post(url, { deliveryDate: '2026-02-31' });
    expect(badDay.status).toBe(400);
    expect(visibleText(await badDay.text())).toContain('Expected delivery date (optional) — a date that exists');
    expect((await get('ack-2')).recipients[0].acknowledged).toBeNull();

    // Still usable once, after all that.
    expect((await post(url, { note: 'ok' })).status).toBe(200);
    expect((await get('ack-2')).recipients[0].acknowledged).toMatchObject({ note: 'ok', name: null });
  }, 120_000);

  test('asked by the tenant for a document type; a copy to the sender is refused (it would carry a recipient link); without acknowledgement the email asks for a reply', async () => {
    await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $set: { acknowledgeDocuments: ['purchase_order'] } });
    try {
      const refused = await stack.request(
        'POST',
        '/v1/dispatches',
        purchaseOrder('ack-3', ['orders@supplier-d.test'], { copyToSender: 'cc' }),
      );
      expect(refused.status).toBe(422);
      expect(refused.body.error.details[0].field).toBe('copyToSender');

      expect(
        (await stack.request('POST', '/v1/dispatches', purchaseOrder('ack-4', ['orders@supplier-e.test']))).status,
      ).toBe(202);
      await receivedLink('orders@supplier-e.test');
      expect((await get('ack-4')).acknowledgement).toMatchObject({ requested: true });

      // The dispatch says no: no link, the usual words.
      expect(
        (
          await stack.request(
            'POST',
            '/v1/dispatches',
            purchaseOrder('ack-5', ['orders@supplier-f.test'], { acknowledge: false }),
          )
        ).status,
      ).toBe(202);
      const plain = await stack.waitFor(
        'the email',
        async () => stack.sandbox.messages({ to: 'orders@supplier-f.test' })[0],
      );
      expect(linkIn(plain.text)).toBeNull();
      expect(plain.text).toContain('Could you please confirm receipt by replying to this email?');
      expect((await get('ack-5')).acknowledgement).toBeNull();
    } finally {
      await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $set: { acknowledgeDocuments: [] } });
    }
  }, 120_000);

  test('the deadlines are tenant policies: off until set, each at least 15 minutes, together inside the listening window; refused naming the field, changing nothing', async () => {
    const settings = async () => (await stack.request('GET', '/v1/settings')).body;
    expect((await settings()).policies.acknowledgeWithin).toBeUndefined();
    const tooShort = await stack.request('PUT', '/v1/settings', { policies: { acknowledgeWithin: 'PT5M' } });
    expect(tooShort.status).toBe(422);
    expect(tooShort.body.error.details[0].field).toBe('policies.acknowledgeWithin');
    // PT1H of listening (this stack): 45 minutes twice do not fit.
    const tooLong = await stack.request('PUT', '/v1/settings', { policies: { acknowledgeWithin: 'PT45M' } });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.error.message).toContain('must fit in listenFor (PT1H)');
    expect((await settings()).policies.acknowledgeWithin).toBeUndefined();
    const set = await stack.request('PUT', '/v1/settings', {
      policies: { acknowledgeWithin: 'PT30M', acknowledgeEscalateAfter: 'PT15M' },
      acknowledgeDocuments: ['purchase_order'],
    });
    expect(set.status).toBe(200);
    expect(set.body.policies).toMatchObject({ acknowledgeWithin: 'PT30M', acknowledgeEscalateAfter: 'PT15M' });
    expect(set.body.acknowledgeDocuments).toEqual(['purchase_order']);
    const off = await stack.request('PUT', '/v1/settings', {
      policies: { acknowledgeWithin: null, acknowledgeEscalateAfter: null },
      acknowledgeDocuments: [],
    });
    expect(off.status).toBe(200);
    expect(off.body.policies.acknowledgeWithin).toBeNull();
  });
});
