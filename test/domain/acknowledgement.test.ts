// Issue 20 (receipt acknowledgement) as pure rules, table-driven: the deadlines and whom they name,
// the refusals of a second or stale acknowledgement, the counts, the form's fields, the links'
// target, the policies' bounds.
import {
  acknowledgementCounts,
  acknowledgementRefusal,
  applySendOutcome,
  dueAcknowledgementNotices,
  initialState,
  isUrgentNotice,
  moveRecipient,
  nextAcknowledgementDeadline,
  noticeAudience,
  startAttempt,
  type DispatchState,
} from '../../src/domain/dispatch';
import {
  acknowledgementFieldProblem,
  acknowledgementNote,
  acknowledgementWords,
  parseReceiptTarget,
  receiptTarget,
  typedValue,
} from '../../src/domain/acknowledgement';
import { acknowledgementPolicyMs, policyProblems } from '../../src/domain/durations';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const H = 3_600_000;
const WITHIN = 24 * H;
const AFTER = 24 * H;

/** `count` recipients sent at T0 and delivered; the ones listed acknowledged, bounced or not sent yet. */
function state(
  count: number,
  opts: { acknowledged?: number[]; bounced?: number[]; unsent?: number[] } = {},
): DispatchState {
  const s = initialState(count);
  applySendOutcome(
    s,
    s.recipients.map((_, i) => i).filter((i) => !opts.unsent?.includes(i)),
    'accepted',
    T0,
  );
  s.recipients.forEach((r, i) => {
    if (r.sentAt !== undefined) moveRecipient(r, 'delivered');
    if (opts.bounced?.includes(i)) moveRecipient(r, 'bounced', 'invalid_address');
    if (opts.acknowledged?.includes(i)) r.acknowledgedAt = T0 + H;
  });
  return s;
}

describe('issue 20: acknowledgement deadlines (acknowledgeWithin, then acknowledgeEscalateAfter)', () => {
  test.each([
    ['nothing before the first period', state(2), WITHIN - 1, []],
    [
      'the sender is told at the first period, naming both',
      state(2),
      WITHIN,
      [{ kind: 'unacknowledged', pending: [0, 1] }],
    ],
    [
      'one that acknowledged is not named',
      state(2, { acknowledged: [0] }),
      WITHIN,
      [{ kind: 'unacknowledged', pending: [1] }],
    ],
    ['all acknowledged: nothing', state(2, { acknowledged: [0, 1] }), WITHIN + AFTER, []],
    [
      'a bounced recipient is D4/D5’s, never named here',
      state(2, { bounced: [1] }),
      WITHIN,
      [{ kind: 'unacknowledged', pending: [0] }],
    ],
    ['one never sent has no deadline yet', state(1, { unsent: [0] }), WITHIN * 10, []],
  ])('%s', (_what, s, at, expected) => {
    expect(dueAcknowledgementNotices(s, T0 + at, WITHIN, AFTER)).toEqual(expected);
  });

  test('told once, then escalated once at the second period, then nothing more', () => {
    const s = state(1);
    expect(dueAcknowledgementNotices(s, T0 + WITHIN, WITHIN, AFTER)).toEqual([
      { kind: 'unacknowledged', pending: [0] },
    ]);
    expect(dueAcknowledgementNotices(s, T0 + WITHIN + 1, WITHIN, AFTER)).toEqual([]);
    expect(nextAcknowledgementDeadline(s, WITHIN, AFTER)).toBe(T0 + WITHIN + AFTER);
    expect(dueAcknowledgementNotices(s, T0 + WITHIN + AFTER - 1, WITHIN, AFTER)).toEqual([]);
    expect(dueAcknowledgementNotices(s, T0 + WITHIN + AFTER, WITHIN, AFTER)).toEqual([
      { kind: 'acknowledgement_escalation', pending: [0] },
    ]);
    expect(nextAcknowledgementDeadline(s, WITHIN, AFTER)).toBeUndefined();
    expect(dueAcknowledgementNotices(s, T0 + 10 * WITHIN, WITHIN, AFTER)).toEqual([]);
  });

  test('the next deadline is the earliest still ahead; none once everyone acknowledged', () => {
    expect(nextAcknowledgementDeadline(state(2), WITHIN, AFTER)).toBe(T0 + WITHIN);
    expect(nextAcknowledgementDeadline(state(2, { acknowledged: [0, 1] }), WITHIN, AFTER)).toBeUndefined();
  });

  test('rule D4: the escalation goes to the sender and the purchasing manager, by SMS to those who opted in; the first notice to the sender alone', () => {
    const sender = { name: 'B', email: 'b@x.test', phone: '+33600000001', smsOptIn: true, whatsappOptIn: false };
    const pm = { name: 'P', email: 'p@x.test', phone: '+33600000002', smsOptIn: false, whatsappOptIn: true };
    expect(isUrgentNotice('acknowledgement_escalation')).toBe(true);
    expect(isUrgentNotice('unacknowledged')).toBe(false);
    expect(noticeAudience('unacknowledged', sender, [sender, pm]).map((a) => [a.person.name, a.channel])).toEqual([
      ['B', 'email'],
    ]);
    expect(
      noticeAudience('acknowledgement_escalation', sender, [sender, pm]).map((a) => [a.person.name, a.channel]),
    ).toEqual([
      ['B', 'email'],
      ['B', 'sms'],
      ['P', 'email'],
      ['P', 'whatsapp'],
    ]);
  });

  test('a resent recipient keeps its acknowledgement; one that had none starts its deadlines afresh', () => {
    const s = state(2, { acknowledged: [0] });
    dueAcknowledgementNotices(s, T0 + WITHIN, WITHIN, AFTER);
    expect(startAttempt(s, 0, true).acknowledgedAt).toBe(T0 + H);
    const fresh = startAttempt(s, 1, true);
    expect(fresh.told).toBeUndefined();
    applySendOutcome(s, [1], 'accepted', T0 + 2 * WITHIN);
    expect(nextAcknowledgementDeadline(s, WITHIN, AFTER)).toBe(T0 + 3 * WITHIN);
  });
});

