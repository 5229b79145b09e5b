// Rule O2: an order's delivery risk from its address, contact details and the customer's
// history. Points add up; each comes with a reason the seller sees.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type RiskLevel = 'low' | 'medium' | 'high';
export type RiskReasonCode =
  | 'postal_code_invalid'
  | 'street_number_missing'
  | 'address_too_short'
  | 'city_missing'
  | 'phone_invalid'
  | 'phone_not_mobile'
  | 'email_invalid'
  | 'no_valid_contact'
  | 'address_confirmed'
  | 'repeated_cancellations'
  | 'past_failed_deliveries';

/** The codes that doubt the address itself (what a customer's confirmation speaks to). */
const ADDRESS_CODES: readonly RiskReasonCode[] = [
  'postal_code_invalid',
  'street_number_missing',
  'address_too_short',
  'city_missing',
];

export interface RiskReason {
  code: RiskReasonCode;
  points: number;
  kind: 'address_or_contact' | 'behaviour';
  detail: string;
}
export interface RiskAssessment {
  level: RiskLevel;
  score: number;
  reasons: RiskReason[];
}

export interface RiskInput {
  address: { line1: string; line2?: string | null; city: string; postalCode: string; country: string };
  phone: string | null;
  email: string | null;
  history: { cancellations: number; failedDeliveries: number };
  /**
   * The customer confirmed this address as it is (O3): its doubts count half, and the assessment
   * says so; what the confirmation cannot vouch for (the contact, the history) counts in full.
   */
  addressConfirmed?: boolean;
}

/** Postal code shapes for common countries; others are only checked for being non-empty. */
const POSTAL_CODES: Record<string, RegExp> = {
  FR: /^\d{5}$/,
  DE: /^\d{5}$/,
  ES: /^\d{5}$/,
  IT: /^\d{5}$/,
  BE: /^\d{4}$/,
  NL: /^\d{4}\s?[A-Z]{2}$/i,
  CH: /^\d{4}$/,
  IN: /^[1-9]\d{5}$/,
  US: /^\d{5}(-\d{4})?$/,
  GB: /^[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}$/i,
  CA: /^[A-Z]\d[A-Z]\s?\d[A-Z]\d$/i,
  PT: /^\d{4}-\d{3}$/,
};

export const HIGH_RISK_AT = 50;
export const MEDIUM_RISK_AT = 25;

export function assessRisk(input: RiskInput): RiskAssessment {
  const reasons: RiskReason[] = [];
  const add = (code: RiskReasonCode, points: number, kind: RiskReason['kind'], detail: string) =>
    reasons.push({ code, points, kind, detail });
  const { address } = input;
  const country = address.country.toUpperCase();
  const postal = address.postalCode.trim();
  const shape = POSTAL_CODES[country];
  if (!postal || (shape && !shape.test(postal)))
    add('postal_code_invalid', 50, 'address_or_contact', `postal code "${postal}" is not valid for ${country}`);
  if (!/\d/.test(`${address.line1} ${address.line2 ?? ''}`))
    add('street_number_missing', 30, 'address_or_contact', 'no street or building number');
  if (address.line1.trim().length < 5)
    add('address_too_short', 25, 'address_or_contact', `address line "${address.line1}" is too short to find`);
  if (!address.city.trim()) add('city_missing', 30, 'address_or_contact', 'no city');
  if (input.addressConfirmed) {
    // The customer vouched for the address: each doubt about it counts half, and says so.
    for (const r of reasons) {
      if (!ADDRESS_CODES.includes(r.code)) continue;
      r.points = Math.ceil(r.points / 2);
      r.detail = `${r.detail} (confirmed by the customer)`;
    }
    add('address_confirmed', 0, 'address_or_contact', 'the customer confirmed the address as it is');
  }
  let phoneUsable = false;
  if (!input.phone) {
    add('phone_invalid', 25, 'address_or_contact', 'no phone number: the carrier cannot call');
  } else {
    const phone = parsePhoneNumberFromString(input.phone, country as never);
    if (!phone?.isValid())
      add('phone_invalid', 30, 'address_or_contact', `phone "${input.phone}" is not a valid number`);
    else if (phone.getType() === 'FIXED_LINE')
      add('phone_not_mobile', 10, 'address_or_contact', 'the phone is a landline: no SMS or WhatsApp');
    phoneUsable = Boolean(phone?.isValid());
  }
  const emailUsable = input.email !== null && /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/.test(input.email);
  if (input.email !== null && !emailUsable)
    add('email_invalid', 10, 'address_or_contact', `email "${input.email}" is not valid`);
  // Nobody, carrier or seller, can reach a customer with neither a valid phone nor a valid email.
  if (!phoneUsable && !emailUsable)
    add('no_valid_contact', 25, 'address_or_contact', 'neither the phone nor the email can reach the customer');
  if (input.history.cancellations >= 2)
    add(
      'repeated_cancellations',
      25 * Math.min(input.history.cancellations, 4),
      'behaviour',
      `${input.history.cancellations} earlier orders cancelled`,
    );
  if (input.history.failedDeliveries >= 1)
    add(
      'past_failed_deliveries',
      20 * Math.min(input.history.failedDeliveries, 3),
      'behaviour',
      `${input.history.failedDeliveries} earlier ${input.history.failedDeliveries === 1 ? 'delivery' : 'deliveries'} failed`,
    );
  const score = reasons.reduce((sum, r) => sum + r.points, 0);
  return { level: score >= HIGH_RISK_AT ? 'high' : score >= MEDIUM_RISK_AT ? 'medium' : 'low', score, reasons };
}

/**
 * The hold reason a high risk means (O2): contact problems ask the customer (O3); behaviour asks
 * the seller. Once the customer confirmed the address as it is, its doubts no longer hold the
 * order (they still count in the level, which says why it stays): what remains must be high on its own.
 */
export function holdReason(assessment: RiskAssessment): 'address_or_contact' | 'suspicious_behaviour' | null {
  if (assessment.level !== 'high') return null;
  const confirmed = assessment.reasons.some((r) => r.code === 'address_confirmed');
  const holding = confirmed ? assessment.reasons.filter((r) => !ADDRESS_CODES.includes(r.code)) : assessment.reasons;
  if (holding.reduce((sum, r) => sum + r.points, 0) < HIGH_RISK_AT) return null;
  const contact = holding.filter((r) => r.kind === 'address_or_contact').reduce((sum, r) => sum + r.points, 0);
  return contact >= MEDIUM_RISK_AT ? 'address_or_contact' : 'suspicious_behaviour';
}
