// FROZEN: the first version of the dispatch workflow, which carried every recipient (address,
// name, whole status history) and a seen-set of event ids in its state, sent all of it to
// MongoDB on every batch and across continue-as-new (issue 15: at 1000 recipients Temporal
// terminates it). A run started by that version keeps running this code to its end, on the
// activities it used (src/activities/legacy/dispatch-v1.ts); src/workflows/dispatch/workflow.ts routes
// it here. Changes from the version it was: names (dispatchV1, *V1), import paths, the child
// workflow type given as a string, and one fix behind patched() (events waiting in the inbox
// are applied before continue-as-new; the first version dropped them). docs/deploy.md says
// when this file can be deleted.
import {
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  ActivityFailure,
} from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import {
  applyEvents,
  documentLabel,
  dueNotices,
  initialState,
  markUnknown,
  nextUnknownDeadline,
  routingId,
  type DispatchInput,
  type DispatchState,
  type Notice,
  type Person,
  type RecipientState,
} from '../../domain/legacy/dispatch-v1';
import { dispatchResult, isFailure } from '../../domain/dispatch-status';
import { nextStep, plainReason } from '../../domain/reasons';
import { durationInWords } from '../../domain/durations';
import { carriesSecrets, NO_RESEND_OF_SECRETS } from '../../domain/secrets';
import { E164_EXAMPLE, E164_PATTERN } from '../../domain/phone';
import { FINISHED, invalidField, REFUSED, refuseUpdate } from '../failure-types';
import type { ProviderEvent } from '../../providers/types';

type Activities = ReturnType<typeof createActivities>;

const { prepareDispatch, saveDispatchState, createDocumentLink } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Sending: provider 4xx is non-retryable (thrown as such by the provider layer), 429 waits for
// the provider's reset, 5xx and network errors wait as long as the send has been failing (the
// activity sets each delay, domain/retry.ts); after a day we stop and say so. The policy's own
// backoff is left for attempts that time out: a send that outlives the provider's own 30-second
// timeout means the worker died, so the next attempt comes within a minute whatever its number.
const { sendDispatch } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

import {
  dispatchStateQueryV1,
  markSentUpdateV1,
  providerEventsSignal,
  resendRecipientUpdateV1,
  resendViaUpdateV1,
} from './dispatch-v1-contract';

/** How long a document link sent over SMS/WhatsApp stays valid. */
const DOCUMENT_LINK_TTL_MS = 7 * 24 * 3_600_000;

export interface DispatchOutcome {
  result: DispatchState['result'];
  recipients: Array<Pick<RecipientState, 'recipientId' | 'address' | 'status'>>;
}

/**
 * Starts a dispatch that outlives whoever starts it (a notice, a document re-sent by SMS):
 * its own workflow, abandoned on the starter's close, tracked and logged like any other.
 */
export function startDetachedDispatch(child: Omit<DispatchInput, 'parentWorkflowId'>) {
  return startChild<typeof dispatchV1>('dispatch', {
    workflowId: `dispatch/${child.tenantId}/${child.dispatchId}`,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    args: [{ ...child, parentWorkflowId: workflowInfo().workflowId }],
  });
}

/** One person on one channel: who the provider is and which address the single recipient has. */
export function noticeRecipient(
  person: { name: string; email: string | null; phone: string | null },
  channel: 'email' | 'sms' | 'whatsapp',
) {
  return {
    channel,
    provider: channel === 'email' ? ('sendgrid' as const) : ('twilio' as const),
    recipients: [
      { recipientId: 'r1', address: channel === 'email' ? person.email! : person.phone!, name: person.name },
    ],
  };
}

