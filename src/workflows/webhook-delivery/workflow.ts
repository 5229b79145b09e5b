// The delivery of one tenant event to one endpoint (outbound webhooks, docs/webhooks.md): tried at
// once, then on the retry schedule of src/domain/webhook-retry.ts (8 attempts over 31 h) until the
// receiver answers 2xx; a 410 disables the endpoint; past the last attempt the delivery is failed.
// Its input is two ids (contract.ts).
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { webhookRetryDelayMs } from '../../domain/webhook-retry';
import type { WebhookDeliveryInput, WebhookDeliveryOutcome } from './contract';

type Activities = ReturnType<typeof createActivities>;

// One attempt is one POST (its own 15 s timeout inside): an activity that fails (MongoDB down, the
// worker gone) is retried by Temporal, and the attempt log records every POST really made.
const { attemptWebhookDelivery, planWebhookRetry } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function webhookDelivery(input: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
  for (let attempts = 1; ; attempts += 1) {
    const result = await attemptWebhookDelivery(input);
    if (result.outcome !== 'retry')
      return {
        status: result.outcome === 'delivered' ? 'delivered' : result.outcome === 'cancelled' ? 'cancelled' : 'failed',
        attempts,
      };
    // Math.random is the workflow's own (seeded, replayed identically): the jitter is deterministic.
    const delay = webhookRetryDelayMs(attempts, Math.random(), result.retryAfterMs);
    await planWebhookRetry({
      ...input,
      nextAttemptAt: delay === null ? null : new Date(Date.now() + delay).toISOString(),
    });
    if (delay === null) return { status: 'failed', attempts };
    await sleep(delay);
  }
}
