// The webhook delivery workflow's contract (workflow.ts): its name, id, input and outcome. The
// code that starts deliveries (src/outbound/deliveries.ts) imports this, never the workflow.
// It runs on the worker's one task queue (TEMPORAL_TASK_QUEUE).

/** The workflow type (the function's name, workflow.ts). */
export const WEBHOOK_DELIVERY_WORKFLOW = 'webhookDelivery';
/** One workflow per delivery of one event to one endpoint. */
export const webhookDeliveryWorkflowId = (tenantId: string, deliveryId: string) =>
  `webhook-delivery/${tenantId}/${deliveryId}`;

/** Two ids: the event's body, the endpoint's URL and secret are read by the activity. */
export interface WebhookDeliveryInput {
  tenantId: string;
  deliveryId: string;
}
export interface WebhookDeliveryOutcome {
  status: 'delivered' | 'failed' | 'cancelled';
  attempts: number;
}

export type WebhookDeliveryWorkflow = (input: WebhookDeliveryInput) => Promise<WebhookDeliveryOutcome>;
