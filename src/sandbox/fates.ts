// What happens to each message in the sandbox, decided by the recipient's address alone, so a
// test or a person trying Relais picks the outcome by choosing the address. Matching is
// case-insensitive. Step times are in units of the event delay (`eventDelayMs`), counted from
// the moment the API accepted the message; a `late` step (same `at` as the step before it)
// comes `lateEventMs` after that step went out.

export type EmailEventType = 'processed' | 'deferred' | 'delivered' | 'bounce' | 'dropped' | 'open';
export type PhoneStatus = 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';

export interface EmailStep {
  at: number;
  late?: boolean;
  event: EmailEventType;
  fields: Record<string, string | number | boolean>;
}
export interface PhoneStep {
  at: number;
  status: PhoneStatus;
  errorCode?: string;
}

/** The fate table, as the README shows it: [address, what happens]. */
export const FATE_TABLE: ReadonlyArray<readonly [address: string, outcome: string]> = [
  [
    'email local part contains `+bounce`',
    'processed → bounce (type bounce, "550 5.1.1 user unknown", status 5.1.1, bounce_classification Invalid Address)',
  ],
  [
    '`+block`',
    'processed → bounce (type blocked, "554 5.7.1 blocked as spam", status 5.7.1, bounce_classification Reputation)',
  ],
  ['`+drop`', 'dropped (reason "Bounced Address"), no processed'],
  ['`+defer20`', 'processed → deferred, 20 times (attempt 1…20), then delivered'],
  ['`+defer`', 'processed → deferred, 5 times (attempt 1…5), never final'],
  ['`+deferok`', 'processed → deferred → delivered'],
  ['`+silent`', 'nothing at all after processed'],
  ['`+noevent`', 'accepted, then no event at all (as when the Event Webhook is not set up): stays queued'],
  [
    '`+softbounce`',
    'processed → bounce (type bounce, "552 5.2.2 mailbox full", status 5.2.2, bounce_classification Mailbox Unavailable)',
  ],
  [
    '`+content`',
    'processed → bounce (type blocked, "554 5.7.1 message content rejected", status 5.7.1, bounce_classification Content)',
  ],
  ['`+invalid`', 'dropped (reason "Invalid"), no processed'],
  ['`+unsub`', 'dropped (reason "Unsubscribed Address"), no processed'],
  ['`+latebounce`', 'processed → delivered, then a bounce `SANDBOX_LATE_EVENT_MS` later'],
  ['`+open`', 'processed → delivered → open'],
  ['anything else', 'processed → delivered'],
  ['phone ending `0001`', 'queued → sent → undelivered, ErrorCode 30003'],
  ['phone ending `0002`', 'queued → failed, ErrorCode 30005'],
  ['phone ending `0003`', 'refused by the Messages API: 400, code 21211'],
  ['phone ending `0004`', 'queued → sent → undelivered, ErrorCode 30006 (landline)'],
  [
    'phone ending `0005`, or any number that texted STOP (POST /sandbox/inbound) and not START/UNSTOP/YES since',
    'SMS refused by the Messages API: 400, code 21610 (unsubscribed); WhatsApp unaffected',
  ],
  ['phone ending `0006`', 'WhatsApp: queued → failed, ErrorCode 63016 (outside the 24 h window); SMS: delivered'],
  ['phone ending `0404`', 'queued → sent, then nothing (a silent channel)'],
  ['other phones', 'queued → sent → delivered (WhatsApp: → read)'],
];

/** The table in Markdown, ready for a README. */
export function fateTableMarkdown(): string {
  return ['| address | what happens |', '|---|---|', ...FATE_TABLE.map(([a, o]) => `| ${a} | ${o} |`)].join('\n');
}

/** How many `deferred` events a `+defer` address gets (bounded: the sandbox does not retry for 72 h). */
export const DEFER_REPEATS = 5;
/** How many `deferred` events a `+defer20` address gets before it is delivered (a long SendGrid retry, D6). */
export const LONG_DEFER_REPEATS = 20;

export const RESPONSES = {
  delivered: '250 2.0.0 OK 1700000000 sandbox.relais.localhost - accepted for delivery',
  deferred: '451 4.2.0 mailbox temporarily unavailable, try again later',
  userUnknown: '550 5.1.1 user unknown',
  blocked: '554 5.7.1 blocked as spam',
  mailboxFull: '552 5.2.2 mailbox full',
  contentRejected: '554 5.7.1 message content rejected',
} as const;

