// Issue 20: the pure rules of customer notices by channel order and quiet hours, table-driven.
import {
  attemptOutcome,
  cascadeStep,
  channelOrder,
  sendWindowOpensAt,
  zonedInstant,
  STATUS_READ_EVERY_MS,
  FIRST_MINUTE_READ_EVERY_MS,
  type AttemptStatus,
} from '../../src/domain/customer-notice';
import type { RecipientStatus } from '../../src/domain/dispatch-status';

const MIN = 60_000;
const WINDOW = { from: '08:00', to: '21:00' };

describe('attemptOutcome: what a dispatch status means for the cascade', () => {
  test.each<[RecipientStatus | null, string]>([
    ['delivered', 'delivered'],
    ['sent', 'delivered'],
    ['bounced', 'failed'],
    ['dropped', 'failed'],
    ['not_sent', 'failed'],
    ['queued', 'pending'],
    ['processed', 'pending'],
    ['deferred', 'pending'],
    ['unknown', 'pending'],
    [null, 'pending'],
  ])('%s → %s', (status, outcome) => expect(attemptOutcome(status)).toBe(outcome));
});

describe('cascadeStep: the next step after a read', () => {
  const st = (dispatchId: string, status: RecipientStatus | null, reasonCode: string | null = null): AttemptStatus => ({
    dispatchId,
    status,
    reasonCode,
  });
  test.each<[string, AttemptStatus[], number, ReturnType<typeof cascadeStep>]>([
    [
      'silent for 14 minutes: wait for the next read',
      [st('a', 'processed')],
      14 * MIN,
      { kind: 'wait', ms: STATUS_READ_EVERY_MS },
    ],
    [
      'silent at 14:50: wait only to the delay',
      [st('a', 'processed')],
      14 * MIN + 50_000,
      { kind: 'wait', ms: 10_000 },
    ],
    ['silent at 15 minutes: the next channel', [st('a', 'processed')], 15 * MIN, { kind: 'next', why: 'silent' }],
    [
      'failed at once: the next channel',
      [st('a', 'bounced', 'unknown_phone')],
      1000,
      { kind: 'next', why: 'failed', reason: 'unknown_phone' },
    ],
    ['delivered: stop', [st('a', 'delivered')], 1000, { kind: 'stop', dispatchId: 'a' }],
    [
      'not recorded yet: wait (first minute: short reads)',
      [st('a', null)],
      0,
      { kind: 'wait', ms: FIRST_MINUTE_READ_EVERY_MS },
    ],
    ['after the first minute: longer reads', [st('a', 'processed')], MIN, { kind: 'wait', ms: STATUS_READ_EVERY_MS }],
    // A silent channel that delivers after the next one went stops the cascade there.
    [
      'an earlier channel delivers late: stop',
      [st('a', 'delivered'), st('b', 'processed')],
      1000,
      { kind: 'stop', dispatchId: 'a' },
    ],
    [
      'an earlier channel failed late: the current one goes on',
      [st('a', 'bounced'), st('b', 'processed')],
      1000,
      { kind: 'wait', ms: FIRST_MINUTE_READ_EVERY_MS },
    ],
  ])('%s', (_name, statuses, elapsed, step) => {
    const current = statuses.at(-1)!.dispatchId;
    expect(cascadeStep(statuses, current, 0, elapsed, 15 * MIN)).toEqual(step);
  });
});

describe('channelOrder: the channels of the order the customer can receive', () => {
  test.each<[string[], { email: string | null; phone: string | null }, string[]]>([
    [['whatsapp', 'sms', 'email'], { email: 'a@b.test', phone: '+33600000000' }, ['whatsapp', 'sms', 'email']],
    [['whatsapp', 'sms', 'email'], { email: 'a@b.test', phone: null }, ['email']],
    [['sms', 'email'], { email: null, phone: '+33600000000' }, ['sms']],
    [['email', 'sms', 'email'], { email: 'a@b.test', phone: '+33600000000' }, ['email', 'sms']],
    [[], { email: 'a@b.test', phone: null }, []],
  ])('%j for %j → %j', (order, customer, expected) => expect(channelOrder(order as never, customer)).toEqual(expected));
});

describe('sendWindowOpensAt: quiet hours in the customer zone, across DST', () => {
  const at = (iso: string) => Date.parse(iso);
  test.each<[string, string, string, { from: string; to: string }, string]>([
    ['inside: now', '2026-06-10T10:00:00Z', 'Europe/Paris', WINDOW, '2026-06-10T10:00:00.000Z'],
    [
      '22:30 Paris in summer → 08:00 next day',
      '2026-06-10T20:30:00Z',
      'Europe/Paris',
      WINDOW,
      '2026-06-11T06:00:00.000Z',
    ],
    [
      '22:30 Paris in winter → 08:00 next day',
      '2026-12-10T21:30:00Z',
      'Europe/Paris',
      WINDOW,
      '2026-12-11T07:00:00.000Z',
    ],
    ['06:00 Paris → 08:00 the same day', '2026-12-10T05:00:00Z', 'Europe/Paris', WINDOW, '2026-12-10T07:00:00.000Z'],
    [
      '21:00 exactly is outside (to excluded)',
      '2026-12-10T20:00:00Z',
      'Europe/Paris',
      WINDOW,
      '2026-12-11T07:00:00.000Z',
    ],
    [
      '08:00 exactly is inside (from included)',
      '2026-12-10T07:00:00Z',
      'Europe/Paris',
      WINDOW,
      '2026-12-10T07:00:00.000Z',
    ],
    // The night of 28–29 March 2026: Paris goes from UTC+1 to UTC+2.
    [
      '22:30 before spring forward → 08:00 CEST',
      '2026-03-28T21:30:00Z',
      'Europe/Paris',
      WINDOW,
      '2026-03-29T06:00:00.000Z',
    ],
    // The night of 24–25 October 2026: back to UTC+1.
    ['22:30 before fall back → 08:00 CET', '2026-10-24T20:30:00Z', 'Europe/Paris', WINDOW, '2026-10-25T07:00:00.000Z'],
    ['New York, 23:00 EST → 08:00 EST', '2026-12-11T04:00:00Z', 'America/New_York', WINDOW, '2026-12-11T13:00:00.000Z'],
    [
      'New York across its spring change (8 March 2026)',
      '2026-03-08T04:30:00Z',
      'America/New_York',
      WINDOW,
      '2026-03-08T12:00:00.000Z',
    ],
    [
      'a window over midnight (21:00–08:00), at noon → 21:00',
      '2026-12-10T11:00:00Z',
      'Europe/Paris',
      { from: '21:00', to: '08:00' },
      '2026-12-10T20:00:00.000Z',
    ],
    [
      'a window over midnight, at 23:00: inside',
      '2026-12-10T22:00:00Z',
      'Europe/Paris',
      { from: '21:00', to: '08:00' },
      '2026-12-10T22:00:00.000Z',
    ],
    [
      'from equal to to: no quiet hours',
      '2026-12-10T02:00:00Z',
      'Europe/Paris',
      { from: '00:00', to: '00:00' },
      '2026-12-10T02:00:00.000Z',
    ],
  ])('%s', (_name, now, zone, window, expected) =>
    expect(new Date(sendWindowOpensAt(at(now), zone, window)).toISOString()).toBe(expected),
  );

  test('a wall time the spring change skips comes out an hour later', () => {
    // 02:30 does not exist in Paris on 29 March 2026: 03:30 CEST (01:30 UTC).
    expect(new Date(zonedInstant('2026-03-29', 150, 'Europe/Paris')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });
});
