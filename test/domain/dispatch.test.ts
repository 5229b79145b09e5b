// Rules D3–D8 as pure steps on the bounded state (issue 15): events applied, deadlines, whom to
// tell; and the size of what the workflow keeps and receives at the documented limits.
import {
  applyEvents,
  applySendOutcome,
  closeListening,
  dueNotices,
  initialState,
  isUrgentNotice,
  listenUntil,
  markDeferredOverdue,
  markRefused,
  markUnknown,
  needingAttention,
  nextDeferredDeadline,
  nextUnknownDeadline,
  overdueDeferredCount,
  parseRoutingId,
  recipientChange,
  relaisEventId,
  resendRefusal,
  routingId,
  startAttempt,
  MAX_EVENTS_PER_SIGNAL,
  type DispatchState,
  type Notice,
  type RecipientEvent,
} from '../../src/domain/dispatch';
import type { ProviderEventType } from '../../src/providers/types';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const ev = (index: number, type: ProviderEventType, extra: Partial<RecipientEvent> = {}): RecipientEvent => ({
  index,
  attempt: 1,
  type,
  at: T0,
  ...extra,
});

function sent(count: number): DispatchState {
  const state = initialState(count);
  applySendOutcome(
    state,
    state.recipients.map((_, i) => i),
    'accepted',
    T0,
  );
  return state;
}

describe('D2–D7: what events do to the recipients and the result', () => {
  const cases: Array<[string, number, RecipientEvent[], string[], string]> = [
    [
      'D4: every recipient bounced or dropped → error',
      2,
      [ev(0, 'bounce', { reasonCode: 'invalid_address' }), ev(1, 'dropped', { reasonCode: 'suppressed' })],
      ['bounced', 'dropped'],
      'error',
    ],
    [
      'D5: one bounced, one delivered → alert',
      2,
      [ev(0, 'delivered'), ev(1, 'bounce')],
      ['delivered', 'bounced'],
      'alert',
    ],
    [
      'D5: one bounced while the other is under way → not yet an alert',
      2,
      [ev(0, 'processed'), ev(1, 'bounce')],
      ['processed', 'bounced'],
      'processed',
    ],
    ['D7: a bounce after delivered counts', 1, [ev(0, 'delivered'), ev(0, 'bounce')], ['bounced'], 'error'],
    [
      'D2: a late processed never undoes delivered',
      1,
      [ev(0, 'delivered'), ev(0, 'processed')],
      ['delivered'],
      'delivered',
    ],
    [
      'D6: deferred is temporarily failed, not a failure',
      1,
      [ev(0, 'processed'), ev(0, 'deferred')],
      ['deferred'],
      'processed',
    ],
    ['D2: an open proves delivery even before delivered', 1, [ev(0, 'open')], ['delivered'], 'delivered'],
    ['D2: a spam report changes no status', 1, [ev(0, 'processed'), ev(0, 'spamreport')], ['processed'], 'processed'],
    ['an event for no such recipient is ignored', 1, [ev(5, 'bounce')], ['queued'], 'queued'],
  ];
  test.each(cases)('%s', (_name, count, events, statuses, result) => {
    const s = sent(count);
    applyEvents(s, events);
    expect(s.recipients.map((r) => r.status)).toEqual(statuses);
    expect(s.result).toBe(result);
  });

  test('a failure keeps the reason code the webhook handler derived; an engagement sets opened', () => {
    const s = sent(2);
    applyEvents(s, [ev(0, 'bounce', { reasonCode: 'mailbox_full' }), ev(1, 'delivered'), ev(1, 'open')]);
    expect(s.recipients[0].reasonCode).toBe('mailbox_full');
    expect(s.recipients[1].opened).toBe(true);
  });

  test("the recipients the events were about (their histories grow), an older attempt's too, and those whose state changed", () => {
    const s = sent(3);
    startAttempt(s, 0);
    applyEvents(s, [ev(2, 'deferred')]);
    const { about, changed } = applyEvents(s, [ev(0, 'bounce'), ev(1, 'delivered'), ev(1, 'open'), ev(2, 'deferred')]);
    expect([[...about], [...changed]]).toEqual([[0, 1, 2], [1]]);
    expect(s.recipients[0].status).toBe('queued');
  });

  test("what a projection write says of a recipient: its state now, and a resend's address", () => {
    const s = sent(2);
    applyEvents(s, [ev(0, 'bounce', { reasonCode: 'invalid_address' }), ev(1, 'open')]);
    expect(recipientChange(s, 0)).toEqual({
      index: 0,
      status: 'bounced',
      attempt: 1,
      reasonCode: 'invalid_address',
      sentAt: T0,
    });
    expect(recipientChange(s, 1, 'new@x.test')).toEqual({
      index: 1,
      status: 'delivered',
      attempt: 1,
      opened: true,
      sentAt: T0,
      address: 'new@x.test',
    });
  });
});