const SENDER_IP = '149.72.123.24';
const DELIVERED = { response: RESPONSES.delivered, ip: SENDER_IP, tls: 1 };
const BOUNCE = {
  reason: RESPONSES.userUnknown,
  status: '5.1.1',
  type: 'bounce',
  bounce_classification: 'Invalid Address',
  ip: SENDER_IP,
  tls: 1,
};
const BLOCKED = {
  reason: RESPONSES.blocked,
  status: '5.7.1',
  type: 'blocked',
  bounce_classification: 'Reputation',
  ip: SENDER_IP,
  tls: 1,
};
const SOFT_BOUNCE = {
  reason: RESPONSES.mailboxFull,
  status: '5.2.2',
  type: 'bounce',
  bounce_classification: 'Mailbox Unavailable',
  ip: SENDER_IP,
  tls: 1,
};
const CONTENT_BLOCK = {
  reason: RESPONSES.contentRejected,
  status: '5.7.1',
  type: 'blocked',
  bounce_classification: 'Content',
  ip: SENDER_IP,
  tls: 1,
};
const OPEN = {
  useragent:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  ip: '203.0.113.7',
  sg_machine_open: false,
};

/** The tag an email address carries, by precedence (`+defer20` and `+deferok` before `+defer`). */
export type EmailTag =
  | 'drop'
  | 'invalid'
  | 'unsub'
  | 'latebounce'
  | 'softbounce'
  | 'bounce'
  | 'block'
  | 'content'
  | 'defer20'
  | 'deferok'
  | 'defer'
  | 'silent'
  | 'noevent'
  | 'open';
const TAGS: EmailTag[] = [
  'drop',
  'invalid',
  'unsub',
  'latebounce',
  'softbounce',
  'bounce',
  'block',
  'content',
  'defer20',
  'deferok',
  'defer',
  'silent',
  'noevent',
  'open',
];

export function emailTag(address: string): EmailTag | undefined {
  const local = address.toLowerCase().split('@')[0] ?? '';
  return TAGS.find((tag) => local.includes(`+${tag}`));
}

export function emailFate(address: string): EmailStep[] {
  const processed: EmailStep = { at: 1, event: 'processed', fields: {} };
  const delivered = (at: number): EmailStep => ({ at, event: 'delivered', fields: DELIVERED });
  const deferred = (at: number, attempt: number): EmailStep => ({
    at,
    event: 'deferred',
    fields: { response: RESPONSES.deferred, attempt: String(attempt) },
  });
  switch (emailTag(address)) {
    case 'drop':
      return [{ at: 1, event: 'dropped', fields: { reason: 'Bounced Address', status: '5.0.0' } }];
    case 'invalid':
      return [{ at: 1, event: 'dropped', fields: { reason: 'Invalid', status: '5.0.0' } }];
    case 'unsub':
      return [{ at: 1, event: 'dropped', fields: { reason: 'Unsubscribed Address', status: '5.0.0' } }];
    case 'bounce':
      return [processed, { at: 2, event: 'bounce', fields: BOUNCE }];
    case 'softbounce':
      return [processed, { at: 2, event: 'bounce', fields: SOFT_BOUNCE }];
    case 'content':
      return [processed, { at: 2, event: 'bounce', fields: CONTENT_BLOCK }];
    case 'block':
      return [processed, { at: 2, event: 'bounce', fields: BLOCKED }];
    case 'defer':
      return [processed, ...Array.from({ length: DEFER_REPEATS }, (_, i) => deferred(2 + i, i + 1))];
    case 'defer20':
      return [
        processed,
        ...Array.from({ length: LONG_DEFER_REPEATS }, (_, i) => deferred(2 + i, i + 1)),
        delivered(2 + LONG_DEFER_REPEATS),
      ];
    case 'deferok':
      return [processed, deferred(2, 1), delivered(3)];
    case 'silent':
      return [processed];
    case 'noevent':
      return [];
    case 'latebounce':
      return [processed, delivered(2), { at: 2, late: true, event: 'bounce', fields: BOUNCE }];
    case 'open':
      return [processed, delivered(2), { at: 3, event: 'open', fields: OPEN }];
    default:
      return [processed, delivered(2)];
  }
}

const digits = (phone: string) => phone.replace(/\D/g, '');

/** Numbers the Messages API refuses at once (400, code 21211). */
export const refusedAtApi = (phone: string): boolean => digits(phone).endsWith('0003');

/** Numbers that opted out of SMS from the start (Twilio answers 21610 to an SMS). */
export const optedOutAtApi = (phone: string): boolean => digits(phone).endsWith('0005');

export function phoneFate(phone: string, channel: 'sms' | 'whatsapp'): PhoneStep[] {
  const d = digits(phone);
  if (d.endsWith('0004'))
    return [
      { at: 1, status: 'sent' },
      { at: 2, status: 'undelivered', errorCode: '30006' },
    ];
  if (d.endsWith('0006') && channel === 'whatsapp') return [{ at: 1, status: 'failed', errorCode: '63016' }];
  if (d.endsWith('0001'))
    return [
      { at: 1, status: 'sent' },
      { at: 2, status: 'undelivered', errorCode: '30003' },
    ];
  if (d.endsWith('0002')) return [{ at: 1, status: 'failed', errorCode: '30005' }];
  if (d.endsWith('0404')) return [{ at: 1, status: 'sent' }];
  const steps: PhoneStep[] = [
    { at: 1, status: 'sent' },
    { at: 2, status: 'delivered' },
  ];
  return channel === 'whatsapp' ? [...steps, { at: 3, status: 'read' }] : steps;
}
