// /ui/webhooks — outbound webhooks for a tenant's admin (docs/webhooks.md): the endpoints, add,
// change, rotate the secret, delete; the deliveries with every attempt, and replay. The same
// functions as /v1/webhook-endpoints and /v1/webhook-deliveries, with the same role (admin) and
// zod schemas; a secret is shown once, on the page that answers its creation or rotation.
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import type { ApiDeps } from '../api/deps';
import { ApiError, parse } from '../api/errors';
import {
  createWebhookEndpointSchema,
  listWebhookDeliveriesQuery,
  rotateSecretSchema,
  updateWebhookEndpointSchema,
} from '../api/schemas';
import {
  createEndpoint,
  deleteEndpoint,
  listDeliveries,
  listEndpoints,
  readDelivery,
  replayDelivery,
  rotateSecret,
  updateEndpoint,
} from '../app/webhook-endpoints';
import { TENANT_EVENT_TYPES } from '../domain/tenant-events';
import { FINISHED_DELIVERY, type DeliveryStatus } from '../outbound/deliveries';
import { render, type PageContext } from './render';
import { WORDS } from './words';

export const WEBHOOKS_PAGE = '/ui/webhooks';
export const deliveryPagePath = (id: string) => `${WEBHOOKS_PAGE}/deliveries/${encodeURIComponent(id)}`;

type Problem = { status: number; message: string };
export interface PageTools {
  /** Signed in as an admin (the page's role). */
  admin: preHandlerAsyncHookHandler;
  checkCsrf: preHandlerHookHandler;
  context(request: FastifyRequest, reply: FastifyReply, title: string, extra?: Record<string, unknown>): PageContext;
  act(
    run: () => Promise<unknown>,
    onRefused: (p: Problem) => Promise<unknown>,
    reply: FastifyReply,
    back: string,
  ): Promise<unknown>;
}

const form = (request: FastifyRequest) => (request.body ?? {}) as Record<string, string | string[] | undefined>;
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const blankToNull = (v: string | string[] | undefined) => (typeof v === 'string' && v.trim() ? v : null);
/** Runs an action that answers with a page of its own; a refusal (400, 409, 422) is shown by `onRefused`. */
async function orRefused(run: () => Promise<unknown>, onRefused: (p: Problem) => Promise<unknown>) {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ApiError && [400, 409, 422].includes(err.status))
      return onRefused({ status: err.status, message: err.message });
    throw err;
  }
}

