// Rule N2 (and the wording of D3–D6, D8): every template × locale × part renders with full data,
// refuses a missing variable, escapes data in HTML only, and both locales are complete.
import Handlebars from 'handlebars';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TEMPLATE_DIR, TemplateError, Templates } from '../src/templates';
import { LOCALES, type Locale } from '../src/domain/locale';
import { nextStep, plainReason, type ReasonCode } from '../src/domain/reasons';
import { DATE_TEST_ZONE, expectDatesInWords } from './support/template-dates';

type Channel = 'email' | 'sms' | 'whatsapp';
type Data = Record<string, unknown>;

const templates = new Templates();
const XSS = '<script>alert(1)</script>';
const SENT_AT = '2026-03-01T09:30:00Z'; // 10:30 in Paris

const LABEL: Record<Locale, { po: string; invoice: string }> = {
  fr: { po: 'bon de commande PO-1042', invoice: 'facture F-2026-0042' },
  en: { po: 'purchase order PO-1042', invoice: 'invoice F-2026-0042' },
};

/** `failedBefore` (issue 20): the same address failed on earlier dispatches, from the address-health registry; null when it never did. */
const failure = (
  address: string,
  code: ReasonCode,
  raw: string,
  locale: Locale,
  failedBefore: { since: string; times: number } | null = null,
) => ({ address, reason: plainReason(code, locale), nextStep: nextStep(code, locale), raw, failedBefore });

const base = (locale: Locale): Data => ({ locale, timeZone: 'Europe/Paris', tenantName: 'Bistro Démo' });

const notice = (locale: Locale): Data => ({
  ...base(locale),
  personName: 'Bruno Martin',
  senderName: 'Bruno Martin',
  documentLabel: LABEL[locale].po,
  subject: 'Commande du 2 mars – Bistro Démo Paris 11',
  sentAt: SENT_AT,
  dispatchUrl: 'https://relais.example.com/ui/dispatches/po-1042',
});

const twoFailures = (locale: Locale) => [
  failure('commandes@fournisseur-exemple.fr', 'invalid_address', '550 5.1.1 user unknown', locale, {
    since: '2026-03-01T21:45:00Z',
    times: 2,
  }),
  failure('compta@fourniseur-exemple.fr', 'domain_not_found', '550 5.1.2 host not found', locale),
];

interface Case {
  type: string;
  channels: Channel[];
  data: (locale: Locale) => Data;
  /** Text every rendered part must show (data the reader needs). */
  keys: (data: Data) => string[];
  /** Top-level variables a channel cannot do without (locale is set by the renderer itself). */
  required?: Partial<Record<Channel, string[]>>;
  /** Passed by the workflow but not shown (these notices go to the sender, who reads "your …"). */
  unused?: string[];
}

const addresses = (list: unknown) => (list as Array<{ address: string }>).map((x) => x.address);

