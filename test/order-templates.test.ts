// Rules O1–O8 (order exceptions and customer notices) and N2 (templates): every order template ×
// locale × channel × part renders with full data, refuses a missing variable, escapes data in
// HTML only, and its SMS stays short (≤ 320 characters) and in the GSM-7 alphabet.
import Handlebars from 'handlebars';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TEMPLATE_DIR, TemplateError, Templates } from '../src/templates';
import { LOCALES, type Locale } from '../src/domain/locale';
import { CUSTOMER_NEXT_STEP, EXCEPTION_LABELS, REASON_WORDS } from '../src/domain/order-words';
import { DATE_TEST_ZONE, expectDatesInWords } from './support/template-dates';
import { digestMessage, type DigestAlert } from '../src/domain/alert-digest';

type Channel = 'email' | 'sms' | 'whatsapp';
type Data = Record<string, unknown>;

const templates = new Templates();
const XSS = '<script>alert(1)</script>';
const CHANNELS: Channel[] = ['email', 'sms', 'whatsapp'];
const PARTS: Record<Channel, string[]> = { email: ['subject', 'html', 'text'], sms: ['body'], whatsapp: ['body'] };

const ORDER = 'CMD-20418';
const ORDER_URL = 'https://relais.example.com/ui/orders/CMD-20418';
const LINK = 'https://relais.example.com/c/eyJvIjoiQ01ELTIwNDE4In0.Xk3v9sQ';
const CONTACT = 'https://maison-lumiere.example.com/contact';
const EXPIRES_AT = '2026-03-04T09:30:00Z'; // 10:30 in Paris
const LAST_TRACKING_AT = '2026-03-01T21:45:00Z'; // 22:45 in Paris

const base = (locale: Locale): Data => ({ locale, timeZone: 'Europe/Paris', tenantName: 'Maison Lumière' });

const DETAILS: Record<Locale, string> = { fr: 'SKU TSHIRT-M, emplacement A-12', en: 'SKU TSHIRT-M, location A-12' };
const RESOLUTION: Record<Locale, string> = {
  fr: 'le transporteur a de nouveau mis à jour le suivi',
  en: 'the carrier has updated the tracking again',
};
const ADDRESS = '12 rue des Lilas, Appartement 3, 75011 Paris, FR';

interface Case {
  type: string;
  audience: 'seller' | 'customer';
  data: (locale: Locale) => Data;
  /** Text every rendered part (except the subject) must show. */
  keys: (data: Data, channel: Channel) => string[];
  /** Variables each channel reads (locale is set by the renderer itself). */
  required: Record<Channel, string[]>;
}

const seller = (locale: Locale): Data => ({
  ...base(locale),
  personName: 'Claire Petit',
  orderId: ORDER,
  orderUrl: ORDER_URL,
});
const customer = (locale: Locale): Data => ({
  ...base(locale),
  customerName: 'Léa Moreau',
  orderId: ORDER,
  companyName: 'Maison Lumière',
});

const ORDERS_URL = 'https://relais.example.com/ui/orders';
const digestOf = (locale: Locale) => {
  const alert = (orderId: string, template: DigestAlert['template'] = 'order_exception'): DigestAlert => ({
    orderId,
    template,
    exceptionLabel: EXCEPTION_LABELS.unfulfillable[locale],
    reason: REASON_WORDS.not_found_at_location.reason[locale],
    action: REASON_WORDS.not_found_at_location.action[locale],
    details: DETAILS[locale],
    resolution: template === 'order_exception_resolved' ? RESOLUTION[locale] : '',
    orderUrl: ORDER_URL,
    lastTrackingAt: null,
    at: '2026-03-01T10:00:00Z',
  });
  const alerts = [alert(ORDER), alert('CMD-20419'), alert(ORDER, 'order_exception_resolved'), alert('CMD-20420')];
  return digestMessage({ alerts, more: 2 }, 'Claire Petit', ORDERS_URL);
};

