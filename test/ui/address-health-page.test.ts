/// <reference lib="dom" />
// /ui/address-health in a real Chromium against the real stack (issue 20, item 2): the registry
// built from sandbox fates, filtered by state and kind, in English and French; an ops operator
// clears a record (audited); a reader sees it but has no clear form and cannot post one; the
// dispatch page warns about a known-bad recipient; WCAG checks and screenshots.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expectAccessible, launchBrowser, openSignedIn, screenshots } from '../support/browser';
import { purchaseOrder, startStack, type Stack } from '../support/stack';
import { signInOverHttp } from '../support/ui-session';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let reader: string;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ eventDelayMs: 50 }), launchBrowser()]);
  reader = await stack.keyWithRoles(['log:read']);
  const ops = await stack.keyWithRoles(['ops', 'log:read']);
  // Known to the registry: a hard bounce, a block, a soft bounce (a delivered email address gets no record).
  for (const [id, address] of [
    ['ui-h1', 'ui+bounce@acme.test'],
    ['ui-h2', 'ui+block@acme.test'],
    ['ui-h3', 'ui+softbounce@acme.test'],
  ]) {
    expect((await stack.request('POST', '/v1/dispatches', purchaseOrder(id, [address]))).status).toBe(202);
  }
  await stack.waitFor(
    'three records',
    async () => (await stack.request('GET', '/v1/address-health')).body.records.length >= 3,
  );
  await stack.waitFor(
    'bounce recorded',
    async () =>
      (await stack.request('GET', `/v1/address-health/${encodeURIComponent('ui+bounce@acme.test')}`)).body.state ===
      'bad',
  );
  await stack.waitFor(
    'block recorded',
    async () =>
      (await stack.request('GET', `/v1/address-health/${encodeURIComponent('ui+block@acme.test')}`)).body.conditions
        .length === 1,
  );
  ({ context, page } = await openSignedIn(browser, stack.apiUrl, ops, '/ui/', 'Olive Ops'));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

const row = (address: string) => page.locator(`tr[data-address="${address}"]`);

test('the registry lists each address with its state and reasons, filters by state and kind, and an ops operator clears a record', async () => {
  await page.getByRole('link', { name: 'Address health' }).click();
  await page.waitForURL('**/ui/address-health');
  expect(await row('ui+bounce@acme.test').getAttribute('data-state')).toBe('bad');
  expect(await row('ui+bounce@acme.test').textContent()).toContain('invalid address (hard bounce or drop)');
  expect(await row('ui+bounce@acme.test').textContent()).toContain('Invalid Address');
  expect(await row('ui+block@acme.test').getAttribute('data-state')).toBe('ok');
  expect(await row('ui+block@acme.test').textContent()).toContain("not the address's fault");
  expect(await row('ui+softbounce@acme.test').getAttribute('data-state')).toBe('soft');
  await expectAccessible(page, 'address health');
  await screenshots(page, 'address-health');

  // Filtered: the bad ones only, email only.
  await page.getByLabel('State').selectOption('bad');
  await page.getByLabel('Address').selectOption('email');
  await Promise.all([
    page.waitForURL('**/ui/address-health?state=bad&kind=email'),
    page.getByRole('button', { name: 'Apply' }).click(),
  ]);
  expect(
    await page.locator('tr[data-address]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-address'))),
  ).toEqual(['ui+bounce@acme.test']);

  // The dispatch page warns about the known-bad recipient.
  await page.goto('/ui/dispatches/ui-h1');
  expect(await page.locator('[data-health-warning]').textContent()).toMatch(
    /^Known bad address: invalid address \(hard bounce or drop\) ×1, since /,
  );

  // Cleared, with a reason: good again, and audited with the operator's name.
  await page.goto('/ui/address-health?state=bad');
  await row('ui+bounce@acme.test').locator('summary').click();
  await row('ui+bounce@acme.test')
    .getByLabel('Why (recorded in the audit log)')
    .fill('the supplier confirmed the address by phone');
  await Promise.all([
    page.waitForURL('**/ui/address-health?done=cleared'),
    row('ui+bounce@acme.test').getByRole('button', { name: 'Clear this record' }).click(),
  ]);
  expect(await page.locator('.notice').textContent()).toContain('The record was cleared');
  expect(await row('ui+bounce@acme.test').getAttribute('data-state')).toBe('ok');
  expect(await row('ui+bounce@acme.test').textContent()).toContain('Cleared by Olive Ops');
  const audit = await stack.db.Audit.findOne({ tenantId: stack.tenantId, action: 'address_health.clear' }).lean();
  expect(audit).toMatchObject({
    target: 'ui+bounce@acme.test',
    reason: 'the supplier confirmed the address by phone',
    actor: expect.stringMatching(/^Olive Ops \(key /),
  });
});

test('in French', async () => {
  await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $set: { locale: 'fr' } });
  try {
    await page.goto('/ui/address-health');
    expect(await page.locator('h1').textContent()).toBe('Santé des adresses');
    expect(await row('ui+block@acme.test').textContent()).toContain("pas la faute de l'adresse");
    await expectAccessible(page, 'santé des adresses');
  } finally {
    await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $set: { locale: 'en' } });
  }
});

test('a reader sees the registry, without the clear form, and a clear posted anyway is refused', async () => {
  const session = await signInOverHttp(stack.apiUrl, reader);
  const seen = await fetch(`${stack.apiUrl}/ui/address-health`, { headers: { cookie: session.cookie } });
  expect(seen.status).toBe(200);
  const html = await seen.text();
  expect(html).toContain('ui+block@acme.test');
  expect(html).not.toContain('action="/ui/address-health/clear"');
  const posted = await fetch(`${stack.apiUrl}/ui/address-health/clear`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ _csrf: session.csrf, address: 'ui+block@acme.test', reason: 'x' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie },
  });
  expect(posted.status).toBe(403);
  expect(
    (await stack.request('GET', `/v1/address-health/${encodeURIComponent('ui+block@acme.test')}`)).body.cleared,
  ).toBeNull();
  // Another tenant's operator sees none of it.
  const other = await signInOverHttp(stack.apiUrl, stack.other.key);
  expect(
    await (await fetch(`${stack.apiUrl}/ui/address-health`, { headers: { cookie: other.cookie } })).text(),
  ).not.toContain('acme.test');
});
