// The dispatch run's steps (src/domain/dispatch-run.ts) as the workflow drives them: what each
// step changes, which notices it calls for, what the next projection write carries, when the run
// wakes up. Table-driven; the workflow itself: test/workflows/dispatch-rules.test.ts.
import { DispatchRun, PROJECTION_DELAY_MS, PROJECTION_MAX_BATCHES } from '../../src/domain/dispatch-run';
import {
  moveRecipient,
  noticeAudience,
  type Person,
  type RecipientEvent,
  type RecipientState,
} from '../../src/domain/dispatch';
import type { ProviderEventType } from '../../src/providers/types';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const policy = { unknownAfterMs: 30 * MIN, listenForMs: 72 * HOUR };
const ev = (index: number, type: ProviderEventType, extra: Partial<RecipientEvent> = {}): RecipientEvent => ({
  index,
  attempt: 1,
  type,
  at: T0,
  ...extra,
});

/** A run of `count` recipients the provider accepted at T0, its first write taken. */
function accepted(count: number): DispatchRun {
  const run = new DispatchRun(count, policy);
  const all = [...Array(count).keys()];
  run.sent({ batch: 'send', documents: [0], accepted: all, sent: [], notSent: [] }, true, T0);
  all.forEach((i) => run.touch(i, T0));
  run.takeWrite();
  return run;
}

describe("one place changes a recipient's status", () => {
  const cases: Array<
    [string, RecipientState, Parameters<typeof moveRecipient>[1], Parameters<typeof moveRecipient>[2], RecipientState]
  > = [
    [
      'a failure carries its reason',
      { status: 'processed', attempt: 1 },
      'bounced',
      'invalid_address',
      { status: 'bounced', attempt: 1, reasonCode: 'invalid_address' },
    ],
    [
      'D3: unknown carries no_confirmation',
      { status: 'queued', attempt: 1, sentAt: T0 },
      'unknown',
      'no_confirmation',
      { status: 'unknown', attempt: 1, sentAt: T0, reasonCode: 'no_confirmation' },
    ],
    [
      'one that moved on keeps no earlier reason',
      { status: 'unknown', attempt: 1, reasonCode: 'no_confirmation' },
      'delivered',
      undefined,
      { status: 'delivered', attempt: 1 },
    ],
  ];
  test.each(cases)('%s', (_, before, status, reasonCode, after) => {
    const r = { ...before };
    moveRecipient(r, status, reasonCode);
    expect(r).toEqual(after);
  });
});

