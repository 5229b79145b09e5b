// Tenant policy durations are ISO-8601 (PT30M, P3D); Temporal timers take milliseconds.
import type { Locale } from './locale';

/** Days, hours, minutes, seconds (PT30M, P3D, P1DT12H); the API's schemas carry it as their pattern. */
export const ISO_DURATION_PATTERN =
  /^P(?!$)(?:([0-9]+)D)?(?:T(?=[0-9])(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?)?$/;

export function isIsoDuration(value: string): boolean {
  return ISO_DURATION_PATTERN.test(value);
}

/** Milliseconds in an ISO-8601 duration of days, hours, minutes and seconds (no months or years: their length varies). */
export function isoDurationToMs(value: string): number {
  const m = ISO_DURATION_PATTERN.exec(value);
  if (!m) throw new RangeError(`not an ISO-8601 duration of days/hours/minutes/seconds: ${value}`);
  const [, d, h, min, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Math.round(Number(s ?? 0) * 1000);
}

/** "30 minutes", "3 jours" …: a duration in words for messages. */
export function durationInWords(ms: number, locale: Locale): string {
  const units: Array<[number, string, string, string, string]> = [
    [86_400_000, 'day', 'days', 'jour', 'jours'],
    [3_600_000, 'hour', 'hours', 'heure', 'heures'],
    [60_000, 'minute', 'minutes', 'minute', 'minutes'],
    [1000, 'second', 'seconds', 'seconde', 'secondes'],
  ];
  for (const [size, en1, enN, fr1, frN] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${locale === 'fr' ? (n > 1 ? frN : fr1) : n > 1 ? enN : en1}`;
    }
  }
  return locale === 'fr' ? `${Math.round(ms / 1000)} secondes` : `${Math.round(ms / 1000)} seconds`;
}

export const POLICY_NAMES = [
  'unknownAfter',
  'listenFor',
  'stuckAfter',
  'confirmationLinkTtl',
  'readyToShipWithin',
  'failoverAfter',
  'moveOnAfter',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];
export type Policies = Record<PolicyName, string>;

/** What a tenant gets for a policy it never set. */
export const DEFAULT_POLICIES: Policies = {
  unknownAfter: 'PT30M',
  listenFor: 'P3D',
  stuckAfter: 'P2D',
  confirmationLinkTtl: 'P2D',
  readyToShipWithin: 'P1D',
  failoverAfter: 'PT10S',
  moveOnAfter: 'PT15M',
};

/** A tenant's policies in milliseconds, each it never set at its default (as a workflow's input takes them). */
export function policyMs(
  set: Partial<Record<PolicyName, string | null | undefined>> | null | undefined,
): Record<`${PolicyName}Ms`, number> {
  const value = (name: PolicyName) => isoDurationToMs(set?.[name] ?? DEFAULT_POLICIES[name]);
  return {
    unknownAfterMs: value('unknownAfter'),
    listenForMs: value('listenFor'),
    stuckAfterMs: value('stuckAfter'),
    confirmationLinkTtlMs: value('confirmationLinkTtl'),
    readyToShipWithinMs: value('readyToShipWithin'),
    failoverAfterMs: value('failoverAfter'),
    moveOnAfterMs: value('moveOnAfter'),
  };
}

/**
 * The shortest each policy may be (issue 14, finding 11), and why: below it a rule fires on
 * ordinary delays, or an event that is merely late is lost.
 */
export const POLICY_MINIMUMS: Record<PolicyName, { min: string; why: string }> = {
  unknownAfter: {
    min: 'PT5M',
    why: 'SendGrid usually reports a delivery within minutes; sooner, nearly every recipient would be called unknown (D3)',
  },
  listenFor: {
    min: 'PT1H',
    why: 'provider events can come minutes to hours after the send (event latency, asynchronous bounces); a shorter window drops them (D7)',
  },
  stuckAfter: {
    min: 'PT1H',
    why: 'carriers update tracking hours apart; sooner, every order in transit would be flagged stuck (O7)',
  },
  confirmationLinkTtl: { min: 'PT15M', why: 'the customer needs time to read the message and open the link (O3)' },
  readyToShipWithin: {
    min: 'PT15M',
    why: 'packing takes time; sooner, every allocated order would fail ready-to-ship (O5)',
  },
  failoverAfter: {
    min: 'PT2S',
    why: 'SendGrid takes a connection in well under a second; sooner, an ordinary slow network would move email to the other provider (issue 20)',
  },
  moveOnAfter: {
    min: 'PT1M',
    why: 'Twilio and SendGrid report most deliveries within a minute; sooner, a customer notice would go on two channels for one slow report (issue 20)',
  },
};

/** The longest a policy may be, where one is bounded, and why. */
export const POLICY_MAXIMUMS: Partial<Record<PolicyName, { max: string; why: string }>> = {
  failoverAfter: {
    max: 'PT20S',
    why: 'the send gives SendGrid 30 s in all and must leave time to send through the other provider (issue 20)',
  },
  moveOnAfter: {
    max: 'PT24H',
    why: 'a customer notice is about an order under way; a day later the next channel brings stale news (issue 20)',
  },
};

/**
 * Issue 20: receipt acknowledgement deadlines, off unless set (null or absent: off). The second
 * period defaults to the first.
 */
export interface AcknowledgementPolicies {
  acknowledgeWithin?: string | null;
  acknowledgeEscalateAfter?: string | null;
}

/** The shortest acknowledgement period: people need time to open their mail. */
export const ACKNOWLEDGEMENT_MINIMUM = 'PT15M';

/** A tenant's acknowledgement deadlines in milliseconds, as the dispatch workflow's policy takes them (none when off). */
export function acknowledgementPolicyMs(set: AcknowledgementPolicies | null | undefined): {
  acknowledgeWithinMs?: number;
  acknowledgeEscalateAfterMs?: number;
} {
  if (!set?.acknowledgeWithin) return {};
  const within = isoDurationToMs(set.acknowledgeWithin);
  return {
    acknowledgeWithinMs: within,
    acknowledgeEscalateAfterMs: set.acknowledgeEscalateAfter ? isoDurationToMs(set.acknowledgeEscalateAfter) : within,
  };
}

/**
 * Issue 20: the acknowledgement deadlines that would be in force, each at least the minimum, and
 * both inside D7's window (a receipt link expires when the dispatch stops listening, and so does
 * every timer of the dispatch).
 */
function acknowledgementProblems(
  sent: AcknowledgementPolicies,
  effective: AcknowledgementPolicies & { listenFor: string },
): Array<{ field: string; message: string; value: string }> {
  for (const name of ['acknowledgeWithin', 'acknowledgeEscalateAfter'] as const) {
    const value = sent[name];
    if (value && isIsoDuration(value) && isoDurationToMs(value) < isoDurationToMs(ACKNOWLEDGEMENT_MINIMUM))
      return [
        {
          field: `policies.${name}`,
          value,
          message: `${name} must be at least ${ACKNOWLEDGEMENT_MINIMUM}: the recipient needs time to open the email`,
        },
      ];
  }
  const { acknowledgeWithinMs, acknowledgeEscalateAfterMs } = acknowledgementPolicyMs(effective);
  if (acknowledgeWithinMs === undefined) return [];
  if (acknowledgeWithinMs + acknowledgeEscalateAfterMs! > isoDurationToMs(effective.listenFor)) {
    const field =
      sent.acknowledgeEscalateAfter !== undefined
        ? 'acknowledgeEscalateAfter'
        : sent.acknowledgeWithin !== undefined
          ? 'acknowledgeWithin'
          : 'listenFor';
    return [
      {
        field: `policies.${field}`,
        value: String(effective[field] ?? ''),
        message: `acknowledgeWithin plus acknowledgeEscalateAfter must fit in listenFor (${effective.listenFor}): receipt links and the dispatch's timers end when it stops listening (D7)`,
      },
    ];
  }
  return [];
}

