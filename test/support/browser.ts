/// <reference lib="dom" />
// The operator pages in a real Chromium (Debian's, driven by playwright-core): a browser that
// signs in as a person would, WCAG checks by axe-core, labelled fields, and full-page screenshots
// at a desktop and a phone width under test/artifacts/ui/ (git-ignored).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const ARTIFACTS = join(__dirname, '..', 'artifacts', 'ui');

export function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A fresh browser (no cookies) opens `path` (by default /ui/, the dashboard, or the first page the key
 * may open), is sent to sign-in, and signs in with a key (and a person's name, when given); it is
 * then wherever sign-in sent it.
 */
export async function openSignedIn(
  browser: Browser,
  baseURL: string,
  key: string,
  path = '/ui/',
  person?: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('dialog', (d) => {
    throw new Error(`unexpected dialog: ${d.message()}`);
  });
  await page.goto(path);
  expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
  await page.getByLabel(/API key|Clé d'API/).fill(key);
  if (person) await page.getByLabel(/Your name|Votre nom/).fill(person);
  await Promise.all([
    page.waitForURL((url) => url.pathname !== '/ui/sign-in'),
    page.getByRole('button', { name: /^(Sign in|Se connecter)$/ }).click(),
  ]);
  return { context, page };
}

/** Every field a person can fill has a name a screen reader announces (a label or aria-label). */
export async function expectLabelled(page: Page) {
  const unlabelled = await page
    .locator('main input:not([type=hidden]), main select')
    .evaluateAll((fields) =>
      fields
        .filter(
          (f) =>
            !f.getAttribute('aria-label') &&
            !(f.id && document.querySelector(`label[for="${f.id}"]`)) &&
            !f.closest('label'),
        )
        .map((f) => f.outerHTML),
    );
  expect(unlabelled).toEqual([]);
}

/**
 * WCAG 2 A and AA by axe-core (contrast, labels, landmarks, names, keyboard traps…), at the
 * width given. Injected through the DevTools protocol, so the page's CSP stays as served.
 */
export async function expectAccessible(page: Page, where: string) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      iframes: false,
    });
    return result.violations.map(
      (v: any) => `${v.id}: ${v.help} — ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`,
    );
  });
  expect({ where, violations }).toEqual({ where, violations: [] });
}

/** Full-page screenshots at a desktop and a phone width (and the fields' labels and WCAG checked at both). */
export async function screenshots(page: Page, name: string) {
  await expectLabelled(page);
  for (const [width, height, label] of [
    [1280, 900, 'desktop'],
    [390, 844, 'phone'],
  ] as const) {
    await page.setViewportSize({ width, height });
    // Two frames, so that the sandboxed copy (its own process) is painted too.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${label}.png`), fullPage: true });
    await expectAccessible(page, `${name} (${label})`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}