describe('issue 20: single use, the link of the attempt it came with, the counts', () => {
  test.each([
    ['a recipient not acknowledged yet, its current attempt', state(2), 0, 1, undefined],
    ['no such recipient', state(2), 5, 1, 'unknown'],
    ['acknowledged already', state(2, { acknowledged: [1] }), 1, 1, 'already'],
    [
      'an older attempt’s link',
      (() => {
        const s = state(1);
        startAttempt(s, 0, true);
        return s;
      })(),
      0,
      1,
      'replaced',
    ],
    [
      'the dispatch stopped listening',
      (() => {
        const s = state(1);
        s.completedAt = T0 + 72 * H;
        return s;
      })(),
      0,
      1,
      'finished',
    ],
  ])('%s', (_what, s, index, attempt, code) => {
    expect(acknowledgementRefusal(s, index, attempt)?.code).toBe(code);
  });

  test.each([
    [state(3), { acknowledged: 0, awaiting: 3 }],
    [state(3, { acknowledged: [0] }), { acknowledged: 1, awaiting: 2 }],
    [state(3, { acknowledged: [0], bounced: [2] }), { acknowledged: 1, awaiting: 1 }],
    // Acknowledged, then a late bounce: it still counts as acknowledged (the status says bounced).
    [state(1, { acknowledged: [0], bounced: [0] }), { acknowledged: 1, awaiting: 0 }],
  ])('counts %#', (s, expected) => {
    expect(acknowledgementCounts(s)).toEqual(expected);
  });
});

