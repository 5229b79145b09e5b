// The dashboard's pure rules (issue 21): days in a time zone, what each thing contributes to its
// day, the difference two states make (what the rollup fold adds), and what a period says.
import {
  difference,
  dispatchContribution,
  domainKey,
  domainOf,
  domainOfKey,
  exceptionAge,
  exceptionContribution,
  holdsByAge,
  isHardBounce,
  medianOf,
  openByAge,
  partContribution,
  summarize,
  sum,
  ttdBucket,
  ttdBucketEnd,
  ttdBucketStart,
  type DayCounters,
  type RecipientFacts,
} from '../../src/domain/dashboard';
import { addDays, dayOf, daysBetween, endOfDay, isCalendarDay, startOfDay } from '../../src/domain/days';

describe('days in a time zone', () => {
  test.each([
    ['2026-03-29T00:30:00Z', 'Europe/Paris', '2026-03-29'],
    ['2026-03-28T23:30:00Z', 'Europe/Paris', '2026-03-29'], // 00:30 in Paris
    ['2026-03-28T23:30:00Z', 'UTC', '2026-03-28'],
    ['2026-12-31T23:59:59Z', 'Pacific/Auckland', '2027-01-01'],
    ['2026-01-01T03:00:00Z', 'America/New_York', '2025-12-31'],
  ])('%s in %s is %s', (instant, zone, day) => {
    expect(dayOf(new Date(instant), zone)).toBe(day);
  });

  test.each([
    // 29 March 2026: Paris moves from +01:00 to +02:00 (a 23-hour day); 25 October: back (25 hours).
    ['2026-03-29', 'Europe/Paris', '2026-03-28T23:00:00.000Z', '2026-03-29T21:59:59.999Z'],
    ['2026-10-25', 'Europe/Paris', '2026-10-24T22:00:00.000Z', '2026-10-25T22:59:59.999Z'],
    ['2026-06-01', 'UTC', '2026-06-01T00:00:00.000Z', '2026-06-01T23:59:59.999Z'],
  ])('%s in %s runs from %s to %s', (day, zone, start, end) => {
    expect(startOfDay(day, zone).toISOString()).toBe(start);
    expect(endOfDay(day, zone).toISOString()).toBe(end);
  });

  test('days between two days, both included; adding days crosses months and years', () => {
    expect(daysBetween('2026-12-30', '2027-01-02')).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(daysBetween('2026-01-02', '2026-01-01')).toEqual([]);
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  test.each([
    ['2026-02-28', true],
    ['2026-02-31', false],
    ['2026-2-3', false],
    ['', false],
    ['0000-01-01', false],
  ])('%j is a calendar day: %s', (value, ok) => {
    expect(isCalendarDay(value)).toBe(ok);
  });
});

const recipient = (over: Partial<RecipientFacts>): RecipientFacts => ({
  attempt: 1,
  status: 'delivered',
  tracked: true,
  email: true,
  reasonCode: null,
  domain: 'acme.test',
  ttd: 8,
  ...over,
});

describe('contributions', () => {
  test('a dispatch counts once on its day under its result', () => {
    expect(dispatchContribution({ day: '2026-12-01', result: 'alert' })).toEqual({
      '2026-12-01': { dispatches: 1, 'results.alert': 1 },
    });
    expect(dispatchContribution(null)).toEqual({});
  });

  test.each<[string, Partial<RecipientFacts>, Record<string, number>]>([
    [
      'delivered, timed',
      {},
      { recipients: 1, 'statuses.delivered': 1, tracked: 1, emailTracked: 1, delivered: 1, 'ttd.8': 1 },
    ],
    [
      'delivered, time not known',
      { ttd: null },
      { recipients: 1, 'statuses.delivered': 1, tracked: 1, emailTracked: 1, delivered: 1 },
    ],
    [
      'hard bounce (address does not exist)',
      { status: 'bounced', reasonCode: 'invalid_address', ttd: null },
      {
        recipients: 1,
        'statuses.bounced': 1,
        tracked: 1,
        emailTracked: 1,
        'failures.invalid_address': 1,
        'domains.acme%2Etest': 1,
        hardBounces: 1,
      },
    ],
    [
      'soft bounce (mailbox full): not a hard one',
      { status: 'bounced', reasonCode: 'mailbox_full', ttd: null },
      {
        recipients: 1,
        'statuses.bounced': 1,
        tracked: 1,
        emailTracked: 1,
        'failures.mailbox_full': 1,
        'domains.acme%2Etest': 1,
      },
    ],
    [
      'dropped without a reason code',
      { status: 'dropped', reasonCode: null, ttd: null },
      {
        recipients: 1,
        'statuses.dropped': 1,
        tracked: 1,
        emailTracked: 1,
        'failures.unclassified': 1,
        'domains.acme%2Etest': 1,
      },
    ],
    [
      'an SMS that failed: no domain, never a hard bounce',
      { status: 'bounced', email: false, domain: null, reasonCode: 'unknown_phone', ttd: null },
      { recipients: 1, 'statuses.bounced': 1, tracked: 1, 'failures.unknown_phone': 1 },
    ],
    [
      'unknown (D3) is neither delivered nor a bounce',
      { status: 'unknown', ttd: null },
      { recipients: 1, 'statuses.unknown': 1, tracked: 1, emailTracked: 1 },
    ],
    [
      "sent to the tenant's SMTP server (D10): not tracked",
      { status: 'sent', tracked: false, ttd: null },
      { recipients: 1, 'statuses.sent': 1 },
    ],
    [
      'refused by the SMTP server: not tracked either',
      { status: 'not_sent', tracked: false, reasonCode: 'not_sent_to_server', ttd: null },
      { recipients: 1, 'statuses.not_sent': 1 },
    ],
  ])('a recipient %s', (_name, facts, counters) => {
    expect(partContribution({ day: '2026-12-01', recipients: [recipient(facts)] })).toEqual({ '2026-12-01': counters });
  });

  test('an exception counts as opened on its day, resolved on another, and open until then', () => {
    expect(exceptionContribution({ type: 'stuck_in_transit', openedDay: '2026-12-01', resolvedDay: null })).toEqual({
      '2026-12-01': { 'opened.stuck_in_transit': 1 },
      open: { '2026-12-01.stuck_in_transit': 1 },
    });
    expect(
      exceptionContribution({ type: 'stuck_in_transit', openedDay: '2026-12-01', resolvedDay: '2026-12-03' }),
    ).toEqual({ '2026-12-01': { 'opened.stuck_in_transit': 1 }, '2026-12-03': { 'resolved.stuck_in_transit': 1 } });
  });

  test('the difference between two states is what changed, and nothing when nothing did', () => {
    const queued = partContribution({
      day: '2026-12-01',
      recipients: [recipient({ status: 'queued', ttd: null }), recipient({ status: 'queued', ttd: null })],
    });
    const later = partContribution({
      day: '2026-12-01',
      recipients: [recipient({}), recipient({ status: 'bounced', reasonCode: 'invalid_address', ttd: null })],
    });
    expect(difference(queued, later)).toEqual({
      '2026-12-01': {
        'statuses.queued': -2,
        'statuses.delivered': 1,
        'statuses.bounced': 1,
        delivered: 1,
        'ttd.8': 1,
        'failures.invalid_address': 1,
        'domains.acme%2Etest': 1,
        hardBounces: 1,
      },
    });
    expect(difference(later, later)).toEqual({});
    expect(difference({}, later)).toEqual(later);
    // A resolved exception moves out of the open summary and onto the day it was resolved.
    const open = exceptionContribution({ type: 'delivery_failed', openedDay: '2026-12-01', resolvedDay: null });
    const resolved = exceptionContribution({
      type: 'delivery_failed',
      openedDay: '2026-12-01',
      resolvedDay: '2026-12-02',
    });
    expect(difference(open, resolved)).toEqual({
      open: { '2026-12-01.delivery_failed': -1 },
      '2026-12-02': { 'resolved.delivery_failed': 1 },
    });
    // Changes of several things add up; what cancels out disappears.
    expect(sum(difference({}, later), difference(later, {}))).toEqual({});
  });

  test.each([
    ['Buyer@ACME.test', 'acme.test'],
    ['+33612345678', null],
    ['a@b@c.example', 'c.example'],
    ['nobody@', null],
  ])('the domain of %s is %s', (address, domain) => {
    expect(domainOf(address)).toBe(domain);
  });

  test.each(['acme.test', 'we$ird%.example', 'x'])('a domain %s survives as a stored key (no dot, no $)', (domain) => {
    expect(domainKey(domain)).not.toMatch(/[.$]/);
    expect(domainOfKey(domainKey(domain))).toBe(domain);
  });

  test('hard bounces are email addresses or domains that do not exist', () => {
    expect(isHardBounce({ status: 'bounced', email: true, reasonCode: 'domain_not_found' })).toBe(true);
    expect(isHardBounce({ status: 'dropped', email: true, reasonCode: 'invalid_address' })).toBe(false);
    expect(isHardBounce({ status: 'bounced', email: true, reasonCode: 'blocked_as_spam' })).toBe(false);
  });
});

describe('time to delivered', () => {
  test.each([
    [0, 0],
    [50, 0],
    [118, 0],
    [119, 1],
    [200, 4],
    [1000, 13],
    [60_000, 36],
    [1e15, 120],
  ])('%d ms falls in bucket %d', (ms, bucket) => {
    expect(ttdBucket(ms)).toBe(bucket);
    if (bucket > 0 && bucket < 120) expect(ms).toBeGreaterThanOrEqual(Math.floor(ttdBucketStart(bucket)));
    if (bucket < 120) expect(ms).toBeLessThan(ttdBucketEnd(bucket));
  });

  test("the median is read inside its bucket, within the bucket's width of the true one", () => {
    const samples = [300, 420, 800, 1_200, 1_900, 2_500, 4_000, 9_000, 30_000, 120_000, 600_000];
    const histogram = new Map<number, number>();
    for (const ms of samples) histogram.set(ttdBucket(ms), (histogram.get(ttdBucket(ms)) ?? 0) + 1);
    const median = medianOf(histogram)!;
    expect(median / 2_500).toBeGreaterThan(1 / 1.19);
    expect(median / 2_500).toBeLessThan(1.19);
    expect(medianOf(new Map())).toBeNull();
    expect(medianOf(new Map([[0, 2]]))).toBeCloseTo(ttdBucketEnd(0) / 2);
  });
});

describe('a period', () => {
  const stored = new Map<string, DayCounters>([
    [
      '2026-12-01',
      {
        dispatches: 10,
        results: { delivered: 8, alert: 1, error: 1 },
        recipients: 20,
        tracked: 20,
        emailTracked: 20,
        delivered: 17,
        hardBounces: 2,
        failures: { invalid_address: 2, mailbox_full: 1 },
        domains: { 'acme%2Etest': 2, 'old%2Etest': 1 },
        ttd: { 13: 10, 20: 7 },
        opened: { on_hold: 2 },
      },
    ],
    [
      '2026-12-03',
      {
        dispatches: 2,
        results: { delivered: 2, alert: 0 },
        recipients: 2,
        tracked: 2,
        emailTracked: 2,
        delivered: 2,
        ttd: { 13: 2 },
        resolved: { on_hold: 1 },
        domains: { 'x%2Etest': 0 },
      },
    ],
  ]);

  test('every day of the period in order, zeros where nothing was counted; totals and rates', () => {
    const s = summarize(['2026-12-01', '2026-12-02', '2026-12-03'], stored);
    expect(s.days.map((d) => [d.day, d.dispatches])).toEqual([
      ['2026-12-01', 10],
      ['2026-12-02', 0],
      ['2026-12-03', 2],
    ]);
    expect(s).toMatchObject({
      dispatches: 12,
      results: { delivered: 10, alert: 1, error: 1 },
      tracked: 22,
      delivered: 19,
      hardBounces: 2,
      timed: 19,
    });
    expect(s.deliveryRate).toBeCloseTo(19 / 22);
    expect(s.hardBounceRate).toBeCloseTo(2 / 22);
    expect(s.warnHardBounces).toBe(true);
    expect(s.reasons).toEqual([
      { reason: 'invalid_address', count: 2 },
      { reason: 'mailbox_full', count: 1 },
    ]);
    expect(s.domains).toEqual([
      { domain: 'acme.test', count: 2 },
      { domain: 'old.test', count: 1 },
    ]);
    expect(s.medianTtdMs).toBeGreaterThanOrEqual(ttdBucketStart(13));
    expect(s.medianTtdMs).toBeLessThan(ttdBucketEnd(13));
    expect(s.opened).toEqual({ on_hold: 2 });
    expect(s.resolved).toEqual({ on_hold: 1 });
  });

  test('no warning at exactly 5 % of hard bounces, nor when nothing was sent', () => {
    const at5 = new Map<string, DayCounters>([['2026-12-01', { emailTracked: 100, tracked: 100, hardBounces: 5 }]]);
    expect(summarize(['2026-12-01'], at5).warnHardBounces).toBe(false);
    const over = new Map<string, DayCounters>([['2026-12-01', { emailTracked: 100, tracked: 100, hardBounces: 6 }]]);
    expect(summarize(['2026-12-01'], over).warnHardBounces).toBe(true);
    const empty = summarize(['2026-12-01'], new Map());
    expect(empty).toMatchObject({
      deliveryRate: null,
      hardBounceRate: null,
      warnHardBounces: false,
      medianTtdMs: null,
    });
  });

  test('the top 10 domains, most failures first', () => {
    const domains = Object.fromEntries(
      Array.from({ length: 15 }, (_, i) => [domainKey(`d${String(i).padStart(2, '0')}.test`), i + 1]),
    );
    const s = summarize(['2026-12-01'], new Map([['2026-12-01', { domains }]]));
    expect(s.domains.map((d) => d.domain)).toEqual([
      'd14.test',
      'd13.test',
      'd12.test',
      'd11.test',
      'd10.test',
      'd09.test',
      'd08.test',
      'd07.test',
      'd06.test',
      'd05.test',
    ]);
  });
});

describe('ages', () => {
  test.each([
    ['2026-12-10', 'today'],
    ['2026-12-09', 'days1to2'],
    ['2026-12-08', 'days1to2'],
    ['2026-12-07', 'days3to6'],
    ['2026-12-04', 'days3to6'],
    ['2026-12-03', 'week'],
    ['2025-01-01', 'week'],
  ])('an exception opened on %s is in the group %s on 2026-12-10', (opened, age) => {
    expect(exceptionAge(opened, '2026-12-10')).toBe(age);
  });

  test('open exceptions by age and type, zero counts left out', () => {
    const result = openByAge(
      { '2026-12-10': { on_hold: 1 }, '2026-12-01': { stuck_in_transit: 2, on_hold: 0 }, '2026-12-08': { on_hold: 3 } },
      '2026-12-10',
    );
    expect(result).toEqual({
      byAge: { today: { on_hold: 1 }, days1to2: { on_hold: 3 }, days3to6: {}, week: { stuck_in_transit: 2 } },
      count: 6,
      oldest: '2026-12-01',
    });
  });

  test('held orders by how long they have waited', () => {
    const now = new Date('2026-12-10T12:00:00Z');
    const ago = (h: number) => new Date(now.getTime() - h * 3_600_000);
    expect(holdsByAge([ago(0.5), ago(1), ago(23), ago(24), ago(71), ago(72), ago(400)], now)).toEqual({
      hour: 1,
      day: 2,
      days: 2,
      longer: 2,
    });
  });
});
