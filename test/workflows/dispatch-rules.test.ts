// Rules D3–D9 through the real dispatch workflow, its activities stubbed (test/support/stubbed-workflows.ts),
// on the time-skipping test server: 72 hours of listening pass in a second or two. What is asserted
// is what the workflow asked its activities for: which notice about which recipients to whom on
// which channel, which statuses it wrote. The same rules against the whole stack: test/e2e/dispatch-rules.test.ts, test/timers/.
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { DispatchNoticeRequest, ProjectionRequest, SendRecipientsRequest } from '../../src/activities/dispatch';
import type { Person, RecipientEvent } from '../../src/domain/dispatch';
import {
  DISPATCH_WORKFLOW,
  dispatchWorkflowId,
  recipientEventsSignal,
  resendRecipientUpdate,
  type DispatchInput,
  type DispatchOutcome,
  type DispatchWorkflow,
} from '../../src/workflows/dispatch/contract';
import { startStubbedWorkflows, type StubbedWorkflows } from '../support/stubbed-workflows';
import { waitFor } from '../support/wait';

const TENANT = 'tenant-stubbed';
const HOUR = 3_600_000;
const buyer: Person = {
  name: 'Bruno Buyer',
  email: 'bruno@bistro.test',
  phone: '+33611111111',
  smsOptIn: false,
  whatsappOptIn: false,
};
const manager: Person = {
  name: 'Paula PM',
  email: 'paula@bistro.test',
  phone: '+33622222222',
  smsOptIn: true,
  whatsappOptIn: false,
};

/** Dispatches whose send the provider refuses (a 400: non-retryable). */
const refused = new Set<string>();
const recipientCounts = new Map<string, number>();
let workflows: StubbedWorkflows;

// A test server per test: one scenario's timers (72 hours skipped) never move another's clock, and
// the notice dispatches a scenario leaves running end with it.
beforeEach(async () => {
  workflows = await startStubbedWorkflows({
    sendRecipients: (request: SendRecipientsRequest) => {
      if (refused.has(request.dispatchId))
        throw ApplicationFailure.nonRetryable(
          '400 Bad Request: the from address does not match a verified Sender Identity',
          'ProviderRefused',
        );
      const accepted = request.first
        ? [...Array(recipientCounts.get(request.dispatchId) ?? 1).keys()]
        : (request.resends ?? []).map((r) => r.index);
      return { batch: `${request.dispatchId}/send`, documents: [0], accepted, sent: [], notSent: [] };
    },
    projectDispatch: () => undefined,
    recordDispatchNotice: () => undefined,
    recordDocumentLink: () => ({ expiresAt: new Date(Date.now() + 7 * 24 * HOUR).toISOString() }),
  });
});
afterEach(async () => {
  await workflows?.close();
});

function input(dispatchId: string, recipientCount: number): DispatchInput {
  recipientCounts.set(dispatchId, recipientCount);
  return {
    tenantId: TENANT,
    dispatchId,
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: 'purchase_order',
    locale: 'en',
    timeZone: 'Europe/Paris',
    document: { type: 'purchase_order', number: `PO-${dispatchId}` },
    sender: { ...buyer, outletId: 'paris-1' },
    escalateTo: [buyer, manager],
    recipientCount,
    policy: { unknownAfterMs: 30 * 60_000, listenForMs: 72 * HOUR },
    dispatchUrl: `https://relais.test/ui/dispatches/${dispatchId}`,
    parentWorkflowId: null,
  };
}

async function start(dispatchId: string, recipientCount: number): Promise<WorkflowHandle<DispatchWorkflow>> {
  const handle = await workflows.env.client.workflow.start<DispatchWorkflow>(DISPATCH_WORKFLOW, {
    taskQueue: workflows.taskQueue,
    workflowId: dispatchWorkflowId(TENANT, dispatchId),
    args: [input(dispatchId, recipientCount)],
  });
  // Events come after the provider took the message.
  await waitFor('the send', () => sendsOf(dispatchId).length > 0);
  return handle;
}

let batches = 0;
const events = (
  handle: WorkflowHandle,
  ...list: Array<Omit<RecipientEvent, 'at' | 'attempt'> & { attempt?: number }>
) =>
  handle.signal(recipientEventsSignal, {
    batch: `batch-${(batches += 1)}`,
    events: list.map((e) => ({ attempt: 1, at: Date.now(), ...e })),
  });

const sendsOf = (dispatchId: string): SendRecipientsRequest[] =>
  workflows.callsOf('sendRecipients').filter((r) => r.dispatchId === dispatchId);
const noticesOf = (dispatchId: string): DispatchNoticeRequest[] =>
  workflows.callsOf('recordDispatchNotice').filter((r) => r.dispatchId === dispatchId);
const projectionsOf = (dispatchId: string): ProjectionRequest[] =>
  workflows.callsOf('projectDispatch').filter((r) => r.dispatchId === dispatchId);
