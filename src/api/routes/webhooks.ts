// Provider webhooks (rule N3): believed only when signed; answered 2xx only once the events
// are safely signalled (so the provider retries anything Relais did not take).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { metrics } from '../../metrics';
import { workflowNotFound } from '../../app/workflow-errors';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { parseWithoutNul, withoutNul, type RoutedEvent } from '../../providers/webhook-events';
import {
  fromSendGrid,
  parseSendGridBatch,
  sendgridBatchSchema,
  sendgridSignatureCheck,
  type SendGridEvent,
} from '../../providers/sendgrid/webhook';
import {
  routeTwilioStatus,
  twilioInboundSchema,
  twilioSignatureCheck,
  twilioStatusSchema,
} from '../../providers/twilio/webhook';
import { afterSignatureCheck, errors } from '../openapi';
import type { ApiLimits } from '../limits';
import { dispatchWorkflowId, providerEventsSignal } from '../../workflows/dispatch/contract';
import type { ProviderEvent } from '../../providers/types';
import { ingestCopyEvents, ingestEvents, type IndexedEvent } from '../event-ingest';
import { routingId } from '../../domain/dispatch';
import { answerReply } from '../inbound-replies';
import { recordOptChange } from '../../app/opt-out';

const twiml = {
  description: 'acknowledged (empty TwiML)',
  content: { 'text/xml': { schema: z.literal('<Response/>') } },
};

