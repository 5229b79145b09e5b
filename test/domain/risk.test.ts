// Rule O2: risk from address completeness, contact validity and the customer's history.
import { assessRisk, holdReason, type RiskInput } from '../../src/domain/risk';
import { channelsFor, defaultPreferences, effectivePreferences } from '../../src/domain/preferences';

const good: RiskInput = {
  address: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
  phone: '+33612345670', email: 'chloe@example.test', history: { cancellations: 0, failedDeliveries: 0 },
};
const withAddress = (a: Partial<RiskInput['address']>) => ({ ...good, address: { ...good.address, ...a } });

describe('O2: risk from the address, the contact and the customer\'s history', () => {
  test.each<[string, RiskInput, string, string[], string | null]>([
    ['complete French address', good, 'low', [], null],
    ['Indian PIN code', withAddress({ country: 'IN', postalCode: '560001', city: 'Bengaluru' }), 'low', [], null],
    ['postal code of the wrong shape', withAddress({ postalCode: '7500' }), 'high', ['postal_code_invalid'], 'address_or_contact'],
    ['no street number', withAddress({ line1: 'rue de la Paix' }), 'medium', ['street_number_missing'], null],
    ['no street number and bad postal code', withAddress({ line1: 'rue de la Paix', postalCode: '1' }), 'high', ['postal_code_invalid', 'street_number_missing'], 'address_or_contact'],
    ['invalid phone', { ...good, phone: '+3312' }, 'medium', ['phone_invalid'], null],
    ['landline', { ...good, phone: '+33142000000' }, 'low', ['phone_not_mobile'], null],
    ['two cancellations', { ...good, history: { cancellations: 2, failedDeliveries: 0 } }, 'high', ['repeated_cancellations'], 'suspicious_behaviour'],
    ['one failed delivery', { ...good, history: { cancellations: 0, failedDeliveries: 1 } }, 'low', ['past_failed_deliveries'], null],
    ['three failed deliveries', { ...good, history: { cancellations: 0, failedDeliveries: 3 } }, 'high', ['past_failed_deliveries'], 'suspicious_behaviour'],
  ])('%s → %s', (_name, input, level, codes, hold) => {
    const r = assessRisk(input);
    expect(r.level).toBe(level);
    expect(r.reasons.map((x) => x.code).sort()).toEqual([...codes].sort());
    expect(holdReason(r)).toBe(hold);
  });
});

test('O9: defaults are every seller alert on, by email; stored choices override one at a time', () => {
  const d = defaultPreferences();
  expect(Object.values(d.sellerAlerts).every((c) => c.enabled && c.channels.join() === 'email')).toBe(true);
  const p = effectivePreferences({ sellerAlerts: { stuck_in_transit: { enabled: true, channels: ['sms'] } } });
  expect(p.sellerAlerts.stuck_in_transit.channels).toEqual(['sms']);
  expect(p.sellerAlerts.unfulfillable.channels).toEqual(['email']);
  expect(channelsFor({ enabled: true, channels: ['sms', 'email'] }, { email: 'a@b.test', phone: null })).toEqual(['email']);
  expect(channelsFor({ enabled: false, channels: ['email'] }, { email: 'a@b.test', phone: null })).toEqual([]);
});
