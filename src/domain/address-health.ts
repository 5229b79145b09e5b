// Issue 20, item 2: the health of an address (email or phone) a tenant has sent to, built from
// provider outcomes. Pure rules: which outcome says what about the address (classify*), and what
// a record's facts add up to (foldHealth). A fact is stored once and never changed; a record is
// what its facts say, so it can always be rebuilt from them (src/db/address-health.ts).
import type { Channel } from '../providers/types';

export type AddressKind = 'email' | 'phone';

/**
 * What an outcome says about an address:
 * - `invalid_address`: a hard bounce (SendGrid `bounce` of type bounce, classification Invalid
 *   Address) or a drop for an address SendGrid knows to be bad (reason Invalid or Bounced Address);
 * - `unknown_number`: Twilio 30005 (unknown handset) or 21211 (not a valid number);
 * - `landline`: Twilio 30006 (a landline or a carrier that takes no SMS): no SMS, WhatsApp untouched;
 * - `opted_out`: Twilio 21610 or an inbound STOP (no SMS until START/UNSTOP), or a SendGrid drop or
 *   event saying the person unsubscribed or reported spam (no email until cleared);
 * - `soft_failure`: a deferral, a soft bounce (Mailbox Unavailable, Technical Failure,
 *   Unclassified), Twilio 30003/30008: counted once per message, bad from SOFT_FAILURE_LIMIT on;
 * - `blocked`: a block (type blocked, or classification Reputation, Content, Frequency or Volume
 *   Too High): the sender's or the content's fault, not the address's — recorded, never bad;
 * - `outside_window`: Twilio 63016, a WhatsApp message outside the 24 h window: a condition of the
 *   channel, not of the number — recorded, never bad.
 */
export const CONDITIONS = [
  'invalid_address',
  'unknown_number',
  'landline',
  'opted_out',
  'soft_failure',
  'blocked',
  'outside_window',
] as const;
export type Condition = (typeof CONDITIONS)[number];

/** A fact: a condition seen, or what lifts one (a success, the person opting back in, an operator's clearing). */
export type FactKind = Condition | 'success' | 'opted_in' | 'cleared';