const CASES: Case[] = [
  {
    type: 'purchase_order',
    channels: ['email'],
    data: (locale) => ({
      ...base(locale),
      senderName: 'Bruno Martin',
      companyName: 'Bistro Démo SAS',
      document: { number: 'PO-1042', url: 'https://relais.example.com/d/abc123' },
      message: 'Livraison par l’entrée de service.\nMerci !',
      deliveryDate: '2026-03-05',
      // Issue 20: the receipt link (a placeholder in the stored copy; each recipient's own when sent).
      acknowledgeLink: 'https://relais.example.com/a/eyJrIjoiciJ9.sig',
    }),
    keys: (d) => [
      'https://relais.example.com/a/eyJrIjoiciJ9.sig',
      d.locale === 'fr' ? 'bien reçu la commande PO-1042' : 'Confirm receipt of purchase order PO-1042',
      'PO-1042',
      'Bruno Martin',
      'Bistro Démo SAS',
      'https://relais.example.com/d/abc123',
      'Merci !',
      d.locale === 'fr' ? '5 mars 2026' : '5 March 2026',
    ],
  },
  {
    type: 'invoice',
    channels: ['email'],
    data: (locale) => ({
      ...base(locale),
      senderName: 'Sophie Durand',
      companyName: 'Atelier Durand',
      customerName: 'Café des Arts',
      document: {
        number: 'F-2026-0042',
        url: 'https://relais.example.com/d/inv42',
        amount: '1 250,00 €',
        dueDate: '2026-03-31',
      },
      message: 'Paiement par virement, merci.',
      acknowledgeLink: 'https://relais.example.com/a/eyJrIjoiaSJ9.sig',
    }),
    keys: (d) => [
      'https://relais.example.com/a/eyJrIjoiaSJ9.sig',
      'F-2026-0042',
      '1 250,00 €',
      'Café des Arts',
      'Sophie Durand',
      'https://relais.example.com/d/inv42',
      d.locale === 'fr' ? '31 mars 2026' : '31 March 2026',
    ],
  },
  {
    type: 'dispatch_escalation',
    channels: ['email', 'sms', 'whatsapp'],
    data: (locale) => ({ ...notice(locale), failures: twoFailures(locale), moreFailures: 0 }),
    keys: (d) => [
      String(d.documentLabel),
      'https://relais.example.com/ui/dispatches/po-1042',
      '10:30',
      ...addresses(d.failures),
    ],
    required: {
      sms: [
        'tenantName',
        'timeZone',
        'senderName',
        'documentLabel',
        'sentAt',
        'failures',
        'moreFailures',
        'dispatchUrl',
      ],
      whatsapp: [
        'tenantName',
        'timeZone',
        'senderName',
        'documentLabel',
        'sentAt',
        'failures',
        'moreFailures',
        'dispatchUrl',
      ],
    },
  },
  {
    type: 'dispatch_partial_failure',
    channels: ['email'],
    unused: ['senderName'],
    data: (locale) => ({
      ...notice(locale),
      failures: twoFailures(locale).slice(0, 1),
      moreFailures: 0,
      delivered: [{ address: 'achats@fournisseur-exemple.fr' }],
      moreDelivered: 0,
    }),
    keys: (d) => [
      String(d.documentLabel),
      'https://relais.example.com/ui/dispatches/po-1042',
      ...addresses(d.failures),
      ...addresses(d.delivered),
    ],
  },
  {
    type: 'dispatch_unknown',
    channels: ['email'],
    unused: ['senderName'],
    data: (locale) => ({
      ...notice(locale),
      waited: locale === 'fr' ? '30 minutes' : '30 minutes',
      pending: [{ address: 'commandes@fournisseur-exemple.fr' }, { address: 'direction@fournisseur-exemple.fr' }],
      morePending: 0,
    }),
    keys: (d) => [
      String(d.documentLabel),
      '30 minutes',
      'https://relais.example.com/ui/dispatches/po-1042',
      ...addresses(d.pending),
    ],
  },
  {
    // D6 / D3 (issue 16 item 3): still deferred after the delay, with the provider's latest reply.
    type: 'dispatch_deferred',
    channels: ['email'],
    unused: ['senderName'],
    data: (locale) => ({
      ...notice(locale),
      waited: '30 minutes',
      tryingUntil: '2026-03-04T09:30:00Z',
      moreDeferred: 0,
      deferred: [
        failure(
          'commandes@fournisseur-exemple.fr',
          'temporarily_refused',
          '451 4.2.0 mailbox temporarily unavailable, try again later',
          locale,
        ),
      ],
    }),
    keys: (d) => [
      String(d.documentLabel),
      '30 minutes',
      '451 4.2.0 mailbox temporarily unavailable',
      d.locale === 'fr' ? '4 mars 2026 à 10:30' : '4 March 2026 at 10:30',
      'https://relais.example.com/ui/dispatches/po-1042',
      ...addresses(d.deferred),
    ],
  },
  {
    // D9 `failed` (issue 16 item 2): nothing was emailed; the sender and the purchasing manager, at once.
    type: 'dispatch_failed',
    channels: ['email', 'sms', 'whatsapp'],
    data: (locale) => ({
      ...notice(locale),
      recipients: [{ address: 'commandes@fournisseur-exemple.fr' }, { address: 'compta@fournisseur-exemple.fr' }],
      moreRecipients: 0,
      recipientCount: 2,
      reason: plainReason('request_refused', locale),
      nextStep: nextStep('request_refused', locale),
      raw: 'SendGrid refused the request: The content value must be a string at least one character in length. (content.0.value)',
    }),
    keys: (d) => [String(d.documentLabel), 'https://relais.example.com/ui/dispatches/po-1042', '10:30'],
    required: {
      sms: ['tenantName', 'timeZone', 'senderName', 'documentLabel', 'sentAt', 'dispatchUrl'],
      whatsapp: ['tenantName', 'timeZone', 'senderName', 'documentLabel', 'sentAt', 'reason', 'dispatchUrl'],
    },
  },
  {
    // Issue 20: recipients who have not acknowledged receipt in time (to the sender).
    type: 'dispatch_unacknowledged',
    channels: ['email'],
    unused: ['senderName'],
    data: (locale) => ({
      ...notice(locale),
      waited: locale === 'fr' ? '24 heures' : '24 hours',
      pending: [{ address: 'commandes@fournisseur-exemple.fr' }],
      morePending: 0,
    }),
    keys: (d) => [
      String(d.documentLabel),
      d.locale === 'fr' ? '24 heures' : '24 hours',
      'https://relais.example.com/ui/dispatches/po-1042',
      ...addresses(d.pending),
    ],
  },
  {
    // Issue 20: still not acknowledged after the second period: escalated as D4.
    type: 'dispatch_acknowledgement_escalation',
    channels: ['email', 'sms', 'whatsapp'],
    data: (locale) => ({
      ...notice(locale),
      waited: locale === 'fr' ? '24 heures' : '24 hours',
      pending: [{ address: 'commandes@fournisseur-exemple.fr' }, { address: 'compta@fournisseur-exemple.fr' }],
      morePending: 0,
    }),
    keys: (d) => [
      String(d.documentLabel),
      'https://relais.example.com/ui/dispatches/po-1042',
      '10:30',
      ...addresses(d.pending),
    ],
    required: {
      sms: [
        'tenantName',
        'timeZone',
        'senderName',
        'documentLabel',
        'sentAt',
        'pending',
        'morePending',
        'waited',
        'dispatchUrl',
      ],
      whatsapp: [
        'tenantName',
        'timeZone',
        'senderName',
        'documentLabel',
        'sentAt',
        'pending',
        'morePending',
        'waited',
        'dispatchUrl',
      ],
    },
  },
  {
    type: 'dispatch_delivered_update',
    channels: ['email'],
    unused: ['senderName'],
    data: (locale) => ({
      ...notice(locale),
      delivered: [{ address: 'commandes@fournisseur-exemple.fr' }],
      moreDelivered: 0,
    }),
    keys: (d) => [
      String(d.documentLabel),
      'https://relais.example.com/ui/dispatches/po-1042',
      ...addresses(d.delivered),
    ],
  },
  {
    type: 'document_link',
    channels: ['sms', 'whatsapp'],
    data: (locale) => ({
      ...base(locale),
      companyName: 'Bistro Démo',
      documentLabel: LABEL[locale].invoice,
      link: 'https://relais.example.com/d/eyJhbGciOi.sig',
      expiresAt: '2026-03-08T09:30:00Z',
    }),
    keys: (d) => ['Bistro Démo', String(d.documentLabel), 'https://relais.example.com/d/eyJhbGciOi.sig', '10:30'],
    required: {
      sms: ['companyName', 'documentLabel', 'link', 'expiresAt', 'timeZone'],
      whatsapp: ['companyName', 'documentLabel', 'link', 'expiresAt', 'timeZone'],
    },
  },
];