const CASES: Case[] = [
  {
    type: 'order_exception',
    audience: 'seller',
    data: (locale) => ({
      ...seller(locale),
      exceptionLabel: EXCEPTION_LABELS.unfulfillable[locale],
      reason: REASON_WORDS.not_found_at_location.reason[locale],
      action: REASON_WORDS.not_found_at_location.action[locale],
      details: DETAILS[locale],
      lastTrackingAt: null,
    }),
    keys: (d) => [ORDER, String(d.exceptionLabel), String(d.reason), String(d.action), String(d.details), ORDER_URL],
    required: {
      email: [
        'tenantName',
        'personName',
        'orderId',
        'exceptionLabel',
        'reason',
        'action',
        'details',
        'lastTrackingAt',
        'orderUrl',
      ],
      sms: ['tenantName', 'orderId', 'exceptionLabel', 'reason', 'action', 'details', 'lastTrackingAt', 'orderUrl'],
      whatsapp: [
        'tenantName',
        'orderId',
        'exceptionLabel',
        'reason',
        'action',
        'details',
        'lastTrackingAt',
        'orderUrl',
      ],
    },
  },
  {
    type: 'order_exception_resolved',
    audience: 'seller',
    data: (locale) => ({
      ...seller(locale),
      exceptionLabel: EXCEPTION_LABELS.stuck_in_transit[locale],
      resolution: RESOLUTION[locale],
    }),
    keys: (d) => [ORDER, String(d.exceptionLabel), String(d.resolution), ORDER_URL],
    required: {
      email: ['tenantName', 'personName', 'orderId', 'exceptionLabel', 'resolution', 'orderUrl'],
      sms: ['tenantName', 'orderId', 'exceptionLabel', 'resolution', 'orderUrl'],
      whatsapp: ['tenantName', 'orderId', 'exceptionLabel', 'resolution', 'orderUrl'],
    },
  },
  {
    // Issue 20: a seller's digest of four alerts on three orders, two more counted, not listed.
    type: 'order_alert_digest',
    audience: 'seller',
    data: (locale) => ({ ...base(locale), ...digestOf(locale).data }),
    keys: (_d, channel) =>
      channel === 'email'
        ? [ORDER, 'CMD-20419', 'CMD-20420', DETAILS.en.slice(0, 3), ORDERS_URL, ORDER_URL]
        : [ORDER, 'CMD-20419', 'CMD-20420', ORDERS_URL],
    required: {
      email: ['tenantName', 'personName', 'count', 'shortList', 'shortMore', 'alerts', 'more', 'ordersUrl'],
      sms: ['tenantName', 'count', 'shortList', 'shortMore', 'ordersUrl'],
      whatsapp: ['tenantName', 'count', 'shortList', 'shortMore', 'ordersUrl'],
    },
  },
  {
    type: 'address_confirmation',
    audience: 'customer',
    data: (locale) => ({
      ...customer(locale),
      address: ADDRESS,
      link: LINK,
      expiresAt: EXPIRES_AT,
      confirmationCode: '4821',
    }),
    keys: (d) => [
      ORDER,
      'Maison Lumière',
      ADDRESS,
      LINK,
      d.locale === 'fr' ? '4 mars 2026 à 10:30' : '4 March 2026 at 10:30',
    ],
    required: {
      email: ['tenantName', 'timeZone', 'customerName', 'orderId', 'companyName', 'address', 'link', 'expiresAt'],
      sms: ['timeZone', 'companyName', 'orderId', 'address', 'link', 'expiresAt', 'confirmationCode'],
      whatsapp: [
        'timeZone',
        'customerName',
        'companyName',
        'orderId',
        'address',
        'link',
        'expiresAt',
        'confirmationCode',
      ],
    },
  },
  {
    type: 'delivery_delay',
    audience: 'customer',
    data: (locale) => customer(locale),
    keys: () => [ORDER, 'Maison Lumière'],
    required: {
      email: ['tenantName', 'customerName', 'orderId', 'companyName'],
      sms: ['companyName', 'orderId'],
      whatsapp: ['customerName', 'companyName', 'orderId'],
    },
  },
  {
    // Issue 18: a delay the seller tells the customer about, in transit with its cause (O5, O7).
    type: 'order_delayed',
    audience: 'customer',
    data: (locale) => ({ ...customer(locale), inTransit: true, cause: REASON_WORDS.strike.reason[locale] }),
    keys: (d) => [ORDER, 'Maison Lumière', String(d.cause)],
    required: {
      email: ['tenantName', 'customerName', 'orderId', 'companyName', 'inTransit', 'cause'],
      sms: ['companyName', 'orderId', 'inTransit', 'cause'],
      whatsapp: ['customerName', 'companyName', 'orderId', 'inTransit', 'cause'],
    },
  },
  {
    type: 'delivery_failed_customer',
    audience: 'customer',
    data: (locale) => ({
      ...customer(locale),
      reason: REASON_WORDS.customer_unavailable.reason[locale],
      nextStep: CUSTOMER_NEXT_STEP.customer_unavailable[locale],
      contactUrl: CONTACT,
    }),
    keys: (d) => [ORDER, 'Maison Lumière', String(d.reason), String(d.nextStep), CONTACT],
    required: {
      email: ['tenantName', 'customerName', 'orderId', 'companyName', 'reason', 'nextStep', 'contactUrl'],
      sms: ['companyName', 'orderId', 'reason', 'nextStep', 'contactUrl'],
      whatsapp: ['customerName', 'companyName', 'orderId', 'reason', 'nextStep', 'contactUrl'],
    },
  },
];
const byType = (type: string) => CASES.find((c) => c.type === type)!;

