/// <reference lib="dom" />
// Issue 20 in a real Chromium against the real stack: the receipt acknowledgement page (/a/:token)
// opened from the link of the received email, in French and in English, filled and sent with
// JavaScript turned off (the page has none); then the dispatch page shows who confirmed, when, the
// delivery date and the note. WCAG checks (axe) and screenshots at both widths (test/artifacts/ui/).
import type { Browser, BrowserContext } from 'playwright-core';
import { launchBrowser, openSignedIn, screenshots } from '../support/browser';
import { purchaseOrder, startStack, type Stack } from '../support/stack';
import { addDays, dayOf } from '../../src/domain/days';

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
}, 120_000);
afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await stack?.close();
});

const WORDS = {
  fr: {
    title: 'Accusé de réception',
    button: "J'ai bien reçu la commande PO-ui-ack-fr",
    name: 'Votre nom (facultatif)',
    date: 'Date de livraison prévue (facultatif)',
    note: 'Un mot pour l’expéditeur (facultatif)',
    done: 'Merci ! Votre accusé de réception est enregistré',
    already: 'La réception de ce document a déjà été confirmée le',
  },
  en: {
    title: 'Confirm receipt',
    button: 'Confirm receipt of purchase order PO-ui-ack-en',
    name: 'Your name (optional)',
    date: 'Expected delivery date (optional)',
    note: 'A note for the sender (optional)',
    done: 'Thank you! Your confirmation of receipt is recorded',
    already: 'Receipt of this document was already confirmed on',
  },
};

describe.each(['fr', 'en'] as const)('issue 20: the receipt acknowledgement page in %s', (locale) => {
  const w = WORDS[locale];
  const id = `ui-ack-${locale}`;
  const address = `orders-${locale}@supplier.test`;

  test('opened from the email and sent without JavaScript; accessible at both widths; the dispatch page shows it', async () => {
    expect(
      (await stack.request('POST', '/v1/dispatches', purchaseOrder(id, [address], { acknowledge: true, locale })))
        .status,
    ).toBe(202);
    const email = await stack.waitFor('the email', async () => stack.sandbox.messages({ to: address })[0], 60_000);
    const link = /(http:\/\/\S+\/a\/[A-Za-z0-9_.-]+)/.exec(email.text!)![1];

    // The form as a person sees it (axe runs in a context of its own: the page itself runs no script).
    const looking = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(looking);
    const seen = await looking.newPage();
    await seen.goto(link);
    expect(await seen.locator('h1').textContent()).toBe(w.title);
    expect(await seen.locator('main').textContent()).toContain(address);
    await screenshots(seen, `acknowledge-form-${locale}`);

    // Filled and sent with JavaScript turned off.
    const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    contexts.push(noScript);
    const page = await noScript.newPage();
    page.on('dialog', (d) => {
      throw new Error(`unexpected dialog: ${d.message()}`);
    });
    await page.goto(link);
    const day = addDays(dayOf(new Date(), 'Europe/Paris'), 2);
    await page.getByLabel(w.name).fill('Sophie Fournier');
    await page.getByLabel(w.date).fill(day);
    await page.getByLabel(w.note).fill('Livraison par la porte de service.');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: w.button }).click()]);
    await page.waitForFunction((text) => document.body.textContent!.includes(text), w.done).catch(() => undefined);
    expect(await page.locator('main').textContent()).toContain(w.done);

    const recorded = (await get(id)).recipients[0].acknowledged;
    expect(recorded).toMatchObject({ by: address, name: 'Sophie Fournier', deliveryDate: day });

    // The link again: already confirmed, and when.
    await seen.goto(link);
    expect(await seen.locator('main').textContent()).toContain(w.already);
    await screenshots(seen, `acknowledge-already-${locale}`);

    // The operator's dispatch page: who, when, the delivery date and the note.
    const { context, page: operator } = await openSignedIn(browser, stack.apiUrl, stack.key, `/ui/dispatches/${id}`);
    contexts.push(context);
    const shown = await operator.locator('#acknowledged-r1').textContent();
    expect(shown).toContain('Sophie Fournier');
    expect(shown).toContain(address);
    expect(shown).toContain('Livraison par la porte de service.');
    expect(await operator.locator('#acknowledgement').textContent()).toContain('1');
    await screenshots(operator, `acknowledge-dispatch-page-${locale}`);
  }, 120_000);
});
