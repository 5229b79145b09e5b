// Rule of upgrades (docs/deploy.md): a dispatch started by the first version of the dispatch
// workflow, on a worker running that version, is finished by a worker running this one — the
// events that arrive in between, the rules (D5), a resend (D8) and the listening window (D7) —
// with its record of the first version's shape read by the API. No workflow task fails.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { QUIET_BUNDLER_LOGGER } from '../../src/worker';
import { dispatchWorkflowId } from '../../src/workflows/dispatch/contract';
import type { DispatchInput as DispatchInputV1 } from '../../src/domain/legacy/dispatch-v1';
import { purchaseOrder, startStack, type Stack } from '../support/stack';
import { temporal } from '@temporalio/proto';

const UNHANDLED_COMMAND = temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND;

let stack: Stack;
let firstVersion: WorkflowBundle;
beforeAll(async () => {
  [stack, firstVersion] = await Promise.all([
    // Events a second apart: some reach the first version's worker, the rest the upgraded one.
    startStack({ worker: false, eventDelayMs: 1000, policies: { unknownAfter: 'PT5M', listenFor: 'PT40S' } }),
    bundleWorkflowCode({
      workflowsPath: require.resolve(join(__dirname, 'first-version', 'workflows.ts')),
      logger: QUIET_BUNDLER_LOGGER,
    }),
  ]);
});
afterAll(async () => {
  await stack?.close();
});

const BUYER = 'bruno.buyer@bistro.test';
const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;

test('a dispatch started on the first version finishes on this one: events, D5 notice, D8 resend, D7 window', async () => {
  const id = `v1-${randomBytes(3).toString('hex')}`;
  const body = purchaseOrder(id, ['ok@acme.test', 'typo+bounce@acme.test', 'slow+deferok@acme.test']);
  // What the first version's API started: every recipient, the template and its data in the input.
  const input: DispatchInputV1 = {
    tenantId: stack.tenantId,
    dispatchId: id,
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: body.template,
    data: body.data,
    locale: 'en',
    timeZone: 'Europe/Paris',
    tenantName: 'Bistro Demo',
    document: body.document,
    sender: { ...body.sender, phone: null, smsOptIn: false, whatsappOptIn: false },
    escalateTo: [{ ...body.sender, phone: null, smsOptIn: false, whatsappOptIn: false }],
    recipients: body.recipients.map((r, i) => ({ recipientId: `r${i + 1}`, address: r.email, name: null })),
    requestedBy: 'test',
    policy: { unknownAfterMs: 300_000, listenForMs: 40_000 },
    dispatchUrl: `${stack.apiUrl}/v1/dispatches/${id}`,
    parentWorkflowId: null,
  };
  await stack.startWorker(firstVersion);
  const handle = await stack.client.workflow.start('dispatch', {
    workflowId: dispatchWorkflowId(stack.tenantId, id),
    taskQueue: stack.taskQueue,
    args: [input],
  });
  // The first version records, sends and applies the first events…
  await stack.waitFor(
    'processed on the first version',
    async () => (await get(id))?.recipients?.every((r: any) => r.status === 'processed'),
    60_000,
  );
  await stack.stopWorker();
  // …the rest arrive while no worker runs (the API of this version signals them as that version expects)…
  await stack.waitFor(
    "the provider's events sent",
    async () =>
      stack.sandbox
        .messages({ to: 'slow+deferok@acme.test' })[0]
        ?.events.some((e) => e.type === 'delivered' && e.outcome === 'delivered'),
    60_000,
  );
  // …and the upgraded worker takes over.
  await stack.startWorker();
  await stack.waitFor('alert (D5)', async () => (await get(id))?.result === 'alert', 60_000);
  await stack.waitFor(
    'the fix request and the delivered update',
    async () => stack.sandbox.messages({ to: BUYER }).length === 2,
    60_000,
  );
  const told = stack.sandbox.messages({ to: BUYER });
  expect(told.map((m) => m.subject)).toEqual(
    expect.arrayContaining([expect.stringMatching(/correct/i), expect.stringMatching(/Now delivered/)]),
  );
  expect(told.find((m) => /correct/i.test(m.subject ?? ''))!.text).toContain('typo+bounce@acme.test');

  // The first version's record, read through this version's API: statuses and histories.
  const d = await get(id);
  expect(d.recipients.map((r: any) => r.status)).toEqual(['delivered', 'bounced', 'delivered']);
  expect(d.recipients[1].history.map((h: any) => h.event)).toEqual(['accepted', 'processed', 'bounce']);
  expect(d).toMatchObject({ recipientCount: 3, counts: { delivered: 2, bounced: 1 } });
  const row = (await stack.request('GET', '/v1/dispatches')).body.dispatches.find((r: any) => r.dispatchId === id);
  expect(row).toMatchObject({
    result: 'alert',
    recipientCount: 3,
    failures: [expect.objectContaining({ address: 'typo+bounce@acme.test', status: 'bounced' })],
  });

  // D8 on the first version's dispatch, through this version's API.
  const resent = await stack.request('POST', `/v1/dispatches/${id}/recipients/r2/resend`, { email: 'typo@acme.test' });
  expect(resent.status).toBe(200);
  expect(resent.body.recipient).toMatchObject({ address: 'typo@acme.test' });
  await stack.waitFor('delivered after the resend', async () => (await get(id))?.result === 'delivered', 60_000);

  // D7: it listens to its window's end, then completes; no workflow task ever failed.
  expect((await handle.result()).result).toBe('delivered');
  const history = (await handle.fetchHistory()).events ?? [];
  // A signal landing while a task completes fails that task with UNHANDLED_COMMAND by design (the
  // worker runs it again, signal included); any other cause (nondeterminism above all) is a failure.
  const benign = [UNHANDLED_COMMAND, 'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND'] as unknown[];
  expect(
    history.filter(
      (e) => e.workflowTaskFailedEventAttributes && !benign.includes(e.workflowTaskFailedEventAttributes.cause),
    ),
  ).toEqual([]);
  expect((await get(id)).completedAt).toBeTruthy();
}, 300_000);
