// The first version's rules D3–D7 as pure steps (frozen with it: src/domain/legacy/dispatch-v1.ts), still run by dispatches it started.
import {
  applyEvents,
  dueNotices,
  initialState,
  markUnknown,
  nextUnknownDeadline,
  type DispatchState,
} from '../../src/domain/legacy/dispatch-v1';
import type { ProviderEvent } from '../../src/providers/types';

const T0 = Date.parse('2026-11-22T10:00:00Z');
let n = 0;
const ev = (recipientId: string, type: ProviderEvent['type'], extra: Partial<ProviderEvent> = {}): ProviderEvent => ({
  eventId: `e${++n}`,
  provider: 'sendgrid',
  recipientId,
  type,
  at: new Date(T0).toISOString(),
  ...extra,
});

function sent(addresses: string[]): DispatchState {
  const state = initialState({
    recipients: addresses.map((a, i) => ({ recipientId: `r${i + 1}`, address: a, name: null })),
  });
  state.recipients.forEach((r) => {
    r.sentAt = new Date(T0).toISOString();
  });
  return state;
}

test('D4: every recipient bounced → error and one escalation naming them', () => {
  const s = sent(['a@x.test', 'b@x.test']);
  applyEvents(s, [
    ev('r1.1', 'bounce', { response: '550 5.1.1 user unknown', classification: 'Invalid Address' }),
    ev('r2.1', 'dropped', { reason: 'Bounced Address' }),
  ]);
  expect(s.result).toBe('error');
  const notices = dueNotices(s);
  expect(notices).toHaveLength(1);
  expect(notices[0]).toMatchObject({ kind: 'escalation' });
  expect(notices[0].kind === 'escalation' && notices[0].failed.map((r) => r.reasonCode)).toEqual([
    'invalid_address',
    'suppressed',
  ]);
  expect(dueNotices(s)).toHaveLength(0); // once
});

test('D5: one bounced, one delivered → alert, a fix request, no escalation', () => {
  const s = sent(['a@x.test', 'b@x.test']);
  applyEvents(s, [ev('r1.1', 'delivered'), ev('r2.1', 'bounce', { classification: 'Invalid Address' })]);
  expect(s.result).toBe('alert');
  expect(dueNotices(s).map((x) => x.kind)).toEqual(['partial_failure']);
  expect(dueNotices(s)).toHaveLength(0);
});

test('D7: a late bounce after an alert turns it into an escalation', () => {
  const s = sent(['a@x.test', 'b@x.test']);
  applyEvents(s, [ev('r1.1', 'delivered'), ev('r2.1', 'bounce')]);
  dueNotices(s);
  applyEvents(s, [ev('r1.1', 'bounce', { response: '550 late' })]);
  expect(s.result).toBe('error');
  expect(dueNotices(s).map((x) => x.kind)).toEqual(['escalation']);
});

test('D6: deferred then delivered → one update', () => {
  const s = sent(['a@x.test']);
  applyEvents(s, [ev('r1.1', 'processed'), ev('r1.1', 'deferred')]);
  expect(s.recipients[0].status).toBe('deferred');
  expect(dueNotices(s)).toHaveLength(0);
  applyEvents(s, [ev('r1.1', 'delivered')]);
  expect(dueNotices(s).map((x) => x.kind)).toEqual(['delivered_update']);
  expect(dueNotices(s)).toHaveLength(0);
});

test('N3/D2: a replayed event changes nothing; out-of-order events never undo delivered', () => {
  const s = sent(['a@x.test']);
  const delivered = ev('r1.1', 'delivered');
  applyEvents(s, [delivered]);
  expect(applyEvents(s, [delivered])).toBe(false);
  applyEvents(s, [ev('r1.1', 'processed')]);
  expect(s.recipients[0].status).toBe('delivered');
  expect(s.recipients[0].history).toHaveLength(2);
});

test('D8: events of an older attempt are kept but do not move the new attempt', () => {
  const s = sent(['a@x.test']);
  s.recipients[0].attempt = 2;
  s.recipients[0].status = 'queued';
  applyEvents(s, [ev('r1.1', 'bounce')]);
  expect(s.recipients[0].status).toBe('queued');
  expect(s.recipients[0].history[0].event).toBe('bounce (attempt 1)');
});

test('D3: at the deadline, unconfirmed recipients become unknown and are reported once; deferred stays', () => {
  const s = sent(['a@x.test', 'b@x.test', 'c@x.test']);
  applyEvents(s, [ev('r1.1', 'processed'), ev('r2.1', 'delivered'), ev('r3.1', 'deferred')]);
  expect(nextUnknownDeadline(s, 1_800_000)).toBe(T0 + 1_800_000);
  expect(markUnknown(s, T0 + 1_799_999, 1_800_000)).toHaveLength(0);
  const overdue = markUnknown(s, T0 + 1_800_000, 1_800_000);
  expect(overdue.map((r) => r.address)).toEqual(['a@x.test']);
  expect(s.recipients.map((r) => r.status)).toEqual(['unknown', 'delivered', 'deferred']);
  expect(s.result).toBe('unknown');
  expect(markUnknown(s, T0 + 3_600_000, 1_800_000)).toHaveLength(0);
  applyEvents(s, [ev('r1.1', 'delivered')]);
  expect(s.recipients[0].status).toBe('delivered');
});