describe('the steps of a run: statuses, notices, what the next write carries', () => {
  type Case = {
    name: string;
    count: number;
    steps: (run: DispatchRun) => unknown;
    statuses: string[];
    result: string;
    notices?: unknown;
    decided?: unknown[];
  };
  const cases: Case[] = [
    {
      name: 'D4: every recipient bounced → escalation, both written',
      count: 2,
      steps: (run) => {
        run.applySignal(
          { batch: 'b1', events: [ev(0, 'bounce', { reasonCode: 'invalid_address' }), ev(1, 'dropped')] },
          T0 + MIN,
        );
        return run.deadlines(T0 + MIN, true);
      },
      statuses: ['bounced', 'dropped'],
      result: 'error',
      notices: [{ kind: 'escalation', failed: [0, 1] }],
    },
    {
      name: 'D5: one bounced, one delivered → partial failure',
      count: 2,
      steps: (run) => {
        run.applySignal({ batch: 'b1', events: [ev(0, 'delivered'), ev(1, 'bounce')] }, T0 + MIN);
        return run.deadlines(T0 + MIN, true);
      },
      statuses: ['delivered', 'bounced'],
      result: 'alert',
      notices: [{ kind: 'partial_failure', failed: [1], delivered: [0] }],
    },
    {
      name: 'D3: nothing heard by the delay → unknown, told once, no_confirmation decided',
      count: 1,
      steps: (run) => [
        run.deadlines(T0 + 29 * MIN, true),
        run.deadlines(T0 + 30 * MIN, true),
        run.deadlines(T0 + 31 * MIN, true),
      ],
      statuses: ['unknown'],
      result: 'unknown',
      notices: [[], [{ kind: 'unknown', pending: [0] }], []],
      decided: [{ index: 0, attempt: 1, event: 'no_confirmation', at: T0 + 30 * MIN }],
    },
    {
      name: 'D3 (issue 16): still deferred at the delay → told, stays deferred; without the patch, nothing',
      count: 2,
      steps: (run) => {
        run.applySignal({ batch: 'b1', events: [ev(0, 'deferred'), ev(1, 'deferred')] }, T0 + MIN);
        return run.deadlines(T0 + 30 * MIN, true);
      },
      statuses: ['deferred', 'deferred'],
      result: 'processed',
      notices: [{ kind: 'deferred', deferred: [0, 1] }],
    },
    {
      name: 'D7: the window closes on a deferred one → dropped (retries_expired), escalated',
      count: 1,
      steps: (run) => {
        run.applySignal({ batch: 'b1', events: [ev(0, 'deferred')] }, T0 + MIN);
        return run.closeWindow(T0 + 72 * HOUR);
      },
      statuses: ['dropped'],
      result: 'error',
      notices: [{ kind: 'escalation', failed: [0] }],
    },
    {
      name: 'D9 failed: the request refused → not sent, refused decided with the reason',
      count: 2,
      steps: (run) => {
        run.sendFailed([0, 1], true, { code: 'request_refused', cause: '400 Bad Request' }, T0 + MIN);
        [0, 1].forEach((i) => run.touch(i, T0 + MIN));
      },
      statuses: ['not_sent', 'not_sent'],
      result: 'failed',
      decided: [0, 1].map((index) => ({
        index,
        attempt: 1,
        event: 'refused',
        at: T0 + MIN,
        reasonCode: 'request_refused',
      })),
    },
  ];
  test.each(cases)('$name', ({ count, steps, statuses, result, notices, decided }) => {
    const run = accepted(count);
    const said = steps(run);
    expect(run.state.recipients.map((r) => r.status)).toEqual(statuses);
    expect(run.state.result).toBe(result);
    if (notices !== undefined) expect(said).toEqual(notices);
    const write = run.takeWrite();
    expect(write.dispatch.result).toBe(result);
    if (decided !== undefined) expect(write.decided).toEqual(decided);
    expect(write.recipients.map((r) => r.status)).toEqual(statuses);
  });

  test('D3 (issue 16) without the patch: a deferred recipient past the delay is not reported', () => {
    const run = accepted(1);
    run.applySignal({ batch: 'b1', events: [ev(0, 'deferred')] }, T0 + MIN);
    expect(run.deadlines(T0 + 30 * MIN, false)).toEqual([]);
  });
});

describe('what a write carries', () => {
  test('only what changed since the last one, the event batches by document, and the version', () => {
    const run = accepted(60);
    run.applySignal({ batch: 'b1', events: [ev(1, 'delivered'), ev(30, 'bounce')] }, T0 + MIN);
    run.applySignal({ batch: 'b2', events: [ev(1, 'open')] }, T0 + MIN);
    const write = run.takeWrite();
    expect(write.version).toBe(2);
    expect(write.recipients.map((r) => [r.index, r.status, r.opened ?? false])).toEqual([
      [1, 'delivered', true],
      [30, 'bounced', false],
    ]);
    expect(write.histories).toEqual([
      { document: 0, batches: ['b1', 'b2'] },
      { document: 1, batches: ['b1'] },
    ]);
    expect(write.dispatch).toMatchObject({
      sentAt: T0,
      counts: { queued: 58, delivered: 1, bounced: 1 },
      opened: 1,
      attention: [30],
    });
    expect(run.takeWrite()).toMatchObject({ version: 3, recipients: [], histories: [], decided: [] });
  });

  test("D8: a resend's new address goes with its recipient; the final write lists every recipient", () => {
    const run = accepted(3);
    run.touch(2, T0 + MIN, 'fixed@acme.test');
    run.touch(2, T0 + MIN);
    expect(run.takeWrite().recipients).toEqual([expect.objectContaining({ index: 2, address: 'fixed@acme.test' })]);
    run.complete(T0 + 72 * HOUR);
    const last = run.takeWrite({ final: true });
    expect(last).toMatchObject({ final: true, dispatch: { completedAt: T0 + 72 * HOUR } });
    expect(last.recipients.map((r) => r.index)).toEqual([0, 1, 2]);
  });
});

