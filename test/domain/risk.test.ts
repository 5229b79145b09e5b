// Rule O2: risk from address completeness, contact validity and the customer's history.
import { assessRisk, holdReason, type RiskInput } from '../../src/domain/risk';
import { channelsFor, defaultPreferences, effectivePreferences } from '../../src/domain/preferences';

const good: RiskInput = {
  address: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
  phone: '+33612345670',
  email: 'chloe@example.test',
  history: { cancellations: 0, failedDeliveries: 0 },
};
const withAddress = (a: Partial<RiskInput['address']>) => ({ ...good, address: { ...good.address, ...a } });

describe("O2: risk from the address, the contact and the customer's history", () => {
  test.each<[string, RiskInput, string, string[], string | null]>([
    ['complete French address', good, 'low', [], null],
    ['Indian PIN code', withAddress({ country: 'IN', postalCode: '560001', city: 'Bengaluru' }), 'low', [], null],
    [
      'postal code of the wrong shape',
      withAddress({ postalCode: '7500' }),
      'high',
      ['postal_code_invalid'],
      'address_or_contact',
    ],
    ['no street number', withAddress({ line1: 'rue de la Paix' }), 'medium', ['street_number_missing'], null],
    [
      'no street number and bad postal code',
      withAddress({ line1: 'rue de la Paix', postalCode: '1' }),
      'high',
      ['postal_code_invalid', 'street_number_missing'],
      'address_or_contact',
    ],
    ['invalid phone', { ...good, phone: '+3312' }, 'medium', ['phone_invalid'], null],
    ['landline', { ...good, phone: '+33142000000' }, 'low', ['phone_not_mobile'], null],
    [
      'two cancellations',
      { ...good, history: { cancellations: 2, failedDeliveries: 0 } },
      'high',
      ['repeated_cancellations'],
      'suspicious_behaviour',
    ],
    [
      'one failed delivery',
      { ...good, history: { cancellations: 0, failedDeliveries: 1 } },
      'low',
      ['past_failed_deliveries'],
      null,
    ],
    [
      'three failed deliveries',
      { ...good, history: { cancellations: 0, failedDeliveries: 3 } },
      'high',
      ['past_failed_deliveries'],
      'suspicious_behaviour',
    ],
    // Issue 18 item 5: nobody can reach a customer whose phone and email are both invalid: held.
    [
      'invalid phone and invalid email',
      { ...good, phone: '+3312', email: 'chloe@' },
      'high',
      ['phone_invalid', 'email_invalid', 'no_valid_contact'],
      'address_or_contact',
    ],
    [
      'no phone, no email',
      { ...good, phone: null, email: null },
      'high',
      ['phone_invalid', 'no_valid_contact'],
      'address_or_contact',
    ],
    ['invalid phone, valid email', { ...good, phone: '+3312' }, 'medium', ['phone_invalid'], null],
    [
      'landline, invalid email: the carrier can still call',
      { ...good, phone: '+33142000000', email: 'chloe@' },
      'low',
      ['phone_not_mobile', 'email_invalid'],
      null,
    ],
  ])('%s → %s', (_name, input, level, codes, hold) => {
    const r = assessRisk(input);
    expect(r.level).toBe(level);
    expect(r.reasons.map((x) => x.code).sort()).toEqual([...codes].sort());
    expect(holdReason(r)).toBe(hold);
  });
});

describe('O3, issue 18 item 5: an address the customer confirmed as it is is scored again, and the risk says why it stays', () => {
  test.each<[string, RiskInput, string, string | null, Array<[string, number]>]>([
    // The postal code is still not a French one: it counts half, and the reason says the customer confirmed it.
    [
      'bad postal code, confirmed',
      { ...withAddress({ postalCode: '7500' }), addressConfirmed: true },
      'medium',
      null,
      [
        ['postal_code_invalid', 25],
        ['address_confirmed', 0],
      ],
    ],
    [
      'bad postal code and no number, confirmed',
      { ...withAddress({ line1: 'rue de la Paix', postalCode: '7500' }), addressConfirmed: true },
      'medium',
      null,
      [
        ['postal_code_invalid', 25],
        ['street_number_missing', 15],
        ['address_confirmed', 0],
      ],
    ],
    // What the confirmation cannot vouch for still holds the order: nobody can reach this customer.
    [
      'confirmed, but no valid contact',
      { ...withAddress({ postalCode: '7500' }), phone: '+3312', email: 'chloe@', addressConfirmed: true },
      'high',
      'address_or_contact',
      [
        ['postal_code_invalid', 25],
        ['address_confirmed', 0],
        ['phone_invalid', 30],
        ['email_invalid', 10],
        ['no_valid_contact', 25],
      ],
    ],
    // No phone is not enough to hold once the address is confirmed: the level stays high, and says why.
    [
      'confirmed, no phone',
      { ...withAddress({ line1: 'rue de la Paix', postalCode: '750' }), phone: null, addressConfirmed: true },
      'high',
      null,
      [
        ['postal_code_invalid', 25],
        ['street_number_missing', 15],
        ['address_confirmed', 0],
        ['phone_invalid', 25],
      ],
    ],
    [
      'confirmed, a customer with a history of cancellations',
      {
        ...withAddress({ postalCode: '7500' }),
        history: { cancellations: 2, failedDeliveries: 0 },
        addressConfirmed: true,
      },
      'high',
      'suspicious_behaviour',
      [
        ['postal_code_invalid', 25],
        ['address_confirmed', 0],
        ['repeated_cancellations', 50],
      ],
    ],
  ])('%s → %s', (_name, input, level, hold, reasons) => {
    const r = assessRisk(input);
    expect(r.level).toBe(level);
    expect(holdReason(r)).toBe(hold);
    expect(r.reasons.map((x) => [x.code, x.points])).toEqual(reasons);
    expect(r.reasons.find((x) => x.code === 'postal_code_invalid')?.detail).toMatch(
      /^postal code "750?0?" is not valid for FR \(confirmed by the customer\)$/,
    );
  });
});

test('O9: defaults are every seller alert on, by email; stored choices override one at a time', () => {
  const d = defaultPreferences();
  expect(Object.values(d.sellerAlerts).every((c) => c.enabled && c.channels.join() === 'email')).toBe(true);
  const p = effectivePreferences({ sellerAlerts: { stuck_in_transit: { enabled: true, channels: ['sms'] } } });
  expect(p.sellerAlerts.stuck_in_transit.channels).toEqual(['sms']);
  expect(p.sellerAlerts.unfulfillable.channels).toEqual(['email']);
  expect(channelsFor({ enabled: true, channels: ['sms', 'email'] }, { email: 'a@b.test', phone: null })).toEqual([
    'email',
  ]);
  expect(channelsFor({ enabled: false, channels: ['email'] }, { email: 'a@b.test', phone: null })).toEqual([]);
});
