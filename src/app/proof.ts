// The proof of sending of one dispatch (src/proof/pack.ts), for the API and the operator page alike.
import type { AppDeps } from './deps';
import { notFound } from '../api/errors';
import { proofPack, type ProofPack } from '../proof/pack';

/** The pack of a dispatch of the tenant, or 404. */
export async function readProof(
  deps: Pick<AppDeps, 'db' | 'linkSecret' | 'previous'>,
  tenantId: string,
  dispatchId: string,
  keyId: string,
): Promise<ProofPack> {
  const pack = await proofPack(
    { db: deps.db, linkSecret: deps.linkSecret, previousLinkSecret: deps.previous?.linkSecret },
    tenantId,
    dispatchId,
    keyId,
  );
  if (!pack) throw notFound(`dispatch ${dispatchId}`);
  return pack;
}
