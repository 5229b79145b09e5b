// The API contract: an OpenAPI 3.1 document built from the routes as they are registered
// (@fastify/swagger collects every route through Fastify's onRoute hook), their schemas being
// the very zod schemas Fastify validates requests with (no copy kept by hand). Served at
// /openapi.json, with a reference page at /docs whose assets come from @fastify/swagger-ui
// (works offline). Operator pages (/ui) are left out on purpose: they are HTML forms for
// people, behind a session, not an API.
import type { FastifyInstance, FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fromZod, nulCharacterAt, nulError } from './errors';
import { TENANT_EVENTS } from '../domain/tenant-events';

/** The one error shape (src/api/errors.ts). `details` is null, a list of fields, or an object naming a limit. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z
        .string()
        .describe(
          'stable, machine-readable: invalid_request, unauthenticated, forbidden, not_found, conflict, payload_too_large, rate_limited, …',
        ),
      message: z.string().describe('for people: what went wrong and, where it helps, what to do'),
      details: z
        .unknown()
        .describe('null, a list of { field, message, value } (400), or the limit that was hit (413, 429)'),
    }),
  })
  .meta({ id: 'Error' });

const ERROR_WORDS: Record<number, string> = {
  400: 'The request does not match the schema (details name each field and the offending value).',
  401: 'No API key, an unknown or revoked one (webhooks: missing or wrong signature).',
  403: 'The key lacks the role the route needs.',
  404: 'Not found in this tenant.',
  409: 'The request conflicts with the current state (the message names it).',
  410: 'The link has expired.',
  422: 'The body matches the schema but is refused by a rule it cannot express: a repeated recipient, or a template, template variable or outlet this tenant does not have (details name the field).',
  413: "The body is larger than the route's limit (details.limitBytes).",
  429: 'Too many requests from this address (or, on customer pages, for this business); wait Retry-After seconds.',
  503: 'Not configured or not ready.',
};

/** Documented error responses, all in the `{ error: { code, message, details } }` shape. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema.describe(ERROR_WORDS[s] ?? 'Error')])) as Record<
    number,
    typeof errorSchema
  >;
}

/** Responses of a server-rendered page (confirmation, document link): HTML, whatever the status. */
export function htmlPage(description: string) {
  return { description, content: { 'text/html': { schema: z.string() } } };
}

/**
 * Handlers see request parts typed from their zod schemas (what the validator returns). Response
 * schemas are documentation checked by the contract tests, not a type the handler must match.
 */
export interface ZodRequestTypes extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: unknown;
}

/** Fastify validates with the route's zod schemas; a refusal is the API's 400 naming each field. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    const result = schema.safeParse(data);
    if (!result.success) return { error: fromZod(result.error, data) };
    // Free-form values (a dispatch's `data`) too: the schemas' own strings already refuse it in the contract.
    const nul = nulCharacterAt(result.data);
    return nul ? { error: nulError(nul) } : { value: result.data };
  };

/**
 * For routes whose body may only be read after a signature check (webhooks): the schema is in
 * the contract, and the handler parses with it once the signature holds (a 401 must come first).
 */
export const afterSignatureCheck = () => (data: unknown) => ({ value: data });

const NOT_IN_CONTRACT = [/^\/ui(\/|$)/, /^\/docs(\/|$)/, /^\/openapi\.json$/];
export const inContract = (url: string) => !NOT_IN_CONTRACT.some((re) => re.test(url));

const transform = createJsonSchemaTransform({ skipList: [] });