export function webhookPages(app: FastifyInstance, deps: ApiDeps, tools: PageTools) {
  const { db } = deps;
  const principalOf = (request: FastifyRequest) => request.ui!.principal;

  async function page(
    request: FastifyRequest,
    reply: FastifyReply,
    shown: { secret?: { endpointId: string; value: string }; problem?: Problem; status?: number } = {},
  ) {
    const { locale } = request.ui!;
    const w = WORDS[locale];
    const tenantId = principalOf(request).tenantId!;
    const query = parse(listWebhookDeliveriesQuery, { ...(request.query as object), limit: 50 });
    const [endpoints, deliveries] = await Promise.all([
      listEndpoints(db, tenantId),
      listDeliveries(db, tenantId, query),
    ]);
    const urls = new Map(endpoints.map((e) => [e.id, e.url]));
    return render(
      reply,
      'webhooks',
      tools.context(request, reply, 'webhooks', {
        endpoints: endpoints.map((e) => ({
          ...e,
          stateLabel: e.enabled
            ? w.webhook.enabled
            : e.disabledReason === 'gone'
              ? w.webhook.disabledGone
              : w.webhook.disabled,
          events: TENANT_EVENT_TYPES.map((type) => ({ value: type, checked: e.events.includes(type) })),
          eventList: e.events.join(', '),
          secret: shown.secret?.endpointId === e.id ? shown.secret.value : null,
        })),
        eventTypes: TENANT_EVENT_TYPES,
        overlaps: [
          ['P1D', w.webhook.overlapDay],
          ['P7D', w.webhook.overlapWeek],
          ['PT0S', w.webhook.overlapNone],
        ].map(([value, label]) => ({ value, label })),
        deliveries: deliveries.deliveries.map((d) => ({
          ...d,
          href: deliveryPagePath(d.id),
          statusLabel: w.webhook.statuses[d.status],
          failed: d.status === 'failed',
          lastCode: d.attempts.at(-1)?.statusCode ?? d.attempts.at(-1)?.error ?? null,
          endpointUrl: urls.get(d.endpointId) ?? d.url,
        })),
        olderHref: deliveries.nextCursor ? `${WEBHOOKS_PAGE}?cursor=${deliveries.nextCursor}` : null,
        problem: shown.problem
          ? { ...shown.problem, prefix: shown.problem.status === 409 ? w.conflict : w.badRequest }
          : undefined,
      }),
      shown.status ?? shown.problem?.status ?? 200,
    );
  }

  app.get(WEBHOOKS_PAGE.slice(3), { preHandler: tools.admin }, async (request, reply) => page(request, reply));

  // Creating and rotating answer with the page itself: the secret is in that answer only (no redirect could carry it).
  app.post(WEBHOOKS_PAGE.slice(3), { preHandler: [tools.checkCsrf, tools.admin] }, async (request, reply) => {
    const f = form(request);
    return orRefused(
      async () => {
        const created = await createEndpoint(
          deps,
          principalOf(request),
          parse(createWebhookEndpointSchema, {
            url: f.url,
            events: list(f.events),
            description: blankToNull(f.description),
            enabled: true,
          }),
        );
        return page(request, reply, { secret: { endpointId: created.id, value: created.secret }, status: 201 });
      },
      (problem) => page(request, reply, { problem }),
    );
  });

  app.post<{ Params: { id: string } }>(
    `${WEBHOOKS_PAGE.slice(3)}/:id/rotate`,
    { preHandler: [tools.checkCsrf, tools.admin] },
    async (request, reply) => {
      return orRefused(
        async () => {
          const rotated = await rotateSecret(
            deps,
            principalOf(request),
            request.params.id,
            parse(rotateSecretSchema, { previousSecretFor: form(request).previousSecretFor }).previousSecretFor,
          );
          return page(request, reply, { secret: { endpointId: rotated.id, value: rotated.secret } });
        },
        (problem) => page(request, reply, { problem }),
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    `${WEBHOOKS_PAGE.slice(3)}/:id`,
    { preHandler: [tools.checkCsrf, tools.admin] },
    async (request, reply) => {
      const f = form(request);
      return tools.act(
        () =>
          updateEndpoint(
            deps,
            principalOf(request),
            request.params.id,
            parse(updateWebhookEndpointSchema, {
              url: f.url,
              events: list(f.events),
              description: blankToNull(f.description),
              enabled: f.enabled === 'on',
            }),
          ),
        (problem) => page(request, reply, { problem }),
        reply,
        `${WEBHOOKS_PAGE}?done=webhookSaved`,
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    `${WEBHOOKS_PAGE.slice(3)}/:id/delete`,
    { preHandler: [tools.checkCsrf, tools.admin] },
    async (request, reply) =>
      tools.act(
        () => deleteEndpoint(db, principalOf(request), request.params.id),
        (problem) => page(request, reply, { problem }),
        reply,
        `${WEBHOOKS_PAGE}?done=webhookDeleted`,
      ),
  );

  async function deliveryPage(
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    problem?: Problem,
  ) {
    const { locale } = request.ui!;
    const w = WORDS[locale];
    const d = await readDelivery(db, principalOf(request).tenantId!, request.params.id);
    return render(
      reply,
      'webhook-delivery',
      tools.context(request, reply, `${w.webhook.delivery} ${d.number}`, {
        d,
        statusLabel: w.webhook.statuses[d.status],
        failed: d.status === 'failed',
        reasonLabel: d.reason ? (w.webhook.reasons[d.reason] ?? d.reason) : null,
        finished: FINISHED_DELIVERY.includes(d.status as DeliveryStatus),
        payload: JSON.stringify(d.payload, null, 2),
        attempts: d.attempts.map((a, i) => ({ ...a, n: i + 1, ok: a.statusCode !== null && a.statusCode < 300 })),
        replayOfHref: d.replayOf ? deliveryPagePath(d.replayOf) : null,
        base: deliveryPagePath(d.id),
        problem: problem ? { ...problem, prefix: problem.status === 409 ? w.conflict : w.badRequest } : undefined,
      }),
      problem?.status ?? 200,
    );
  }
  app.get<{ Params: { id: string } }>(
    `${WEBHOOKS_PAGE.slice(3)}/deliveries/:id`,
    { preHandler: tools.admin },
    async (request, reply) => deliveryPage(request, reply),
  );
  app.post<{ Params: { id: string } }>(
    `${WEBHOOKS_PAGE.slice(3)}/deliveries/:id/replay`,
    { preHandler: [tools.checkCsrf, tools.admin] },
    async (request, reply) => {
      return orRefused(
        async () => {
          const replay = await replayDelivery(deps, principalOf(request), request.params.id);
          return reply.redirect(`${deliveryPagePath(replay.id)}?done=replayed`, 303);
        },
        (problem) => deliveryPage(request, reply, problem),
      );
    },
  );
}
