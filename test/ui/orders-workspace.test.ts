/// <reference lib="dom" />
// Issue 18 in a real Chromium (Debian's, playwright-core) against the real stack: the orders
// workspace (item 1: orders by open exception with counts, filters, oldest first, stuck ones
// marked) and the seller's actions from an order's page (item 2: upload the label and invoice,
// change the carrier, tell the customer, record why a parcel is stuck, resolve with a note), each
// audited with the name given at sign-in; bad files refused on the page; WCAG checks (axe-core)
// and screenshots at desktop and phone widths (test/artifacts/ui/).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { expectAccessible, launchBrowser, openSignedIn, screenshots } from '../support/browser';
import { newOrder, startStack, type Stack } from '../support/stack';
import { signInOverHttp } from '../support/ui-session';

let stack: Stack;
let browser: Browser;
let ops: string;
const files = mkdtempSync(join(tmpdir(), 'relais-ui-files-'));
const file = (name: string, content: Buffer) => {
  const path = join(files, name);
  writeFileSync(path, content);
  return path;
};
const PDF = file('label.pdf', Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n'));
const PNG = file(
  'invoice.png',
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
);
const NOT_A_PDF = file('scan.pdf', Buffer.from('PK\u0003\u0004 a zip, not a PDF'));

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({ policies: { stuckAfter: 'PT3S' }, eventDelayMs: 30 }),
    launchBrowser(),
  ]);
  ops = await stack.keyWithRoles(['ops', 'orders:write']);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const api = (method: string, path: string, body?: unknown) => stack.request(method, path, body);
const get = async (id: string) => (await api('GET', `/v1/orders/${id}`)).body;
let customers = 0;
const place = async (id: string, customer: Record<string, unknown> = {}) => {
  customers += 1;
  expect(
    (
      await api(
        'POST',
        '/v1/orders',
        newOrder(id, {
          email: `ui${customers}@example.test`,
          phone: `+3361236${String(1000 + customers)}`,
          ...customer,
        }),
      )
    ).status,
  ).toBe(202);
  await stack.waitFor(`${id} assessed`, async () => (await get(id))?.risk && true);
};
const events = async (id: string, ...list: Array<Record<string, unknown> | string>) => {
  for (const e of list)
    expect((await api('POST', `/v1/orders/${id}/events`, typeof e === 'string' ? { type: e } : e)).status).toBe(200);
};
const signedIn = (key: string, path?: string, person?: string) =>
  openSignedIn(browser, stack.apiUrl, key, path, person);

describe('item 1: the workspace', () => {
  beforeAll(async () => {
    await place('ui-fine');
    await place('ui-unfulfillable');
    await events('ui-unfulfillable', {
      type: 'allocation_failed',
      sku: 'MUG-1',
      reason: 'out_of_stock',
      location: 'B-3',
    });
    await place('ui-held', {
      address: { line1: 'rue de la Paix', line2: null, city: 'Paris', postalCode: '7500', country: 'FR' },
    });
    await place('ui-rts');
    await events('ui-rts', 'allocated', 'packed', { type: 'rts_failed', reason: 'label_or_invoice_unavailable' });
    await place('ui-stuck');
    await events('ui-stuck', 'allocated', 'packed', 'handed_over', {
      type: 'tracking_update',
      status: 'in transit',
      location: 'Lyon hub',
      at: new Date().toISOString(),
    });
    await stack.waitFor('ui-stuck stuck', async () => (await get('ui-stuck')).stuck === true, 20_000);
  });

  test('orders with an open exception, oldest first, counts by type, the stuck one marked; a filter narrows it', async () => {
    const { context, page } = await signedIn(stack.key, '/ui/orders');
    expect(new URL(page.url()).pathname).toBe('/ui/orders');
    expect(await page.locator('h1').textContent()).toBe('Orders with an open exception');
    expect(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order')))).toEqual(
      ['ui-unfulfillable', 'ui-held', 'ui-rts', 'ui-stuck'],
    );
    const count = (tab: string) => page.locator(`[data-tab="${tab}"] .count`).textContent();
    expect([
      await count('open'),
      await count('unfulfillable'),
      await count('on_hold'),
      await count('rts_failed'),
      await count('stuck_in_transit'),
      await count('delivery_failed'),
      await count('stuck'),
    ]).toEqual(['4', '1', '1', '1', '1', '0', '1']);
    // The stuck order stands out: a badge, and a row of its own colour.
    const stuck = page.locator('tr[data-order="ui-stuck"]');
    expect(await stuck.getAttribute('class')).toContain('is-stuck');
    expect(await stuck.locator('.badge.stuck').textContent()).toBe('Stuck');
    expect(await stuck.evaluate((tr) => getComputedStyle(tr.querySelector('td')!).backgroundColor)).toBe(
      'rgb(255, 251, 235)',
    );
    expect(await page.locator('tr[data-order="ui-held"]').textContent()).toContain('Order on hold (high risk)');
    await screenshots(page, 'orders-workspace');

    // A tab, then the filter form: what the API answers for the same query.
    await page.locator('[data-tab="stuck_in_transit"]').click();
    await page.waitForURL('**/ui/orders?exception=stuck_in_transit');
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await page.locator('[data-tab="stuck_in_transit"]').getAttribute('aria-current')).toBe('page');
    await page.goto('/ui/orders');
    await page.locator('summary', { hasText: 'Filters' }).click();
    await page.getByLabel('Exception', { exact: true }).selectOption('all');
    await page.getByLabel('State', { exact: true }).selectOption('placed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL('**/ui/orders?exception=all&state=placed**');
    expect(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order')))).toEqual(
      ['ui-fine'],
    );
    const apiAnswer = (await api('GET', '/v1/orders?exception=all&state=placed')).body.orders.map(
      (o: any) => o.orderId,
    );
    expect(apiAnswer).toEqual(['ui-fine']);
    // A day that does not exist is refused naming the field, in the tenant's words.
    const bad = await page.goto('/ui/orders?from=2026-02-31');
    expect(bad!.status()).toBe(400);
    expect(await page.locator('main').textContent()).toContain('Placed from: "2026-02-31" is not a real date');
    await context.close();
  });

  test('in French for a French tenant, accessible on a phone', async () => {
    await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $set: { locale: 'fr' } });
    try {
      const { context, page } = await signedIn(stack.key, '/ui/orders');
      expect(await page.locator('h1').textContent()).toBe('Commandes avec une exception ouverte');
      expect(await page.locator('tr[data-order="ui-stuck"] .badge').textContent()).toBe('Bloquée');
      await screenshots(page, 'orders-workspace-fr');
      await context.close();
    } finally {
      await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $set: { locale: 'en' } });
    }
  });
});

