/// <reference lib="dom" />
// Every recipient status and every dispatch result as the operator pages show them (rules L1, L2,
// D2, D9, D10), in English and French, in the words of the source documents' delivery log
// (Sage: Bounced/Rebondi, Deferred/Différé, Dropped, Opened/Ouvert; Failed/Raté, Queued,
// Processed, Delivered/Livré, Alert/Alerte, Error/Erreur): the log's Status and Result columns and
// a dispatch's page, rendered in Chromium from dispatches that really reached each value through
// the sandbox (SendGrid) or an SMTP server. The settings page names its policies without rule ids.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  DISPATCH_RESULTS,
  SHOWN_STATUSES,
  type DispatchResult,
  type ShownStatus,
} from '../../src/domain/dispatch-status';
import { purchaseOrder, startStack, type Stack } from '../support/stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The words expected, written out here rather than read from src/ui/words.ts. */
const LABELS = {
  en: {
    status: 'Status',
    result: 'Result',
    failover: 'Sent through the other provider',
    statuses: {
      bounced: 'Bounced',
      dropped: 'Dropped',
      not_sent: 'Not sent',
      unknown: 'Unknown',
      deferred: 'Deferred',
      queued: 'Queued',
      processed: 'Processed',
      sent: 'Sent',
      delivered: 'Delivered',
      opened: 'Opened',
    },
    results: {
      failed: 'Failed',
      queued: 'Queued',
      processed: 'Processed',
      unknown: 'Unknown',
      delivered: 'Delivered',
      alert: 'Alert',
      error: 'Error',
      sent: 'Sent',
    },
  },
  fr: {
    status: 'Statut',
    result: 'Résultat',
    failover: "Envoyé par l'autre fournisseur",
    statuses: {
      bounced: 'Rebondi',
      dropped: 'Abandonné',
      not_sent: 'Non envoyé',
      unknown: 'Inconnu',
      deferred: 'Différé',
      queued: 'En file',
      processed: 'Traité',
      sent: 'Envoyé',
      delivered: 'Livré',
      opened: 'Ouvert',
    },
    results: {
      failed: 'Raté',
      queued: 'En file',
      processed: 'Traité',
      unknown: 'Inconnu',
      delivered: 'Livré',
      alert: 'Alerte',
      error: 'Erreur',
      sent: 'Envoyé',
    },
  },
} satisfies Record<
  'en' | 'fr',
  {
    status: string;
    result: string;
    failover: string;
    statuses: Record<ShownStatus, string>;
    results: Record<DispatchResult, string>;
  }
>;

/** The reason of a hard bounce to an address that does not exist, as the operator reads it. */
const INVALID_ADDRESS = {
  en: "the address does not exist at the recipient's mail server",
  fr: "l'adresse n'existe pas sur le serveur de messagerie du destinataire",
};

/** The type of the cases' documents (purchase_order), as the dispatch page names it. */
const PURCHASE_ORDER = { en: 'Purchase order', fr: 'Bon de commande' };

interface Case {
  id: string;
  to: string[];
  /** What each recipient shows once settled (opened: delivered, and opened). */
  shown: ShownStatus[];
  result: DispatchResult;
  provider?: 'smtp';
  /** The provider refuses the request itself (a 400 from the sandbox). */
  refused?: boolean;
  /** The dispatch's own language, when not the tenant's (English). */
  locale?: 'fr';
}

