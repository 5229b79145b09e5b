// A customer's SMS/WhatsApp reply to an address confirmation (rule O3; issue 14, finding 3),
// matched to the conversation it answers: the phone it comes from, the number it was sent to
// (the one the question went out from), the confirmations still waiting for it — asked of the
// order workflows themselves — and the code it carries (src/domain/replies.ts decides).
import type { ApiDeps } from './deps';
import { chooseConfirmation, readReply, replyText, type PendingConfirmation } from '../domain/replies';
import type { Locale } from '../domain/locale';
import { confirmAddressUpdate, orderStateQuery, orderWorkflowId } from '../workflows/order/contract';
import { updateRefusal, workflowNotFound } from '../app/workflow-errors';

const bare = (number: string | undefined) => (number ?? '').replace(/^whatsapp:/i, '').trim();

type Candidate = PendingConfirmation & { nonce: string; tenantId: string };

/** What was done (for the audit record) and the text to answer with, if any. */
export async function answerReply(
  deps: Pick<ApiDeps, 'db' | 'temporal'>,
  params: { From?: string; To?: string; Body?: string; ButtonPayload?: string },
): Promise<{ outcome: string; answer: string | null }> {
  const reply = readReply(params.Body, params.ButtonPayload);
  const from = bare(params.From);
  if (!reply.confirms || !from) return { outcome: 'ignored', answer: null };
  const to = bare(params.To);
  const now = new Date();
  const found = await deps.db.Confirmation.find({ phone: from, expiresAt: { $gt: now } })
    .sort({ createdAt: -1 })
    .lean();
  // Sent from the number the customer wrote to (when the numbers are known).
  const conversation = found.filter((c) => !to || !c.replyTo?.length || c.replyTo.includes(to));
  const names = new Map<string, string>();
  const candidates = (
    await Promise.all(
      conversation.map(async (c): Promise<Candidate | undefined> => {
        if (!(await stillWaiting(deps, c.tenantId, c.orderId, c._id))) return undefined;
        let companyName = c.companyName;
        if (!companyName) {
          // recorded before names were kept
          if (!names.has(c.tenantId))
            names.set(c.tenantId, (await deps.db.Tenant.findById(c.tenantId, { name: 1 }).lean())?.name ?? '');
          companyName = names.get(c.tenantId)!;
        }
        return {
          nonce: c._id,
          tenantId: c.tenantId,
          orderId: c.orderId,
          companyName,
          code: c.code ?? null,
          locale: (c.locale ?? 'en') as Locale,
        };
      }),
    )
  ).filter((c): c is Candidate => c !== undefined);

  const choice = chooseConfirmation(candidates, reply);
  switch (choice.kind) {
    case 'none':
      return { outcome: 'no pending confirmation for this conversation', answer: replyText(choice, reply) };
    case 'unknown_code':
      return { outcome: 'no pending confirmation with the code given', answer: replyText(choice, reply) };
    case 'ask':
      return {
        outcome: `asked which order: ${choice.among.map((c) => `${c.tenantId}/${c.orderId}`).join(', ')}`,
        answer: replyText(choice, reply),
      };
    case 'confirm':
      break;
  }
  const c = choice.confirmation;
  try {
    await deps.temporal.workflow.getHandle(orderWorkflowId(c.tenantId, c.orderId)).executeUpdate(confirmAddressUpdate, {
      args: [
        {
          nonce: c.nonce,
          via: params.From?.toLowerCase().startsWith('whatsapp:') ? 'whatsapp' : 'sms',
          corrected: null,
        },
      ],
    });
    return {
      outcome: `confirmed order ${c.orderId} of tenant ${c.tenantId}`,
      answer: replyText({ kind: 'confirmed', confirmation: c }, reply),
    };
  } catch (err) {
    const refusal = updateRefusal(err);
    if (!refusal && !workflowNotFound(err)) throw err;
    const why = refusal ? refusal.message : 'no such order';
    return {
      outcome: `not applied to order ${c.orderId} of tenant ${c.tenantId}: ${why}`,
      answer: replyText({ kind: 'refused', confirmation: c }, reply),
    };
  }
}

/** Whether the order still waits for this confirmation (not used, not released or cancelled by ops, not replaced). */
async function stillWaiting(
  deps: Pick<ApiDeps, 'temporal'>,
  tenantId: string,
  orderId: string,
  nonce: string,
): Promise<boolean> {
  try {
    const view = await deps.temporal.workflow.getHandle(orderWorkflowId(tenantId, orderId)).query(orderStateQuery);
    return (
      view.state === 'on_hold' &&
      view.confirmation?.nonce === nonce &&
      !view.confirmation.used &&
      Date.parse(view.confirmation.expiresAt) > Date.now()
    );
  } catch (err) {
    if (workflowNotFound(err)) return false;
    throw err;
  }
}
