/// <reference lib="dom" />
// The dashboard (/ui, issue 21) in a real Chromium against the real stack: dispatches sent through
// the API and their provider events counted by the tenant's rollup workflow, order exceptions
// opened and resolved; the page lands after sign-in, shows each chart with its figures as text,
// warns above 5 % of hard bounces, links each chart to the log or the orders it counts, and passes
// the WCAG checks at both widths. The pages' downloads: the log as CSV with its filters, a
// dispatch's proof of sending. Screenshots under test/artifacts/ui/.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expectAccessible, launchBrowser, openSignedIn, screenshots } from '../support/browser';
import { newOrder, purchaseOrder, startStack, type Stack } from '../support/stack';
import { readDays, readOpenExceptions } from '../../src/db/rollups';
import { recountRollups } from '../../src/activities/rollups';
import { dayOf } from '../../src/domain/days';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const today = () => dayOf(new Date(), 'Europe/Paris');

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  // Five email recipients over four dispatches: two delivered (one opened), two hard bounces, one dropped.
  const sends = [
    purchaseOrder('dash-alert', ['ana@acme.test', 'xavier+bounce@gone.test']),
    purchaseOrder('dash-drop', ['yann+drop@acme.test']),
    purchaseOrder('dash-open', ['zoe+open@acme.test']),
    purchaseOrder('dash-error', ['bea+bounce@gone.test']),
  ];
  for (const body of sends) expect((await stack.request('POST', '/v1/dispatches', body)).status).toBe(202);
  // Orders: one held (open exception), one held then released (resolved), one unfulfillable.
  const incomplete = { address: { line1: 'rue', line2: null, city: 'Paris', postalCode: '750', country: 'FR' } };
  for (const id of ['dash-held', 'dash-released'])
    expect((await stack.request('POST', '/v1/orders', newOrder(id, incomplete))).status).toBe(202);
  expect((await stack.request('POST', '/v1/orders', newOrder('dash-oos'))).status).toBe(202);
  await stack.waitFor(
    'the orders recorded',
    async () =>
      (await stack.db.Order.countDocuments({ tenantId: stack.tenantId })) === 3 &&
      (await stack.request('GET', '/v1/orders/dash-released')).body?.state === 'on_hold' &&
      (await stack.request('GET', '/v1/orders/dash-oos')).body?.state === 'placed',
  );
  expect((await stack.request('POST', '/v1/orders/dash-released/release', { reason: 'checked by phone' })).status).toBe(
    200,
  );
  expect(
    (
      await stack.request('POST', '/v1/orders/dash-oos/events', {
        type: 'allocation_failed',
        sku: 'TSHIRT-M',
        reason: 'out_of_stock',
      })
    ).status,
  ).toBe(200);

  // The rollup workflow folds what the projections signal: wait until the day counts it all.
  await stack.waitFor(
    'the day counted',
    async () => {
      const day = (await readDays(stack.db, stack.tenantId, [today()])).get(today());
      return (
        day?.dispatches === 4 &&
        day.delivered === 2 &&
        day.hardBounces === 2 &&
        (day.statuses?.dropped ?? 0) === 1 &&
        day.opened?.on_hold === 2 &&
        day.opened?.unfulfillable === 1 &&
        day.resolved?.on_hold === 1
      );
    },
    90_000,
  );
  ({ context, page } = await openSignedIn(browser, stack.apiUrl, stack.key));
}, 240_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