// In this order. The refused request comes first, while nothing else (a notice) can take the
// sandbox's one armed failure. `lbl-unknown` runs under a 2-second unknownAfter, the rest under
// the default 30 minutes: what waits for a provider's word stays queued, processed or deferred.
const UNKNOWN: Case = { id: 'lbl-unknown', to: ['quiet+silent@acme.test'], shown: ['unknown'], result: 'unknown' };
const CASES: Case[] = [
  { id: 'lbl-failed', to: ['refused@acme.test'], shown: ['not_sent'], result: 'failed', refused: true },
  UNKNOWN,
  { id: 'lbl-queued', to: ['nobody+noevent@acme.test'], shown: ['queued'], result: 'queued' },
  { id: 'lbl-processed', to: ['hush+silent@acme.test'], shown: ['processed'], result: 'processed' },
  { id: 'lbl-deferred', to: ['slow+defer@acme.test'], shown: ['deferred'], result: 'processed' },
  { id: 'lbl-delivered', to: ['fine@acme.test'], shown: ['delivered'], result: 'delivered' },
  { id: 'lbl-opened', to: ['reader+open@acme.test'], shown: ['opened'], result: 'delivered' },
  { id: 'lbl-alert', to: ['ok@acme.test', 'typo+bounce@acme.test'], shown: ['delivered', 'bounced'], result: 'alert' },
  {
    id: 'lbl-error',
    to: ['gone+bounce@acme.test', 'gone+drop@acme.test'],
    shown: ['bounced', 'dropped'],
    result: 'error',
    // Written in French: the log names its failures in the reader's language all the same.
    locale: 'fr',
  },
  { id: 'lbl-sent', to: ['books@acme.test'], shown: ['sent'], result: 'sent', provider: 'smtp' },
  // Issue 20: the SMTP server answers 451 to this recipient; the send goes through SendGrid instead.
  {
    id: 'lbl-failover',
    to: ['books+relaybusy@acme.test'],
    shown: ['delivered'],
    result: 'delivered',
    provider: 'smtp',
  },
];

let stack: Stack;
let smtp: SMTPServer;
let browser: Browser;
let page: Page;

const dispatchOf = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;
const shownOf = (r: { status: string; opened?: boolean }) =>
  r.status === 'delivered' && r.opened ? 'opened' : r.status;