describe("item 2: the seller acts from the order's page", () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    ({ context, page } = await signedIn(ops, '/ui/orders', 'Sam Seller'));
  });
  afterAll(async () => {
    await context?.close();
  });
  const opsKeyId = () => ops.slice(3, 15);

  test("O5: upload the label and the invoice; the order is ready to ship; both downloadable; audited with the person's name", async () => {
    await page.goto('/ui/orders/ui-rts');
    await screenshots(page, 'order-rts-failed');
    const upload = page.locator('#act-upload');
    await upload.getByLabel('Document').selectOption('label');
    await upload.getByLabel(/^File/).setInputFiles(PDF);
    await upload.getByRole('button', { name: 'Upload' }).click();
    await page.waitForURL('**/ui/orders/ui-rts?done=uploaded');
    expect(await page.locator('[data-document="label"] a').textContent()).toBe('label.pdf');
    expect(await page.locator('#order-state').textContent()).toBe('Ready-to-ship failed');
    await page.locator('#act-upload').getByLabel('Document').selectOption('invoice');
    await page.locator('#act-upload').getByLabel(/^File/).setInputFiles(PNG);
    await page.locator('#act-upload').getByRole('button', { name: 'Upload' }).click();
    await page.waitForURL('**/ui/orders/ui-rts?done=uploaded');
    expect(await page.locator('#order-state').textContent()).toBe('Ready to ship');
    expect(await page.locator('#order-timeline li[data-event="label_uploaded"]').textContent()).toContain(
      `by Sam Seller (key ${opsKeyId()})`,
    );
    const download = await page.request.get((await page.locator('[data-document="invoice"] a').getAttribute('href'))!);
    expect(download.status()).toBe(200);
    expect(download.headers()['content-type']).toBe('image/png');
    expect((await download.body()).subarray(0, 4).toString('hex')).toBe('89504e47');
    expect(
      (await stack.db.Audit.find({ target: 'ui-rts', action: 'order.upload_document' }).lean()).map((a) => a.actor),
    ).toEqual([`Sam Seller (key ${opsKeyId()})`, `Sam Seller (key ${opsKeyId()})`]);
    await screenshots(page, 'order-documents-uploaded');
  });

  test('a file that is not a PDF, PNG or JPEG is refused on the page, naming it; nothing is stored', async () => {
    await place('ui-bad-file');
    await page.goto('/ui/orders/ui-bad-file');
    await page.locator('#act-upload').getByLabel(/^File/).setInputFiles(NOT_A_PDF);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/ui/orders/ui-bad-file/documents')),
      page.locator('#act-upload').getByRole('button', { name: 'Upload' }).click(),
    ]);
    expect(res.status()).toBe(422);
    expect(await page.getByRole('alert').textContent()).toContain('file: the file is not a PDF, PNG or JPEG');
    expect((await get('ui-bad-file')).documents).toEqual({ label: null, invoice: null });
    expect(
      await stack.db.connection
        .db!.collection('order_documents.files')
        .countDocuments({ 'metadata.orderId': 'ui-bad-file' }),
    ).toBe(0);
    await expectAccessible(page, 'order page with a refused upload');
  });

  test('O7/O8: record why the parcel is stuck, tell the customer of the delay by SMS only', async () => {
    await page.goto('/ui/orders/ui-stuck');
    await page.locator('#act-cause').getByLabel('Cause').selectOption('natural_disaster');
    await page.locator('#act-cause').getByLabel('Note (optional)').fill('floods around Lyon');
    await page.locator('#act-cause').getByRole('button', { name: 'Record why the parcel is stuck' }).click();
    await page.waitForURL('**/ui/orders/ui-stuck?done=causeRecorded');
    expect(await page.locator('#order-stuck-cause').textContent()).toBe('Natural disaster (flood, heavy rain…)');
    expect(await page.locator('#order-exceptions li[data-exception="stuck_in_transit"]').textContent()).toContain(
      'Natural disaster',
    );

    const tell = page.locator('#act-tell');
    await tell.getByLabel('What to tell').selectOption('delivery_delay');
    await tell.getByLabel('Email').uncheck();
    await tell.getByLabel('WhatsApp').uncheck();
    await tell.getByLabel('SMS').check();
    await tell.getByRole('button', { name: 'Send to the customer' }).click();
    await page.waitForURL('**/ui/orders/ui-stuck?done=customerTold');
    const phone = (await stack.db.Order.findOne({ tenantId: stack.tenantId, orderId: 'ui-stuck' }).lean())!.customer
      .phone as string;
    const sms = await stack.waitFor('the SMS', async () =>
      stack.sandbox.messages({ to: phone }).find((m) => m.channel === 'sms'),
    );
    expect(sms.body).toContain('a natural disaster (flood, heavy rain…) is holding the parcel up');
    expect(stack.sandbox.messages({ to: phone }).filter((m) => m.channel === 'whatsapp')).toHaveLength(0);
    await page.locator('#order-notifications td', { hasText: 'order_delayed' }).first().waitFor({ timeout: 15_000 });
    await screenshots(page, 'order-stuck-acted');
  });

  test("O9, issue 20: told from the page with every channel ticked, the customer is told in the tenant's order (SMS first), not the form's", async () => {
    await place('ui-tell-order');
    await page.goto('/ui/orders/ui-tell-order');
    const tell = page.locator('#act-tell');
    await tell.getByLabel('What to tell').selectOption('delivery_delay');
    expect(await tell.getByLabel('Email').isChecked()).toBe(true);
    expect(await tell.getByLabel('SMS').isChecked()).toBe(true);
    await tell.getByRole('button', { name: 'Send to the customer' }).click();
    await page.waitForURL('**/ui/orders/ui-tell-order?done=customerTold');
    // The tenant's order for a delivery delay is SMS, then email (the defaults); the form lists email first.
    const sent = await stack.waitFor('the notice sent on its first channel', async () => {
      const o = (await api('GET', '/v1/orders/ui-tell-order')).body;
      const told = (o.customerNotices ?? []).find((n: { notice: string }) => n.notice === 'delivery_delay');
      return told?.path.find((p: { event: string }) => p.event === 'sent');
    });
    expect(sent.channel).toBe('sms');
  });

  test('O1: resolve an unfulfillable order with a note: it ends and leaves the workspace', async () => {
    await page.goto('/ui/orders/ui-unfulfillable');
    await page.locator('#act-resolve').getByLabel('Exception').selectOption('unfulfillable');
    await page
      .locator('#act-resolve')
      .getByLabel(/^Note \(required\)/)
      .fill('customer refunded on the sales channel');
    await page.locator('#act-resolve').getByRole('button', { name: 'Resolve' }).click();
    await page.waitForURL('**/ui/orders/ui-unfulfillable?done=resolved');
    expect(await page.locator('#order-ended').textContent()).toBe('(Ended)');
    expect(await page.locator('#order-exceptions').textContent()).toContain('resolved by Sam Seller');
    expect(await page.locator('.actions').count()).toBe(0);
    await page.goto('/ui/orders');
    expect(await page.locator('tr[data-order="ui-unfulfillable"]').count()).toBe(0);
  });

  test('a reader sees the order and its documents, no action; a form without its CSRF token changes nothing', async () => {
    const reader = await signedIn(await stack.keyWithRoles(['log:read']), '/ui/orders/ui-rts');
    expect(await reader.page.locator('[data-document="label"] a').count()).toBe(1);
    expect(await reader.page.locator('.actions').count()).toBe(0);
    expect((await reader.page.request.post('/ui/orders/ui-rts/carrier', { form: { carrier: 'DHL' } })).status()).toBe(
      403,
    );
    await reader.context.close();
    const res = await page.request.post('/ui/orders/ui-stuck/cause', { form: { cause: 'strike' } });
    expect(res.status()).toBe(403);
    expect((await get('ui-stuck')).stuckCause).toBe('natural_disaster');
    // The session's own token, posted over HTTP by a key without ops: 403, nothing changed.
    const session = await signInOverHttp(stack.apiUrl, await stack.keyWithRoles(['orders:write']));
    const post = await fetch(`${stack.apiUrl}/ui/orders/ui-stuck/cause`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: session.csrf, cause: 'strike' }),
    });
    expect(post.status).toBe(403);
  });
});
