// Issue 20, item 2: what each provider outcome says about an address, and what its facts add up to.
import {
  addressOutcomeOf,
  badFor,
  channelsWithoutSms,
  classifyEmailEvent,
  classifyPhoneOutcome,
  foldHealth,
  normalizeAddress,
  optKeyword,
  SOFT_FAILURE_LIMIT,
  type Fact,
  type FactKind,
} from '../../src/domain/address-health';

test.each<[string, Parameters<typeof classifyEmailEvent>[0], FactKind | undefined]>([
  [
    'a hard bounce (type bounce, Invalid Address)',
    { type: 'bounce', bounceType: 'bounce', classification: 'Invalid Address', reason: '550 5.1.1 user unknown' },
    'invalid_address',
  ],
  [
    'a block for reputation (type blocked): not the address',
    { type: 'bounce', bounceType: 'blocked', classification: 'Reputation' },
    'blocked',
  ],
  ['a block for content', { type: 'bounce', bounceType: 'blocked', classification: 'Content' }, 'blocked'],
  [
    'a bounce classified Frequency or Volume Too High',
    { type: 'bounce', bounceType: 'bounce', classification: 'Frequency or Volume Too High' },
    'blocked',
  ],
  [
    'a mailbox full (Mailbox Unavailable): soft',
    { type: 'bounce', bounceType: 'bounce', classification: 'Mailbox Unavailable' },
    'soft_failure',
  ],
  [
    'a technical failure: soft',
    { type: 'bounce', bounceType: 'bounce', classification: 'Technical Failure' },
    'soft_failure',
  ],
  [
    'an unclassified bounce with a 5.1.1 status',
    { type: 'bounce', bounceType: 'bounce', reason: '550 5.1.1 no such user' },
    'invalid_address',
  ],
  [
    'an unclassified bounce with another status',
    { type: 'bounce', bounceType: 'bounce', reason: '552 5.2.2 over quota' },
    'soft_failure',
  ],
  ['a deferral', { type: 'deferred', response: '451 4.2.0 try later' }, 'soft_failure'],
  ['a drop: Bounced Address', { type: 'dropped', reason: 'Bounced Address' }, 'invalid_address'],
  ['a drop: Invalid', { type: 'dropped', reason: 'Invalid' }, 'invalid_address'],
  ['a drop: Unsubscribed Address', { type: 'dropped', reason: 'Unsubscribed Address' }, 'opted_out'],
  ['a drop: Spam Reporting Address', { type: 'dropped', reason: 'Spam Reporting Address' }, 'opted_out'],
  [
    "a drop: Invalid SMTPAPI header (ours, not the address's)",
    { type: 'dropped', reason: 'Invalid SMTPAPI header' },
    undefined,
  ],
  ['a delivery', { type: 'delivered' }, 'success'],
  ['processed says nothing', { type: 'processed' }, undefined],
])('email: %s', (_case, event, kind) => {
  expect(classifyEmailEvent(event)).toBe(kind);
});

test.each<[string, string, string | null, FactKind | undefined]>([
  ['30005 unknown handset', 'failed', '30005', 'unknown_number'],
  ['30006 landline', 'undelivered', '30006', 'landline'],
  ['21610 unsubscribed (at the API)', 'failed', '21610', 'opted_out'],
  ['21211 invalid number (at the API)', 'failed', '21211', 'unknown_number'],
  ['63016 outside the WhatsApp window', 'failed', '63016', 'outside_window'],
  ['30003 unreachable: soft', 'undelivered', '30003', 'soft_failure'],
  ['delivered', 'delivered', null, 'success'],
  ['read (WhatsApp)', 'read', null, 'success'],
  ['sent says nothing', 'sent', null, undefined],
  ['an unknown code says nothing', 'failed', '12345', undefined],
])('phone: %s', (_case, status, code, kind) => {
  expect(classifyPhoneOutcome(status, code)).toBe(kind);
});

const at = (minutes: number) => new Date(Date.UTC(2026, 11, 1, 9, minutes));
const fact = (kind: FactKind, minutes: number, more: Partial<Fact> = {}): Fact => ({
  kind,
  at: at(minutes),
  code: null,
  reason: null,
  dispatchId: `d${minutes}`,
  orderId: null,
  ...more,
});
const soft = (n: number, from = 0) => Array.from({ length: n }, (_, i) => fact('soft_failure', from + i));

