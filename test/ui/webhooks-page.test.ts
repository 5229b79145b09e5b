/// <reference lib="dom" />
// /ui/webhooks in a real Chromium against the real stack (outbound webhooks, docs/webhooks.md): an
// admin adds an endpoint and copies its secret (shown once), reads a failed attempt, replays the
// delivery, rotates the secret, disables and deletes the endpoint; WCAG checks and screenshots at
// both widths; forms need their CSRF token; other roles and other tenants reach nothing.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { expectAccessible, launchBrowser, openSignedIn, screenshots } from '../support/browser';
import { startStack, type Stack } from '../support/stack';
import { publishHeld } from '../support/tenant-events';
import { signInOverHttp } from '../support/ui-session';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let stack: Stack;
let browser: Browser;
let receiver: WebhookReceiver;
let context: BrowserContext;
let page: Page;
beforeAll(async () => {
  [stack, browser, receiver] = await Promise.all([startStack(), launchBrowser(), startWebhookReceiver()]);
  ({ context, page } = await openSignedIn(browser, stack.apiUrl, stack.key));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await receiver?.close();
  await stack?.close();
});

/** The "Add an endpoint" form, opened (it is folded once endpoints exist). */
async function addForm() {
  const details = page.locator('details:has(#new-url)');
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
  return page.locator('form[action="/ui/webhooks"]');
}

test('an admin adds an endpoint, copies the secret shown once, reads a failed attempt, replays it, rotates, disables and deletes', async () => {
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.waitForURL('**/ui/webhooks');
  expect(await page.locator('main .empty').first().textContent()).toContain('No endpoint yet');
  await expectAccessible(page, 'webhooks (empty)');

  const add = await addForm();
  await add.getByLabel('URL').fill(receiver.url('/ui-hook'));
  await add.getByLabel('Description (optional)').fill('Our ERP');
  await add.getByRole('checkbox', { name: 'order.held' }).check();
  await add.getByRole('button', { name: 'Add an endpoint' }).click();
  const secret = (await page.locator('[data-secret]').textContent())!;
  expect(secret).toMatch(/^whsec_/);
  const endpointId = (await page.locator('[data-endpoint]').getAttribute('data-endpoint'))!;
  expect((await stack.request('GET', `/v1/webhook-endpoints/${endpointId}`)).body).toMatchObject({
    url: receiver.url('/ui-hook'),
    events: ['order.held'],
    description: 'Our ERP',
  });
  // Shown once: the same page opened again has no secret.
  await page.goto('/ui/webhooks');
  expect(await page.locator('[data-secret]').count()).toBe(0);
  expect(await page.content()).not.toContain(secret.slice(6));

  // The receiver is down: the first attempt fails and shows in the list and on the delivery's page.
  receiver.script('/ui-hook', [503, 503, 503]);
  const {
    deliveries: [deliveryId],
  } = await publishHeld(stack, 'o-ui');
  await stack.waitFor(
    'the failed attempt',
    async () => (await stack.request('GET', `/v1/webhook-deliveries/${deliveryId}`)).body.status === 'retrying',
  );
  await page.goto('/ui/webhooks');
  const row = page.locator(`tr[data-delivery="${deliveryId}"]`);
  expect(await row.textContent()).toMatch(/order\.held[\s\S]*Retrying[\s\S]*1 \(503\)/);
  await screenshots(page, 'webhooks');
  await row.getByRole('link').click();
  await page.waitForURL(`**/ui/webhooks/deliveries/${deliveryId}`);
  expect(await page.locator('#attempts tbody tr').first().textContent()).toContain('503');
  expect(await page.locator('pre.payload').textContent()).toContain('"orderId": "o-ui"');
  await screenshots(page, 'webhook-delivery-failed');

  // Back up: "Send it again" is a new delivery with the same webhook-id, signed with the secret copied above.
  receiver.script('/ui-hook', []);
  const before = receiver.received('/ui-hook').length;
  await page.getByRole('button', { name: 'Send it again' }).click();
  await page.waitForURL(
    (url) => url.pathname.startsWith('/ui/webhooks/deliveries/') && !url.pathname.endsWith(deliveryId),
  );
  expect(await page.locator('.notice').textContent()).toContain('Sent again');
  const replayed = await stack.waitFor('the replay received', async () => receiver.received('/ui-hook')[before]);
  expect(new Webhook(secret).verify(replayed.body, replayed.headers as Record<string, string>)).toMatchObject({
    data: { orderId: 'o-ui' },
  });
  expect(replayed.headers['webhook-id']).toBe(receiver.received('/ui-hook')[0].headers['webhook-id']);
  await page.reload();
  await page.locator('#delivery-status', { hasText: 'Delivered' }).waitFor();
  expect(await page.getByRole('link', { name: deliveryId }).count()).toBe(1); // "Replay of" links to the original

  // Rotate with no overlap (a leaked secret): a new one is shown once and only it signs.
  await page.goto('/ui/webhooks');
  const card = page.locator(`[data-endpoint="${endpointId}"]`);
  await card.locator('summary', { hasText: 'Rotate the secret' }).click();
  await page.getByLabel('Keep signing with the previous secret for').selectOption('PT0S');
  await page.getByRole('button', { name: 'Rotate the secret' }).click();
  const rotated = (await page.locator('[data-secret]').textContent())!;
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(secret);

  // Disable, then delete.
  await card.locator('summary', { hasText: /^Change$/ }).click();
  await page.getByRole('checkbox', { name: 'Enabled (send events to it)' }).uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL('**/ui/webhooks?done=webhookSaved');
  expect(await page.locator(`[data-endpoint="${endpointId}"] h3`).textContent()).toContain('Disabled');
  expect((await stack.request('GET', `/v1/webhook-endpoints/${endpointId}`)).body).toMatchObject({
    enabled: false,
    disabledReason: 'operator',
  });
  await page.getByRole('button', { name: `Delete ${receiver.url('/ui-hook')}` }).click();
  await page.waitForURL('**/ui/webhooks?done=webhookDeleted');
  expect(await page.locator('[data-endpoint]').count()).toBe(0);
  expect((await stack.request('GET', `/v1/webhook-endpoints/${endpointId}`)).status).toBe(404);
});

