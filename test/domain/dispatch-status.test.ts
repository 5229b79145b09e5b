// Rules D2, D7, D9, D10: statuses only move forward; the result derives from statuses alone.
import { dispatchResult, nextStatus, statusForEvent, type RecipientStatus } from '../../src/domain/dispatch-status';

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
    ['processed', 'processed'], ['sent', 'processed'], ['delivered', 'delivered'], ['read', 'delivered'], ['open', 'delivered'],
    ['bounce', 'bounced'], ['undelivered', 'bounced'], ['failed', 'bounced'], ['dropped', 'dropped'], ['deferred', 'deferred'],
    ['spamreport', undefined], ['unsubscribe', undefined],
  ] as const)('event %s means status %s', (event, status) => {
    expect(statusForEvent(event)).toBe(status);
  });
});
