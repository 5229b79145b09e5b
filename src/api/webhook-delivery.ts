// What a provider's webhook request does once verified (rule N3): its events routed to their
// dispatches, stored and signalled (event-ingest.ts), the sender's copies applied, the first
// version's dispatches signalled whole, and what reaches no running dispatch kept for audit.
// Twilio's status callbacks run it while the request waits; SendGrid's batches run it from the
// webhook inbox, behind the answer (webhook-inbox.ts).
import type { AppDeps } from '../app/deps';
import { workflowNotFound } from '../app/workflow-errors';
import { routingId } from '../domain/dispatch';
import type { ProviderEvent } from '../providers/types';
import type { RoutedEvent } from '../providers/webhook-events';
import {
  fromSendGrid,
  parseSendGridBatch,
  type ParsedSendGridEvent,
  type SendGridEvent,
} from '../providers/sendgrid/webhook';
import { parseWithoutNul } from '../providers/webhook-events';
import { dispatchWorkflowId, providerEventsSignal } from '../workflows/dispatch/contract';
import { ingestCopyEvents, ingestEvents, type IndexedEvent } from './event-ingest';

export type DeliveryItem = { raw: unknown; routed?: RoutedEvent; invalid?: string };

/** One request's events as they are applied: when it was received, and its id (so applying it again writes the same). */
export interface DeliveryRequest {
  provider: 'sendgrid' | 'twilio';
  items: DeliveryItem[];
  receivedAt: Date;
  requestId?: string;
}

interface WarnLog {
  warn(details: object, message: string): void;
}

/**
 * A SendGrid body as the accept path checks it (after its signature): JSON, a batch of 1 to
 * MAX_SENDGRID_BATCH events, each event valid or refused on its own. U+0000 in a field is the
 * provider's to send: stored as U+FFFD (withoutNul), not refused.
 */
export function readSendGridBody(
  text: string,
): { ok: true; events: ParsedSendGridEvent[] } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = parseWithoutNul(text);
  } catch {
    return { ok: false, message: 'body is not JSON' };
  }
  return parseSendGridBatch(json);
}

export function webhookDelivery({ db, temporal }: Pick<AppDeps, 'db' | 'temporal'>) {
  /**
   * Events of current dispatches are stored and signalled by position (event-ingest.ts); those of
   * the first version's dispatches are signalled whole, as that version expects. Unknown
   * dispatches are acknowledged and logged; what reaches no dispatch is kept for audit, an invalid
   * event with why (and nothing else done with it).
   */
  async function deliver({ provider, items, receivedAt, requestId }: DeliveryRequest, log: WarnLog) {
    const indexed = items.filter((i): i is { raw: unknown; routed: IndexedEvent } => Boolean(i.routed?.recipient));
    const copies = items.filter((i): i is { raw: unknown; routed: RoutedEvent } => Boolean(i.routed?.copy));
    const firstVersion = items.filter((i) => i.routed && !i.routed.recipient && !i.routed.copy);
    const [current, legacy, noCopy] = await Promise.all([
      indexed.length ? ingestEvents(db, temporal, indexed, receivedAt, requestId) : new Map<string, string>(),
      deliverFirstVersion(firstVersion),
      copies.length ? ingestCopyEvents(db, copies, receivedAt) : [],
    ]);
    const outcomes = new Map([...current, ...legacy, ...noCopy.map((id) => [id, 'unknown_target'] as const)]);
    for (const [workflowId, outcome] of outcomes) {
      if (outcome === 'unknown_target')
        log.warn({ workflowId }, 'webhook for an unknown or finished dispatch; acknowledged');
    }
    // Kept for audit: what reached no running dispatch, and everything of the first version (as it always was).
    const audited = items.filter(
      ({ routed: r }) =>
        (!r?.recipient && !r?.copy) || outcomes.get(dispatchWorkflowId(r.tenantId, r.dispatchId)) === 'unknown_target',
    );
    if (audited.length) {
      await db.WebhookEvent.insertMany(
        audited.map(({ raw, routed: r, invalid }) => {
          const workflowId = r ? dispatchWorkflowId(r.tenantId, r.dispatchId) : null;
          return {
            provider,
            payload: raw !== null && typeof raw === 'object' ? raw : { value: raw },
            receivedAt,
            eventId: r?.event.eventId ?? null,
            tenantId: r?.tenantId ?? null,
            workflowId,
            outcome:
              invalid !== undefined ? `invalid: ${invalid}` : workflowId ? outcomes.get(workflowId)! : 'unrouted',
          };
        }),
      );
    }
  }

  /** The first version's dispatches: each workflow signalled once with its events, whole (it dedupes them itself). */
  async function deliverFirstVersion(items: Array<{ routed?: RoutedEvent }>) {
    const byWorkflow = new Map<string, ProviderEvent[]>();
    for (const { routed: r } of items) {
      if (!r) continue;
      const id = dispatchWorkflowId(r.tenantId, r.dispatchId);
      byWorkflow.set(id, [...(byWorkflow.get(id) ?? []), r.event]);
    }
    const outcomes = new Map<string, string>();
    await Promise.all(
      [...byWorkflow].map(async ([workflowId, events]) => {
        try {
          await temporal.workflow.getHandle(workflowId).signal(providerEventsSignal, events);
          outcomes.set(workflowId, 'signalled');
        } catch (err) {
          if (!workflowNotFound(err)) throw err;
          outcomes.set(workflowId, 'unknown_target');
        }
      }),
    );
    return outcomes;
  }

  /**
   * Asynchronous bounces may come back without our custom args: find the dispatch by the
   * X-Message-Id prefix of `sg_message_id` (a lookup by `_id`), and the recipient by address.
   */
  async function routeByMessageId(raw: SendGridEvent): Promise<RoutedEvent | undefined> {
    const messageId = raw.sg_message_id?.split('.')[0];
    if (!messageId) return undefined;
    const message = await db.ProviderMessage.findById(`sendgrid:${messageId}`).lean();
    if (message) {
      const found = message.recipients.find((r) => r.address === raw.email.toLowerCase());
      return found
        ? fromSendGrid({
            ...raw,
            relais_tenant: message.tenantId,
            relais_dispatch: message.dispatchId,
            relais_index: routingId(found.index!, found.attempt!),
          })
        : undefined;
    }
    // A dispatch of the first version of the workflow (its send log is indexed on MongoDB).
    const doc = await db.LegacyDispatch.findOne(
      { 'sendLog.providerMessageId': messageId },
      { tenantId: 1, dispatchId: 1, recipients: 1, sendLog: 1 },
    ).lean();
    const recipient = doc?.recipients.find((r) => r.address.toLowerCase() === raw.email.toLowerCase());
    if (!doc || !recipient) return undefined;
    return fromSendGrid({
      ...raw,
      relais_tenant: doc.tenantId,
      relais_dispatch: doc.dispatchId,
      relais_recipient: `${recipient.recipientId}.${recipient.attempt}`,
    });
  }

  /** A SendGrid batch routed: each valid event to its dispatch; a bad one kept for audit with why (issue 14, finding 5). */
  const routeSendGrid = (events: ParsedSendGridEvent[]): Promise<DeliveryItem[]> =>
    Promise.all(
      events.map(async (e) =>
        e.ok
          ? { raw: e.raw, routed: fromSendGrid(e.event) ?? (await routeByMessageId(e.event)) }
          : { raw: e.raw, invalid: e.problems.map((p) => `${p.field}: ${p.message}`).join('; ') },
      ),
    );

  return { deliver, routeSendGrid };
}