test("lands after sign-in; the period's figures, the hard-bounce warning (over 5 %), each chart with its figures as text", async () => {
  expect(new URL(page.url()).pathname).toBe('/ui/');
  expect(await page.locator('h1').textContent()).toBe('Dashboard');
  expect(await page.getByRole('link', { name: 'Dashboard' }).getAttribute('aria-current')).toBe('page');
  // The last 30 days by default, ending today in the tenant's zone.
  expect(await page.getByLabel('To', { exact: true }).inputValue()).toBe(today());

  const tiles = await page.locator('#delivery-tiles').textContent();
  expect(tiles).toContain('Dispatches4');
  expect(tiles).toContain('Delivery rate40%2 of 5 recipients delivered');
  expect(tiles).toMatch(/Median time to delivered\d[\d.,]* (ms|s)over 2 delivered recipients/);
  expect(tiles).toContain('Hard-bounce rate40%2 addresses or domains that do not exist, of 5 emails');
  expect(await page.locator('#hard-bounce-warning').textContent()).toContain(
    'Hard bounces are 40% of the emails of this period, above the 5% that providers tolerate',
  );

  // Dispatches by result per day: an image named and described, its legend and table in words.
  const chart = page.getByRole('img', { name: 'Dispatches by result, per day' });
  expect(await chart.getAttribute('aria-labelledby')).toBe('by-result-title by-result-desc');
  expect(await page.locator('#by-result-desc').textContent()).toMatch(
    /^4 dispatches from .* to .*: Delivered 1, Alert 1, Error 2\.$/,
  );
  expect(await page.locator('#chart-by-result rect').count()).toBe(3); // today's column: delivered, alert, error
  expect(await page.locator('#chart-by-result .legend').textContent()).toBe('DeliveredAlertError');
  const todayRow = page.locator('#chart-by-result tbody tr').last();
  expect(await todayRow.locator('td').allTextContents()).toEqual(['1', '1', '2', '4']);

  // Bounces and drops by reason and by domain: labels and numbers as text.
  expect(await page.locator('#chart-reasons li').allTextContents()).toEqual([
    expect.stringMatching(/Address does not exist\s*2/),
    expect.stringMatching(/Suppressed \(bounced before\)\s*1/),
  ]);
  expect(await page.locator('#chart-domains li').allTextContents()).toEqual([
    expect.stringMatching(/gone\.test\s*2/),
    expect.stringMatching(/acme\.test\s*1/),
  ]);

  // Orders: exceptions opened and resolved, the open ones by age, the held ones waiting.
  const orders = await page.locator('#order-tiles').textContent();
  expect(orders).toContain('Exceptions opened3');
  expect(orders).toContain('Exceptions resolved1');
  expect(orders).toContain('Open now2');
  expect(orders).toContain('Held orders waiting1');
  expect(await page.locator('#chart-exceptions tbody').textContent()).toMatch(
    /Order on hold.*2.*Order unfulfillable 1|Order unfulfillable 1.*Order on hold.*2/,
  );
  expect(await page.locator('#chart-open table tbody tr').count()).toBe(2);
  expect(await page.locator('#chart-held').textContent()).toContain('dash-held');
  await screenshots(page, 'dashboard');
});

test('each chart links to the dispatches or orders it counts', async () => {
  await page.locator('#chart-by-result summary').click(); // the figures as a table
  const cell = page.locator('#chart-by-result tbody tr').last().locator('td a').nth(2); // today's errors
  await Promise.all([page.waitForURL((url) => url.pathname === '/ui/log'), cell.click()]);
  const url = new URL(page.url());
  expect(Object.fromEntries(url.searchParams)).toEqual({ show: 'all', result: 'error', from: today(), to: today() });
  expect(
    (await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-dispatch')))).sort(),
  ).toEqual(['dash-drop', 'dash-error']);

  await page.goto('/ui/');
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/ui/log'),
    page.locator('#chart-reasons').getByRole('link', { name: 'Open the failed dispatches of this period' }).click(),
  ]);
  expect(await page.locator('tbody tr').count()).toBe(3); // alert and the two errors: the failed ones

  await page.goto('/ui/');
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/ui/orders/dash-held'),
    page.locator('#chart-held').getByRole('link', { name: 'dash-held' }).click(),
  ]);
  expect(await page.locator('#order-state').textContent()).toBe('On hold');
});

test('a period: the form and the quick choices; a bad day or a backwards or too long period is refused naming the field', async () => {
  await page.goto('/ui/');
  await page.getByRole('link', { name: 'Last 7 days' }).click();
  await page.waitForURL('**/ui/?days=7');
  expect(await page.getByRole('link', { name: 'Last 7 days' }).getAttribute('aria-current')).toBe('true');
  expect(await page.locator('#chart-by-result tbody tr').count()).toBe(7);

  // A period long before anything was sent: zeros, no warning.
  await page.getByLabel('From', { exact: true }).fill('2020-01-01');
  await page.getByLabel('To', { exact: true }).fill('2020-01-31');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL('**/ui/?from=2020-01-01&to=2020-01-31');
  expect(await page.locator('#delivery-tiles').textContent()).toContain('Dispatches0');
  expect(await page.locator('#hard-bounce-warning').count()).toBe(0);
  expect(await page.locator('#chart-by-result tbody tr').count()).toBe(31);
  await expectAccessible(page, 'dashboard, an empty period');

  for (const [query, message] of [
    ['from=2026-02-31&to=2026-03-01', 'From: "2026-02-31" is not a real date'],
    ['from=2026-03-10&to=2026-03-01', 'From: the start comes after the end'],
    ['from=2024-01-01&to=2026-01-01', 'From: a period is at most 366 days'],
  ]) {
    const res = await page.goto(`/ui/?${query}`);
    expect(res!.status()).toBe(400);
    expect(await page.locator('main').textContent()).toContain(message);
  }
});