export async function webhookRoutes(app: FastifyInstance, deps: ApiDeps, limits: ApiLimits) {
  // Per client address: a webhook names its tenant only inside a body not yet verified.
  const rateLimit = { max: limits.webhookRate.max, timeWindow: limits.webhookRate.windowMs };
  const doc = { tags: ['webhooks'], response: { ...errors(400, 401, 413, 429, 503) } };
  // Every refused signature is counted (a rising rate: a wrong key, a proxy changing bodies, or an attack).
  app.addHook('onError', async (request, _reply, err) => {
    if (err instanceof ApiError && err.status === 401) {
      metrics.webhookVerifyFailures.inc({
        provider: request.url.startsWith('/webhooks/sendgrid') ? 'sendgrid' : 'twilio',
        code: err.code,
      });
    }
  });
  const { db, temporal } = deps;
  // The current key first; during a rotation the previous one is accepted too.
  const sendgridKeys = [
    { name: 'SENDGRID_WEBHOOK_PUBLIC_KEY', base64: deps.sendgridWebhookPublicKey },
    { name: 'SENDGRID_WEBHOOK_PUBLIC_KEY_PREVIOUS', base64: deps.previous?.sendgridWebhookPublicKey },
  ].filter((k): k is { name: string; base64: string } => Boolean(k.base64));
  const twilioTokens = [deps.twilioAuthToken, deps.previous?.twilioAuthToken].filter((t): t is string => Boolean(t));
  const sendgridRefusal = sendgridSignatureCheck(sendgridKeys);
  const twilioSigned = twilioSignatureCheck(twilioTokens);

  /**
   * Events of current dispatches are stored and signalled by position (event-ingest.ts); those of
   * the first version's dispatches are signalled whole, as that version expects. Unknown
   * dispatches are acknowledged and logged; what reaches no dispatch is kept for audit, an invalid
   * event with why (and nothing else done with it).
   */
  async function deliver(
    provider: 'sendgrid' | 'twilio',
    items: Array<{ raw: unknown; routed?: RoutedEvent; invalid?: string }>,
    request: FastifyRequest,
  ) {
    const indexed = items.filter((i): i is { raw: unknown; routed: IndexedEvent } => Boolean(i.routed?.recipient));
    const copies = items.filter((i): i is { raw: unknown; routed: RoutedEvent } => Boolean(i.routed?.copy));
    const firstVersion = items.filter((i) => i.routed && !i.routed.recipient && !i.routed.copy);
    const [current, legacy, noCopy] = await Promise.all([
      indexed.length ? ingestEvents(db, temporal, indexed) : new Map<string, string>(),
      deliverFirstVersion(firstVersion),
      copies.length ? ingestCopyEvents(db, copies) : [],
    ]);
    const outcomes = new Map([...current, ...legacy, ...noCopy.map((id) => [id, 'unknown_target'] as const)]);
    for (const [workflowId, outcome] of outcomes) {
      if (outcome === 'unknown_target')
        request.log.warn({ workflowId }, 'webhook for an unknown or finished dispatch; acknowledged');
    }
    // Kept for audit: what reached no running dispatch, and everything of the first version (as it always was).
    const receivedAt = new Date();
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

  app.register(async (scope) => {
    // The signature covers the exact bytes: parse JSON ourselves, after verifying.
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: limits.webhookBodyLimitBytes },
      (_req, body, done) => done(null, body),
    );

    scope.post(
      '/webhooks/sendgrid',
      {
        bodyLimit: limits.webhookBodyLimitBytes,
        config: { rateLimit },
        // The body is checked against sendgridBatchSchema below, once the signature over its bytes holds.
        validatorCompiler: afterSignatureCheck,
        schema: {
          ...doc,
          summary: 'SendGrid signed Event Webhook: delivery events of dispatches (D2, N3)',
          security: [{ sendgridSignature: [] }],
          headers: z.object({
            'x-twilio-email-event-webhook-timestamp': z
              .string()
              .describe('seconds since the epoch; signed with the body')
              .optional(),
          }),
          body: sendgridBatchSchema,
          response: {
            ...doc.response,
            200: z.object({
              received: z.number().int(),
              invalid: z.number().int().describe('events refused one by one (kept for audit, skipped)'),
            }),
          },
        },
      },
      async (request, reply) => {
        if (!sendgridKeys.length) throw new ApiError(503, 'not_configured', 'SENDGRID_WEBHOOK_PUBLIC_KEY is not set');
        const refused = sendgridRefusal(
          request.body,
          request.headers['x-twilio-email-event-webhook-signature'],
          request.headers['x-twilio-email-event-webhook-timestamp'],
        );
        if (refused) throw new ApiError(401, refused.code, refused.message);

        let json: unknown;
        // U+0000 in a field is the provider's to send: stored as U+FFFD (withoutNul), not refused.
        try {
          json = parseWithoutNul((request.body as Buffer).toString('utf8'));
        } catch {
          throw new ApiError(400, 'invalid_request', 'body is not JSON');
        }
        const batch = parseSendGridBatch(json);
        if (!batch.ok) throw new ApiError(400, 'invalid_request', batch.message);
        // A bad event is kept for audit and skipped; the rest of the batch is applied (issue 14, finding 5).
        const items = await Promise.all(
          batch.events.map(async (e) =>
            e.ok
              ? { raw: e.raw, routed: fromSendGrid(e.event) ?? (await routeByMessageId(e.event)) }
              : { raw: e.raw, invalid: e.problems.map((p) => `${p.field}: ${p.message}`).join('; ') },
          ),
        );
        const invalid = batch.events.filter((e) => !e.ok).length;
        if (invalid)
          request.log.warn(
            { invalid, of: batch.events.length },
            'SendGrid events refused one by one; the rest applied',
          );
        await deliver('sendgrid', items, request);
        return reply.status(200).send({ received: batch.events.length, invalid });
      },
    );
  });

  /** Twilio signs the public URL it called plus the sorted form parameters. */
  const verifyTwilio = (request: FastifyRequest): Record<string, string> => {
    if (!twilioTokens.length) throw new ApiError(503, 'not_configured', 'TWILIO_AUTH_TOKEN is not set');
    const signature = request.headers['x-twilio-signature'];
    const params = (request.body ?? {}) as Record<string, string>;
    if (typeof signature !== 'string') throw new ApiError(401, 'unsigned', 'missing X-Twilio-Signature');
    const url = new URL(request.url, deps.publicBaseUrl).toString();
    if (!twilioSigned(signature, url, params))
      throw new ApiError(401, 'bad_signature', 'X-Twilio-Signature does not match');
    return params;
  };

  const twilioDoc = { ...doc, security: [{ twilioSignature: [] }], consumes: ['application/x-www-form-urlencoded'] };
  app.post(
    '/webhooks/twilio/status',
    {
      config: { rateLimit },
      validatorCompiler: afterSignatureCheck, // parsed below, after verifyTwilio
      schema: {
        ...twilioDoc,
        summary: 'Twilio status callback of an SMS/WhatsApp message (N3)',
        querystring: z
          .object({ tenant: z.string(), dispatch: z.string(), index: z.string(), recipient: z.string() })
          .partial()
          .describe('set by Relais on the StatusCallback URL'),
        body: twilioStatusSchema,
        response: { ...doc.response, 200: twiml },
      },
    },
    async (request, reply) => {
      const params = withoutNul(verifyTwilio(request));
      const query = withoutNul(request.query as Record<string, string | undefined>);
      const parsed = twilioStatusSchema.safeParse(params);
      if (!parsed.success) throw new ApiError(400, 'invalid_request', 'not a Twilio status callback');
      await deliver(
        'twilio',
        [{ raw: { ...params }, routed: routeTwilioStatus(parsed.data, query, new Date()) }],
        request,
      );
      return reply.status(200).type('text/xml').send('<Response/>');
    },
  );

  /**
   * Inbound SMS/WhatsApp (O3): a "yes" (a word, or the quick-reply button) confirms the pending
   * address confirmation it answers; when that is not clear, the answer asks which (inbound-replies.ts).
   */
  app.post(
    '/webhooks/twilio/inbound',
    {
      config: { rateLimit },
      validatorCompiler: afterSignatureCheck, // parsed below, after verifyTwilio
      schema: {
        ...twilioDoc,
        summary: 'Inbound SMS/WhatsApp: a "yes" reply confirms the pending address confirmation it names (O3)',
        body: twilioInboundSchema,
        response: {
          ...doc.response,
          200: {
            description: 'TwiML: empty, or a <Message> answering the customer',
            content: { 'text/xml': { schema: z.string() } },
          },
        },
      },
    },
    async (request, reply) => {
      const verified = withoutNul(verifyTwilio(request));
      const parsedInbound = twilioInboundSchema.safeParse(verified);
      if (!parsedInbound.success) throw new ApiError(400, 'invalid_request', 'not a Twilio inbound message');
      const params = parsedInbound.data;
      // Issue 20: a WhatsApp message opens the 24 h window in which free text reaches this number.
      if (params.From?.toLowerCase().startsWith('whatsapp:'))
        await db.WhatsappSession.updateOne(
          { _id: params.From.slice('whatsapp:'.length).trim() },
          { $max: { lastInboundAt: new Date() } },
          { upsert: true },
        );
      // Issue 20: STOP/START (Twilio's own opt-out words) change whether the number takes SMS; recorded
      // before Twilio is answered (rare, and the next notice must already know it).
      const optChange = await recordOptChange(db, params);
      const { outcome, answer } = optChange ? { outcome: optChange, answer: null } : await answerReply(deps, params);
      request.log.info({ outcome }, 'inbound message');
      await db.WebhookEvent.create({
        provider: 'twilio',
        eventId: params.MessageSid ?? null,
        tenantId: null,
        workflowId: null,
        outcome: `inbound: ${outcome}`,
        payload: { ...params },
        receivedAt: new Date(),
      });
      return reply
        .status(200)
        .type('text/xml')
        .send(answer === null ? '<Response/>' : `<Response><Message>${xmlText(answer)}</Message></Response>`);
    },
  );
}

const xmlText = (text: string) => text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