const byType = (type: string) => CASES.find((c) => c.type === type)!;

const PARTS: Record<Channel, string[]> = { email: ['subject', 'html', 'text'], sms: ['body'], whatsapp: ['body'] };

function render(channel: Channel, type: string, locale: Locale, data: Data): Record<string, string> {
  if (channel === 'email') return { ...templates.renderEmail(type, locale, data) };
  return { body: templates.renderMessage(channel, type, locale, data) };
}

function requiredKeys(c: Case, channel: Channel, data: Data): string[] {
  return c.required?.[channel] ?? Object.keys(data).filter((k) => k !== 'locale' && !(c.unused ?? []).includes(k));
}

function without(data: Data, key: string): Data {
  const copy = { ...data };
  delete copy[key];
  return copy;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

const rows = CASES.flatMap((c) => c.channels.flatMap((channel) => LOCALES.map((locale) => ({ c, channel, locale }))));
const partRows = rows.flatMap((r) => PARTS[r.channel].map((part) => ({ ...r, part })));

describe('N2: every template × locale × part renders with full data', () => {
  test.each(partRows.map((r) => [r.c.type, r.channel, r.locale, r.part, r] as const))(
    '%s %s %s %s',
    (_t, _ch, _l, _p, { c, channel, locale, part }) => {
      const data = c.data(locale);
      const out = render(channel, c.type, locale, data)[part];
      expect(out.trim().length).toBeGreaterThan(0);
      for (const bad of ['undefined', 'null', '[object Object]', 'NaN', '{{', '}}']) expect(out).not.toContain(bad);
      if (part === 'subject') {
        expect(out).not.toMatch(/\n/);
        return;
      }
      const escape = part === 'html' ? (s: string) => Handlebars.Utils.escapeExpression(s) : (s: string) => s;
      for (const key of c.keys(data)) expect(out).toContain(escape(key));
      // the buyer's free note keeps its line breaks
      if (part === 'html' && typeof data.message === 'string') expect(out).toContain('white-space:pre-line');
    },
  );

  test.each(rows.filter((r) => r.channel === 'email').map((r) => [r.c.type, r.locale, r] as const))(
    '%s %s: the subject names the document',
    (_t, _l, { c, locale }) => {
      const data = c.data(locale);
      const { subject } = templates.renderEmail(c.type, locale, data);
      const doc = data.document as { number: string } | undefined;
      expect(subject).toContain(doc ? doc.number : String(data.documentLabel));
    },
  );
});

describe('N2: nullable variables (null) and singular lists render cleanly', () => {
  const variants: Array<[string, string, (locale: Locale) => Data]> = [
    [
      'purchase_order',
      'no url, note or date',
      (l) => ({ ...CASES[0].data(l), document: { number: 'PO-1042', url: null }, message: null, deliveryDate: null }),
    ],
    [
      'invoice',
      'no url, note or due date',
      (l) => ({
        ...CASES[1].data(l),
        document: { number: 'F-2026-0042', url: null, amount: '80,00 €', dueDate: null },
        message: null,
      }),
    ],
    [
      'dispatch_escalation',
      'one failure, no raw reason, subject = label',
      (l) => ({ ...CASES[2].data(l), subject: LABEL[l].po, failures: [{ ...twoFailures(l)[0], raw: '' }] }),
    ],
    [
      'dispatch_partial_failure',
      'two failures, two delivered',
      (l) => ({
        ...CASES[3].data(l),
        failures: twoFailures(l),
        delivered: [{ address: 'a@x.fr' }, { address: 'b@x.fr' }],
      }),
    ],
    [
      'dispatch_unknown',
      'one pending, subject = label',
      (l) => ({ ...CASES[4].data(l), subject: LABEL[l].po, pending: [{ address: 'a@x.fr' }] }),
    ],
    [
      'dispatch_deferred',
      'two deferred, one without a reply, subject = label',
      (l) => ({
        ...byType('dispatch_deferred').data(l),
        subject: LABEL[l].po,
        deferred: [...(byType('dispatch_deferred').data(l).deferred as Data[]), { ...twoFailures(l)[0], raw: '' }],
      }),
    ],
    [
      'dispatch_failed',
      'one recipient, no answer kept, subject = label',
      (l) => ({
        ...byType('dispatch_failed').data(l),
        subject: LABEL[l].po,
        recipients: [{ address: 'a@x.fr' }],
        recipientCount: 1,
        raw: '',
      }),
    ],
  ];
  test.each(variants.flatMap(([type, what, data]) => LOCALES.map((l) => [type, what, l, data] as const)))(
    '%s (%s) %s',
    (type, _what, locale, data) => {
      const rendered = templates.renderEmail(type, locale, data(locale));
      for (const out of Object.values(rendered)) {
        for (const bad of ['undefined', 'null', '[object Object]', '()', '« »', '“”']) expect(out).not.toContain(bad);
      }
      // no note: no empty quote block
      if (type === 'purchase_order' || type === 'invoice') expect(rendered.html).not.toContain('blockquote');
    },
  );

  test('escalation wording follows the number of failures', () => {
    const one = templates.renderEmail('dispatch_escalation', 'fr', {
      ...CASES[2].data('fr'),
      failures: twoFailures('fr').slice(0, 1),
    });
    const two = templates.renderEmail('dispatch_escalation', 'fr', CASES[2].data('fr'));
    expect(one.text).toContain('Adresse en échec');
    expect(two.text).toContain('Adresses en échec');
    const enOne = templates.renderEmail('dispatch_partial_failure', 'en', CASES[3].data('en'));
    expect(enOne.subject).toBe('An address to correct for purchase order PO-1042');
  });

  test('a long list names the first recipients and says how many more (issue 15: up to 1000)', () => {
    const cases: Array<[string, string, Locale, Data, RegExp]> = [
      [
        'email',
        'dispatch_escalation',
        'en',
        { ...CASES[2].data('en'), moreFailures: 998 },
        /and 998 more \(every one on the dispatch page\)/,
      ],
      ['email', 'dispatch_escalation', 'fr', { ...CASES[2].data('fr'), moreFailures: 998 }, /et 998 de plus/],
      [
        'email',
        'dispatch_partial_failure',
        'en',
        { ...CASES[3].data('en'), failures: twoFailures('en'), moreFailures: 5, moreDelivered: 40 },
        /fournisseur-exemple\.fr(<\/strong>)? and 40 more[\s\S]*and 5 more/,
      ],
      ['email', 'dispatch_unknown', 'fr', { ...CASES[4].data('fr'), morePending: 80 }, /et 80 de plus/],
      [
        'email',
        'dispatch_deferred',
        'en',
        { ...byType('dispatch_deferred').data('en'), moreDeferred: 999 },
        /and 999 more \(every one on the dispatch page\)/,
      ],
      [
        'email',
        'dispatch_failed',
        'fr',
        { ...byType('dispatch_failed').data('fr'), moreRecipients: 998, recipientCount: 1000 },
        /compta@fournisseur-exemple\.fr et 998 de plus/,
      ],
      [
        'email',
        'dispatch_delivered_update',
        'en',
        { ...byType('dispatch_delivered_update').data('en'), moreDelivered: 199 },
        /fournisseur-exemple\.fr(<\/strong>)? and 199 more/,
      ],
      ['sms', 'dispatch_escalation', 'en', { ...CASES[2].data('en'), moreFailures: 997 }, /\(\+997\)/],
      ['whatsapp', 'dispatch_escalation', 'fr', { ...CASES[2].data('fr'), moreFailures: 997 }, /\(\+997\)/],
    ];
    for (const [channel, type, locale, data, expected] of cases) {
      const out =
        channel === 'email'
          ? templates.renderEmail(type, locale, data)
          : { text: templates.renderMessage(channel as 'sms' | 'whatsapp', type, locale, data), html: '' };
      expect([type, locale, out.text]).toEqual([type, locale, expect.stringMatching(expected)]);
      if (channel === 'email') expect(out.html).toMatch(expected);
    }
  });

  test('a subject equal to the document label is not repeated', () => {
    const out = templates.renderEmail('dispatch_delivered_update', 'en', {
      ...byType('dispatch_delivered_update').data('en'),
      subject: LABEL.en.po,
    });
    expect(out.text.split(LABEL.en.po)).toHaveLength(2);
  });
});

describe('N2: a missing variable is an error, never a silent blank', () => {
  const removals = rows.flatMap((r) => requiredKeys(r.c, r.channel, r.c.data(r.locale)).map((key) => ({ ...r, key })));
  test.each(removals.map((r) => [r.c.type, r.channel, r.locale, r.key, r] as const))(
    '%s %s %s without %s',
    (_t, _ch, _l, key, { c, channel, locale }) => {
      const err = catchError(() => render(channel, c.type, locale, without(c.data(locale), key)));
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).code).toBe('template_variable_missing');
      expect((err as TemplateError).field).toBe(`data.${key}`);
    },
  );

  test.each(LOCALES)('a missing field inside a list item or the document is an error too (%s)', (locale) => {
    const data = CASES[2].data(locale);
    const noReason = { ...data, failures: [{ address: 'a@x.fr', nextStep: 'x', raw: '' }] };
    expect(catchError(() => templates.renderEmail('dispatch_escalation', locale, noReason))).toMatchObject({
      code: 'template_variable_missing',
      field: 'data.reason',
    });
    const po = CASES[0].data(locale);
    expect(
      catchError(() => templates.renderEmail('purchase_order', locale, { ...po, document: { number: 'PO-1' } })),
    ).toMatchObject({ code: 'template_variable_missing', field: 'data.document.url' });
    expect(
      catchError(() => templates.renderEmail('purchase_order', locale, { ...po, document: { url: null } })),
    ).toMatchObject({ code: 'template_variable_missing' });
  });

  test('null is a valid "absent" value for nullable variables, undefined is not', () => {
    const po = CASES[0].data('en');
    expect(() => templates.renderEmail('purchase_order', 'en', { ...po, message: null })).not.toThrow();
    expect(
      catchError(() => templates.renderEmail('purchase_order', 'en', { ...po, message: undefined })),
    ).toMatchObject({ code: 'template_variable_missing', field: 'data.message' });
  });
});