test('N3/D2: applying the same events again changes nothing (a re-signalled event is harmless)', () => {
  const s = sent(3);
  const events = [ev(0, 'delivered'), ev(1, 'deferred'), ev(2, 'bounce', { reasonCode: 'invalid_address' })];
  applyEvents(s, events);
  dueNotices(s);
  const before = JSON.stringify(s);
  applyEvents(s, events);
  expect(JSON.stringify(s)).toBe(before);
  expect(dueNotices(s)).toEqual([]);
});

test("D8: an older attempt's events do not move the new attempt; a new attempt is told nothing yet", () => {
  const s = sent(1);
  applyEvents(s, [ev(0, 'bounce')]);
  expect(dueNotices(s).map((x) => x.kind)).toEqual(['escalation']);
  startAttempt(s, 0);
  expect(s.recipients[0]).toEqual({ status: 'queued', attempt: 2 });
  applyEvents(s, [ev(0, 'bounce', { attempt: 1 })]);
  expect(s.recipients[0].status).toBe('queued');
  applySendOutcome(s, [0], 'accepted', T0 + 1000);
  applyEvents(s, [ev(0, 'bounce', { attempt: 2 })]);
  expect(dueNotices(s).map((x) => x.kind)).toEqual(['escalation']); // the new attempt's failure is a new escalation
});

describe('D8: who can be resent', () => {
  const cases: Array<[string, (s: DispatchState) => void, RegExp | undefined]> = [
    ['a bounced recipient', (s) => applyEvents(s, [ev(0, 'bounce')]), undefined],
    ['an unknown one', (s) => markUnknown(s, T0 + 10_000, 1_000), undefined],
    ['a temporarily failed one', (s) => applyEvents(s, [ev(0, 'deferred')]), undefined],
    ['a delivered one', (s) => applyEvents(s, [ev(0, 'delivered')]), /r1 is delivered/],
    [
      'after the listening window',
      (s) => {
        applyEvents(s, [ev(0, 'bounce')]);
        s.completedAt = T0;
      },
      /finished listening/,
    ],
  ];
  test.each(cases)('%s', (_name, setUp, refusal) => {
    const s = sent(1);
    setUp(s);
    expect(resendRefusal(s, 0, 'r1')).toEqual(refusal ? expect.stringMatching(refusal) : undefined);
  });
});