/** On the root instance, before any route: @fastify/swagger sees routes registered after it. */
export function registerOpenApi(app: FastifyInstance, options: { publicBaseUrl: string; serve: boolean }) {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Relais API',
        version: '1',
        description: [
          'Durable commerce notifications: email dispatches of documents (rules D1–D11), order workflows (O1–O10), provider webhooks (N3) and the customer address confirmation page (O3).',
          'Every error is `{ "error": { "code", "message", "details" } }`. Request bodies are limited per route (413), public routes per client address and customer pages per tenant too (429 with Retry-After). See docs/api.md.',
          'The operator pages under /ui are not part of this contract (HTML forms behind a session).',
        ].join('\n\n'),
      },
      servers: [{ url: options.publicBaseUrl }],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A tenant API key: `Authorization: Bearer <key>`. Each key has roles (admin, dispatch:write, log:read, orders:write, ops, platform).',
          },
          sendgridSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Twilio-Email-Event-Webhook-Signature',
            description:
              'SendGrid signed Event Webhook: ECDSA over timestamp + raw body, with X-Twilio-Email-Event-Webhook-Timestamp (at most 5 minutes old).',
          },
          twilioSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Twilio-Signature',
            description:
              'Twilio request signature: HMAC-SHA1 of the public URL and the sorted form parameters, keyed by the auth token.',
          },
        },
      },
      tags: [
        { name: 'dispatches', description: 'Email a document to recipients and follow each one (D1–D11, L1–L3)' },
        { name: 'orders', description: 'Order workflows, events, holds (O1–O10)' },
        { name: 'tenant', description: 'Tenants, settings, alert preferences' },
        { name: 'webhooks', description: 'Provider callbacks, verified by signature (N3)' },
        {
          name: 'outbound webhooks',
          description:
            "Endpoints of the tenant's own system that Relais calls with signed events (Standard Webhooks); the events are under `webhooks`",
        },
        { name: 'public', description: 'Pages a customer opens from a signed link' },
        { name: 'operations', description: 'Health and metrics' },
      ],
    },
    transform: (document) => {
      if (!inContract(document.url)) return { schema: { ...document.schema, hide: true }, url: document.url };
      // Any route that takes a body has a size limit (a 413), declared or not.
      const schema = document.schema as { body?: unknown; response?: Record<string, unknown> } | undefined;
      if (schema?.body && !schema.response?.[413]) schema.response = { ...schema.response, ...errors(413) };
      return transform(document);
    },
    transformObject: (input) => withOutboundWebhooks(jsonSchemaTransformObject(input)),
  });
  // Public by default: the contract of an open-source API, no data in it (docs/security.md); API_DOCS=off hides both.
  if (!options.serve) return;
  app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** Standard Webhooks' headers on every outbound webhook (docs/webhooks.md). */
const WEBHOOK_HEADERS = [
  { name: 'webhook-id', description: "msg_…: the event's id, the same on every retry and replay; dedupe on it" },
  {
    name: 'webhook-timestamp',
    description: 'seconds since the epoch, of this attempt; refuse one far from your clock (5 minutes)',
  },
  {
    name: 'webhook-signature',
    description:
      'space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`, keyed by the base64-decoded part of the endpoint\'s whsec_ secret; two during a secret rotation',
  },
].map((h) => ({ in: 'header', required: true, schema: { type: 'string' }, ...h }));

/**
 * The events Relais sends to tenants' endpoints, as OpenAPI 3.1 `webhooks`: one per type of the
 * catalogue (src/domain/tenant-events.ts), its body the `{ type, timestamp, data }` envelope with
 * the type's data schema, from the same zod schemas the publishing activity checks events with.
 */
function withOutboundWebhooks<T extends object>(document: T): T {
  const webhooks = Object.fromEntries(
    Object.entries(TENANT_EVENTS).map(([type, event]) => {
      const { $schema: _drop, ...schema } = z.toJSONSchema(
        z.object({
          type: z.literal(type),
          timestamp: z.string().describe('when the event happened (ISO 8601, UTC)'),
          data: event.data,
        }),
        { io: 'input' },
      ) as Record<string, unknown>;
      return [
        type,
        {
          post: {
            tags: ['outbound webhooks'],
            summary: event.summary,
            operationId: `event:${type}`,
            description:
              'Sent to each enabled endpoint subscribed to this type (POST /v1/webhook-endpoints), signed per Standard Webhooks.',
            parameters: WEBHOOK_HEADERS,
            requestBody: { required: true, content: { 'application/json': { schema } } },
            responses: {
              '2XX': { description: 'received: the delivery ends' },
              '410': { description: 'Gone: Relais disables the endpoint and sends it nothing more' },
              default: {
                description:
                  'anything else (or no answer within 15 s) is retried: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, then the delivery fails',
              },
            },
          },
        },
      ];
    }),
  );
  return { ...document, webhooks };
}
