// Relais's own Prometheus counters (prom-client). The worker and the API each serve them at
// /metrics; the worker adds the Temporal SDK's runtime metrics (task slots, poll latencies,
// sticky cache) from the SDK's own Prometheus exporter, so one scrape sees both.
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'relais_process_' });

export const metrics = {
  /** D9: a dispatch's result when its workflow completes. */
  dispatches: new Counter({
    name: 'relais_dispatches_total',
    help: 'Dispatches (documents and notices) completed, by result (D9)',
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  /** D4: "act now" escalations started, one per person and channel. */
  escalations: new Counter({
    name: 'relais_escalations_total',
    help: 'Escalations (D4) sent, one per person and channel',
    labelNames: ['channel'] as const,
    registers: [registry],
  }),
  webhookVerifyFailures: new Counter({
    name: 'relais_webhook_verify_failures_total',
    help: 'Provider webhooks refused because their signature did not verify',
    labelNames: ['provider', 'code'] as const,
    registers: [registry],
  }),
  /** Issue 15: provider webhooks answered 503 because this process holds as much unapplied work as its bound allows. */
  webhookInboxRefusals: new Counter({
    name: 'relais_webhook_inbox_refusals_total',
    help: 'Provider webhook requests refused (503, Retry-After) because the inbox of this process was full',
    labelNames: ['provider'] as const,
    registers: [registry],
  }),
  /** Issue 15: accepted webhook requests whose application failed and is being retried (the store or Temporal down). */
  webhookInboxRetries: new Counter({
    name: 'relais_webhook_inbox_retries_total',
    help: 'Accepted provider webhook requests whose application failed and was retried',
    labelNames: ['provider'] as const,
    registers: [registry],
  }),
  /** The MongoDB driver's server monitor found stuck and the client reconnected (src/db/heartbeat-watchdog.ts). */
  mongodbReconnects: new Counter({
    name: 'relais_mongodb_reconnects_total',
    help: "MongoDB clients reconnected because the driver's server monitor was stuck on a heartbeat",
    registers: [registry],
  }),
  /** Outbound webhooks: each POST to a tenant's endpoint, by what came of it (docs/webhooks.md). */
  outboundWebhookAttempts: new Counter({
    name: 'relais_outbound_webhook_attempts_total',
    help: "Outbound webhook attempts to tenants' endpoints, by outcome (delivered, retry, gone, blocked)",
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  /** Outbound webhook deliveries that ended without a 2xx, by reason (gone, gave_up, blocked_address, secret_unreadable). */
  outboundWebhookFailures: new Counter({
    name: 'relais_outbound_webhook_failures_total',
    help: 'Outbound webhook deliveries failed, by reason (gone, gave_up, blocked_address, secret_unreadable)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  /** Timer rules that fired: D3 (30-minute rule), O5 (ready-to-ship deadline), O7 (48-hour stuck rule). */
  timerRuleFirings: new Counter({
    name: 'relais_timer_rule_firings_total',
    help: 'Timer rules that fired (D3 unknown after, O5 ready-to-ship deadline, O7 stuck in transit)',
    labelNames: ['rule'] as const,
    registers: [registry],
  }),
};

/** Order exception reasons that only a timer opens, and the rule each comes from. */
export const TIMER_EXCEPTION_RULES: Record<string, 'O5' | 'O7'> = {
  not_ready_in_time: 'O5',
  no_tracking_update: 'O7',
  not_scanned_since_handover: 'O7',
};