function render(channel: Channel, type: string, locale: Locale, data: Data): Record<string, string> {
  if (channel === 'email') return { ...templates.renderEmail(type, locale, data) };
  return { body: templates.renderMessage(channel, type, locale, data) };
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

const BAD = ['undefined', 'null', '[object Object]', 'NaN', '{{', '}}'];
/** Traces of an empty optional value: a label followed by nothing, an empty parenthesis. */
const HOLES = [/:\s*\./, /\(\s*\)/, /« »/, /“”/, /""/, /\.\s*\./];

const rows = CASES.flatMap((c) => CHANNELS.flatMap((channel) => LOCALES.map((locale) => ({ c, channel, locale }))));
const partRows = rows.flatMap((r) => PARTS[r.channel].map((part) => ({ ...r, part })));

describe('O1–O8 / N2: every order template × locale × part renders with full data', () => {
  test.each(partRows.map((r) => [r.c.type, r.channel, r.locale, r.part, r] as const))(
    '%s %s %s %s',
    (_t, _ch, _l, _p, { c, channel, locale, part }) => {
      const data = c.data(locale);
      const out = render(channel, c.type, locale, data)[part];
      expect(out.trim().length).toBeGreaterThan(0);
      for (const bad of BAD) expect(out).not.toContain(bad);
      expect(out).toContain(ORDER);
      if (part === 'subject') {
        expect(out).not.toMatch(/\n/);
        return;
      }
      const escape = part === 'html' ? (s: string) => Handlebars.Utils.escapeExpression(s) : (s: string) => s;
      for (const key of c.keys(data, channel)) expect(out).toContain(escape(key));
      // the reader is greeted by name in email
      if (channel === 'email') expect(out).toContain(String(data.personName ?? data.customerName));
    },
  );
});

describe('N2: a missing variable is an error, never a silent blank', () => {
  const removals = rows.flatMap((r) => r.c.required[r.channel].map((key) => ({ ...r, key })));
  test.each(removals.map((r) => [r.c.type, r.channel, r.locale, r.key, r] as const))(
    '%s %s %s without %s',
    (_t, _ch, _l, key, { c, channel, locale }) => {
      const err = catchError(() => render(channel, c.type, locale, without(c.data(locale), key)));
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).code).toBe('template_variable_missing');
      expect((err as TemplateError).field).toBe(`data.${key}`);
    },
  );

  test.each(rows.map((r) => [r.c.type, r.channel, r.locale, r] as const))(
    '%s %s %s: variables not listed as required can be left out',
    (_t, channel, locale, { c }) => {
      // the required lists above are the contract documented in docs/templates.md; keep them honest:
      // whatever is not listed can be left out without error.
      const data = c.data(locale);
      const optional = Object.keys(data).filter((k) => k !== 'locale' && !c.required[channel].includes(k));
      expect(() =>
        render(
          channel,
          c.type,
          locale,
          optional.reduce((d, k) => without(d, k), data),
        ),
      ).not.toThrow();
    },
  );
});