describe('issue 20: what the recipient may write', () => {
  const none = { name: null, deliveryDate: null, note: null };
  test.each([
    ['nothing at all', none, undefined],
    ['a name, a date, a note', { name: 'Sophie', deliveryDate: '2026-11-25', note: 'OK\nthanks' }, undefined],
    ['a name too long', { ...none, name: 'x'.repeat(121) }, ['name', 'too_long']],
    ['a note of 1000 characters', { ...none, note: 'x'.repeat(1000) }, undefined],
    ['a note of 1001 characters', { ...none, note: 'x'.repeat(1001) }, ['note', 'too_long']],
    ['a control character', { ...none, note: 'a\u0000b' }, ['note', 'control_characters']],
    ['a day that does not exist', { ...none, deliveryDate: '2026-02-31' }, ['deliveryDate', 'not_a_day']],
    ['not a day', { ...none, deliveryDate: 'tomorrow' }, ['deliveryDate', 'not_a_day']],
    ['a week ago', { ...none, deliveryDate: '2026-11-15' }, undefined],
    ['more than a week ago', { ...none, deliveryDate: '2026-11-14' }, ['deliveryDate', 'too_early']],
    ['in two years', { ...none, deliveryDate: '2028-11-21' }, undefined],
    ['beyond two years', { ...none, deliveryDate: '2028-11-23' }, ['deliveryDate', 'too_late']],
  ])('%s', (_what, fields, expected) => {
    const problem = acknowledgementFieldProblem(fields, '2026-11-22');
    expect(problem && [problem.field, problem.reason]).toEqual(expected);
  });

  test('without today (the workflow), only the shape of the day is checked', () => {
    expect(acknowledgementFieldProblem({ name: null, note: null, deliveryDate: '2099-01-01' })).toBeUndefined();
  });

  test.each([
    ['  Sophie  ', 'Sophie'],
    ['a\r\nb', 'a\nb'],
    ['   ', null],
    [undefined, null],
    [42, null],
  ])('typed %j is kept as %j', (value, expected) => {
    expect(typedValue(value)).toBe(expected);
  });

  test('the note and the history entry say what was written', () => {
    expect(acknowledgementNote({ deliveryDate: null, note: null })).toBeNull();
    expect(acknowledgementNote({ deliveryDate: '2026-11-25', note: 'back door' })).toBe(
      'delivery date: 2026-11-25; back door',
    );
    expect(acknowledgementWords({ by: 'a@x.test', name: 'Sophie', deliveryDate: null, note: 'ok' })).toBe(
      'receipt acknowledged by Sophie <a@x.test>; ok',
    );
  });

  test.each([
    ['po-1', 0, 1],
    ['po:with:colons', 999, 12],
    ['po-1~unknown-3', 7, 2],
  ])('the link names %s, recipient %i, attempt %i, and is read back', (dispatchId, index, attempt) => {
    expect(parseReceiptTarget(receiptTarget(dispatchId, index, attempt))).toEqual({ dispatchId, index, attempt });
  });
  test.each(['po-1', 'po-1:x.1', 'po-1:1', ':1.1'])('%j is no receipt target', (target) => {
    expect(parseReceiptTarget(target)).toBeUndefined();
  });
});

describe('issue 20: acknowledgement policies', () => {
  test.each([
    [{}, {}],
    [{ acknowledgeWithin: null }, {}],
    [{ acknowledgeWithin: 'PT24H' }, { acknowledgeWithinMs: 24 * H, acknowledgeEscalateAfterMs: 24 * H }],
    [
      { acknowledgeWithin: 'PT24H', acknowledgeEscalateAfter: 'PT4H' },
      { acknowledgeWithinMs: 24 * H, acknowledgeEscalateAfterMs: 4 * H },
    ],
  ])('%j in milliseconds', (set, expected) => {
    expect(acknowledgementPolicyMs(set)).toEqual(expected);
  });

  test.each([
    ['off', {}, {}, []],
    ['PT24H within the default P3D', { acknowledgeWithin: 'PT24H' }, {}, []],
    ['under the minimum', { acknowledgeWithin: 'PT5M' }, {}, ['policies.acknowledgeWithin']],
    [
      'a second period under the minimum',
      { acknowledgeEscalateAfter: 'PT1M' },
      {},
      ['policies.acknowledgeEscalateAfter'],
    ],
    ['past the listening window', { acknowledgeWithin: 'P2D' }, {}, ['policies.acknowledgeWithin']],
    [
      'a listening window shortened under them',
      { listenFor: 'P1D' },
      { acknowledgeWithin: 'PT24H' },
      ['policies.listenFor'],
    ],
    ['turned off: nothing to fit', { acknowledgeWithin: null }, { acknowledgeWithin: 'P5D' }, []],
  ])('%s', (_what, sent, current, fields) => {
    expect(policyProblems(sent, current).map((p) => p.field)).toEqual(fields);
  });
});