/** Each notice as whom it told on which channel. */
const told = (notice: DispatchNoticeRequest) => notice.children.map((c) => `${c.person.email} ${c.channel}`);
/** The latest status the projection wrote for a recipient. */
const writtenStatus = (dispatchId: string, index: number) =>
  projectionsOf(dispatchId)
    .flatMap((p) => p.recipients)
    .filter((r) => r.index === index)
    .at(-1);
const finished = async (handle: WorkflowHandle<DispatchWorkflow>) => (await handle.result()) as DispatchOutcome;

test('rule D4: every recipient bounced: the buyer and the purchasing manager are told at once, by SMS too to the one who opted in', async () => {
  const handle = await start('d4', 2);
  await events(
    handle,
    { index: 0, type: 'bounce', reasonCode: 'invalid_address' },
    { index: 1, type: 'dropped', reasonCode: 'suppressed' },
  );
  const [notice] = await waitFor('the escalation', () => noticesOf('d4').length && noticesOf('d4'));
  expect(notice.notice).toEqual({ kind: 'escalation', failed: [0, 1] });
  expect(told(notice)).toEqual(['bruno@bistro.test email', 'paula@bistro.test email', 'paula@bistro.test sms']);
  // The log is written before the notice that is built from it.
  const before = workflows.calls.findIndex((c) => c.name === 'recordDispatchNotice' && c.arg.dispatchId === 'd4');
  const written = workflows.calls
    .slice(0, before)
    .flatMap((c) => (c.name === 'projectDispatch' && c.arg.dispatchId === 'd4' ? [c.arg] : []));
  expect(written.at(-1)!.dispatch).toMatchObject({
    result: 'error',
    counts: { bounced: 1, dropped: 1 },
    attention: [0, 1],
  });

  expect(await finished(handle)).toEqual({ result: 'error', counts: { bounced: 1, dropped: 1 } });
  expect(noticesOf('d4')).toHaveLength(1); // once
  // Each person and channel is a dispatch of its own (a notice is tracked like any dispatch).
  expect(notice.children.map((c) => c.dispatchId)).toEqual(['d4~escalation-1', 'd4~escalation-2', 'd4~escalation-3']);
  await waitFor('the notices sent', () => notice.children.every((c) => sendsOf(c.dispatchId).length === 1));
});

test('rule D5: one address bounced, the other delivered: the buyer alone is asked to fix it, by email', async () => {
  const handle = await start('d5', 2);
  await events(handle, { index: 0, type: 'delivered' }, { index: 1, type: 'bounce', reasonCode: 'mailbox_full' });
  const [notice] = await waitFor('the fix request', () => noticesOf('d5').length && noticesOf('d5'));
  expect(notice.notice).toEqual({ kind: 'partial_failure', failed: [1], delivered: [0] });
  expect(told(notice)).toEqual(['bruno@bistro.test email']);
  expect(await finished(handle)).toEqual({ result: 'alert', counts: { delivered: 1, bounced: 1 } });
  expect(noticesOf('d5')).toHaveLength(1);
});

test('rule D3: no confirmation within 30 minutes: unknown, and the buyer is told once', async () => {
  const handle = await start('d3', 1);
  await workflows.env.sleep('29 minutes');
  expect(noticesOf('d3')).toHaveLength(0);
  await workflows.env.sleep('2 minutes');
  const [notice] = await waitFor('the unknown notice', () => noticesOf('d3').length && noticesOf('d3'));
  expect(notice.notice).toEqual({ kind: 'unknown', pending: [0] });
  expect(told(notice)).toEqual(['bruno@bistro.test email']);
  expect(projectionsOf('d3').flatMap((p) => p.decided)).toContainEqual(
    expect.objectContaining({ index: 0, attempt: 1, event: 'no_confirmation' }),
  );
  expect(writtenStatus('d3', 0)).toMatchObject({ status: 'unknown', reasonCode: 'no_confirmation' });
  expect(await finished(handle)).toEqual({ result: 'unknown', counts: { unknown: 1 } });
  expect(noticesOf('d3')).toHaveLength(1);
});

test('rule D6: deferred, then delivered: the buyer hears it arrived after all', async () => {
  const handle = await start('d6', 1);
  await events(handle, { index: 0, type: 'deferred' });
  await waitFor('deferred written', () => writtenStatus('d6', 0)?.status === 'deferred');
  expect(writtenStatus('d6', 0)).toMatchObject({ reasonCode: 'temporarily_refused' });
  await events(handle, { index: 0, type: 'delivered' });
  const [notice] = await waitFor('the delivered update', () => noticesOf('d6').length && noticesOf('d6'));
  expect(notice.notice).toEqual({ kind: 'delivered_update', delivered: [0] });
  expect(told(notice)).toEqual(['bruno@bistro.test email']);
  expect(await finished(handle)).toEqual({ result: 'delivered', counts: { delivered: 1 } });
});

