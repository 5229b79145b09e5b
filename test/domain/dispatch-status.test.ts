// Rules D2, D7, D9, D10: statuses only move forward; the result derives from statuses alone;
// L1: the log's Status column summarises the recipients' statuses.
import {
  dispatchResult,
  nextStatus,
  RECIPIENT_STATUSES,
  SHOWN_STATUSES,
  statusForEvent,
  statusSummary,
  type RecipientStatus,
} from '../../src/domain/dispatch-status';

describe('D9 dispatch result from recipient statuses', () => {
  test.each<[RecipientStatus[], boolean, string]>([
    [['queued'], false, 'queued'],
    [['queued', 'processed'], false, 'processed'],
    [['delivered', 'delivered'], false, 'delivered'],
    [['delivered', 'processed'], false, 'processed'],
    [['delivered', 'bounced'], false, 'alert'],
    [['deferred', 'bounced'], false, 'processed'], // D5 needs one received; it may still become error (D4)
    [['processed', 'dropped'], false, 'processed'],
    [['delivered', 'processed', 'bounced'], false, 'alert'],
    [['bounced', 'dropped'], false, 'error'],
    [['bounced'], false, 'error'],
    [['delivered', 'unknown'], false, 'unknown'],
    [['bounced', 'unknown'], false, 'alert'],
    [['sent', 'sent'], false, 'sent'],
    [['sent', 'not_sent'], false, 'alert'],
    [['not_sent'], false, 'error'],
    [['queued', 'queued'], true, 'failed'],
    [[], false, 'queued'],
  ])('%j (provider refused: %s) → %s', (statuses, refused, expected) => {
    expect(dispatchResult(statuses, refused)).toBe(expected);
  });
});

describe('D2/D7 statuses only move forward, except a late bounce', () => {
  test.each<[RecipientStatus, RecipientStatus, RecipientStatus]>([
    ['queued', 'processed', 'processed'],
    ['delivered', 'processed', 'delivered'], // a late `processed` never undoes delivered
    ['delivered', 'deferred', 'delivered'],
    ['deferred', 'delivered', 'delivered'], // D6
    ['delivered', 'bounced', 'bounced'], // D7: asynchronous bounce
    ['bounced', 'delivered', 'bounced'],
    ['unknown', 'delivered', 'delivered'], // D3: unknown is not final
    ['unknown', 'processed', 'unknown'],
    ['unknown', 'deferred', 'deferred'],
  ])('%s + %s → %s', (current, incoming, expected) => {
    expect(nextStatus(current, incoming)).toBe(expected);
  });

  test.each([
    ['processed', 'processed'],
    ['sent', 'processed'],
    ['delivered', 'delivered'],
    ['read', 'delivered'],
    ['open', 'delivered'],
    ['bounce', 'bounced'],
    ['undelivered', 'bounced'],
    ['failed', 'bounced'],
    ['dropped', 'dropped'],
    ['deferred', 'deferred'],
    ['spamreport', undefined],
    ['unsubscribe', undefined],
  ] as const)('event %s means status %s', (event, status) => {
    expect(statusForEvent(event)).toBe(status);
  });
});

describe('L1/D2: the Status column, as the delivery log of the source documents has it', () => {
  test.each<[Array<{ status: RecipientStatus; opened?: boolean }>, string]>([
    [[{ status: 'delivered' }], 'delivered'],
    [[{ status: 'delivered', opened: true }], 'opened'],
    [[{ status: 'bounced', opened: true }], 'bounced'], // opened, then a late bounce: the bounce tells
    [[{ status: 'deferred' }], 'deferred'],
    [
      [{ status: 'delivered', opened: true }, { status: 'delivered' }, { status: 'delivered', opened: true }],
      'delivered 1, opened 2',
    ],
    [
      [{ status: 'delivered' }, { status: 'bounced' }, { status: 'dropped' }, { status: 'bounced' }],
      'bounced 2, dropped 1, delivered 1',
    ],
    [
      [{ status: 'processed' }, { status: 'unknown' }, { status: 'deferred' }, { status: 'queued' }],
      'unknown 1, deferred 1, queued 1, processed 1',
    ],
    [[{ status: 'sent' }, { status: 'not_sent' }], 'not_sent 1, sent 1'],
    [[], ''],
  ])('%j → %s', (recipients, expected) => {
    expect(
      statusSummary(recipients)
        .map((s) => (recipients.length > 1 ? `${s.status} ${s.count}` : s.status))
        .join(', '),
    ).toBe(expected);
  });

  test('every recipient status has its place in the column, and opened too', () => {
    expect([...SHOWN_STATUSES].sort()).toEqual([...RECIPIENT_STATUSES, 'opened'].sort());
  });
});
