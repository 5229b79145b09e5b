// Issue 20, item 4: seller alert digests — when the next message may go, what waits, what it says.
import {
  DIGEST_MAX_LISTED,
  addAlert,
  digestMessage,
  emptyPending,
  nextSendAt,
  type DigestAlert,
  type DigestPending,
} from '../../src/domain/alert-digest';

const alert = (orderId: string, template: DigestAlert['template'] = 'order_exception'): DigestAlert => ({
  orderId,
  template,
  exceptionLabel: 'Stuck in transit',
  reason: 'no tracking update for 48 hours',
  action: 'ask the carrier',
  details: null,
  resolution: template === 'order_exception_resolved' ? 'tracking updated' : '',
  orderUrl: `https://relais.test/ui/orders/${orderId}`,
  lastTrackingAt: '2026-03-01T21:45:00Z',
  at: '2026-03-03T21:45:00Z',
});
const URL = 'https://relais.test/ui/orders';
const MIN = 60_000;

test.each<[string, number | null, number, number]>([
  ['never sent: at once', null, 1_000, 1_000],
  ['sent 5 minutes ago, window 15: at the window end', 0, 5 * MIN, 15 * MIN],
  ['sent exactly one window ago: at once', 0, 15 * MIN, 15 * MIN],
  ['sent an hour ago: at once', 0, 60 * MIN, 60 * MIN],
])('next send: %s', (_what, lastSentAt, now, expected) => {
  expect(nextSendAt(lastSentAt, 15 * MIN, now)).toBe(expected);
});

test('what waits is bounded: past the listing bound alerts are counted, not kept', () => {
  let pending: DigestPending = emptyPending();
  for (let i = 0; i < DIGEST_MAX_LISTED + 7; i += 1) pending = addAlert(pending, alert(`O-${i}`));
  expect(pending.alerts).toHaveLength(DIGEST_MAX_LISTED);
  expect(pending.more).toBe(7);
  expect(pending.alerts.at(-1)!.orderId).toBe(`O-${DIGEST_MAX_LISTED - 1}`);
});

test.each<[string, DigestPending, Record<string, unknown>]>([
  [
    'one alert alone goes as the alert itself',
    { alerts: [alert('O-1')], more: 0 },
    { template: 'order_exception', orderId: 'O-1', personName: 'Sam' },
  ],
  [
    'one resolution alone goes as the resolution',
    { alerts: [alert('O-1', 'order_exception_resolved')], more: 0 },
    { template: 'order_exception_resolved', resolution: 'tracking updated' },
  ],
  [
    'several go as one digest, counted, a few orders named for short channels',
    { alerts: ['O-1', 'O-2', 'O-1', 'O-3', 'O-4'].map((o) => alert(o)), more: 0 },
    { template: 'order_alert_digest', count: 5, shortList: 'O-1, O-2, O-3', shortMore: 1, more: 0 },
  ],
  [
    'one listed and more counted is a digest',
    { alerts: [alert('O-1')], more: 3 },
    { template: 'order_alert_digest', count: 4, shortList: 'O-1', shortMore: 3, more: 3 },
  ],
])('message: %s', (_what, pending, expected) => {
  const { template, data } = digestMessage(pending, 'Sam', URL);
  expect({ template, ...data }).toMatchObject(expected);
});

test('a digest lists each alert without its timestamps, the resolutions marked', () => {
  const { data } = digestMessage(
    { alerts: [alert('O-1'), alert('O-1', 'order_exception_resolved')], more: 0 },
    'Sam',
    URL,
  );
  expect(data.alerts).toEqual([
    expect.objectContaining({ orderId: 'O-1', resolved: false }),
    expect.objectContaining({ orderId: 'O-1', resolved: true, resolution: 'tracking updated' }),
  ]);
  for (const a of data.alerts as object[]) expect(Object.keys(a)).not.toEqual(expect.arrayContaining(['at']));
  expect(data.ordersUrl).toBe(URL);
});
