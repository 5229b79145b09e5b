// Rules D4, L3: provider reasons in plain words.
import { nextStep, plainReason, readersReason, reasonCode, REASON_CODES } from '../../src/domain/reasons';

test.each([
  [
    { type: 'bounce', response: '550 5.1.1 user unknown', classification: 'Invalid Address', bounceType: 'bounce' },
    'invalid_address',
  ],
  [
    { type: 'bounce', reason: '554 5.7.1 blocked as spam', bounceType: 'blocked', classification: 'Reputation' },
    'blocked_as_spam',
  ],
  [{ type: 'bounce', reason: 'Host not found: acme.invalid', classification: 'Invalid Address' }, 'domain_not_found'],
  [{ type: 'bounce', reason: '552 5.2.2 mailbox full', classification: 'Mailbox Unavailable' }, 'mailbox_full'],
  [{ type: 'bounce', reason: 'something', classification: 'Technical Failure' }, 'technical_failure'],
  [{ type: 'bounce', reason: 'something', classification: 'Content' }, 'content_rejected'],
  [{ type: 'dropped', reason: 'Bounced Address' }, 'suppressed'],
  [{ type: 'dropped', reason: 'Unsubscribed Address' }, 'unsubscribed'],
  [{ type: 'undelivered', errorCode: '30003' }, 'unreachable_phone'],
  [{ type: 'failed', errorCode: '30005' }, 'unknown_phone'],
  [{ type: 'failed', errorCode: '63016' }, 'whatsapp_window'],
  [{ type: 'bounce', reason: 'weird' }, 'unclassified'],
] as const)('%j → %s', (event, code) => {
  expect(reasonCode(event as never)).toBe(code);
});

test('every reason reads in both languages with a next step', () => {
  expect(plainReason('invalid_address', 'fr')).toMatch(/adresse/);
  expect(plainReason('invalid_address', 'en')).toMatch(/address/);
  expect(nextStep('blocked_as_spam', 'fr')).toMatch(/autoriser/);
});

test.each(REASON_CODES.flatMap((code) => (['fr', 'en'] as const).map((locale) => [code, locale] as const)))(
  '%s reads in %s, with a next step, without a full stop of its own (templates add it)',
  (code, locale) => {
    for (const words of [plainReason(code, locale), nextStep(code, locale)]) {
      expect(words.length).toBeGreaterThan(10);
      expect(words).not.toMatch(/[.?!;:,]\s*$/);
    }
  },
);

// The log and its export name a reason in the reader's language; the words stored beside the code
// are in the dispatch's (rule L3).
test.each([
  [
    { reasonCode: 'invalid_address', plainReason: "l'adresse n'existe pas" },
    'en',
    "the address does not exist at the recipient's mail server",
  ],
  [
    { reasonCode: 'invalid_address', plainReason: 'the address does not exist' },
    'fr',
    "l'adresse n'existe pas sur le serveur de messagerie du destinataire",
  ],
  [{ reasonCode: null, plainReason: 'stored words' }, 'en', 'stored words'],
  [{ reasonCode: 'a_code_of_a_later_version', plainReason: 'stored words' }, 'fr', 'stored words'],
  [{ reasonCode: null, plainReason: null }, 'en', null],
] as const)('readersReason(%p, %p) → %p', (recipient, locale, words) => {
  expect(readersReason(recipient, locale)).toBe(words);
});