test("downloads from the pages: the log as CSV with its filters, a dispatch's proof of sending", async () => {
  await page.goto('/ui/log?show=all&result=error');
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download as CSV' }).click(),
  ]);
  expect(csv.suggestedFilename()).toMatch(/^relais-dispatches-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = readFileSync((await csv.path())!, 'utf8')
    .trim()
    .split(/\r?\n/);
  expect(lines).toHaveLength(3); // the header and the two errors
  expect(
    lines
      .slice(1)
      .map((l) => l.split(',')[1])
      .sort(),
  ).toEqual(['dash-drop', 'dash-error']);

  await page.goto('/ui/dispatches/dash-alert');
  const [pdf] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#proof').getByRole('link', { name: 'PDF' }).click(),
  ]);
  expect(pdf.suggestedFilename()).toMatch(/^proof-of-sending-\d+\.pdf$/);
  expect(
    readFileSync((await pdf.path())!)
      .subarray(0, 5)
      .toString(),
  ).toBe('%PDF-');
  const [json] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#proof').getByRole('link', { name: 'JSON' }).click(),
  ]);
  expect(JSON.parse(readFileSync((await json.path())!, 'utf8'))).toMatchObject({
    dispatch: { dispatchId: 'dash-alert', result: 'alert' },
  });
});

test('in French when the tenant chooses it; a key without the log or the orders opens no dashboard', async () => {
  expect((await stack.request('PUT', '/v1/settings', { locale: 'fr' })).status).toBe(200);
  await page.goto('/ui/');
  expect(await page.locator('h1').textContent()).toBe('Tableau de bord');
  expect(await page.locator('#hard-bounce-warning').textContent()).toMatch(
    /font 40\s%.*au-delà des 5\s% que les prestataires/,
  );
  expect(await page.locator('#chart-reasons li').first().textContent()).toContain('Adresse inexistante');
  await screenshots(page, 'dashboard-fr');
  expect((await stack.request('PUT', '/v1/settings', { locale: 'en' })).status).toBe(200);

  const writer = await openSignedIn(browser, stack.apiUrl, await stack.keyWithRoles(['dispatch:write']), '/ui/log');
  const res = await writer.page.goto('/ui/');
  expect(res!.status()).toBe(403);
  expect((await writer.page.goto('/ui/log.csv'))!.status()).toBe(403);
  await writer.context.close();
});

test('after an upgrade: what was recorded before the dashboard existed is counted by a recount, and a second recount adds nothing', async () => {
  /** A day's counters without the fold that last changed it, nor counters that came back to zero (a recount never sets those). */
  const nonZero = (value: unknown): unknown =>
    value && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([k]) => k !== 'applied')
            .map(([k, v]) => [k, nonZero(v)])
            .filter(([, v]) => v !== 0 && !(v && typeof v === 'object' && !Object.keys(v).length)),
        )
      : value;
  const counted = async () => nonZero((await readDays(stack.db, stack.tenantId, [today()])).get(today()) ?? {});
  const before = await counted();
  // As before the upgrade: no day counted, nothing tallied.
  const rollupsOf = (name: string) => stack.db.connection.db!.collection(name);
  await rollupsOf('dispatch_daily').deleteMany({ tenantId: stack.tenantId });
  await rollupsOf('rollup_tallies').deleteMany({ tenantId: stack.tenantId });
  const rollups = { client: stack.client, taskQueue: stack.taskQueue };
  expect(await recountRollups(stack.db, rollups, stack.tenantId)).toEqual({ dispatches: 4, orders: 3 });
  await stack.waitFor('the day counted again', async () => isDeepStrictEqual(await counted(), before), 60_000);
  // Each thing counted again is tallied under the new fold's number: wait for all seven (four dispatches, three orders).
  const seqs = async () =>
    (await rollupsOf('rollup_tallies').find({ tenantId: stack.tenantId }).toArray()).map((t) => t.seq as number);
  const first = Math.max(...(await seqs()));
  await recountRollups(stack.db, rollups, stack.tenantId);
  await stack.waitFor(
    'the second recount folded',
    async () => {
      const now = await seqs();
      return now.length === 7 && Math.min(...now) > first;
    },
    60_000,
  );
  expect(await counted()).toEqual(before);
  expect(await readOpenExceptions(stack.db, stack.tenantId)).toEqual({ [today()]: { on_hold: 1, unfulfillable: 1 } });
}, 120_000);