describe('N2: data is HTML-escaped in email HTML, left as text elsewhere', () => {
  const emailRows = rows.filter((r) => r.channel === 'email');
  test.each(emailRows.map((r) => [r.c.type, r.locale, r] as const))('%s %s', (_t, _l, { c, locale }) => {
    const data = c.data(locale);
    const poisoned: Data = { ...data, senderName: XSS };
    for (const list of ['failures', 'delivered', 'pending', 'deferred', 'recipients']) {
      if (Array.isArray(data[list])) poisoned[list] = (data[list] as Data[]).map((x) => ({ ...x, address: XSS }));
    }
    const out = templates.renderEmail(c.type, locale, poisoned);
    expect(out.html).not.toContain('<script');
    expect(out.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out.text).toContain(XSS);
    expect(out.text).not.toContain('&lt;');
  });

  test('subjects and SMS are plain text: no entities', () => {
    const po = CASES[0].data('fr');
    const { subject } = templates.renderEmail('purchase_order', 'fr', { ...po, companyName: 'Dupont & Fils' });
    expect(subject).toBe('Bon de commande PO-1042 – Dupont & Fils');
    const sms = templates.renderMessage('sms', 'dispatch_escalation', 'en', {
      ...CASES[2].data('en'),
      senderName: "O'Brien & Co",
    });
    expect(sms).toContain("O'Brien & Co");
  });
});

