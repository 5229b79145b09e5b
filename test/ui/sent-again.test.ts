/// <reference lib="dom" />
// Issue 17 in a real Chromium against the real stack: from a dispatch's page, its sender's copy
// (status and history), its attachments downloaded, a delivered recipient sent again; a failed
// dispatch recorded as sent by hand on a day chosen in a date field, by the name given at sign-in,
// which leaves the failed-only log; the tenant's default copy to the sender in the settings. WCAG
// checks (axe) and screenshots at both widths (test/artifacts/ui/).
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, openSignedIn, screenshots } from '../support/browser';
import { purchaseOrder, startStack, type Stack } from '../support/stack';
import { addDays, dayOf } from '../../src/domain/days';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const invoice = Buffer.from('%PDF-1.4 the purchase order PO-ui-again itself');
const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  expect(
    (
      await stack.request(
        'POST',
        '/v1/dispatches',
        purchaseOrder('ui-again', ['ana@acme.test'], {
          copyToSender: 'bcc',
          attachments: [
            { filename: 'PO ui-again.pdf', contentType: 'application/pdf', contentBase64: invoice.toString('base64') },
          ],
        }),
      )
    ).status,
  ).toBe(202);
  expect(
    (await stack.request('POST', '/v1/dispatches', purchaseOrder('ui-hand', ['nobody+bounce@acme.test']))).status,
  ).toBe(202);
  await stack.waitFor(
    'delivered, copy too',
    async () =>
      (await get('ui-again'))?.result === 'delivered' && (await get('ui-again'))?.copy?.status === 'delivered',
  );
  await stack.waitFor('error', async () => (await get('ui-hand'))?.result === 'error');
  ({ context, page } = await openSignedIn(browser, stack.apiUrl, stack.key, '/ui/', 'Claire Martin'));
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

test("rules L2, D8: the dispatch page shows the sender's copy, downloads the attachment, and sends a delivered recipient again", async () => {
  await page.goto('/ui/dispatches/ui-again');
  const copy = page.locator('#sender-copy');
  expect(await copy.textContent()).toContain('In blind copy (Bcc) <bruno.buyer@bistro.test>');
  expect(await copy.locator('[data-status]').getAttribute('data-status')).toBe('delivered');

  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#attachments').getByRole('link', { name: 'PO ui-again.pdf' }).click(),
  ]);
  expect(file.suggestedFilename()).toBe('PO ui-again.pdf');
  expect(readFileSync((await file.path())!).equals(invoice)).toBe(true);

  const ana = page.locator('[data-recipient="r1"]');
  await ana.getByText('Send again').first().click();
  await screenshots(page, 'dispatch-send-again');
  await ana.getByLabel(/Send it again to/).fill('ana@acme.test');
  await ana.getByRole('button', { name: 'Send again' }).click();
  await page.waitForFunction(
    () =>
      Array.from(document.querySelectorAll('[data-recipient="r1"] .timeline li')).some(
        (li) => li.getAttribute('data-event') === 'delivered' && li.getAttribute('data-attempt') === '2',
      ),
    null,
    { timeout: 30_000 },
  );
  const entries = await ana
    .locator('.timeline li')
    .evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-event')}.${li.getAttribute('data-attempt')}`));
  expect(entries).toEqual(expect.arrayContaining(['delivered.1', 'resent.2', 'delivered.2']));
  expect(stack.sandbox.messages({ to: 'ana@acme.test' })).toHaveLength(2);
  // The copy went with the first send only.
  expect(stack.sandbox.messages({ to: 'bruno.buyer@bistro.test' }).filter((m) => m.kind === 'bcc')).toHaveLength(1);
});

test('rules D11, L1: marked as sent by hand on a day chosen in the date field, by the name given at sign-in; it leaves the failed-only log', async () => {
  await page.goto('/ui/log');
  expect(await page.locator('tr[data-dispatch="ui-hand"]').count()).toBe(1);
  await page.goto('/ui/dispatches/ui-hand');
  await page.getByText('Mark as sent by hand').first().click();
  const today = dayOf(new Date(), 'Europe/Paris');
  const date = page.getByLabel('Sent on');
  expect([await date.getAttribute('type'), await date.getAttribute('max'), await date.inputValue()]).toEqual([
    'date',
    today,
    today,
  ]);
  expect(await page.getByLabel(/Sent by/).inputValue()).toBe('Claire Martin');
  await screenshots(page, 'dispatch-mark-sent');
  const yesterday = addDays(today, -1);
  await date.fill(yesterday);
  await page.getByLabel(/How it was sent/).fill('posted, registered letter');
  await page.getByRole('button', { name: 'Mark as sent by hand' }).click();
  await page.locator('#marked-sent').waitFor();
  const shown = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(`${yesterday}T00:00:00Z`),
  );
  expect(await page.locator('#marked-sent').textContent()).toMatch(
    new RegExp(`^posted, registered letter — by Claire Martin \\(key [^)]+\\), on ${shown}$`),
  );
  expect((await get('ui-hand')).markedSent).toMatchObject({
    on: yesterday,
    by: expect.stringContaining('Claire Martin'),
  });
  await page.goto('/ui/log');
  expect(await page.locator('tr[data-dispatch="ui-hand"]').count()).toBe(0);
  await page.goto('/ui/log?show=all');
  expect(await page.locator('tr[data-dispatch="ui-hand"]').count()).toBe(1);
});

test("issue 17: the tenant's default copy to the sender is chosen in the settings", async () => {
  await page.goto('/ui/settings');
  const select = page.getByLabel('Copy of each document to its sender');
  expect(await select.inputValue()).toBe('');
  await select.selectOption('cc');
  await screenshots(page, 'settings-copy-to-sender');
  await page.locator('form[action="/ui/settings"]').getByRole('button', { name: 'Save' }).click();
  await page.waitForURL('**/ui/settings?done=settings');
  expect(await page.getByLabel('Copy of each document to its sender').inputValue()).toBe('cc');
  expect((await stack.request('GET', '/v1/settings')).body.copyToSender).toBe('cc');
});