describe('when the run wakes up with nothing coming in', () => {
  const cases: Array<[string, (run: DispatchRun) => void, number]> = [
    ['nothing pending: the D3 deadline', () => undefined, T0 + 30 * MIN],
    [
      'an event not written yet: the write delay',
      (run) => run.applySignal({ batch: 'b1', events: [ev(0, 'processed')] }, T0 + MIN),
      T0 + MIN + PROJECTION_DELAY_MS,
    ],
    [
      'every recipient final: the end of the window (D7)',
      (run) => {
        run.applySignal({ batch: 'b1', events: [ev(0, 'delivered')] }, T0 + MIN);
        run.takeWrite();
      },
      T0 + 72 * HOUR,
    ],
  ];
  test.each(cases)('%s', (_, steps, wakeAt) => {
    const run = accepted(1);
    steps(run);
    expect(run.wakeAt(T0 + MIN)).toBe(wakeAt);
  });

  test('a burst is written once the delay passed, or at once past PROJECTION_MAX_BATCHES batches', () => {
    const run = accepted(1);
    run.applySignal({ batch: 'b1', events: [ev(0, 'processed')] }, T0);
    expect(run.writeDue(T0 + PROJECTION_DELAY_MS - 1)).toBe(false);
    expect(run.writeDue(T0 + PROJECTION_DELAY_MS)).toBe(true);
    run.takeWrite();
    for (let i = 0; i < PROJECTION_MAX_BATCHES; i += 1)
      run.applySignal({ batch: `b${i}`, events: [ev(0, 'open')] }, T0 + 1);
    expect(run.writeDue(T0 + 1)).toBe(true);
  });

  test('D7: it listens until the window passed since the last send, unless the provider refused the request', () => {
    const run = accepted(1);
    expect(run.listening(T0 + 72 * HOUR - 1)).toBe(true);
    expect(run.listening(T0 + 72 * HOUR)).toBe(false);
    run.sendFailed([0], true, { code: 'request_refused', cause: '400' }, T0 + MIN);
    expect(run.listening(T0 + MIN)).toBe(false);
  });
});

describe('whom a notice goes to, on which channels', () => {
  const sender: Person = {
    name: 'Bruno',
    email: 'bruno@bistro.test',
    phone: '+33611111111',
    smsOptIn: true,
    whatsappOptIn: true,
  };
  const manager: Person = {
    name: 'Paula',
    email: 'paula@bistro.test',
    phone: '+33622222222',
    smsOptIn: false,
    whatsappOptIn: true,
  };
  const noPhone: Person = { ...manager, phone: null };
  const cases: Array<[string, Parameters<typeof noticeAudience>[0], Person[], string[]]> = [
    [
      'D4: the escalation to both, by SMS/WhatsApp too to who opted in',
      'escalation',
      [sender, manager],
      ['Bruno email', 'Bruno sms', 'Bruno whatsapp', 'Paula email', 'Paula whatsapp'],
    ],
    [
      'D9 failed: the same people and channels',
      'failed',
      [sender, noPhone],
      ['Bruno email', 'Bruno sms', 'Bruno whatsapp', 'Paula email'],
    ],
    ['D5: the sender only, by email', 'partial_failure', [sender, manager], ['Bruno email']],
    ['D3: the sender only, by email', 'unknown', [sender, manager], ['Bruno email']],
  ];
  test.each(cases)('%s', (_, kind, escalateTo, expected) => {
    expect(noticeAudience(kind, sender, escalateTo).map((a) => `${a.person.name} ${a.channel}`)).toEqual(expected);
  });

  test('each person and channel is a dispatch of its own, numbered across the run', () => {
    const run = accepted(1);
    const ids = (kind: 'escalation' | 'unknown') =>
      run
        .noticeChildren('po-1', kind === 'escalation' ? { kind, failed: [0] } : { kind, pending: [0] }, sender, [
          sender,
          manager,
        ])
        .map((c) => c.dispatchId);
    expect(ids('unknown')).toEqual(['po-1~unknown-1']);
    expect(ids('escalation')).toEqual([
      'po-1~escalation-2',
      'po-1~escalation-3',
      'po-1~escalation-4',
      'po-1~escalation-5',
      'po-1~escalation-6',
    ]);
  });
});
