// Secrets in notices (issue 14, finding 1): which values are withheld from the copy people read,
// and the sealed content that is really sent (src/domain/secrets.ts, src/sealed.ts). Rules O3, D8, D11.
import Handlebars from 'handlebars';
import { carriesSecrets, withheldCopy, withheldData, WITHHELD } from '../../src/domain/secrets';
import { seal, unseal } from '../../src/sealed';

const LINK = 'https://relais.example/c/eyJraW5kIjoiY29uZmlybSJ9.c2lnbmF0dXJlLW9mLXRoZS1saW5r';

test.each([
  ['address_confirmation', true],
  ['document_link', true],
  ['purchase_order', false],
  ['dispatch_escalation', false],
  ['delivery_failed_customer', false],
])('%s carries secrets: %s', (template, expected) => {
  expect(carriesSecrets(template)).toBe(expected);
});

test.each([
  [
    'address_confirmation',
    'en',
    { link: LINK, confirmationCode: '4821', orderId: 'o-1' },
    { link: WITHHELD.link.en, confirmationCode: WITHHELD.code.en, orderId: 'o-1' },
  ],
  [
    'address_confirmation',
    'fr',
    { link: LINK, confirmationCode: null, orderId: 'o-1' },
    { link: WITHHELD.link.fr, confirmationCode: null, orderId: 'o-1' },
  ],
  ['document_link', 'en', { link: LINK, documentLabel: 'PO-1' }, { link: WITHHELD.link.en, documentLabel: 'PO-1' }],
  ['purchase_order', 'en', { link: 'https://example.test/po.pdf' }, { link: 'https://example.test/po.pdf' }],
] as const)('withheldData(%s, %s)', (template, locale, data, expected) => {
  expect(withheldData(template, { ...data }, locale)).toEqual(expected);
});

test('a copy recorded before the rule: the link is withheld wherever it appears, as written and as HTML escapes it', () => {
  const odd = `${LINK}?a=1&b=2`;
  const copy = {
    subject: 'Confirm your address',
    text: `Open ${odd} now`,
    html: `<a href="${Handlebars.escapeExpression(odd)}">${odd}</a>`,
    templateData: { link: odd, orderId: 'o-1' },
    template: 'address_confirmation',
  };
  const withheld = withheldCopy('address_confirmation', copy, 'en');
  expect(JSON.stringify(withheld)).not.toContain(LINK);
  expect(withheld.text).toBe(`Open ${WITHHELD.link.en} now`);
  expect(withheld.html).toBe(`<a href="${WITHHELD.link.en}">${WITHHELD.link.en}</a>`);
  expect(withheld.templateData).toEqual({ link: WITHHELD.link.en, orderId: 'o-1' });
  // Already withheld: nothing changes.
  expect(withheldCopy('address_confirmation', withheld, 'en')).toEqual(withheld);
});

describe('sealed content', () => {
  const SECRET = 'k'.repeat(40);
  const content = { subject: 'Confirm', html: `<a href="${LINK}">x</a>`, text: LINK, templateData: { link: LINK } };

  test('opens with the secret and the record it was sealed for, and shows nothing of what it holds', () => {
    const sealed = seal(SECRET, 't1/d1', content);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('relais.example');
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain('relais.example');
    expect(unseal([SECRET], 't1/d1', sealed)).toEqual(content);
    // Two seals of the same content differ (a fresh nonce each time).
    expect(seal(SECRET, 't1/d1', content)).not.toBe(sealed);
  });

  test('during a LINK_SECRET rotation, content sealed with the previous secret still opens', () => {
    const sealed = seal(SECRET, 't1/d1', content);
    expect(unseal(['n'.repeat(40), SECRET], 't1/d1', sealed)).toEqual(content);
  });

  test.each([
    ['another secret', (s: string) => s, ['n'.repeat(40)], 't1/d1'],
    ['another record', (s: string) => s, [SECRET], 't1/d2'],
    ['another tenant', (s: string) => s, [SECRET], 't2/d1'],
    ['a changed byte', (s: string) => `${s.slice(0, 20)}${s[20] === 'A' ? 'B' : 'A'}${s.slice(21)}`, [SECRET], 't1/d1'],
    ['a truncated value', (s: string) => s.slice(0, -4), [SECRET], 't1/d1'],
    ['not a sealed value', () => 'plain text', [SECRET], 't1/d1'],
  ] as const)('refused: %s', (_case, change, secrets, boundTo) => {
    expect(() => unseal(secrets, boundTo, change(seal(SECRET, 't1/d1', content)))).toThrow();
  });
});
