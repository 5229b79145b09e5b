// Provider webhooks (rule N3): believed only when signed. A SendGrid batch is answered 2xx once it
// is stored in the webhook inbox (applied behind the answer, never lost: webhook-inbox.ts); a Twilio
// callback once it is applied (an inbound message's answer depends on it). Anything not answered
// 2xx the provider sends again.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { metrics } from '../../metrics';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { withoutNul } from '../../providers/webhook-events';
import {
  sendgridBatchSchema,
  sendgridSignatureCheck,
  type ParsedSendGridEvent,
} from '../../providers/sendgrid/webhook';
import {
  routeTwilioStatus,
  twilioInboundSchema,
  twilioSignatureCheck,
  twilioStatusSchema,
} from '../../providers/twilio/webhook';
import { afterSignatureCheck, errors } from '../openapi';
import type { ApiLimits } from '../limits';
import { answerReply } from '../inbound-replies';
import { recordOptChange } from '../../app/opt-out';
import { readSendGridBody, webhookDelivery } from '../webhook-delivery';
import { createWebhookInbox, INBOX_RETRY_AFTER_SECONDS } from '../webhook-inbox';

/** How long closing the API waits for accepted SendGrid requests to be applied (docs/webhooks.md). */
const INBOX_CLOSE_WAIT_MS = 10_000;

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
  const { db } = deps;
  // The current key first; during a rotation the previous one is accepted too.
  const sendgridKeys = [
    { name: 'SENDGRID_WEBHOOK_PUBLIC_KEY', base64: deps.sendgridWebhookPublicKey },
    { name: 'SENDGRID_WEBHOOK_PUBLIC_KEY_PREVIOUS', base64: deps.previous?.sendgridWebhookPublicKey },
  ].filter((k): k is { name: string; base64: string } => Boolean(k.base64));
  const twilioTokens = [deps.twilioAuthToken, deps.previous?.twilioAuthToken].filter((t): t is string => Boolean(t));
  const sendgridRefusal = sendgridSignatureCheck(sendgridKeys);
  const twilioSigned = twilioSignatureCheck(twilioTokens);

  const { deliver, routeSendGrid } = webhookDelivery(deps);
  // Issue 15: a SendGrid batch is stored as it came and applied behind the answer (webhook-inbox.ts).
  const sendgridInbox = createWebhookInbox<ParsedSendGridEvent[]>({
    db: deps.db,
    provider: 'sendgrid',
    bound: limits.webhookInbox,
    // One address's events in the order SendGrid sent them (a deferral, then the delivery).
    orderKeys: (events) => events.map((e) => (e.ok ? e.event.email.toLowerCase() : '')).filter(Boolean),
    parse: (body) => {
      const batch = readSendGridBody(body);
      return batch.ok ? batch.events : undefined;
    },
    apply: async ({ requestId, receivedAt, batch }) =>
      deliver({ provider: 'sendgrid', items: await routeSendGrid(batch), receivedAt, requestId }, app.log),
    log: app.log,
  });
  // A listening server takes webhooks: it sweeps (a server only injected into, or describing its routes, does not).
  app.addHook('onListen', async () => sendgridInbox.start());
  // Closing waits a bounded time for what was accepted; the rest stays in the inbox for a sweep.
  app.addHook('onClose', async () => sendgridInbox.close(INBOX_CLOSE_WAIT_MS));

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
          description:
            'Answered 200 once the batch is stored in the webhook inbox; its events are applied behind the answer. ' +
            '503 `busy` with Retry-After when this process holds as much unapplied work as its bound allows (docs/webhooks.md).',
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

        const body = (request.body as Buffer).toString('utf8');
        const batch = readSendGridBody(body);
        if (!batch.ok) throw new ApiError(400, 'invalid_request', batch.message);
        // A bad event is kept for audit and skipped; the rest of the batch is applied (issue 14, finding 5).
        const invalid = batch.events.filter((e) => !e.ok).length;
        if (invalid)
          request.log.warn(
            { invalid, of: batch.events.length },
            'SendGrid events refused one by one; the rest applied',
          );
        const taken = await sendgridInbox.accept(body, batch.events);
        if (!taken.accepted) {
          reply.header('retry-after', String(INBOX_RETRY_AFTER_SECONDS));
          throw new ApiError(
            503,
            'busy',
            `this process holds as many accepted webhook requests as it may until they are applied; retry in ${INBOX_RETRY_AFTER_SECONDS} s`,
            {
              pendingRequests: taken.pendingRequests,
              pendingBytes: taken.pendingBytes,
              retryAfterSeconds: INBOX_RETRY_AFTER_SECONDS,
            },
          );
        }
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
      // Applied before the answer, as it always was (a status callback is one event; no inbox).
      await deliver(
        {
          provider: 'twilio',
          items: [{ raw: { ...params }, routed: routeTwilioStatus(parsed.data, query, new Date()) }],
          receivedAt: new Date(),
        },
        request.log,
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