describe('nullable and empty values render cleanly', () => {
  // [type, what, data, a label that must then be gone]
  const variants: Array<[string, string, (locale: Locale) => Data, RegExp]> = [
    [
      'order_exception',
      'no details',
      (l) => ({ ...byType('order_exception').data(l), details: null }),
      /(Détails|Details)\s*:|SKU/,
    ],
    [
      'order_exception',
      'no details, empty action',
      (l) => ({ ...byType('order_exception').data(l), details: null, action: '' }),
      /(À faire|A faire|What to do|To do)\s*:/i,
    ],
    [
      'order_exception_resolved',
      'empty resolution',
      (l) => ({ ...byType('order_exception_resolved').data(l), resolution: '' }),
      /(Résolution|Resolution|How it was resolved)\s*:/,
    ],
    [
      'order_delayed',
      'no cause, before handover',
      (l) => ({ ...byType('order_delayed').data(l), cause: null, inTransit: false }),
      /(Raison|Reason)\s*:|\(\s*\)/,
    ],
    [
      'delivery_failed_customer',
      'no contact link',
      (l) => ({ ...byType('delivery_failed_customer').data(l), contactUrl: null }),
      /(Nous contacter|Contact us)/,
    ],
    [
      'delivery_failed_customer',
      'no contact link, empty next step',
      (l) => ({ ...byType('delivery_failed_customer').data(l), contactUrl: null, nextStep: '' }),
      /(La suite|What happens next)\s*:/,
    ],
  ];
  const variantRows = variants.flatMap(([type, what, data, gone]) =>
    CHANNELS.flatMap((ch) => LOCALES.map((l) => [type, what, ch, l, data, gone] as const)),
  );
  test.each(variantRows)('%s (%s) %s %s', (type, _what, channel, locale, data, gone) => {
    for (const out of Object.values(render(channel, type, locale, data(locale)))) {
      for (const bad of BAD) expect(out).not.toContain(bad);
      for (const hole of HOLES) expect(out).not.toMatch(hole);
      expect(out).toContain(ORDER);
      expect(out).not.toMatch(gone);
    }
  });

  test.each(LOCALES)('order_exception without details has no details line (%s)', (locale) => {
    const out = templates.renderEmail('order_exception', locale, {
      ...byType('order_exception').data(locale),
      details: null,
    });
    expect(out.text).not.toContain('SKU');
    expect(out.html).not.toContain('SKU');
  });

  test('null is a valid "absent" value for nullable variables, undefined is not', () => {
    const data = byType('delivery_failed_customer').data('fr');
    expect(
      catchError(() =>
        templates.renderMessage('sms', 'delivery_failed_customer', 'fr', { ...data, contactUrl: undefined }),
      ),
    ).toMatchObject({ code: 'template_variable_missing', field: 'data.contactUrl' });
    const exc = byType('order_exception').data('en');
    expect(
      catchError(() => templates.renderEmail('order_exception', 'en', { ...exc, details: undefined })),
    ).toMatchObject({ code: 'template_variable_missing', field: 'data.details' });
  });
});

