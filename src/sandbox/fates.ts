// What happens to each message in the sandbox, decided by the recipient's address (the README
// shows this table). Steps are relative to the send, in units of the event delay.

export type EmailEventType = 'processed' | 'deferred' | 'delivered' | 'bounce' | 'dropped' | 'open';
export type PhoneStatus = 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';

export interface EmailStep { at: number; late?: boolean; event: EmailEventType; fields: Record<string, unknown> }
export interface PhoneStep { at: number; status: PhoneStatus; errorCode?: string }

export const FATE_TABLE = [
  ['email local part contains `+bounce`', 'processed → bounce (type bounce, "550 5.1.1 user unknown", Invalid Address)'],
  ['`+block`', 'processed → bounce (type blocked, "554 5.7.1 blocked as spam", Reputation)'],
  ['`+drop`', 'dropped ("Bounced Address")'],
  ['`+defer`', 'processed → deferred, 5 times, never final'],
  ['`+deferok`', 'processed → deferred → delivered'],
  ['`+silent`', 'nothing at all after processed'],
  ['`+latebounce`', 'processed → delivered, then a bounce after SANDBOX_LATE_EVENT_MS'],
  ['`+open`', 'processed → delivered → open'],
  ['anything else', 'processed → delivered'],
  ['phone ending `0001`', 'queued → sent → undelivered, ErrorCode 30003'],
  ['phone ending `0002`', 'failed, ErrorCode 30005'],
  ['phone ending `0003`', 'refused at the API: 400, code 21211'],
  ['other phones', 'queued → sent → delivered (WhatsApp: → read)'],
] as const;

const DELIVERED = { response: '250 2.0.0 OK 1700000000 q1si123456qkd.1 - gsmtp', tls: 1, ip: '149.72.0.1' };
const BOUNCE = { reason: '550 5.1.1 The email account that you tried to reach does not exist (user unknown)', status: '5.1.1', type: 'bounce', bounce_classification: 'Invalid Address' };

export function emailFate(address: string): EmailStep[] {
  const local = address.toLowerCase().split('@')[0];
  const has = (tag: string) => local.split('+').slice(1).includes(tag);
  if (has('drop')) return [{ at: 1, event: 'dropped', fields: { reason: 'Bounced Address', status: '5.0.0' } }];
  const processed: EmailStep = { at: 1, event: 'processed', fields: {} };
  if (has('bounce')) return [processed, { at: 2, event: 'bounce', fields: BOUNCE }];
  if (has('block')) {
    return [processed, { at: 2, event: 'bounce', fields: { reason: '554 5.7.1 Message blocked as spam by the recipient\'s server', status: '5.7.1', type: 'blocked', bounce_classification: 'Reputation' } }];
  }
  if (has('defer')) {
    return [processed, ...[1, 2, 3, 4, 5].map((attempt) => ({ at: 1 + attempt, event: 'deferred' as const, fields: { response: '451 4.2.0 Mailbox temporarily unavailable, try again later', attempt: String(attempt) } }))];
  }
  if (has('deferok')) {
    return [processed, { at: 2, event: 'deferred', fields: { response: '451 4.2.0 Mailbox temporarily unavailable, try again later', attempt: '1' } }, { at: 4, event: 'delivered', fields: DELIVERED }];
  }
  if (has('silent')) return [processed];
  if (has('latebounce')) return [processed, { at: 2, event: 'delivered', fields: DELIVERED }, { at: 2, late: true, event: 'bounce', fields: { ...BOUNCE, reason: '550 5.1.1 mailbox does not exist (asynchronous bounce)' } }];
  if (has('open')) return [processed, { at: 2, event: 'delivered', fields: DELIVERED }, { at: 3, event: 'open', fields: { useragent: 'Mozilla/5.0', ip: '203.0.113.7', sg_machine_open: false } }];
  return [processed, { at: 2, event: 'delivered', fields: DELIVERED }];
}

/** Phone numbers refused synchronously by the Messages API. */
export const refusedAtApi = (phone: string): boolean => phone.replace(/\D/g, '').endsWith('0003');

export function phoneFate(phone: string, channel: 'sms' | 'whatsapp'): PhoneStep[] {
  const digits = phone.replace(/\D/g, '');
  if (digits.endsWith('0001')) return [{ at: 1, status: 'sent' }, { at: 2, status: 'undelivered', errorCode: '30003' }];
  if (digits.endsWith('0002')) return [{ at: 1, status: 'failed', errorCode: '30005' }];
  const steps: PhoneStep[] = [{ at: 1, status: 'sent' }, { at: 2, status: 'delivered' }];
  return channel === 'whatsapp' ? [...steps, { at: 3, status: 'read' }] : steps;
}
