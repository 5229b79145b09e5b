// Starting a delivery of an event to an endpoint: its record first (the log people read), then its
// workflow. Used when an event is published (activity publishTenantEvent) and on replay (the API).
// Idempotent: a record that exists is not created again, a workflow that runs is not started
// twice, and a delivery that has finished is never started again.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { nextNumber, type Db } from '../db/models';
import {
  WEBHOOK_DELIVERY_WORKFLOW,
  webhookDeliveryWorkflowId,
  type WebhookDeliveryWorkflow,
} from '../workflows/webhook-delivery/contract';

export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const FINISHED_DELIVERY: readonly DeliveryStatus[] = ['delivered', 'failed', 'cancelled'];

/** Where delivery workflows run: a client of the worker's Temporal namespace and its task queue. */
export interface DeliveryStarter {
  client: Client;
  taskQueue: string;
}

export async function startDelivery(
  db: Db,
  starter: DeliveryStarter,
  delivery: {
    tenantId: string;
    deliveryId: string;
    endpoint: { _id: string; url: string };
    event: { eventId: string; webhookId: string; type: string };
    replayOf: string | null;
    requestedBy: string;
  },
): Promise<void> {
  const { tenantId, deliveryId } = delivery;
  const existing = await db.WebhookDelivery.findOne({ _id: deliveryId, tenantId }, { status: 1 }).lean();
  if (existing && FINISHED_DELIVERY.includes(existing.status as DeliveryStatus)) return;
  if (!existing) {
    const number = await nextNumber(db, `webhook-delivery:${tenantId}`);
    await db.WebhookDelivery.create({
      _id: deliveryId,
      tenantId,
      number,
      endpointId: delivery.endpoint._id,
      url: delivery.endpoint.url,
      eventId: delivery.event.eventId,
      webhookId: delivery.event.webhookId,
      type: delivery.event.type,
      status: 'pending',
      replayOf: delivery.replayOf,
      requestedBy: delivery.requestedBy,
    }).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
    }); // created meanwhile by a retry: the same record
  }
  try {
    await starter.client.workflow.start<WebhookDeliveryWorkflow>(WEBHOOK_DELIVERY_WORKFLOW, {
      workflowId: webhookDeliveryWorkflowId(tenantId, deliveryId),
      taskQueue: starter.taskQueue,
      args: [{ tenantId, deliveryId }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