export const HEALTH_STATES = ['ok', 'soft', 'bad', 'opted_out'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** Soft failures of this many different messages in a row (no success between) make an address bad. */
export const SOFT_FAILURE_LIMIT = 3;

/** Conditions that make an address bad, per channel it is used on. */
const BAD_FOR: Record<Channel, readonly Condition[]> = {
  email: ['invalid_address', 'opted_out'],
  sms: ['unknown_number', 'landline', 'opted_out'],
  whatsapp: ['unknown_number'],
};

export interface Fact {
  kind: FactKind;
  at: Date;
  /** The provider's code or classification (`30005`, `Invalid Address`, `Bounced Address`…). */
  code: string | null;
  /** The provider's own words. */
  reason: string | null;
  dispatchId: string | null;
  orderId: string | null;
  /** Who cleared it (an operator), or `inbound` for the person's own STOP/START. */
  actor?: string | null;
}

export interface ConditionRecord {
  condition: Condition;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  code: string | null;
  reason: string | null;
  /** Where it was last seen. */
  dispatchId: string | null;
  orderId: string | null;
}

export interface Health {
  state: HealthState;
  conditions: ConditionRecord[];
  /** When the state became what it is (the deciding condition's first sighting), null when ok. */
  since: Date | null;
  lastSuccessAt: Date | null;
  cleared: { at: Date; by: string | null } | null;
  firstSeen: Date | null;
  lastSeen: Date | null;
}

/** The address as records key it: an email lower-cased; a phone without WhatsApp's prefix. */
export function normalizeAddress(address: string): { address: string; kind: AddressKind } {
  const a = address.trim();
  if (a.includes('@')) return { address: a.toLowerCase(), kind: 'email' };
  return { address: a.replace(/^whatsapp:/i, '').replace(/[\s().-]/g, ''), kind: 'phone' };
}

const BLOCK_CLASSIFICATIONS = ['reputation', 'content', 'frequency or volume too high'];
/** SendGrid drop reasons that say the address is bad, and those that say the person asked for no mail. */
export const BAD_DROP_REASONS = ['Bounced Address', 'Invalid'];
export const OPTED_OUT_DROP_REASONS = ['Unsubscribed Address', 'Spam Reporting Address'];

/** A SendGrid event (in Relais's words) as a fact kind; undefined: it says nothing about the address. */
export function classifyEmailEvent(e: {
  type: string;
  bounceType?: string;
  classification?: string;
  reason?: string;
  response?: string;
}): FactKind | undefined {
  switch (e.type) {
    case 'delivered':
    case 'open':
    case 'click':
      return 'success';
    case 'deferred':
      return 'soft_failure';
    case 'unsubscribe':
    case 'spamreport':
      return 'opted_out';
    case 'dropped': {
      const reason = (e.reason ?? '').trim().toLowerCase();
      if (BAD_DROP_REASONS.some((r) => r.toLowerCase() === reason)) return 'invalid_address';
      if (OPTED_OUT_DROP_REASONS.some((r) => r.toLowerCase() === reason)) return 'opted_out';
      return undefined; // Invalid SMTPAPI header, over quota…: Relais's or the account's, not the address's
    }
    case 'bounce': {
      const classification = (e.classification ?? '').toLowerCase();
      if (e.bounceType === 'blocked' || BLOCK_CLASSIFICATIONS.includes(classification)) return 'blocked';
      if (classification === 'invalid address') return 'invalid_address';
      // Older bounces carry no classification: a 5.1.1/5.1.10 status (no such user) is hard, anything else soft.
      if (!classification)
        return /\b5\.1\.(1|10)\b/.test(`${e.reason ?? ''} ${e.response ?? ''}`) ? 'invalid_address' : 'soft_failure';
      return 'soft_failure'; // Mailbox Unavailable, Technical Failure, Unclassified
    }
    default:
      return undefined;
  }
}

/** A Twilio outcome (a status callback, or the Messages API's refusal code) as a fact kind. */
export function classifyPhoneOutcome(
  status: string,
  errorCode: string | number | null | undefined,
): FactKind | undefined {
  const code = errorCode === null || errorCode === undefined ? '' : String(errorCode);
  switch (code) {
    case '30005':
    case '21211':
      return 'unknown_number';
    case '30006':
    case '21614':
      return 'landline'; // 21614: not a mobile number
    case '21610':
      return 'opted_out';
    case '63016':
      return 'outside_window';
    case '30003':
    case '30008':
      return 'soft_failure';
    case '':
      return status === 'delivered' || status === 'read' ? 'success' : undefined;
    default:
      return undefined;
  }
}

/**
 * What an address's facts add up to, taken in the order they happened: a condition counts each
 * fact; a success lifts soft failures; START lifts an opt-out; an operator's clearing lifts all.
 */
export function foldHealth(facts: readonly Fact[]): Health {
  const sorted = [...facts].sort((a, b) => a.at.getTime() - b.at.getTime());
  const open = new Map<Condition, ConditionRecord>();
  let lastSuccessAt: Date | null = null;
  let cleared: Health['cleared'] = null;
  for (const f of sorted) {
    if (f.kind === 'success') {
      open.delete('soft_failure');
      lastSuccessAt = f.at;
    } else if (f.kind === 'opted_in') {
      open.delete('opted_out');
    } else if (f.kind === 'cleared') {
      open.clear();
      cleared = { at: f.at, by: f.actor ?? null };
    } else {
      const seen = open.get(f.kind);
      open.set(f.kind, {
        condition: f.kind,
        count: (seen?.count ?? 0) + 1,
        firstSeen: seen?.firstSeen ?? f.at,
        lastSeen: f.at,
        code: f.code,
        reason: f.reason,
        dispatchId: f.dispatchId,
        orderId: f.orderId,
      });
    }
  }
  const conditions = CONDITIONS.flatMap((c) => (open.has(c) ? [open.get(c)!] : []));
  const deciding = decidingCondition(conditions);
  const state: HealthState =
    deciding?.condition === 'opted_out' ? 'opted_out' : deciding ? 'bad' : open.has('soft_failure') ? 'soft' : 'ok';
  const seenAt = sorted.map((f) => f.at);
  return {
    state,
    conditions,
    since: deciding?.firstSeen ?? open.get('soft_failure')?.firstSeen ?? null,
    lastSuccessAt,
    cleared,
    firstSeen: seenAt[0] ?? null,
    lastSeen: seenAt.at(-1) ?? null,
  };
}

const isBadSoft = (c: ConditionRecord) => c.condition === 'soft_failure' && c.count >= SOFT_FAILURE_LIMIT;

/** The condition that makes the address bad on any channel (an opt-out first), if any. */
function decidingCondition(conditions: ConditionRecord[]): ConditionRecord | undefined {
  return (
    conditions.find((c) => c.condition === 'opted_out') ??
    conditions.find((c) => ['invalid_address', 'unknown_number', 'landline'].includes(c.condition) || isBadSoft(c))
  );
}

/** The conditions that make the address bad for a channel (an opted-out phone still takes WhatsApp; a landline too). */
export function badFor(health: Pick<Health, 'conditions'>, channel: Channel): ConditionRecord[] {
  return health.conditions.filter((c) => BAD_FOR[channel].includes(c.condition) || isBadSoft(c));
}

/** What a warning or a refusal says about a bad address, in the API's words (English, like its errors). */
export function badAddressMessage(address: string, bad: ConditionRecord[]): string {
  const words: Record<Condition, string> = {
    invalid_address: 'hard-bounced as an invalid address',
    unknown_number: 'is an unknown number',
    landline: 'is a landline (no SMS)',
    opted_out: 'opted out',
    soft_failure: `failed temporarily ${SOFT_FAILURE_LIMIT} times or more in a row`,
    blocked: 'was blocked',
    outside_window: "was outside WhatsApp's 24-hour window",
  };
  const why = bad.map(
    (c) =>
      `${words[c.condition]} (${c.code ?? c.reason ?? 'no code'}) since ${c.firstSeen.toISOString()}, ${c.count} time${c.count === 1 ? '' : 's'}`,
  );
  return `${address} is known bad: ${why.join('; ')}`;
}

/**
 * Twilio's default opt-out and opt-in keywords for SMS (Advanced Opt-Out), the whole message in any
 * case, and the French ARRET (taken as an opt-out: the person said so, whether Twilio heeds it or
 * not). YES opts back in too, and is also an answer (an address confirmation): it goes on to that.
 */
export function optKeyword(body: string | undefined): 'opt_out' | 'opt_in' | 'opt_in_and_answer' | null {
  const word = (body ?? '').trim().toUpperCase();
  if (['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', 'ARRET', 'ARRÊT'].includes(word))
    return 'opt_out';
  if (['START', 'UNSTOP'].includes(word)) return 'opt_in';
  if (word === 'YES') return 'opt_in_and_answer';
  return null;
}

/**
 * The channels an order's customer notice goes on when SMS cannot take it (the number opted out,
 * or is known bad under the `refuse` policy): the other chosen channels; none left, the first
 * other one the customer has (email, then WhatsApp); none at all, SMS still — its dispatch is
 * then recorded not sent, with why.
 */
export function channelsWithoutSms<C extends Channel>(
  chosen: readonly C[],
  person: { email: string | null; phone: string | null },
  smsHeld: boolean,
): C[] {
  if (!smsHeld || !chosen.includes('sms' as C)) return [...chosen];
  const rest = chosen.filter((c) => c !== 'sms');
  if (rest.length) return rest;
  if (person.email) return ['email' as C];
  if (person.phone) return ['whatsapp' as C];
  return [...chosen];
}

/** What a provider's event says about the address it went to, as its history entry keeps it (issue 20). */
export interface AddressOutcome {
  address: string;
  kind: FactKind;
  code: string | null;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined);

/**
 * A stored provider event (its Relais words and the provider's payload) as what it says about
 * its address: SendGrid's `email`, Twilio's `To`; null when it says nothing (processed, queued,
 * sent, Relais's own entries). Read again where the registry is written (the dispatch's
 * projection), off the webhook request.
 */
export function addressOutcomeOf(e: {
  source: string;
  event: string;
  errorCode?: string | null;
  reason?: string | null;
  response?: string | null;
  payload?: unknown;
}): AddressOutcome | null {
  const raw = (e.payload && typeof e.payload === 'object' ? e.payload : {}) as Record<string, unknown>;
  if (e.source === 'sendgrid') {
    const address = text(raw.email);
    const classification = text(raw.bounce_classification);
    const kind = classifyEmailEvent({
      type: e.event,
      bounceType: text(raw.type),
      classification,
      reason: e.reason ?? undefined,
      response: e.response ?? undefined,
    });
    if (!address || !kind) return null;
    const code = classification ?? (e.event === 'dropped' ? (e.reason ?? null) : null);
    return { address: normalizeAddress(address).address, kind, code };
  }
  if (e.source === 'twilio') {
    const address = text(raw.To);
    const kind = classifyPhoneOutcome(e.event, e.errorCode);
    if (!address || !kind) return null;
    return { address: normalizeAddress(address).address, kind, code: e.errorCode ?? null };
  }
  return null;
}

/** A message's temporary failures and successes count once each (a soft failure counts messages, not retries). */
export const countsPerMessage = (kind: FactKind) => kind === 'soft_failure' || kind === 'success';
