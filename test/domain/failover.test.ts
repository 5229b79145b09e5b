// Issue 20: the email failover rule, table-driven. A send moves to the other provider only when
// the first certainly did not take the message and the other is configured (rule N4: never two
// providers both delivering).
import { ApplicationFailure } from '@temporalio/common';
import { emailFailover, failoverReason, type EmailSendFailure } from '../../src/domain/failover';
import { policyMs, policyProblems } from '../../src/domain/durations';
import { smtpNotTaken } from '../../src/providers/smtp';
import { mapSendGridError } from '../../src/providers/sendgrid/send';
import { ProviderUnavailable, rateLimited } from '../../src/providers/failures';
import { emailSendFailure } from '../../src/activities/email-failover';

const both = { sendgrid: true, smtp: true };
const onlySendGrid = { sendgrid: true, smtp: false };
const onlySmtp = { sendgrid: false, smtp: true };

test.each<[string, 'sendgrid' | 'smtp', EmailSendFailure, typeof both, 'sendgrid' | 'smtp' | null]>([
  ['SendGrid 5xx or not reached, SMTP configured', 'sendgrid', { kind: 'unavailable', notTaken: true }, both, 'smtp'],
  ['SendGrid 5xx, no SMTP server', 'sendgrid', { kind: 'unavailable', notTaken: true }, onlySendGrid, null],
  ['SendGrid reached and silent (may have taken it)', 'sendgrid', { kind: 'unavailable', notTaken: false }, both, null],
  ['SendGrid refused the request (4xx): the same elsewhere', 'sendgrid', { kind: 'refused' }, both, null],
  ['SendGrid rate limit: it works, wait for it', 'sendgrid', { kind: 'rate_limited' }, both, null],
  [
    'SMTP server refused the connection, SendGrid configured',
    'smtp',
    { kind: 'unavailable', notTaken: true },
    both,
    'sendgrid',
  ],
  ['SMTP server down, no SendGrid', 'smtp', { kind: 'unavailable', notTaken: true }, onlySmtp, null],
  ['SMTP server cut mid-message (may have taken it)', 'smtp', { kind: 'unavailable', notTaken: false }, both, null],
  ['SMTP login refused', 'smtp', { kind: 'refused' }, both, null],
])('%s: %s fails over to %s', (_case, primary, failure, configured, expected) => {
  expect(emailFailover(primary, failure, configured)).toBe(expected);
});

test('the history entry names both providers and why', () => {
  expect(failoverReason('sendgrid', 'smtp', 'SendGrid answered 503: unavailable')).toBe(
    'SendGrid did not take it (SendGrid answered 503: unavailable); sent through SMTP instead',
  );
  expect(failoverReason('smtp', 'sendgrid', '421 busy')).toBe(
    'SMTP did not take it (421 busy); sent through SendGrid instead',
  );
});

// What nodemailer rejects with (checked against nodemailer 7 and smtp-server on loopback).
const smtpError = (fields: Record<string, unknown>) => Object.assign(new Error('x'), fields);
test.each([
  ['a 421 greeting', { code: 'EPROTOCOL', command: 'CONN', responseCode: 421 }, true],
  ['a 4xx to MAIL FROM', { code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 451 }, true],
  ['a 451 after the final dot (refused, not taken)', { code: 'EMESSAGE', command: 'DATA', responseCode: 451 }, true],
  ['connection refused', { code: 'ESOCKET', command: 'CONN', syscall: 'connect' }, true],
  ['no greeting in time', { code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'GREETING_TIMEOUT' }, true],
  ['no connection in time', { code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'CONNECT_TIMEOUT' }, true],
  ['the name does not resolve', { code: 'EDNS', command: 'CONN' }, true],
  [
    'silence at any point (maybe after the final dot)',
    { code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'SOCKET_TIMEOUT' },
    false,
  ],
  ['connection cut mid-session', { code: 'ECONNECTION', command: 'CONN' }, false],
  ['a socket error once connected', { code: 'ESOCKET', command: 'CONN', syscall: 'read' }, false],
])('SMTP %s: not taken = %s', (_case, fields, notTaken) => {
  expect(smtpNotTaken(smtpError(fields))).toBe(notTaken);
});

test.each([
  ['SendGrid 503', { code: 503, response: { body: { errors: [{ message: 'unavailable' }] } } }, true, true],
  ['SendGrid 500', { code: 500, response: { body: '' } }, true, true],
  ['connection refused before reaching SendGrid', { code: 'ECONNREFUSED', isAxiosError: true }, false, true],
  ['connection reset after the request went out', { code: 'ECONNRESET', isAxiosError: true }, true, false],
  ['a timeout after the request went out', { code: 'ECONNABORTED', isAxiosError: true }, true, false],
])('%s: not taken = %s', (_case, fields, reached, notTaken) => {
  const failure = mapSendGridError(Object.assign(new Error('x'), fields), reached);
  expect(failure).toBeInstanceOf(ProviderUnavailable);
  expect((failure as ProviderUnavailable).notTaken).toBe(notTaken);
});

test.each([
  [
    'ProviderUnavailable not taken',
    new ProviderUnavailable('x', 503, undefined, true),
    { kind: 'unavailable', notTaken: true },
  ],
  ['ProviderUnavailable maybe taken', new ProviderUnavailable('x'), { kind: 'unavailable', notTaken: false }],
  ['a refusal', ApplicationFailure.nonRetryable('no', 'ProviderRejected'), { kind: 'refused' }],
  ['a rate limit', rateLimited('SendGrid', 1000), { kind: 'rate_limited' }],
  ['anything else (MongoDB down)', new Error('connection closed'), { kind: 'unavailable', notTaken: false }],
])('%s is seen as %j', (_case, err, expected) => {
  expect(emailSendFailure(err)).toEqual(expected);
});

test.each([
  ['PT1S', 'failoverAfter must be at least PT2S'],
  ['PT2S', null],
  ['PT10S', null],
  ['PT20S', null],
  ['PT21S', 'failoverAfter must be at most PT20S'],
])('failoverAfter %s: %s', (value, problem) => {
  const problems = policyProblems({ failoverAfter: value });
  expect(problems.map((p) => p.message.split(':')[0])).toEqual(problem ? [problem] : []);
  if (problem) expect(problems[0]).toMatchObject({ field: 'policies.failoverAfter', value });
});

test('a tenant that never set failoverAfter gets 10 s', () => {
  expect(policyMs({}).failoverAfterMs).toBe(10_000);
});