describe('N2: names are HTML-escaped in email HTML, left as text elsewhere', () => {
  const emailRows = rows.filter((r) => r.channel === 'email');
  test.each(emailRows.map((r) => [r.c.type, r.locale, r] as const))('%s %s', (_t, _l, { c, locale }) => {
    const name = c.audience === 'seller' ? 'personName' : 'customerName';
    const out = templates.renderEmail(c.type, locale, { ...c.data(locale), [name]: XSS });
    expect(out.html).not.toContain('<script');
    expect(out.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out.text).toContain(XSS);
    expect(out.text).not.toContain('&lt;');
  });

  test.each(LOCALES)('other data is escaped too, and text stays plain (%s)', (locale) => {
    const exc = templates.renderEmail('order_exception', locale, {
      ...byType('order_exception').data(locale),
      details: `SKU ${XSS}`,
      reason: 'a & b',
    });
    expect(exc.html).not.toContain('<script');
    expect(exc.html).toContain('a &amp; b');
    expect(exc.text).toContain('a & b');
    const addr = templates.renderEmail('address_confirmation', locale, {
      ...byType('address_confirmation').data(locale),
      address: XSS,
      companyName: 'Dupont & Fils',
    });
    expect(addr.html).not.toContain('<script');
    expect(addr.html).toContain('Dupont &amp; Fils');
    const sms = templates.renderMessage('sms', 'address_confirmation', locale, {
      ...byType('address_confirmation').data(locale),
      companyName: 'Dupont & Fils',
    });
    expect(sms).toContain('Dupont & Fils');
  });
});

describe('O7: the stuck-in-transit alert', () => {
  const stuck = (locale: Locale): Data => ({
    ...byType('order_exception').data(locale),
    exceptionLabel: EXCEPTION_LABELS.stuck_in_transit[locale],
    reason: REASON_WORDS.no_tracking_update.reason[locale],
    action: REASON_WORDS.no_tracking_update.action[locale],
    details: null,
    lastTrackingAt: LAST_TRACKING_AT,
  });
  const WHEN: Record<Locale, string> = { fr: '1er mars 2026 à 22:45', en: '1 March 2026 at 22:45' };
  test.each(CHANNELS.flatMap((ch) => LOCALES.map((l) => [ch, l] as const)))(
    "%s %s: the last update in the tenant's zone and words; one full stop per sentence",
    (channel, locale) => {
      for (const [part, out] of Object.entries(render(channel, 'order_exception', locale, stuck(locale)))) {
        if (part !== 'subject') expect(out).toContain(WHEN[locale]);
        expect(out).not.toMatch(/\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}/);
        expect(out).not.toMatch(/[?!:;,]\s*\./);
      }
    },
  );
});

describe("N2: every date a template shows is in the tenant's zone and words", () => {
  // The seller alert as the stuck-in-transit rule sends it: the one order alert with a date.
  const withDates = (c: Case, locale: Locale): Data => ({
    ...c.data(locale),
    timeZone: DATE_TEST_ZONE,
    ...(c.type === 'order_exception' ? { lastTrackingAt: LAST_TRACKING_AT } : {}),
  });
  test.each(rows.map((r) => [r.c.type, r.channel, r.locale, r] as const))(
    '%s %s %s',
    (_t, _ch, _l, { c, channel, locale }) => {
      const data = withDates(c, locale);
      const shown = expectDatesInWords(templates, channel, c.type, locale, data, render(channel, c.type, locale, data));
      expect(shown).toEqual({ order_exception: ['lastTrackingAt'], address_confirmation: ['expiresAt'] }[c.type] ?? []);
    },
  );
});

describe('wording the templates finish with their own full stop', () => {
  const words = [
    ...Object.entries(REASON_WORDS).flatMap(([code, w]) =>
      LOCALES.flatMap((l) => [
        [`${code} reason ${l}`, w.reason[l]],
        [`${code} action ${l}`, w.action[l]],
      ]),
    ),
    ...Object.entries(CUSTOMER_NEXT_STEP).flatMap(([code, w]) => LOCALES.map((l) => [`${code} next step ${l}`, w[l]])),
  ];
  test.each(words)('%s ends without punctuation', (_what, text) => {
    expect(text).not.toMatch(/[.?!;:,]\s*$/);
  });
});

