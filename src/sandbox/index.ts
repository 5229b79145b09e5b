// The provider sandbox (dev and tests only): answers like SendGrid v3 Mail Send and Twilio's
// Messages API closely enough for their official SDKs, keeps what it received, and sends back
// the providers' webhooks signed with real keys, retrying them like SendGrid does.
//
//   POST /v3/mail/send                                SendGrid Mail Send (sendgrid.ts)
//   POST /2010-04-01/Accounts/:sid/Messages.json      Twilio Messages create (twilio.ts)
//   GET  /2010-04-01/Accounts/:sid/Messages/:sid.json Twilio Messages fetch
//   POST /sandbox/inbound                             deliver a customer's SMS/WhatsApp to Relais
//   GET  /sandbox/messages?to=…  DELETE /sandbox/messages
//   POST /sandbox/faults  GET /sandbox/faults  DELETE /sandbox/faults
//   GET  /sandbox                                     the inbox page
//
// Each recipient's fate comes from its address: see FATE_TABLE in fates.ts.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Faults, faultSchema, type Fault, type FaultInput } from './faults';
import { renderInbox } from './inbox-page';
import { sendgridRoutes } from './sendgrid';
import { MessageStore, type SandboxInbound, type SandboxMessage } from './store';
import {
  deliverInbound,
  inboundSchema,
  twilioRoutes,
  type InboundInput,
  type InboundResult,
  type TwilioContext,
} from './twilio';
import { Scheduler, SendGridEventStream, WebhookDeliverer } from './webhooks';

export { FATE_TABLE, fateTableMarkdown, emailFate, phoneFate } from './fates';
export type { Fault, FaultInput } from './faults';
export type { DeliveryAttempt, DeliveryOutcome, SandboxEvent, SandboxInbound, SandboxMessage } from './store';
export type { InboundInput, InboundResult } from './twilio';

export interface SandboxOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 = a random free port (the default). */
  port?: number;
  /** `webhookUrl` is Relais's POST /webhooks/sendgrid. */
  sendgrid: { apiKey: string; signingPrivateKeyPem: string; webhookUrl: string };
  /** `inboundWebhookUrl` is Relais's POST /webhooks/twilio/inbound. */
  twilio: { accountSid: string; authToken: string; inboundWebhookUrl: string };
  /** Gap between successive events of one message (default 200 ms). */
  eventDelayMs?: number;
  /** Delay of a late bounce after delivered (default 5000 ms). */
  lateEventMs?: number;
  /** Webhook attempts before giving up (default 10; SendGrid keeps trying for 24 h). */
  maxDeliveryAttempts?: number;
  /** Wait before the first webhook retry, doubled each time (default: eventDelayMs, at least 10 ms). */
  retryFirstDelayMs?: number;
  /** Longest wait between webhook retries (default 30 s). */
  retryMaxDelayMs?: number;
  /** SendGrid events falling due within this window share one POST (default: eventDelayMs / 4, 1–25 ms). */
  batchWindowMs?: number;
  /** Per-attempt webhook timeout (default 10 s). */
  webhookTimeoutMs?: number;
  /** Fastify request logging (default off). */
  logger?: boolean;
}