describe('D8, issue 17: who can be sent again once delivered resends are on', () => {
  const cases: Array<[string, (s: DispatchState) => void, RegExp | undefined]> = [
    ['a delivered one', (s) => applyEvents(s, [ev(0, 'delivered')]), undefined],
    ['a delivered and opened one', (s) => applyEvents(s, [ev(0, 'delivered'), ev(0, 'open')]), undefined],
    ['one handed to the SMTP server', (s) => applySendOutcome(s, [0], 'sent', T0), undefined],
    ['a bounced one, as before', (s) => applyEvents(s, [ev(0, 'bounce')]), undefined],
    ['one the provider has not answered for', () => undefined, /r1 is queued: wait for the provider's answer/],
    ['one processed, not yet delivered', (s) => applyEvents(s, [ev(0, 'processed')]), /r1 is processed: wait/],
    [
      'a delivered one after the listening window',
      (s) => {
        applyEvents(s, [ev(0, 'delivered')]);
        s.completedAt = T0;
      },
      /finished listening/,
    ],
  ];
  test.each(cases)('%s', (_name, setUp, refusal) => {
    const s = sent(1);
    setUp(s);
    expect(resendRefusal(s, 0, 'r1', true)).toEqual(refusal ? expect.stringMatching(refusal) : undefined);
  });

  test('rule D8: a delivered one sent again starts afresh: not even "opened" carries over, and its failure is told (D4)', () => {
    const s = sent(1);
    applyEvents(s, [ev(0, 'delivered'), ev(0, 'open')]);
    expect(startAttempt(s, 0, true)).toEqual({ status: 'queued', attempt: 2 });
    expect(s.result).toBe('queued');
    applySendOutcome(s, [0], 'accepted', T0 + 1000);
    applyEvents(s, [ev(0, 'bounce', { attempt: 2 })]);
    expect(s.result).toBe('error');
    expect(dueNotices(s).map((x) => x.kind)).toEqual(['escalation']);
  });
  test('no such recipient', () => expect(resendRefusal(sent(1), 3, 'r4')).toMatch(/no recipient r4/));
});

describe('D4–D6: notices, each once', () => {
  test('D4: all failed → one escalation naming them; again only when a new failure joins', () => {
    const s = sent(2);
    applyEvents(s, [ev(0, 'bounce'), ev(1, 'dropped')]);
    expect(dueNotices(s)).toEqual([{ kind: 'escalation', failed: [0, 1] }]);
    expect(dueNotices(s)).toEqual([]);
  });

  test('D5 then D7: a fix request, then a late bounce turns it into an escalation', () => {
    const s = sent(2);
    applyEvents(s, [ev(0, 'delivered'), ev(1, 'bounce')]);
    expect(dueNotices(s)).toEqual([{ kind: 'partial_failure', failed: [1], delivered: [0] }]);
    expect(dueNotices(s)).toEqual([]);
    applyEvents(s, [ev(0, 'bounce')]);
    expect(dueNotices(s)).toEqual([{ kind: 'escalation', failed: [0, 1] }]); // the new failure first
  });

  test('D5 then D7: the failure no notice reported yet comes first in the list', () => {
    const s = sent(3);
    applyEvents(s, [ev(0, 'delivered'), ev(1, 'delivered'), ev(2, 'bounce')]);
    expect(dueNotices(s)).toEqual([{ kind: 'partial_failure', failed: [2], delivered: [0, 1] }]);
    applyEvents(s, [ev(1, 'bounce')]);
    expect(dueNotices(s)).toEqual([{ kind: 'partial_failure', failed: [1, 2], delivered: [0] }]);
    applyEvents(s, [ev(0, 'bounce')]);
    expect(dueNotices(s)).toEqual([{ kind: 'escalation', failed: [0, 1, 2] }]);
  });

  test('D5: a second failure while others were delivered is reported, listing every failure', () => {
    const s = sent(3);
    applyEvents(s, [ev(0, 'delivered'), ev(1, 'bounce'), ev(2, 'processed')]);
    expect(dueNotices(s)).toEqual([{ kind: 'partial_failure', failed: [1], delivered: [0] }]);
    applyEvents(s, [ev(2, 'bounce')]);
    expect(dueNotices(s)).toEqual([{ kind: 'partial_failure', failed: [2, 1], delivered: [0] }]);
    expect(dueNotices(s)).toEqual([]);
  });

  test('D5 waits while the others are under way: it may yet become D4', () => {
    const s = sent(2);
    applyEvents(s, [ev(0, 'bounce'), ev(1, 'processed')]);
    expect(dueNotices(s)).toEqual([]);
    applyEvents(s, [ev(1, 'dropped')]);
    expect(dueNotices(s)).toEqual([{ kind: 'escalation', failed: [0, 1] }]);
  });

  test('D6: deferred then delivered → one update', () => {
    const s = sent(1);
    applyEvents(s, [ev(0, 'processed'), ev(0, 'deferred')]);
    expect(dueNotices(s)).toEqual([]);
    applyEvents(s, [ev(0, 'delivered')]);
    expect(dueNotices(s)).toEqual([{ kind: 'delivered_update', delivered: [0] }]);
    expect(dueNotices(s)).toEqual([]);
  });
});

test('D3: at the deadline, unconfirmed recipients become unknown and are reported once; deferred stays', () => {
  const s = sent(3);
  applyEvents(s, [ev(0, 'processed'), ev(1, 'delivered'), ev(2, 'deferred')]);
  expect(nextUnknownDeadline(s, 1_800_000)).toBe(T0 + 1_800_000);
  expect(markUnknown(s, T0 + 1_799_999, 1_800_000)).toEqual({ overdue: [], fresh: [] });
  expect(markUnknown(s, T0 + 1_800_000, 1_800_000)).toEqual({ overdue: [0], fresh: [0] });
  expect(s.recipients.map((r) => r.status)).toEqual(['unknown', 'delivered', 'deferred']);
  expect(s.recipients[0].reasonCode).toBe('no_confirmation');
  expect(s.result).toBe('unknown');
  expect(markUnknown(s, T0 + 3_600_000, 1_800_000)).toEqual({ overdue: [], fresh: [] });
  applyEvents(s, [ev(0, 'delivered')]);
  expect(s.recipients[0].status).toBe('delivered');
});

test('D7: listening lasts the window after the last send; a recipient not sent yet keeps it open', () => {
  const s = sent(2);
  expect(listenUntil(s, T0 + 5, 1000)).toBe(T0 + 1000);
  startAttempt(s, 1);
  expect(listenUntil(s, T0 + 5, 1000)).toBe(T0 + 5 + 1000);
});

test('D9: a provider refusal leaves the recipients not sent', () => {
  const s = initialState(2);
  s.providerError = '400 bad request';
  markRefused(s, [0, 1]);
  expect(s.recipients.map((r) => [r.status, r.reasonCode])).toEqual([
    ['not_sent', 'not_sent_to_server'],
    ['not_sent', 'not_sent_to_server'],
  ]);
  expect(s.result).toBe('failed');
});

test('D9 failed: a refusal and a day of failures each say why nothing was sent (issue 16 item 2)', () => {
  const s = initialState(2);
  s.providerError = 'no answer after a day of trying';
  markRefused(s, [0, 1], 'sending_gave_up');
  expect(s.recipients.map((r) => [r.status, r.reasonCode])).toEqual([
    ['not_sent', 'sending_gave_up'],
    ['not_sent', 'sending_gave_up'],
  ]);
  expect(s.result).toBe('failed');
});

test('D4, D9: the notices that call for action now go to the sender and the purchasing manager; the others to the sender', () => {
  const kinds: Array<[Notice['kind'], boolean]> = [
    ['escalation', true],
    ['failed', true],
    ['partial_failure', false],
    ['delivered_update', false],
    ['unknown', false],
    ['deferred', false],
  ];
  expect(kinds.map(([kind]) => [kind, isUrgentNotice(kind)])).toEqual(kinds);
});

describe("D2/D6: a recipient's reason is its current one (issue 16 item 8)", () => {
  const cases: Array<[string, RecipientEvent[], string, string | undefined]> = [
    [
      "deferred: refused for now (its provider's words are in its history)",
      [ev(0, 'processed'), ev(0, 'deferred')],
      'deferred',
      'temporarily_refused',
    ],
    [
      'deferred again and again: still',
      [ev(0, 'deferred'), ev(0, 'deferred'), ev(0, 'deferred')],
      'deferred',
      'temporarily_refused',
    ],
    ['deferred, then delivered: none left', [ev(0, 'deferred'), ev(0, 'delivered')], 'delivered', undefined],
    [
      "deferred, then bounced: the bounce's",
      [ev(0, 'deferred'), ev(0, 'bounce', { reasonCode: 'mailbox_full' })],
      'bounced',
      'mailbox_full',
    ],
    [
      "delivered, then a late bounce: the bounce's",
      [ev(0, 'delivered'), ev(0, 'bounce', { reasonCode: 'invalid_address' })],
      'bounced',
      'invalid_address',
    ],
  ];
  test.each(cases)('%s', (_name, events, status, reasonCode) => {
    const s = sent(1);
    applyEvents(s, events);
    expect([s.recipients[0].status, recipientChange(s, 0).reasonCode]).toEqual([status, reasonCode]);
  });

  test('unknown (D3), then delivered: "no confirmation yet" is gone', () => {
    const s = sent(1);
    markUnknown(s, T0 + 2_000, 1_000);
    expect(recipientChange(s, 0).reasonCode).toBe('no_confirmation');
    applyEvents(s, [ev(0, 'delivered')]);
    expect(recipientChange(s, 0)).toEqual({ index: 0, status: 'delivered', attempt: 1, sentAt: T0 });
  });

  test('a deferred recipient in the state carries no reason: 1000 of them stay as small as before', () => {
    const s = sent(1000);
    applyEvents(
      s,
      s.recipients.map((_, i) => ev(i, 'deferred')),
    );
    expect(s.recipients[0]).toEqual({ status: 'deferred', attempt: 1, sentAt: T0, wasDeferred: true });
  });
});

describe('D3 for a deferred recipient: reported once when the delay passes, still Deferred (issue 16 item 3)', () => {
  test('at the delay, with the unconfirmed ones; once; the log counts and names it', () => {
    const s = sent(4);
    applyEvents(s, [ev(0, 'processed'), ev(1, 'deferred'), ev(2, 'delivered'), ev(3, 'deferred')]);
    expect(nextDeferredDeadline(s, 1_800_000)).toBe(T0 + 1_800_000);
    expect(markDeferredOverdue(s, T0 + 1_799_999, 1_800_000)).toEqual([]);
    expect(overdueDeferredCount(s)).toBe(0);
    expect(markDeferredOverdue(s, T0 + 1_800_000, 1_800_000)).toEqual([1, 3]);
    expect(markUnknown(s, T0 + 1_800_000, 1_800_000)).toEqual({ overdue: [0], fresh: [0] });
    expect(s.recipients.map((r) => r.status)).toEqual(['unknown', 'deferred', 'delivered', 'deferred']);
    expect(s.result).toBe('unknown');
    expect(overdueDeferredCount(s)).toBe(2);
    expect(needingAttention(s, 5)).toEqual([0, 1, 3]);
    expect(markDeferredOverdue(s, T0 + 3_600_000, 1_800_000)).toEqual([]);
    expect(nextDeferredDeadline(s, 1_800_000)).toBeUndefined();
  });

  test('deferred after it was reported unknown: counted as overdue, not reported again', () => {
    const s = sent(1);
    markUnknown(s, T0 + 2_000, 1_000);
    applyEvents(s, [ev(0, 'deferred')]);
    expect(markDeferredOverdue(s, T0 + 3_000, 1_000)).toEqual([]);
    expect(overdueDeferredCount(s)).toBe(1);
  });

  test('D6 afterwards: delivered → the short update; no longer overdue', () => {
    const s = sent(1);
    applyEvents(s, [ev(0, 'deferred')]);
    markDeferredOverdue(s, T0 + 2_000, 1_000);
    applyEvents(s, [ev(0, 'delivered')]);
    expect(dueNotices(s)).toEqual([{ kind: 'delivered_update', delivered: [0] }]);
    expect(overdueDeferredCount(s)).toBe(0);
    expect(needingAttention(s, 5)).toEqual([]);
  });

  test('a resend starts a new attempt: its own delay, its own report', () => {
    const s = sent(1);
    applyEvents(s, [ev(0, 'deferred')]);
    markDeferredOverdue(s, T0 + 2_000, 1_000);
    startAttempt(s, 0);
    applySendOutcome(s, [0], 'accepted', T0 + 5_000);
    applyEvents(s, [ev(0, 'deferred', { attempt: 2 })]);
    expect(nextDeferredDeadline(s, 1_000)).toBe(T0 + 6_000);
    expect(markDeferredOverdue(s, T0 + 6_000, 1_000)).toEqual([0]);
  });
});

describe("D7: the listening window's end makes every recipient final (issue 16 item 3)", () => {
  const cases: Array<[string, RecipientEvent[], string[], string, string]> = [
    [
      'still deferred → dropped (the provider stopped trying): with a delivered one, D5',
      [ev(0, 'deferred'), ev(1, 'delivered')],
      ['dropped', 'delivered'],
      'alert',
      'partial_failure',
    ],
    [
      'every one still deferred → dropped: D4',
      [ev(0, 'deferred'), ev(1, 'deferred')],
      ['dropped', 'dropped'],
      'error',
      'escalation',
    ],
    [
      'never answered → unknown (nothing says it failed)',
      [ev(0, 'processed'), ev(1, 'delivered')],
      ['unknown', 'delivered'],
      'unknown',
      'unknown',
    ],
    [
      'final statuses stay as they are',
      [ev(0, 'bounce'), ev(1, 'delivered')],
      ['bounced', 'delivered'],
      'alert',
      'partial_failure',
    ],
  ];
  test.each(cases)('%s', (_name, events, statuses, result, notice) => {
    const s = sent(2);
    applyEvents(s, events);
    const closed = closeListening(s);
    expect(s.recipients.map((r) => r.status)).toEqual(statuses);
    expect(s.result).toBe(result);
    const notices = [...(closed.fresh.length ? [{ kind: 'unknown' }] : []), ...dueNotices(s)];
    expect(notices.map((n) => n.kind)).toEqual([notice]);
  });

  test('dropped at the end carries its reason; an unknown one already reported is not reported again', () => {
    const s = sent(2);
    applyEvents(s, [ev(0, 'deferred'), ev(1, 'processed')]);
    markUnknown(s, T0 + 2_000, 1_000);
    expect(closeListening(s)).toEqual({ unknown: [], fresh: [], dropped: [0] });
    expect(recipientChange(s, 0).reasonCode).toBe('retries_expired');
    expect(s.recipients[1].status).toBe('unknown');
  });
});

test('routing ids and entry ids: a position and an attempt; one send outcome per attempt', () => {
  expect(routingId(999, 3)).toBe('999.3');
  expect(parseRoutingId('999.3')).toEqual({ index: 999, attempt: 3 });
  expect(parseRoutingId('r1.1')).toBeUndefined(); // the first version's routing id
  expect(relaisEventId('t', 'd', 4, 2, 'accepted')).toBe(relaisEventId('t', 'd', 4, 2, 'not_sent'));
  expect(relaisEventId('t', 'd', 4, 2, 'resent')).toBe('relais:t/d/4.2:resent');
});

test('issue 15: the state at 1000 recipients and a full signal stay far under 256 KiB, even with every field at its longest', () => {
  const typical = sent(1000);
  applyEvents(
    typical,
    typical.recipients.map((_, i) => ev(i, i % 2 ? 'delivered' : 'deferred')),
  );
  expect(Buffer.byteLength(JSON.stringify(typical)) / 1000).toBeLessThan(80); // bytes per recipient
  const longest = sent(1000);
  longest.providerError = 'x'.repeat(1000);
  for (const r of longest.recipients)
    Object.assign(r, {
      status: 'not_sent',
      attempt: 12,
      reasonCode: 'landline_or_carrier',
      opened: true,
      wasDeferred: true,
      told: 15,
    });
  expect(Buffer.byteLength(JSON.stringify(longest))).toBeLessThan(150 * 1024);
  const signal = {
    batch: `1764000000000-${'f'.repeat(36)}`,
    events: Array.from({ length: MAX_EVENTS_PER_SIGNAL }, (_, i) =>
      ev(i, 'undelivered', { attempt: 12, reasonCode: 'unreachable_phone' }),
    ),
  };
  expect(Buffer.byteLength(JSON.stringify(signal))).toBeLessThan(100 * 1024);
});