test.each<[string, Fact[], string, string | null]>([
  ['no facts', [], 'ok', null],
  ['a success only', [fact('success', 1)], 'ok', null],
  ['a hard bounce', [fact('invalid_address', 3)], 'bad', at(3).toISOString()],
  ['a block only: recorded, not bad', [fact('blocked', 3)], 'ok', null],
  ['outside the WhatsApp window only: recorded, not bad', [fact('outside_window', 3)], 'ok', null],
  ['one soft failure', soft(1), 'soft', at(0).toISOString()],
  [`${SOFT_FAILURE_LIMIT - 1} soft failures`, soft(SOFT_FAILURE_LIMIT - 1), 'soft', at(0).toISOString()],
  [`${SOFT_FAILURE_LIMIT} soft failures in a row`, soft(SOFT_FAILURE_LIMIT), 'bad', at(0).toISOString()],
  ['soft failures, then a success: cleared', [...soft(SOFT_FAILURE_LIMIT), fact('success', 10)], 'ok', null],
  [
    'a success between soft failures resets the count',
    [...soft(2), fact('success', 5), ...soft(2, 6)],
    'soft',
    at(6).toISOString(),
  ],
  [
    'a hard bounce stays after a success (only soft records clear)',
    [fact('invalid_address', 1), fact('success', 2)],
    'bad',
    at(1).toISOString(),
  ],
  ['opted out (21610)', [fact('opted_out', 1)], 'opted_out', at(1).toISOString()],
  ['opted out, then START', [fact('opted_out', 1), fact('opted_in', 2)], 'ok', null],
  [
    'START before the opt-out it would lift changes nothing (order matters)',
    [fact('opted_in', 2), fact('opted_out', 3)],
    'opted_out',
    at(3).toISOString(),
  ],
  ['cleared by an operator', [fact('invalid_address', 1), fact('cleared', 2)], 'ok', null],
  [
    'bad again after a clearing',
    [fact('invalid_address', 1), fact('cleared', 2), fact('invalid_address', 3)],
    'bad',
    at(3).toISOString(),
  ],
])('fold: %s', (_case, facts, state, since) => {
  const health = foldHealth([...facts].reverse()); // stored order does not matter: facts are taken as they happened
  expect(health.state).toBe(state);
  expect(health.since?.toISOString() ?? null).toBe(since);
});

test('a record counts each condition, with first and last seen and where it was last seen', () => {
  const h = foldHealth([
    fact('invalid_address', 1, { code: 'Invalid Address' }),
    fact('invalid_address', 4, { code: 'Bounced Address', dispatchId: 'po-2', orderId: null }),
  ]);
  expect(h.conditions).toEqual([
    {
      condition: 'invalid_address',
      count: 2,
      firstSeen: at(1),
      lastSeen: at(4),
      code: 'Bounced Address',
      reason: null,
      dispatchId: 'po-2',
      orderId: null,
    },
  ]);
  expect(h.firstSeen).toEqual(at(1));
  expect(h.lastSeen).toEqual(at(4));
});

test.each<[string, FactKind, Array<'email' | 'sms' | 'whatsapp'>]>([
  ['an invalid address is bad for email', 'invalid_address', ['email']],
  ['an unknown number is bad for SMS and WhatsApp', 'unknown_number', ['sms', 'whatsapp']],
  ['a landline is bad for SMS only', 'landline', ['sms']],
  ['an opted-out number is bad for SMS (WhatsApp has its own consent)', 'opted_out', ['email', 'sms']],
  ['a block is bad for nothing', 'blocked', []],
  ['the WhatsApp window is bad for nothing', 'outside_window', []],
])('badFor: %s', (_case, kind, channels) => {
  const h = foldHealth([fact(kind, 1)]);
  expect((['email', 'sms', 'whatsapp'] as const).filter((c) => badFor(h, c).length > 0)).toEqual(channels);
});

test.each<
  [
    string,
    Array<'email' | 'sms' | 'whatsapp'>,
    { email: string | null; phone: string | null },
    boolean,
    Array<'email' | 'sms' | 'whatsapp'>,
  ]