test('rules D3 and D7: still deferred after 30 minutes: the buyer is told; when the window closes it is dropped and escalated (D4)', async () => {
  const handle = await start('d7-deferred', 1);
  await events(handle, { index: 0, type: 'deferred' });
  await workflows.env.sleep('31 minutes');
  const [deferred] = await waitFor(
    'the deferred notice',
    () => noticesOf('d7-deferred').length && noticesOf('d7-deferred'),
  );
  expect(deferred.notice).toEqual({ kind: 'deferred', deferred: [0] });
  expect(told(deferred)).toEqual(['bruno@bistro.test email']);
  expect(writtenStatus('d7-deferred', 0)?.status).toBe('deferred');

  expect(await finished(handle)).toEqual({ result: 'error', counts: { dropped: 1 } });
  const [, escalation] = noticesOf('d7-deferred');
  expect(escalation.notice).toEqual({ kind: 'escalation', failed: [0] });
  expect(told(escalation)).toEqual(['bruno@bistro.test email', 'paula@bistro.test email', 'paula@bistro.test sms']);
  const last = projectionsOf('d7-deferred').at(-1)!;
  expect(last).toMatchObject({
    final: true,
    recipients: [expect.objectContaining({ index: 0, status: 'dropped', reasonCode: 'retries_expired' })],
  });
  expect(last.dispatch.completedAt! - last.dispatch.sentAt!).toBeGreaterThanOrEqual(72 * HOUR);
});

test('rule D7: a bounce hours after delivered still counts: escalated', async () => {
  const handle = await start('d7-late', 1);
  await events(handle, { index: 0, type: 'delivered' });
  await waitFor('delivered written', () => writtenStatus('d7-late', 0)?.status === 'delivered');
  await workflows.env.sleep('10 hours');
  expect(noticesOf('d7-late')).toHaveLength(0);
  await events(handle, { index: 0, type: 'bounce', reasonCode: 'invalid_address' });
  const [notice] = await waitFor('the escalation', () => noticesOf('d7-late').length && noticesOf('d7-late'));
  expect(notice.notice).toEqual({ kind: 'escalation', failed: [0] });
  expect(await finished(handle)).toEqual({ result: 'error', counts: { bounced: 1 } });
});

test('rule D9 failed: the provider refused the request: nothing sent, the buyer and the manager are told why, and the dispatch ends', async () => {
  refused.add('d9');
  const handle = await workflows.env.client.workflow.start<DispatchWorkflow>(DISPATCH_WORKFLOW, {
    taskQueue: workflows.taskQueue,
    workflowId: dispatchWorkflowId(TENANT, 'd9'),
    args: [input('d9', 2)],
  });
  expect(await finished(handle)).toEqual({ result: 'failed', counts: { not_sent: 2 } });
  const [notice] = noticesOf('d9');
  expect(notice.notice).toEqual({ kind: 'failed', reasonCode: 'request_refused', recipientCount: 2 });
  expect(told(notice)).toEqual(['bruno@bistro.test email', 'paula@bistro.test email', 'paula@bistro.test sms']);
  const written = projectionsOf('d9');
  expect(written.flatMap((p) => p.decided).map((d) => [d.index, d.event, d.reasonCode])).toEqual([
    [0, 'refused', 'request_refused'],
    [1, 'refused', 'request_refused'],
  ]);
  expect(written.find((p) => p.refusal)?.refusal).toMatch(/verified Sender Identity/);
});

test('rule D8: a bounced recipient resent to a corrected address is a new attempt; an event of the old attempt no longer moves it', async () => {
  const handle = await start('d8', 1);
  await events(handle, { index: 0, type: 'bounce', reasonCode: 'invalid_address' });
  await waitFor('the escalation', () => noticesOf('d8').length);
  const answer = await handle.executeUpdate(resendRecipientUpdate, {
    args: [{ index: 0, recipientId: 'r1', address: 'fixed@acme.test', requestedBy: 'ops' }],
  });
  expect(answer).toEqual({ index: 0, attempt: 2, status: 'queued' });
  expect(sendsOf('d8')[1]).toMatchObject({
    resends: [{ index: 0, attempt: 2, address: 'fixed@acme.test', requestedBy: 'ops' }],
  });
  expect(writtenStatus('d8', 0)).toMatchObject({ attempt: 2, status: 'queued', address: 'fixed@acme.test' });
  await events(
    handle,
    { index: 0, attempt: 1, type: 'bounce', reasonCode: 'invalid_address' },
    { index: 0, attempt: 2, type: 'delivered' },
  );
  expect(await finished(handle)).toEqual({ result: 'delivered', counts: { delivered: 1 } });
  expect(noticesOf('d8')).toHaveLength(1);
});
