// Activities: every effect of the workflows (render, store, send). Built by a factory that
// takes its dependencies, so tests hand in real servers and the worker hands in configured ones.
import { signLink } from '../links';
import { createOrderActivities } from './orders';
import { createDispatchActivities } from './dispatch';
import { createLegacyDispatchActivities } from './legacy/dispatch-v1';
import { createWebhookActivities } from './webhooks';
import { createRollupActivities } from './rollups';
import { createCustomerNoticeActivities } from './customer-notices';
import type { ActivityDeps } from './deps';
import { createAddressHealthActivities } from './address-guard';

export type { ActivityDeps, WhatsAppTemplates } from './deps';
export { contentVariables } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderActivities(deps),
    ...createDispatchActivities(deps),
    ...createWebhookActivities(deps),
    ...createRollupActivities(deps),
    ...createAddressHealthActivities(deps),
    ...createCustomerNoticeActivities(deps),
    // Dispatches started by the first version of the dispatch workflow still schedule these.
    ...createLegacyDispatchActivities(deps),

    /** D8: a signed, expiring link to the copy of a dispatched document (first version; the current one signs in recordDocumentLink). */
    async createDocumentLink(request: {
      tenantId: string;
      dispatchId: string;
      ttlMs: number;
    }): Promise<{ link: string; expiresAt: string }> {
      const exp = Date.now() + request.ttlMs;
      const token = signLink(deps.linkSecret, {
        kind: 'document',
        tenantId: request.tenantId,
        target: request.dispatchId,
        exp,
      });
      return { link: new URL(`/d/${token}`, deps.publicBaseUrl).toString(), expiresAt: new Date(exp).toISOString() };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