export interface Sandbox {
  /** Base URL, e.g. http://127.0.0.1:4100 (give it to the SDKs). */
  url: string;
  /** What was received, oldest first (copies); `to` matches case-insensitively, WhatsApp with or without `whatsapp:`. */
  messages(filter?: { to?: string }): SandboxMessage[];
  /** Inbound messages delivered to Relais through POST /sandbox/inbound or `inbound()`. */
  inboundLog(): SandboxInbound[];
  /** Delivers a customer's SMS/WhatsApp to the inbound webhook, signed; resolves with the receiver's answer. */
  inbound(input: InboundInput): Promise<InboundResult>;
  /** Arms a fault: the next `count` API requests to that provider fail (as POST /sandbox/faults). */
  fault(input: FaultInput): Fault;
  clearFaults(): void;
  /** Forgets the messages and inbound log (events already scheduled still go out). */
  clear(): void;
  /** Resolves once no event is scheduled and no webhook is under way (or rejects after `timeoutMs`, default 30 s). */
  idle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A SendGrid Event Webhook signing key pair: prime256v1; the public key as SendGrid shows it (base64 DER SPKI). */
export function generateSendGridKeyPair(): { privateKeyPem: string; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** Control-route errors, shaped like Relais's own: `{ error: { code, message, details } }`. */
const controlError = (code: string, message: string, details?: unknown) => ({
  error: { code, message, ...(details !== undefined ? { details } : {}) },
});

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const eventDelayMs = options.eventDelayMs ?? 200;
  const lateEventMs = options.lateEventMs ?? 5000;
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 10_000;
  const privateKey = createPrivateKey(options.sendgrid.signingPrivateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ec')
    throw new Error('sandbox: the SendGrid signing key must be an EC (prime256v1) private key');

  const store = new MessageStore();
  const faults = new Faults();
  const scheduler = new Scheduler();
  const deliverer = new WebhookDeliverer(scheduler, {
    firstDelayMs: options.retryFirstDelayMs ?? Math.max(10, eventDelayMs),
    maxDelayMs: options.retryMaxDelayMs ?? 30_000,
    maxAttempts: options.maxDeliveryAttempts ?? 10,
    timeoutMs: webhookTimeoutMs,
  });
  const stream = new SendGridEventStream(scheduler, deliverer, {
    url: options.sendgrid.webhookUrl,
    privateKey,
    batchWindowMs: options.batchWindowMs ?? Math.min(25, Math.max(1, Math.floor(eventDelayMs / 4))),
    maxBatch: 1000,
    timeoutMs: webhookTimeoutMs,
  });
  const twilioContext: TwilioContext = {
    accountSid: options.twilio.accountSid,
    authToken: options.twilio.authToken,
    inboundWebhookUrl: options.twilio.inboundWebhookUrl,
    store,
    faults,
    scheduler,
    deliverer,
    eventDelayMs,
    webhookTimeoutMs,
  };

  // Mail Send takes up to 30 MB of JSON; the scopes below set their own parsers and limits.
  const app: FastifyInstance = Fastify({ logger: options.logger ?? false, bodyLimit: 1024 * 1024 });
  await app.register(async (scope) =>
    sendgridRoutes(scope, {
      apiKey: options.sendgrid.apiKey,
      store,
      faults,
      scheduler,
      stream,
      eventDelayMs,
      lateEventMs,
    }),
  );
  await app.register(async (scope) => twilioRoutes(scope, twilioContext));

  app.post('/sandbox/inbound', async (request, reply) => {
    const parsed = inboundSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      return reply
        .code(400)
        .send(
          controlError(
            'invalid_request',
            'expected { channel: sms|whatsapp, from: +E164, to?, body?, buttonPayload?, buttonText?, profileName? }',
            z.flattenError(parsed.error).fieldErrors,
          ),
        );
    }
    try {
      return await deliverInbound(twilioContext, parsed.data);
    } catch (err) {
      return reply
        .code(502)
        .send(
          controlError('webhook_unreachable', (err as Error).message, { params: (err as { params?: unknown }).params }),
        );
    }
  });

  app.get<{ Querystring: { to?: unknown } }>('/sandbox/messages', async (request) => {
    const to = request.query.to;
    return { messages: store.list({ to: typeof to === 'string' && to !== '' ? to : undefined }) };
  });
  app.delete('/sandbox/messages', async () => {
    store.clear();
    return { cleared: true };
  });
  app.get('/sandbox', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(renderInbox(store.list(), store.inbound(), faults.list())),
  );

  app.get('/sandbox/faults', async () => ({ faults: faults.list() }));
  app.post('/sandbox/faults', async (request, reply) => {
    const parsed = faultSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      return reply
        .code(400)
        .send(
          controlError(
            'invalid_request',
            'expected { provider: sendgrid|twilio|any, status?: 400|429|500|502|503, delayMs?: 1…120000 (one of the two at least), count: N ≥ 1, retryAfterSeconds? }',
            z.flattenError(parsed.error).fieldErrors,
          ),
        );
    }
    faults.add(parsed.data);
    return { faults: faults.list() };
  });
  app.delete('/sandbox/faults', async () => {
    faults.clear();
    return { faults: [] };
  });

  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  let closing: Promise<void> | undefined;

  return {
    url: address,
    messages: (filter) => store.list(filter),
    inboundLog: () => store.inbound(),
    async inbound(input) {
      return deliverInbound(twilioContext, inboundSchema.parse(input));
    },
    fault: (input) => faults.add(input),
    clearFaults: () => faults.clear(),
    clear: () => store.clear(),
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (scheduler.busy) {
        if (scheduler.closed) return;
        if (Date.now() > deadline) throw new Error(`sandbox: still busy after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close() {
      closing ??= (async () => {
        scheduler.close();
        deliverer.cancelAll();
        await app.close();
      })();
      return closing;
    },
  };
}
