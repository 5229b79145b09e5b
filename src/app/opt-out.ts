// Issue 20, item 2: an inbound SMS saying STOP or START (Twilio's opt-out keywords) recorded in the
// address-health registry of every tenant that knows the number: the sender numbers are shared,
// and Twilio's opt-out is per sender, so it holds for each of them until the person opts back in.
import type { Db } from '../db/models';
import { recordFacts, tenantsKnowing } from '../db/address-health';
import { normalizeAddress, optKeyword } from '../domain/address-health';

/** Records an opt-out or opt-in; returns what was done when the message needs nothing else, else null. */
export async function recordOptChange(
  db: Db,
  params: { MessageSid?: string; From?: string; Body?: string },
): Promise<string | null> {
  const keyword = optKeyword(params.Body);
  if (!keyword || !params.From || /^whatsapp:/i.test(params.From)) return null;
  const phone = normalizeAddress(params.From).address;
  const tenants = await tenantsKnowing(db, phone);
  const at = new Date();
  await recordFacts(
    db,
    tenants.map((tenantId) => ({
      tenantId,
      address: phone,
      key: `inbound:${params.MessageSid ?? at.getTime()}`,
      kind: keyword === 'opt_out' ? ('opted_out' as const) : ('opted_in' as const),
      at,
      code: (params.Body ?? '').trim().toUpperCase(),
      reason: `the person texted ${(params.Body ?? '').trim()}`,
      dispatchId: null,
      orderId: null,
      actor: 'inbound',
    })),
  );
  const what = `${keyword === 'opt_out' ? 'opted out' : 'opted in'} for ${tenants.length} tenant(s)`;
  return keyword === 'opt_in_and_answer' ? null : what;
}