/**
 * The policies that would be in force (`current` overlaid with what is `sent`) checked against
 * their minimums, and D7's window against D3's delay: one problem per sent field, naming it.
 */
export function policyProblems(
  sent: Partial<Policies> & AcknowledgementPolicies,
  current: Partial<Policies> & AcknowledgementPolicies = {},
): Array<{ field: string; message: string; value: string }> {
  const problems: Array<{ field: string; message: string; value: string }> = [];
  for (const name of POLICY_NAMES) {
    const value = sent[name];
    if (value === undefined || !isIsoDuration(value)) continue;
    const { min, why } = POLICY_MINIMUMS[name];
    if (isoDurationToMs(value) < isoDurationToMs(min))
      problems.push({ field: `policies.${name}`, message: `${name} must be at least ${min}: ${why}`, value });
    const most = POLICY_MAXIMUMS[name];
    if (most && isoDurationToMs(value) > isoDurationToMs(most.max))
      problems.push({ field: `policies.${name}`, message: `${name} must be at most ${most.max}: ${most.why}`, value });
  }
  const effective = { ...DEFAULT_POLICIES, ...current, ...sent };
  if (!problems.length && isoDurationToMs(effective.listenFor) < isoDurationToMs(effective.unknownAfter)) {
    const field = sent.listenFor !== undefined ? 'listenFor' : 'unknownAfter';
    problems.push({
      field: `policies.${field}`,
      value: effective[field],
      message: `listenFor (${effective.listenFor}) must be at least unknownAfter (${effective.unknownAfter}): a recipient can only become unknown (D3) while the dispatch still listens (D7)`,
    });
  }
  if (!problems.length) problems.push(...acknowledgementProblems(sent, effective));
  return problems;
}