describe('SMS ≤ 320 characters with realistic data', () => {
  const longestLabel = (locale: Locale) =>
    Object.values(EXCEPTION_LABELS)
      .map((w) => w[locale])
      .sort((a, b) => b.length - a.length)[0];

  test.each(LOCALES.flatMap((l) => CASES.map((c) => [c.type, l, c] as const)))(
    '%s %s with the sample data',
    (_t, locale, c) => {
      expect(templates.renderMessage('sms', c.type, locale, c.data(locale)).length).toBeLessThanOrEqual(320);
    },
  );

  // Each reason with the exception it opens (src/domain/order.ts); only an allocation failure has details.
  const EXCEPTION_OF: Record<string, keyof typeof EXCEPTION_LABELS> = {
    out_of_stock: 'unfulfillable',
    not_found_at_location: 'unfulfillable',
    address_or_contact: 'on_hold',
    no_valid_contact: 'on_hold',
    suspicious_behaviour: 'on_hold',
    label_or_invoice_unavailable: 'rts_failed',
    pincode_unserviceable: 'rts_failed',
    dimension_mismatch: 'rts_failed',
    not_ready_in_time: 'rts_failed',
    customer_cancelled: 'handover_failed',
    pickup_refused: 'handover_failed',
    no_tracking_update: 'stuck_in_transit',
    not_scanned_since_handover: 'stuck_in_transit',
    misrouted: 'stuck_in_transit',
    natural_disaster: 'stuck_in_transit',
    strike: 'stuck_in_transit',
    operational: 'stuck_in_transit',
    untraceable: 'stuck_in_transit',
    lost_or_damaged: 'stuck_in_transit',
    customer_unavailable: 'delivery_failed',
    refused: 'delivery_failed',
    cancelled: 'delivery_failed',
    cod_not_ready: 'delivery_failed',
    address_incorrect: 'delivery_failed',
    unreachable: 'delivery_failed',
  };
  test('every seller reason is covered below', () =>
    expect(Object.keys(EXCEPTION_OF).sort()).toEqual(Object.keys(REASON_WORDS).sort()));

  test.each(LOCALES.flatMap((l) => Object.keys(REASON_WORDS).map((r) => [r, l] as const)))(
    'order_exception, reason %s, %s',
    (reason, locale) => {
      const type = EXCEPTION_OF[reason];
      const data = {
        ...byType('order_exception').data(locale),
        exceptionLabel: EXCEPTION_LABELS[type][locale],
        reason: REASON_WORDS[reason].reason[locale],
        action: REASON_WORDS[reason].action[locale],
        details: type === 'unfulfillable' ? DETAILS[locale] : null,
        lastTrackingAt: type === 'stuck_in_transit' ? LAST_TRACKING_AT : null,
      };
      const body = templates.renderMessage('sms', 'order_exception', locale, data);
      expect(body.length).toBeLessThanOrEqual(320);
      expect(body).toContain(ORDER_URL);
    },
  );

  test.each(LOCALES.flatMap((l) => Object.keys(CUSTOMER_NEXT_STEP).map((r) => [r, l] as const)))(
    'delivery_failed_customer, reason %s, %s, with contact link',
    (reason, locale) => {
      const data = {
        ...byType('delivery_failed_customer').data(locale),
        reason: REASON_WORDS[reason].reason[locale],
        nextStep: CUSTOMER_NEXT_STEP[reason][locale],
      };
      const body = templates.renderMessage('sms', 'delivery_failed_customer', locale, data);
      expect(body.length).toBeLessThanOrEqual(320);
      expect(body).toContain(CONTACT);
    },
  );

  test.each(
    LOCALES.flatMap((l) =>
      ['misrouted', 'natural_disaster', 'strike', 'operational', 'untraceable', 'lost_or_damaged'].map(
        (c) => [c, l] as const,
      ),
    ),
  )('order_delayed in transit, cause %s, %s', (cause, locale) => {
    const data = { ...byType('order_delayed').data(locale), cause: REASON_WORDS[cause].reason[locale] };
    expect(templates.renderMessage('sms', 'order_delayed', locale, data).length).toBeLessThanOrEqual(320);
  });

  test.each(LOCALES)('order_exception_resolved with the longest label (%s)', (locale) => {
    const data = {
      ...byType('order_exception_resolved').data(locale),
      exceptionLabel: longestLabel(locale),
      resolution: locale === 'fr' ? 'adresse corrigée par le client' : 'address corrected by the customer',
    };
    expect(templates.renderMessage('sms', 'order_exception_resolved', locale, data).length).toBeLessThanOrEqual(320);
  });
});