test('a URL Relais does not send to is refused on the page, naming it; nothing is created', async () => {
  const before = (await stack.request('GET', '/v1/webhook-endpoints')).body.endpoints;
  await page.goto('/ui/webhooks');
  const add = await addForm();
  await add.getByLabel('URL').fill('http://169.254.169.254/latest/meta-data');
  await add.getByRole('checkbox', { name: 'order.held' }).check();
  await add.getByRole('button', { name: 'Add an endpoint' }).click();
  expect(await page.locator('.problem').textContent()).toMatch(/url 169\.254\.169\.254 is in a link-local/);
  expect((await stack.request('GET', '/v1/webhook-endpoints')).body.endpoints).toEqual(before);
});

test('forms need their CSRF token; other roles and other tenants reach none of it', async () => {
  const endpoint = (
    await stack.request('POST', '/v1/webhook-endpoints', { url: receiver.url('/guarded'), events: ['order.held'] })
  ).body;
  const endpoints = async () =>
    (await stack.request('GET', '/v1/webhook-endpoints')).body.endpoints.map((e: { id: string; url: string }) => e.url);
  const existing = await endpoints();
  const admin = await signInOverHttp(stack.apiUrl, stack.key);
  const post = (session: { cookie: string }, path: string, form: Record<string, string>) =>
    fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
  expect((await post(admin, '/ui/webhooks', { url: receiver.url('/csrf'), events: 'order.held' })).status).toBe(403);
  expect((await post(admin, `/ui/webhooks/${endpoint.id}/delete`, {})).status).toBe(403);
  expect(await endpoints()).toEqual(existing);

  const reader = await signInOverHttp(stack.apiUrl, await stack.keyWithRoles(['log:read']));
  const readerPage = await fetch(`${stack.apiUrl}/ui/webhooks`, { headers: { cookie: reader.cookie } });
  expect(readerPage.status).toBe(403);
  expect(
    (await post(reader, `/ui/webhooks/${endpoint.id}/rotate`, { _csrf: reader.csrf, previousSecretFor: 'PT0S' }))
      .status,
  ).toBe(403);
  const log = await (await fetch(`${stack.apiUrl}/ui/log`, { headers: { cookie: reader.cookie } })).text();
  expect(log).not.toContain('href="/ui/webhooks"');

  const {
    deliveries: [deliveryId],
  } = await publishHeld(stack, 'o-guarded');
  const other = await signInOverHttp(stack.apiUrl, stack.other.key);
  expect(
    (await fetch(`${stack.apiUrl}/ui/webhooks/deliveries/${deliveryId}`, { headers: { cookie: other.cookie } })).status,
  ).toBe(404);
  expect((await post(other, `/ui/webhooks/deliveries/${deliveryId}/replay`, { _csrf: other.csrf })).status).toBe(404);
  expect((await post(other, `/ui/webhooks/${endpoint.id}/delete`, { _csrf: other.csrf })).status).toBe(404);
  expect(
    await (await fetch(`${stack.apiUrl}/ui/webhooks`, { headers: { cookie: other.cookie } })).text(),
  ).not.toContain(receiver.url('/guarded'));
});