>([
  ['SMS fine: unchanged', ['sms', 'email'], { email: 'c@x.test', phone: '+33600000005' }, false, ['sms', 'email']],
  [
    'opted out, email chosen too: email only',
    ['sms', 'email'],
    { email: 'c@x.test', phone: '+33600000005' },
    true,
    ['email'],
  ],
  [
    'opted out, SMS only chosen: falls to email',
    ['sms'],
    { email: 'c@x.test', phone: '+33600000005' },
    true,
    ['email'],
  ],
  [
    'opted out, SMS only, no email: falls to WhatsApp',
    ['sms'],
    { email: null, phone: '+33600000005' },
    true,
    ['whatsapp'],
  ],
  [
    'opted out, WhatsApp chosen too: WhatsApp',
    ['sms', 'whatsapp'],
    { email: null, phone: '+33600000005' },
    true,
    ['whatsapp'],
  ],
])('channelsWithoutSms: %s', (_case, chosen, person, held, expected) => {
  expect(channelsWithoutSms(chosen, person, held)).toEqual(expected);
});

test.each<[string | undefined, ReturnType<typeof optKeyword>]>([
  ['STOP', 'opt_out'],
  [' stop ', 'opt_out'],
  ['Unsubscribe', 'opt_out'],
  ['ARRET', 'opt_out'],
  ['START', 'opt_in'],
  ['unstop', 'opt_in'],
  ['YES', 'opt_in_and_answer'],
  ['stop sending me this', null],
  ['oui', null],
  [undefined, null],
])('optKeyword(%p) → %p', (body, expected) => {
  expect(optKeyword(body)).toBe(expected);
});

test.each([
  ['Bruno@Acme.TEST', { address: 'bruno@acme.test', kind: 'email' }],
  ['whatsapp:+33612340006', { address: '+33612340006', kind: 'phone' }],
  ['+33 6 12 34 00 05', { address: '+33612340005', kind: 'phone' }],
])('normalizeAddress(%p)', (input, expected) => {
  expect(normalizeAddress(input)).toEqual(expected);
});

// What a stored event says about its address, as its history entry keeps it for the projection to record.
test.each<[string, Parameters<typeof addressOutcomeOf>[0], ReturnType<typeof addressOutcomeOf>]>([
  [
    "a SendGrid hard bounce: the payload's email, lower-cased, and its classification",
    {
      source: 'sendgrid',
      event: 'bounce',
      reason: '550 5.1.1 user unknown',
      payload: { email: 'Anna@Supplier.TEST', type: 'bounce', bounce_classification: 'Invalid Address' },
    },
    { address: 'anna@supplier.test', kind: 'invalid_address', code: 'Invalid Address' },
  ],
  [
    'a SendGrid block: recorded as blocked, never bad',
    {
      source: 'sendgrid',
      event: 'bounce',
      payload: { email: 'b@x.test', type: 'blocked', bounce_classification: 'Content' },
    },
    { address: 'b@x.test', kind: 'blocked', code: 'Content' },
  ],
  [
    'a SendGrid drop names its reason as the code',
    { source: 'sendgrid', event: 'dropped', reason: 'Unsubscribed Address', payload: { email: 'c@x.test' } },
    { address: 'c@x.test', kind: 'opted_out', code: 'Unsubscribed Address' },
  ],
  [
    'a SendGrid delivery is a success',
    { source: 'sendgrid', event: 'delivered', payload: { email: 'd@x.test' } },
    { address: 'd@x.test', kind: 'success', code: null },
  ],
  [
    'a SendGrid processed says nothing',
    { source: 'sendgrid', event: 'processed', payload: { email: 'e@x.test' } },
    null,
  ],
  ['an event without its address says nothing', { source: 'sendgrid', event: 'bounce', payload: {} }, null],
  [
    'a Twilio 30006 on WhatsApp: the number without its prefix',
    { source: 'twilio', event: 'undelivered', errorCode: '30006', payload: { To: 'whatsapp:+33612340004' } },
    { address: '+33612340004', kind: 'landline', code: '30006' },
  ],
  [
    'a Twilio delivery is a success',
    { source: 'twilio', event: 'delivered', payload: { To: '+33612340009' } },
    { address: '+33612340009', kind: 'success', code: null },
  ],
  ["Relais's own entries say nothing", { source: 'relais', event: 'not_sent', payload: undefined }, null],
])('addressOutcomeOf: %s', (_, event, expected) => {
  expect(addressOutcomeOf(event)).toEqual(expected);
});