describe('SMS wording stays in the GSM-7 alphabet', () => {
  const GSM7 = new Set([
    ...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ]);
  test.each(LOCALES.flatMap((l) => CASES.map((c) => `${c.type}.${l}.hbs`)))('%s', (file) => {
    const wording = readFileSync(join(DEFAULT_TEMPLATE_DIR, 'sms', file), 'utf8').replace(/\{\{[^}]*\}\}/g, '');
    expect([...wording].filter((ch) => !GSM7.has(ch))).toEqual([]);
  });
});

describe('WhatsApp', () => {
  test.each([
    ['fr', '4821', 'Répondez OUI 4821 pour confirmer cette adresse telle quelle, ou ouvrez le lien pour la corriger.'],
    ['en', '4821', 'Reply YES 4821 to confirm this address as it is, or open the link to correct it.'],
    // A run started before reply codes (issue 14, finding 3) has none: the old invitation.
    ['fr', null, 'Répondez OUI pour confirmer cette adresse telle quelle, ou ouvrez le lien pour la corriger.'],
    ['en', null, 'Reply CONFIRM to confirm this address as it is, or open the link to correct it.'],
  ] as const)(
    'O3: address_confirmation (%s, code %s) ends by inviting a reply naming its code',
    (locale, code, ending) => {
      const body = templates.renderMessage('whatsapp', 'address_confirmation', locale, {
        ...byType('address_confirmation').data(locale),
        confirmationCode: code,
      });
      expect(body.endsWith(ending)).toBe(true);
    },
  );

  test.each(LOCALES.flatMap((l) => CASES.map((c) => `${c.type}.${l}.hbs`)))(
    '%s neither starts nor ends with a variable (template approval)',
    (file) => {
      const source = readFileSync(join(DEFAULT_TEMPLATE_DIR, 'whatsapp', file), 'utf8').trim();
      expect(source.startsWith('{{')).toBe(false);
      expect(source.endsWith('}}')).toBe(false);
    },
  );
});

describe('completeness', () => {
  test.each(CASES.map((c) => c.type))('%s exists in every channel, locale and part', (type) => {
    for (const channel of CHANNELS) {
      for (const locale of LOCALES) {
        const files =
          channel === 'email'
            ? ['subject', 'html', 'text'].map((p) => `${type}.${locale}.${p}.hbs`)
            : [`${type}.${locale}.hbs`];
        for (const f of files) expect(existsSync(join(DEFAULT_TEMPLATE_DIR, channel, f))).toBe(true);
        expect(templates.has(channel, type, locale)).toBe(true);
      }
    }
  });

  test.each(LOCALES)('email HTML uses the shared layout (%s)', (locale) => {
    for (const c of CASES) {
      const { html } = templates.renderEmail(c.type, locale, c.data(locale));
      expect(html).toContain(`<html lang="${locale}"`);
      expect(html).toContain(
        locale === 'fr'
          ? 'Envoyé par Relais pour le compte de Maison Lumière'
          : 'Sent by Relais on behalf of Maison Lumière',
      );
      expect(html).not.toMatch(/<style|<link|<script/);
    }
  });
});