describe('links in email HTML are http(s) only (issue 14, finding 10)', () => {
  const po = (url: unknown) => ({ ...CASES[0].data('en'), document: { number: 'PO-1042', url } });
  test.each([
    'javascript:alert(3)',
    ' JavaScript:alert(3)',
    'java\tscript:alert(3)',
    'JAVASCRIPT:alert(3)',
    'data:text/html;base64,PHNjcmlwdD4=',
    'vbscript:x',
    'file:///etc/passwd',
    '//evil.example/x',
    '/relative',
    'mailto:x@acme.test',
  ])('document.url %j is refused, naming the variable', (url) => {
    let error: unknown;
    try {
      templates.renderEmail('purchase_order', 'en', po(url));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ code: 'template_variable_invalid', field: 'data.document.url' });
  });

  test.each(['https://docs.example.test/po/1042.pdf', 'http://intranet.example.test/po?id=1&x=2'])(
    'document.url %j is kept (escaped)',
    (url) => {
      expect(templates.renderEmail('purchase_order', 'en', po(url)).html).toContain(
        `href="${Handlebars.escapeExpression(url)}"`,
      );
    },
  );

  test('a link variable left null renders no link; text parts are text and not checked', () => {
    expect(templates.renderEmail('purchase_order', 'en', po(null)).html).not.toContain('href=""');
    const sms = templates.renderMessage('sms', 'document_link', 'en', {
      ...base('en'),
      companyName: 'Bistro',
      documentLabel: 'PO-1',
      link: 'https://x.test/d/abc',
      expiresAt: SENT_AT,
    });
    expect(sms).toContain('https://x.test/d/abc');
  });

  test('every href and src of every email template goes through the check', () => {
    let checked = 0;
    for (const file of readdirSync(join(DEFAULT_TEMPLATE_DIR, 'email')).filter((f) => f.endsWith('.html.hbs'))) {
      const source = readFileSync(join(DEFAULT_TEMPLATE_DIR, 'email', file), 'utf8');
      for (const [, variable] of source.matchAll(/(?:href|src)="\{\{([^}#/]+)\}\}/g)) {
        const [type, locale] = file.split('.');
        if (type === '_layout') continue;
        const c = CASES.find((x) => x.type === type);
        if (!c) continue;
        const data = c.data(locale as Locale);
        const path = variable.trim().split('.');
        const poisoned = structuredClone(data) as Record<string, any>;
        let node = poisoned;
        for (const key of path.slice(0, -1)) node = node[key];
        if (node[path[path.length - 1]] === null) continue;
        node[path[path.length - 1]] = 'javascript:alert(1)';
        expect({
          file,
          variable,
          thrown: (() => {
            try {
              templates.renderEmail(type, locale as Locale, poisoned);
              return null;
            } catch (err) {
              return (err as TemplateError).code;
            }
          })(),
        }).toEqual({ file, variable, thrown: 'template_variable_invalid' });
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});

describe('template lookup', () => {
  test.each<[Channel, string]>([
    ['email', 'no_such_template'],
    ['sms', 'no_such_template'],
    ['whatsapp', 'purchase_order'],
    ['email', '../email/_layout'],
  ])('%s "%s" → template_not_found', (channel, type) => {
    const err = catchError(() => render(channel, type, 'fr', CASES[0].data('fr')));
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).code).toBe('template_not_found');
  });

  test.each<Channel>(['email', 'sms', 'whatsapp'])(
    '%s: both locales have the same templates, every part present',
    (channel) => {
      const fr = templates.types(channel, 'fr');
      expect(fr).toEqual(templates.types(channel, 'en'));
      // Order templates are covered by test/order-templates.test.ts.
      const ORDER_TYPES = [
        'address_confirmation',
        'delivery_delay',
        'delivery_failed_customer',
        'order_delayed',
        'order_exception',
        'order_exception_resolved',
        'order_alert_digest',
      ];
      expect(fr).toEqual(
        [...CASES.filter((c) => c.channels.includes(channel)).map((c) => c.type), ...ORDER_TYPES].sort(),
      );
      for (const locale of LOCALES) {
        for (const type of fr) {
          const files =
            channel === 'email'
              ? ['subject', 'html', 'text'].map((p) => `${type}.${locale}.${p}.hbs`)
              : [`${type}.${locale}.hbs`];
          for (const f of files) expect(existsSync(join(DEFAULT_TEMPLATE_DIR, channel, f))).toBe(true);
        }
      }
      expect(templates.types(channel, 'fr')).not.toContain('_layout');
    },
  );
});

describe('SMS / WhatsApp escalation stays short (D4)', () => {
  test.each(LOCALES.flatMap((l) => (['sms', 'whatsapp'] as const).map((ch) => [ch, l] as const)))(
    '%s %s with 2 failures ≤ 320 chars',
    (channel, locale) => {
      const body = templates.renderMessage(channel, 'dispatch_escalation', locale, CASES[2].data(locale));
      expect(body.length).toBeLessThanOrEqual(320);
      expect(body).toMatch(/URGENT/);
    },
  );
});

describe('SMS / WhatsApp "not emailed" alert stays short (D9 failed)', () => {
  test.each(
    LOCALES.flatMap((l) =>
      (['sms', 'whatsapp'] as const).flatMap((ch) =>
        (['request_refused', 'sending_gave_up'] as const).map((code) => [ch, l, code] as const),
      ),
    ),
  )('%s %s, %s, ≤ 320 chars', (channel, locale, code) => {
    const body = templates.renderMessage(channel, 'dispatch_failed', locale, {
      ...byType('dispatch_failed').data(locale),
      reason: plainReason(code, locale),
    });
    expect(body.length).toBeLessThanOrEqual(320);
    expect(body).toMatch(/URGENT/);
  });
});

describe('SMS wording stays in the GSM-7 alphabet (one segment is 160 characters, not 70)', () => {
  const GSM7 = new Set([
    ...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ]);
  const dir = join(DEFAULT_TEMPLATE_DIR, 'sms');
  test.each(readdirSync(dir).filter((f) => f.endsWith('.hbs')))('%s', (file) => {
    const wording = readFileSync(join(dir, file), 'utf8').replace(/\{\{[^}]*\}\}/g, '');
    expect([...wording].filter((ch) => !GSM7.has(ch))).toEqual([]);
  });
});

describe("N2: every date a template shows is in the tenant's zone and words", () => {
  test.each(rows.map((r) => [r.c.type, r.channel, r.locale, r] as const))(
    '%s %s %s',
    (_t, _ch, _l, { c, channel, locale }) => {
      const data = { ...c.data(locale), timeZone: DATE_TEST_ZONE };
      expectDatesInWords(templates, channel, c.type, locale, data, render(channel, c.type, locale, data));
    },
  );

  test('the templates that carry a date all show it', () => {
    const shown = (channel: Channel, type: string) => [...templates.datetimeVariables(channel, type, 'en')].sort();
    expect(shown('email', 'purchase_order')).toEqual(['deliveryDate']);
    expect(shown('email', 'invoice')).toEqual(['document.dueDate']);
    for (const type of ['dispatch_escalation', 'dispatch_partial_failure'])
      expect(shown('email', type)).toEqual(['failedBefore.since', 'sentAt']);
    for (const type of ['dispatch_unknown', 'dispatch_delivered_update', 'dispatch_failed'])
      expect(shown('email', type)).toEqual(['sentAt']);
    expect(shown('email', 'dispatch_deferred')).toEqual(['sentAt', 'tryingUntil']);
    expect(shown('sms', 'dispatch_escalation')).toEqual(['sentAt']);
    expect(shown('sms', 'dispatch_failed')).toEqual(['sentAt']);
    expect(shown('whatsapp', 'document_link')).toEqual(['expiresAt']);
  });
});

describe('datetime helper', () => {
  const sms = (timeZone: string, locale: Locale, expiresAt: string) =>
    templates.renderMessage('sms', 'document_link', locale, {
      ...byType('document_link').data(locale),
      timeZone,
      expiresAt,
    });

  test('shows the time in the tenant time zone', () => {
    expect(sms('Europe/Paris', 'fr', '2026-03-01T09:30:00Z')).toContain('1er mars 2026 à 10:30');
    expect(sms('Europe/Paris', 'fr', '2026-03-11T09:30:00Z')).toContain('11 mars 2026 à 10:30');
    expect(sms('Europe/Paris', 'en', '2026-03-01T09:30:00Z')).toContain('1 March 2026 at 10:30');
    expect(sms('America/New_York', 'en', '2026-03-01T09:30:00Z')).toContain('04:30');
    expect(sms('UTC', 'en', '2026-03-01T09:30:00Z')).toContain('09:30');
  });

  test('a calendar date is shown as that day, without a time, whatever the zone', () => {
    const po = { ...CASES[0].data('en'), timeZone: 'America/Los_Angeles', deliveryDate: '2026-03-05' };
    const { text } = templates.renderEmail('purchase_order', 'en', po);
    expect(text).toContain('for delivery on 5 March 2026.');
    const fr = templates.renderEmail('purchase_order', 'fr', {
      ...CASES[0].data('fr'),
      timeZone: 'Pacific/Honolulu',
      deliveryDate: '2026-04-01',
    });
    expect(fr.text).toContain('pour une livraison le 1er avril 2026.');
  });

  test('a missing time zone is an error, not UTC', () => {
    expect(
      catchError(() =>
        templates.renderMessage('sms', 'document_link', 'fr', without(byType('document_link').data('fr'), 'timeZone')),
      ),
    ).toMatchObject({ code: 'template_variable_missing', field: 'data.timeZone' });
  });

  test('a value that is not a date is an error', () => {
    expect(catchError(() => sms('Europe/Paris', 'fr', 'tomorrow'))).toMatchObject({
      code: 'template_variable_missing',
      field: 'data.expiresAt',
    });
  });
});

describe('HTML layout', () => {
  test.each(LOCALES)('%s: lang, tenant header, footer, inline CSS only, 600px', (locale) => {
    const { html } = templates.renderEmail('dispatch_escalation', locale, CASES[2].data(locale));
    expect(html).toMatch(new RegExp(`<html lang="${locale}"`));
    expect(html).toContain('Bistro Démo');
    expect(html).toContain(
      locale === 'fr' ? 'Envoyé par Relais pour le compte de Bistro Démo' : 'Sent by Relais on behalf of Bistro Démo',
    );
    expect(html).toContain('max-width:600px');
    expect(html).toContain('name="viewport"');
    expect(html).not.toMatch(/<style|<link|<script/);
    expect(html).toContain('role="presentation"');
  });

  test('the locale argument wins over a "locale" key in the data', () => {
    const { html } = templates.renderEmail('dispatch_unknown', 'fr', { ...CASES[4].data('fr'), locale: 'en' });
    expect(html).toContain('<html lang="fr"');
    expect(html).toContain('Envoyé par Relais');
  });
});