async function send(c: Case) {
  if (c.refused) {
    await fetch(`${stack.sandbox.url}/sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'sendgrid', status: 400, count: 1 }),
    });
  }
  expect(
    (
      await stack.request(
        'POST',
        '/v1/dispatches',
        purchaseOrder(c.id, c.to, {
          ...(c.provider ? { provider: c.provider } : {}),
          ...(c.locale ? { locale: c.locale } : {}),
        }),
      )
    ).status,
  ).toBe(202);
  await stack.waitFor(`${c.id}: ${c.result}, ${c.shown.join(', ')}`, async () => {
    const d = await dispatchOf(c.id);
    return d?.result === c.result && JSON.stringify(d.recipients.map(shownOf)) === JSON.stringify(c.shown);
  });
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (!address.address.includes('+relaybusy')) return cb();
      cb(Object.assign(new Error('4.3.2 relay busy, try again later'), { responseCode: 451 }));
    },
    onData(stream, _session, cb) {
      stream.resume();
      stream.on('end', () => cb(null, 'Message queued as LBL1'));
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  [stack, browser] = await Promise.all([
    startStack({
      policies: { unknownAfter: 'PT2S' },
      smtp: { host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port },
    }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    }),
  ]);
  for (const c of CASES) {
    await send(c);
    if (c === UNKNOWN)
      expect((await stack.request('PUT', '/v1/settings', { policies: { unknownAfter: 'PT30M' } })).status).toBe(200);
  }

  const context = await browser.newContext({ baseURL: stack.apiUrl, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  await page.goto('/ui/sign-in');
  await page.getByLabel('API key').fill(stack.key);
  await Promise.all([page.waitForURL('**/ui/'), page.getByRole('button', { name: 'Sign in' }).click()]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
});

test('the cases reach every recipient status (and opened) and every dispatch result', () => {
  expect([...new Set(CASES.flatMap((c) => c.shown))].sort()).toEqual([...SHOWN_STATUSES].sort());
  expect([...new Set(CASES.map((c) => c.result))].sort()).toEqual([...DISPATCH_RESULTS].sort());
});

describe.each(['en', 'fr'] as const)('in %s', (locale) => {
  const words = LABELS[locale];
  beforeAll(async () => {
    expect((await stack.request('PUT', '/v1/settings', { locale })).status).toBe(200);
  });

  test('L1: the log has a Status column before the Result, with each status and result in its words', async () => {
    await page.goto('/ui/log?show=all');
    const headers = await page.locator('table.log thead th').allTextContents();
    expect(headers.indexOf(words.status)).toBeGreaterThan(-1);
    expect(headers.indexOf(words.status) + 1).toBe(headers.indexOf(words.result));
    for (const c of CASES) {
      const row = page.locator(`tr[data-dispatch="${c.id}"]`);
      const shown = await row
        .locator('[data-shown-status]')
        .evaluateAll((spans) => spans.map((s) => [s.getAttribute('data-shown-status'), s.textContent]));
      // Most telling first; how many of each when there are several recipients.
      const expected = [...new Set(c.shown)]
        .sort((a, b) => SHOWN_STATUSES.indexOf(a) - SHOWN_STATUSES.indexOf(b))
        .map((s) => [
          s,
          c.to.length > 1 ? `${words.statuses[s]} (${c.shown.filter((x) => x === s).length})` : words.statuses[s],
        ]);
      expect({ id: c.id, shown }).toEqual({ id: c.id, shown: expected });
      expect({ id: c.id, result: await row.locator('.result').textContent() }).toEqual({
        id: c.id,
        result: words.results[c.result],
      });
    }
  });

  test("L3: the log names a failed recipient's reason in the reader's language, not the dispatch's", async () => {
    await page.goto('/ui/log?show=all');
    const reasons = (await page.locator('tr[data-dispatch="lbl-error"]').textContent()) ?? '';
    expect(reasons).toContain(`gone+bounce@acme.test: ${INVALID_ADDRESS[locale]}`);
  });

  test("L2: a dispatch's page names its document's type in words, not as the API's code", async () => {
    await page.goto('/ui/dispatches/lbl-delivered');
    const row = page.locator('xpath=//dt[normalize-space()="Document"]/following-sibling::dd[1]');
    expect(await row.textContent()).toBe(`${PURCHASE_ORDER[locale]} PO-lbl-delivered`);
  });

  test("issue 20: a dispatch's page shows a failover in the recipient's history, in its words, with which provider and why", async () => {
    await page.goto('/ui/dispatches/lbl-failover');
    const entry = page.locator('[data-recipient="r1"] .timeline li[data-event="failover"]');
    expect(await entry.count()).toBe(1);
    const text = (await entry.textContent()) ?? '';
    expect(text).toContain(words.failover);
    expect(text).toMatch(/SMTP did not take it \(.*451.*\); sent through SendGrid instead/);
  });

  test("L2: a dispatch's page shows its result, its statuses, and each recipient's status; Opened on the one that opened", async () => {
    for (const c of CASES) {
      await page.goto(`/ui/dispatches/${c.id}`);
      expect({ id: c.id, result: await page.locator('#dispatch-result').textContent() }).toEqual({
        id: c.id,
        result: words.results[c.result],
      });
      const facts = await page
        .locator('#dispatch-statuses [data-shown-status]')
        .evaluateAll((spans) => spans.map((s) => s.getAttribute('data-shown-status')));
      expect(facts.sort()).toEqual([...new Set(c.shown)].sort());
      for (const [i, shown] of c.shown.entries()) {
        const recipient = page.locator(`[data-recipient="r${i + 1}"]`);
        const status = shown === 'opened' ? 'delivered' : shown;
        expect({ id: c.id, i, status: await recipient.locator('[data-status]').textContent() }).toEqual({
          id: c.id,
          i,
          status: words.statuses[status],
        });
        expect({ id: c.id, i, opened: await recipient.locator('[data-opened]').allTextContents() }).toEqual({
          id: c.id,
          i,
          opened: shown === 'opened' ? [words.statuses.opened] : [],
        });
      }
      if (c.id === 'lbl-opened') {
        // The open is in the history too, under its own word.
        expect(await page.locator('[data-recipient="r1"] .timeline').textContent()).toContain(words.statuses.opened);
      }
    }
  });

  test('settings: the policies are named by what they decide, never by a rule id', async () => {
    await page.goto('/ui/settings');
    const labels = await page.locator('main label').allTextContents();
    expect(labels.length).toBeGreaterThan(10);
    expect(labels.filter((l) => /\b[DOLN]\d{1,2}\b/.test(l))).toEqual([]);
    for (const field of [
      'unknownAfter',
      'listenFor',
      'stuckAfter',
      'confirmationLinkTtl',
      'readyToShipWithin',
      'failoverAfter',
    ]) {
      expect(await page.locator(`label[for="p-${field}"]`).count()).toBe(1);
    }
  });
});
