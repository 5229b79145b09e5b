// What operators ask of a running dispatch (the contract's Updates): resend a recipient (D8), re-send
// the document as a link over SMS or WhatsApp (D8), record that it was sent by other means (D11).
// Each validator refuses, with the reason, what the current state does not allow.
import { condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { acknowledgementRefusal, resendRefusal, startAttempt } from '../../domain/dispatch';
import { acknowledgementFieldProblem } from '../../domain/acknowledgement';
import { carriesSecrets, NO_RESEND_OF_SECRETS } from '../../domain/secrets';
import { startDetachedDispatch } from '../shared/notices';
import { E164_EXAMPLE, E164_PATTERN } from '../../domain/phone';
import {
  ACKNOWLEDGED_ALREADY,
  FINISHED,
  invalidField,
  LINK_REPLACED,
  REFUSED,
  refuseUpdate,
  type FailureType,
} from '../failure-types';
import { acknowledgeReceiptUpdate, markSentUpdate, resendRecipientUpdate, resendViaUpdate } from './contract';
import type { DispatchSteps } from './steps';

const { recordDocumentLink, recordAcknowledgement } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** How long a document link sent over SMS/WhatsApp stays valid. */
const DOCUMENT_LINK_TTL_MS = 7 * 24 * 3_600_000;

/** Why an acknowledgement is refused, as the failure type callers switch on. */
const ACKNOWLEDGEMENT_REFUSALS: Record<NonNullable<ReturnType<typeof acknowledgementRefusal>>['code'], FailureType> = {
  unknown: REFUSED,
  replaced: LINK_REPLACED,
  already: ACKNOWLEDGED_ALREADY,
  finished: FINISHED,
};

/**
 * `resendsDelivered` (issue 17): a delivered recipient may be sent again, afresh. `acknowledges`
 * (issue 20): the dispatch asked for receipt acknowledgement and its run records it.
 */
export function handleUpdates(d: DispatchSteps, resendsDelivered: boolean, acknowledges = false): void {
  const { input, run } = d;
  const state = run.state;

  // D8: the main loop sends it; the answer waits until the new attempt is in the log.
  setHandler(
    resendRecipientUpdate,
    async (request) => {
      startAttempt(state, request.index, resendsDelivered);
      d.resends.set(request.index, { address: request.address, requestedBy: request.requestedBy });
      await condition(() => d.resent.has(request.index));
      d.resent.delete(request.index);
      const r = state.recipients[request.index];
      return { index: request.index, attempt: r.attempt, status: r.status };
    },
    {
      validator: (request) => {
        if (carriesSecrets(input.template)) throw refuseUpdate(REFUSED, NO_RESEND_OF_SECRETS);
        const refused = resendRefusal(state, request.index, request.recipientId, resendsDelivered);
        if (refused) throw refuseUpdate(REFUSED, refused);
        if (d.resends.has(request.index))
          throw refuseUpdate(REFUSED, `recipient ${request.recipientId} is being resent already`);
      },
    },
  );

  // D8: the link is recorded (its secret never enters this history), then sent as a dispatch of its own.
  setHandler(
    resendViaUpdate,
    async (request) => {
      state.notices += 1;
      const childId = `${input.dispatchId}~${request.channel}-${state.notices}`;
      const { expiresAt } = await d.serialize(() =>
        recordDocumentLink({
          tenantId: input.tenantId,
          dispatchId: input.dispatchId,
          childId,
          channel: request.channel,
          phone: request.phone,
          requestedBy: request.requestedBy,
          ttlMs: DOCUMENT_LINK_TTL_MS,
          workflowId: workflowInfo().workflowId,
        }),
      );
      await startDetachedDispatch({
        ...input,
        dispatchId: childId,
        kind: 'document',
        template: 'document_link',
        channel: request.channel,
        provider: 'twilio',
        document: input.document,
        escalateTo: [input.sender],
        recipientCount: 1,
        parentWorkflowId: workflowInfo().workflowId,
      });
      return { dispatchId: childId, channel: request.channel, phone: request.phone, expiresAt };
    },
    {
      validator: (request) => {
        if (input.channel !== 'email' || input.kind !== 'document')
          throw refuseUpdate(REFUSED, 'only an emailed document can be re-sent over SMS or WhatsApp');
        if (state.completedAt !== null)
          throw refuseUpdate(FINISHED, 'this dispatch has finished listening; start a new dispatch');
        if (!E164_PATTERN.test(request.phone))
          throw invalidField('phone', `must be ${E164_EXAMPLE} (got ${request.phone})`, request.phone);
      },
    },
  );

  // Issue 20: single use: the state changes before anything is awaited, so a second use (even at
  // once) is refused by the validator; who, when and the note are written before the answer.
  if (acknowledges)
    setHandler(
      acknowledgeReceiptUpdate,
      async (request) => {
        const now = Date.now();
        run.acknowledged(request.index, now);
        await d.serialize(() =>
          recordAcknowledgement({
            tenantId: input.tenantId,
            dispatchId: input.dispatchId,
            ...request,
            at: now,
          }),
        );
        await d.flush();
        return { index: request.index, acknowledgedAt: new Date(now).toISOString() };
      },
      {
        validator: (request) => {
          const refused = acknowledgementRefusal(state, request.index, request.attempt);
          if (refused) throw refuseUpdate(ACKNOWLEDGEMENT_REFUSALS[refused.code], refused.message);
          const problem = acknowledgementFieldProblem(request);
          if (problem) throw invalidField(problem.field, problem.message, problem.value);
        },
      },
    );

  // D11: sent by other means (posted, handed over), recorded by the workflow so its projection keeps it.
  setHandler(markSentUpdate, async (request) => {
    await d.flush({ markedSent: request });
    return request;
  });
}