export async function dispatchV1(input: DispatchInput, carried?: DispatchState): Promise<DispatchOutcome> {
  const state: DispatchState = carried ?? initialState(input);
  const inbox: ProviderEvent[] = [];
  const resends: RecipientState[] = [];

  setHandler(providerEventsSignal, (events) => {
    inbox.push(...events);
  });
  setHandler(dispatchStateQueryV1, () => state);
  setHandler(
    resendRecipientUpdateV1,
    async (request) => {
      const recipient = state.recipients.find((r) => r.recipientId === request.recipientId)!;
      recipient.attempt += 1;
      recipient.history.push({
        status: 'queued',
        event: 'resent',
        at: new Date().toISOString(),
        eventId: null,
        reason:
          recipient.address === request.address
            ? `resent by ${request.requestedBy}`
            : `resent by ${request.requestedBy}, address corrected from ${recipient.address}`,
        response: null,
        reasonCode: null,
      });
      Object.assign(recipient, {
        address: request.address,
        status: 'queued',
        sentAt: null,
        reasonCode: null,
        rawReason: null,
        providerMessageId: null,
        wasDeferred: false,
      });
      state.result = dispatchResult(
        state.recipients.map((r) => r.status),
        state.providerError !== null,
      );
      resends.push(recipient);
      await condition(() => recipient.sentAt !== null || isFailure(recipient.status));
      return recipient;
    },
    {
      validator: (request) => {
        const recipient = state.recipients.find((r) => r.recipientId === request.recipientId);
        if (!recipient) throw refuseUpdate(REFUSED, `no recipient ${request.recipientId} in this dispatch`);
        if (carriesSecrets(input.template)) throw refuseUpdate(REFUSED, NO_RESEND_OF_SECRETS);
        if (state.completed) throw refuseUpdate(FINISHED, 'this dispatch has finished listening; start a new dispatch');
        if (!isFailure(recipient.status) && recipient.status !== 'unknown' && recipient.status !== 'deferred') {
          throw refuseUpdate(
            REFUSED,
            `recipient ${request.recipientId} is ${recipient.status}; only a failed, unknown or temporarily failed recipient can be resent`,
          );
        }
        if (resends.includes(recipient))
          throw refuseUpdate(REFUSED, `recipient ${request.recipientId} is being resent already`);
      },
    },
  );

  setHandler(
    resendViaUpdateV1,
    async (request) => {
      const { link, expiresAt } = await createDocumentLink({
        tenantId: input.tenantId,
        dispatchId: input.dispatchId,
        ttlMs: DOCUMENT_LINK_TTL_MS,
      });
      state.notices.count += 1;
      const childId = `${input.dispatchId}~${request.channel}-${state.notices.count}`;
      await startDetachedDispatch({
        ...input,
        dispatchId: childId,
        channel: request.channel,
        provider: 'twilio',
        template: 'document_link',
        data: {
          companyName: input.tenantName,
          documentLabel: documentLabel(input.document, null, input.locale),
          link,
          expiresAt,
        },
        recipients: [{ recipientId: 'r1', address: request.phone, name: null }],
        escalateTo: [input.sender],
        requestedBy: request.requestedBy,
      });
      state.resentVia.push({
        dispatchId: childId,
        channel: request.channel,
        address: request.phone,
        at: new Date().toISOString(),
        requestedBy: request.requestedBy,
      });
      await persist();
      return { dispatchId: childId, channel: request.channel, phone: request.phone, expiresAt };
    },
    {
      validator: (request) => {
        if (input.channel !== 'email' || input.kind !== 'document')
          throw refuseUpdate(REFUSED, 'only an emailed document can be re-sent over SMS or WhatsApp');
        if (state.completed) throw refuseUpdate(FINISHED, 'this dispatch has finished listening; start a new dispatch');
        if (!E164_PATTERN.test(request.phone))
          throw invalidField('phone', `must be ${E164_EXAMPLE} (got ${request.phone})`, request.phone);
      },
    },
  );

  // One projection write at a time, in order: handlers and the main loop both persist, and a
  // MongoDB-wire server without atomic updates (FerretDB) would otherwise let an older write win.
  let writing: Promise<void> = Promise.resolve();
  // D11: sent by other means (posted, handed over), recorded by the workflow so its projection keeps it.
  setHandler(markSentUpdateV1, async (request) => {
    state.markedSent = request;
    await persist();
    return state.markedSent;
  });

  const persist = () => {
    writing = writing.then(async () => {
      state.version += 1;
      await saveDispatchState({
        tenantId: input.tenantId,
        dispatchId: input.dispatchId,
        locale: input.locale,
        state: summary(state),
      });
    });
    return writing;
  };

  /** Sends to the given recipients (all of them at first, one on resend) and records the provider's answer. */
  const send = async (recipients: RecipientState[], initial: boolean) => {
    try {
      const sent = await sendDispatch({
        tenantId: input.tenantId,
        dispatchId: input.dispatchId,
        recipients: recipients.map((r) => ({ routingId: routingId(r), address: r.address, name: r.name })),
      });
      // Deadlines (D3, D7) run on workflow time, not on the activity host's clock.
      const sentAt = new Date().toISOString();
      for (const outcome of sent.recipients) {
        const recipient = recipients.find((r) => routingId(r) === outcome.routingId)!;
        recipient.sentAt = sentAt;
        recipient.providerMessageId = sent.providerMessageId;
        const status = outcome.outcome === 'accepted' ? 'queued' : outcome.outcome;
        recipient.status = status;
        if (status === 'not_sent') {
          recipient.reasonCode = 'not_sent_to_server';
          recipient.rawReason = outcome.response ?? null;
        }
        recipient.history.push({
          status,
          event: outcome.outcome === 'accepted' ? 'accepted' : outcome.outcome,
          at: sentAt,
          eventId: null,
          reason: null,
          response: outcome.response ?? null,
          reasonCode: status === 'not_sent' ? 'not_sent_to_server' : null,
        });
      }
    } catch (err) {
      // The provider refused the request itself (D9 `failed`): nothing was sent, so nothing will arrive.
      const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
      if (initial) state.providerError = cause;
      for (const r of recipients) {
        r.status = 'not_sent';
        r.rawReason = cause;
        r.reasonCode = 'not_sent_to_server';
        r.history.push({
          status: 'not_sent',
          event: 'refused',
          at: new Date().toISOString(),
          eventId: null,
          reason: cause,
          response: null,
          reasonCode: 'not_sent_to_server',
        });
      }
    }
    state.result = dispatchResult(
      state.recipients.map((r) => r.status),
      state.providerError !== null,
    );
  };

  const notify = async (notice: Notice | { kind: 'unknown'; pending: RecipientState[] }) => {
    if (input.kind === 'notification') return; // nobody is told about a notice's own delivery; it is in the log
    const people: Person[] = notice.kind === 'escalation' ? input.escalateTo : [input.sender];
    const common = {
      senderName: input.sender.name,
      documentLabel: documentLabel(input.document, null, input.locale),
      subject: state.subject ?? documentLabel(input.document, null, input.locale),
      sentAt: state.recipients.map((r) => r.sentAt).find((s) => s !== null) ?? new Date().toISOString(),
      dispatchUrl: input.dispatchUrl,
    };
    const failures = (list: RecipientState[]) =>
      list.map((r) => ({
        address: r.address,
        reason: plainReason(r.reasonCode ?? 'unclassified', input.locale),
        nextStep: nextStep(r.reasonCode ?? 'unclassified', input.locale),
        raw: r.rawReason ?? '',
      }));
    let template: string;
    let data: Record<string, unknown>;
    switch (notice.kind) {
      case 'escalation':
        template = 'dispatch_escalation';
        data = { ...common, failures: failures(notice.failed) };
        break;
      case 'partial_failure':
        template = 'dispatch_partial_failure';
        data = {
          ...common,
          failures: failures(notice.failed),
          delivered: notice.delivered.map((r) => ({ address: r.address })),
        };
        break;
      case 'delivered_update':
        template = 'dispatch_delivered_update';
        data = { ...common, delivered: notice.delivered.map((r) => ({ address: r.address })) };
        break;
      case 'unknown':
        template = 'dispatch_unknown';
        data = {
          ...common,
          pending: notice.pending.map((r) => ({ address: r.address })),
          waited: durationInWords(input.policy.unknownAfterMs, input.locale),
        };
        break;
    }
    for (const person of people) {
      const channels: Array<'email' | 'sms' | 'whatsapp'> = ['email'];
      // D4: the "act now" escalation also goes by SMS/WhatsApp to those who opted in.
      if (notice.kind === 'escalation' && person.phone) {
        if (person.smsOptIn) channels.push('sms');
        if (person.whatsappOptIn) channels.push('whatsapp');
      }
      for (const channel of channels) {
        state.notices.count += 1;
        const childId = `${input.dispatchId}~${notice.kind}-${state.notices.count}`;
        await startDetachedDispatch({
          ...input,
          ...noticeRecipient(person, channel),
          dispatchId: childId,
          kind: 'notification',
          template,
          data: { ...data, personName: person.name },
          document: null,
          escalateTo: [],
          requestedBy: 'relais',
        });
      }
    }
  };

  if (!carried) {
    state.subject = (await prepareDispatch(input)).subject;
    await send(state.recipients, true);
    await persist();
  }

  const listenUntil = () =>
    Math.max(...state.recipients.map((r) => (r.sentAt ? Date.parse(r.sentAt) : Date.now()))) + input.policy.listenForMs;

  while (Date.now() < listenUntil() && state.providerError === null) {
    const unknownAt = nextUnknownDeadline(state, input.policy.unknownAfterMs);
    const wakeAt = Math.min(listenUntil(), unknownAt ?? Infinity);
    await condition(() => inbox.length > 0 || resends.length > 0, Math.max(1, wakeAt - Date.now()));

    let changed = false;
    if (resends.length) {
      const batch = resends.splice(0);
      await send(batch, false);
      changed = true;
    }
    if (inbox.length) changed = applyEvents(state, inbox.splice(0)) || changed;
    const overdue = markUnknown(state, Date.now(), input.policy.unknownAfterMs);
    if (overdue.length) {
      changed = true;
      await notify({ kind: 'unknown', pending: overdue });
    }
    for (const notice of dueNotices(state)) await notify(notice);
    if (changed) await persist();

    // Events signalled while this pass awaited its activities wait in the inbox: continuing as new
    // would drop them (the first version did). Patched, so runs that already continued replay as they were.
    const inboxEmpty = () => inbox.length === 0 || !patched('dispatch-v1-inbox-before-continue-as-new');
    if (workflowInfo().continueAsNewSuggested && inboxEmpty()) {
      await condition(() => resends.length === 0 && allHandlersFinished());
      // The memo (the fingerprint of the accepted request, POST /v1/dispatches) is not carried over by the server.
      if (inboxEmpty()) await makeContinueAsNewFunc<typeof dispatchV1>({ memo: workflowInfo().memo })(input, state);
    }
  }

  await condition(allHandlersFinished);
  state.completed = true;
  state.completedAt = new Date().toISOString();
  await persist();
  return {
    result: state.result,
    recipients: state.recipients.map(({ recipientId, address, status }) => ({ recipientId, address, status })),
  };
}

/** What the projection needs (the seen-set stays in the workflow). */
function summary(state: DispatchState): Omit<DispatchState, 'seen'> {
  const { seen: _seen, ...rest } = state;
  return rest;
}
