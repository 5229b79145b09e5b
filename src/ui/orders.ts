// /ui/orders — the orders workspace (issue 18, rules O1–O10): every order with an open exception,
// by type with counts, filters, the oldest first and stuck ones marked; an order's page with its
// state, exceptions, documents, notifications and timeline, and the seller's actions on it
// (release and cancel a hold, upload the label or invoice, change the carrier, fix the dimensions,
// request a new pickup, tell the customer, record why a parcel is stuck, resolve with a note).
// The same functions, roles and zod schemas as /v1/orders; every form carries its CSRF token.
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../api/deps';
import { allows } from '../api/auth';
import { ApiError, parse } from '../api/errors';
import { listOrdersQuery, opsActionSchema, sellerActionSchema, uploadDocumentSchema } from '../api/schemas';
import { listOrdersPage, opsAction, readOrder, sellerAction, uploadDocument } from '../app/orders';
import { preferredChannels } from '../app/settings';
import { byPreference } from '../domain/preferences';
import { orderTimelineQuery } from '../api/schemas';
import { acceptUploads, uploadedFile } from '../api/uploads';
import { sendDocument } from '../api/downloads';
import type { Role } from '../db/api-keys';
import { isFailure, type RecipientStatus } from '../domain/dispatch-status';
import { EXCEPTION_TYPES, ORDER_STATES, STUCK_CAUSES, type ExceptionType, type OrderState } from '../domain/order';
import { actionWords, exceptionLabel, reasonWords, resolutionWords, stuckCauseLabel } from '../domain/order-words';
import { planSellerAction, TOLD_NOTICES, type ActionFacts, type SellerAction } from '../domain/seller-actions';
import { dispatchPagePath, orderPagePath } from './paths';
import { render, type PageContext } from './render';
import { checkDays } from './dates';
import { endOfDay, startOfDay } from '../domain/days';
import { WORDS } from './words';

type Problem = { status: number; message: string };
export interface OrderPageTools {
  /** Signed in, with one of the roles (an onRequest or preHandler hook). */
  need(roles: Role[]): onRequestHookHandler & preHandlerHookHandler;
  checkCsrf: preHandlerHookHandler;
  context(request: FastifyRequest, reply: FastifyReply, title: string, extra?: Record<string, unknown>): PageContext;
  act(
    run: () => Promise<unknown>,
    onRefused: (p: Problem) => Promise<unknown>,
    reply: FastifyReply,
    back: string,
  ): Promise<unknown>;
  roles: { orders: Role[]; ops: Role[] };
  /** A status that will not move without a new action or a late provider event (the page stops polling). */
  settledStatus(status: RecipientStatus): boolean;
}

const form = (request: FastifyRequest) => (request.body ?? {}) as Record<string, string | string[] | undefined>;
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const text = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);
const blankToNull = (v: string | string[] | undefined) => (typeof v === 'string' && v.trim() ? v : null);
const number = (v: string | string[] | undefined) =>
  typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;

/** The list's form, as the browser sends it (dates in the tenant's zone, checkboxes as "true"). */
/** The workspace's filters as its form sends them (checked by the API's schema after); its CSV download takes the same. */
export const listForm = z.object({
  exception: z.string().max(40).optional(),
  state: z.string().max(40).optional(),
  stuck: z.string().max(10).optional(),
  held: z.string().max(10).optional(),
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  cursor: z.string().max(500).optional(),
});

/** What an order page's actions post, turned into the API's action body (the same schema validates it). */
const ACTION_FORMS: Record<
  string,
  { done: string; body: (f: Record<string, string | string[] | undefined>) => unknown }
> = {
  carrier: {
    done: 'carrierChanged',
    body: (f) => ({ type: 'change_carrier', carrier: f.carrier, note: blankToNull(f.note) }),
  },
  dimensions: {
    done: 'dimensionsFixed',
    body: (f) => ({
      type: 'fix_dimensions',
      dimensions: {
        lengthCm: number(f.lengthCm),
        widthCm: number(f.widthCm),
        heightCm: number(f.heightCm),
        weightKg: number(f.weightKg),
      },
      note: blankToNull(f.note),
    }),
  },
  pickup: { done: 'pickupRequested', body: (f) => ({ type: 'request_pickup', note: blankToNull(f.note) }) },
  tell: {
    done: 'customerTold',
    body: (f) => ({ type: 'tell_customer', notice: f.notice, channels: list(f.channels), note: blankToNull(f.note) }),
  },
  cause: {
    done: 'causeRecorded',
    body: (f) => ({ type: 'record_stuck_cause', cause: f.cause, note: blankToNull(f.note) }),
  },
  resolve: { done: 'resolved', body: (f) => ({ type: 'resolve', exception: f.exception, note: f.note ?? '' }) },
};

/** Which actions the order's page offers now: those the domain would accept (the server checks again). */
function offered(facts: ActionFacts) {
  const ok = (action: SellerAction) => planSellerAction(facts, action).ok;
  const document = { documentId: '', filename: '', contentType: '', bytes: 0, at: '' };
  return {
    upload: ok({ type: 'upload_document', kind: 'label', document }),
    carrier: ok({ type: 'change_carrier', carrier: '-', note: null }),
    dimensions: ok({
      type: 'fix_dimensions',
      dimensions: { lengthCm: 1, widthCm: 1, heightCm: 1, weightKg: 1 },
      note: null,
    }),
    pickup: ok({ type: 'request_pickup', note: null }),
    tell: !facts.ended && facts.state !== 'delivered',
    cause: ok({ type: 'record_stuck_cause', cause: 'operational', note: null }),
    resolve: facts.open.some((e) => e.type !== 'on_hold'),
  };
}

export function orderPages(app: FastifyInstance, deps: ApiDeps, tools: OrderPageTools) {
  const { need, checkCsrf, context, act, roles } = tools;

  // ---- the workspace: orders with an open exception (issue 18 item 1) ------------------------
  app.get('/orders', { preHandler: need(roles.orders) }, async (request, reply) => {
    const id = (request.query as { id?: string }).id?.trim();
    if (id) return reply.redirect(orderPagePath(id), 303);
    const { principal, locale, timeZone } = request.ui!;
    const w = WORDS[locale];
    const f = parse(listForm, request.query);
    checkDays(f, w.workspace, w.invalidDate);
    const query = parse(listOrdersQuery, {
      exception: f.exception || undefined,
      state: f.state || undefined,
      stuck: f.stuck === 'true' ? 'true' : undefined,
      held: f.held === 'true' || f.held === 'false' ? f.held : undefined,
      from: f.from ? startOfDay(f.from, timeZone).toISOString() : undefined,
      to: f.to ? endOfDay(f.to, timeZone).toISOString() : undefined,
      cursor: f.cursor || undefined,
      limit: 50,
    });
    const page = await listOrdersPage(deps, principal.tenantId!, query);
    const keep = new URLSearchParams(
      Object.entries({ ...f, cursor: undefined }).filter(([, v]) => v) as [string, string][],
    );
    const href = (changes: Record<string, string | undefined>) => {
      const q = new URLSearchParams(keep);
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) q.delete(k);
        else q.set(k, v);
      }
      const s = q.toString();
      return s ? `/ui/orders?${s}` : '/ui/orders';
    };
    const counts = page.counts!;
    // On the embedded store a count at the cap means at least that many (src/db/order-list.ts, COUNT_CAP).
    const shown = (n: number) => (counts.cap !== null && n >= counts.cap ? `${counts.cap}+` : String(n));
    const tabs = [
      {
        label: w.workspace.allOpen,
        count: shown(counts.open),
        href: href({ exception: undefined, stuck: undefined }),
        current: query.exception === 'open' && !query.stuck,
      },
      ...EXCEPTION_TYPES.map((t) => ({
        label: exceptionLabel(t, locale),
        count: shown(counts.byType[t] ?? 0),
        href: href({ exception: t, stuck: undefined }),
        current: query.exception === t && !query.stuck,
        type: t,
      })),
      {
        label: w.workspace.stuck,
        count: shown(counts.stuck),
        href: href({ exception: undefined, stuck: 'true' }),
        current: query.exception === 'open' && query.stuck === true,
        stuck: true,
      },
    ];
    const rows = page.orders.map((o) => ({
      ...o,
      href: orderPagePath(o.orderId),
      stateLabel: w.states[o.state as OrderState] ?? o.state,
      exceptions: o.exceptions.map((e) => ({
        ...e,
        label: exceptionLabel(e.type as ExceptionType, locale),
        reasonText: reasonWords(e.reason, locale),
        causeText: e.cause ? stuckCauseLabel(e.cause, locale) : null,
      })),
    }));
    return render(
      reply,
      'orders',
      context(request, reply, query.exception === 'all' ? w.workspace.allTitle : w.workspace.title, {
        rows,
        tabs,
        f,
        counts,
        exceptions: [
          { value: '', label: w.workspace.anyOpen, selected: !f.exception || f.exception === 'open' },
          ...EXCEPTION_TYPES.map((t) => ({ value: t, label: exceptionLabel(t, locale), selected: f.exception === t })),
          { value: 'all', label: w.workspace.everyOrder, selected: f.exception === 'all' },
        ],
        states: ORDER_STATES.map((s) => ({ value: s, label: w.states[s], selected: f.state === s })),
        helds: [
          { value: '', label: w.workspace.heldAny },
          { value: 'true', label: w.workspace.heldOnly },
          { value: 'false', label: w.workspace.heldNone },
        ].map((h) => ({ ...h, selected: (f.held ?? '') === h.value })),
        filtered: Boolean(f.exception || f.state || f.stuck || f.held || f.from || f.to),
        moreHref: page.nextCursor ? href({ cursor: page.nextCursor }) : null,
        // The same filters as a CSV download (issue 21 item 2): what the page lists, every page of it.
        exportHref: `/ui/orders.csv?${new URLSearchParams({ ...Object.fromEntries(keep), exception: query.exception })}`,
        restartHref: f.cursor ? href({ cursor: undefined }) : null,
      }),
    );
  });

  // ---- an order (O4, O10; issue 18 item 2) --------------------------------------------------
  async function orderPage(
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    problem?: Problem,
  ) {
    const { principal, locale } = request.ui!;
    const w = WORDS[locale];
    const page = orderTimelineQuery.safeParse(request.query ?? {});
    const o = await readOrder(deps, principal.tenantId!, request.params.id, page.success ? page.data : {});
    const base = orderPagePath(o.orderId);
    const open = o.exceptions.filter((e) => !e.resolvedAt);
    const documents = (o.documents ?? { label: null, invoice: null }) as Record<
      'label' | 'invoice',
      { documentId: string; filename: string; bytes: number; at: string } | null
    >;
    const customer = await deps.db.Order.findOne(
      { tenantId: principal.tenantId, orderId: o.orderId },
      { customer: 1 },
    ).lean();
    const contact = (customer?.customer ?? {}) as { email?: string | null; phone?: string | null };
    const ended = o.ended ?? false;
    const offers = allows(principal, roles.ops)
      ? offered({
          state: o.state,
          ended,
          open,
          documents: { label: Boolean(documents.label), invoice: Boolean(documents.invoice) },
          customer: { email: contact.email ?? null, phone: contact.phone ?? null },
        })
      : null;
    const may = offers && Object.values(offers).some(Boolean) ? offers : null;
    const dims = (o.dimensions ?? null) as {
      lengthCm: number;
      widthCm: number;
      heightCm: number;
      weightKg: number;
    } | null;
    return render(
      reply,
      'order',
      context(request, reply, `${w.order} ${o.orderId}`, {
        o,
        stateLabel: w.states[o.state],
        held: o.state === 'on_hold',
        canAct: allows(principal, roles.ops),
        ended,
        holdReason: o.hold ? reasonWords(o.hold.reason, locale) : null,
        stuckCause: o.stuckCause ? stuckCauseLabel(o.stuckCause, locale) : null,
        dimensions: dims ? `${dims.lengthCm} × ${dims.widthCm} × ${dims.heightCm} cm, ${dims.weightKg} kg` : null,
        documents: (['label', 'invoice'] as const).map((kind) => ({
          kind,
          label: w.workspace[kind],
          doc: documents[kind],
          href: documents[kind] ? `${base}/documents/${documents[kind]!.documentId}` : null,
        })),
        exceptions: [...o.exceptions].reverse().map((e) => ({
          ...e,
          label: exceptionLabel(e.type, locale),
          reasonText: reasonWords(e.reason, locale),
          action: e.resolvedAt ? null : actionWords(e.cause ?? e.reason, locale),
          causeText: e.cause ? stuckCauseLabel(e.cause, locale) : null,
          resolution: e.resolution ? resolutionWords(e.resolution, locale) : null,
        })),
        // Issue 20: each customer notice's path: which channel when, why it moved on, held until when.
        customerNotices: o.customerNotices.map((c) => ({
          noticeId: c.noticeId,
          state: c.state,
          label: w.notice[c.notice as keyof typeof w.notice] ?? c.notice,
          stateLabel: w.workspace.noticeStates[c.state as keyof typeof w.workspace.noticeStates] ?? c.state,
          failed: c.state === 'exhausted',
          path: c.path.map((p) => ({
            ...p,
            channelLabel: w[p.channel],
            eventLabel: w.workspace.noticeEvents[p.event],
            reasonText: p.reason && p.event !== 'held' && p.event !== 'silent' ? reasonWords(p.reason, locale) : null,
            href: p.dispatchId ? dispatchPagePath(p.dispatchId) : null,
          })),
        })),
        notifications: [...o.notifications].reverse().map((n) => ({
          ...n,
          statusLabel: n.digest ? w.workspace.inDigest : (w.statuses[n.status as RecipientStatus] ?? n.status),
          failed: isFailure(n.status as RecipientStatus),
          href: n.dispatchId ? dispatchPagePath(n.dispatchId) : null,
          ...(n.noticeId && !n.dispatchId
            ? { statusLabel: w.workspace.noticeStates[n.status as keyof typeof w.workspace.noticeStates] ?? n.status }
            : {}),
        })),
        history: [...o.history].reverse().map((h) => {
          const d = (h.details ?? {}) as {
            documentId?: string;
            filename?: string;
            cause?: string;
            carrier?: string;
            exception?: string;
          };
          return {
            ...h,
            label: w.events[h.event] ?? h.event,
            reasonText: h.reason ? reasonWords(h.reason, locale) : null,
            file: d.documentId && d.filename ? { name: d.filename, href: `${base}/documents/${d.documentId}` } : null,
            extra: d.cause
              ? stuckCauseLabel(d.cause, locale)
              : (d.carrier ?? (d.exception ? exceptionLabel(d.exception as ExceptionType, locale) : null)),
          };
        }),
        // Live until nothing more can happen on its own: an order that has ended, its notifications all settled.
        settled: ended && o.notifications.every((n) => tools.settledStatus(n.status as RecipientStatus)),
        problem: problem ? { ...problem, prefix: problem.status === 409 ? w.conflict : w.badRequest } : undefined,
        base,
        may,
        kinds: (['label', 'invoice'] as const).map((k) => ({ value: k, label: w.workspace[k] })),
        told: TOLD_NOTICES.map((n) => ({
          value: n,
          label: w.workspace.told[n],
          selected:
            n === 'delivery_failed'
              ? open.some((e) => e.type === 'delivery_failed')
              : !open.some((e) => e.type === 'delivery_failed'),
        })),
        channels: (['email', 'sms', 'whatsapp'] as const).map((c) => ({
          value: c,
          label: w[c],
          disabled: c === 'email' ? !contact.email : !contact.phone,
        })),
        causes: STUCK_CAUSES.map((c) => ({
          value: c,
          label: stuckCauseLabel(c, locale),
          selected: o.stuckCause === c,
        })),
        resolvable: open
          .filter((e) => e.type !== 'on_hold')
          .map((e) => ({ value: e.type, label: exceptionLabel(e.type, locale) })),
        carrier: o.carrier,
        dims,
        olderHref: o.historyCursor ? `${base}?historyCursor=${o.historyCursor}` : null,
        newestHref: page.success && page.data.historyCursor ? base : null,
      }),
      problem?.status ?? 200,
    );
  }
  app.get<{ Params: { id: string } }>('/orders/:id', { preHandler: need(roles.orders) }, async (request, reply) =>
    orderPage(request, reply),
  );

  for (const action of ['release', 'cancel'] as const) {
    app.post<{ Params: { id: string } }>(
      `/orders/:id/${action}`,
      { preHandler: [checkCsrf, need(roles.ops)] },
      async (request, reply) =>
        act(
          () =>
            opsAction(
              deps,
              request.ui!.principal,
              request.params.id,
              action,
              parse(opsActionSchema, { reason: form(request).reason }),
            ),
          (p) => orderPage(request, reply, p),
          reply,
          `${orderPagePath(request.params.id)}?done=${action === 'release' ? 'released' : 'cancelled'}`,
        ),
    );
  }

  /** The page's ticked channels carry no order: told in the tenant's order for that notice (the API takes its list as given). */
  async function inTenantOrder(tenantId: string, parsed: unknown): Promise<SellerAction> {
    const action = parsed as SellerAction;
    if (action.type !== 'tell_customer') return action;
    return {
      ...action,
      channels: byPreference(action.channels, await preferredChannels(deps.db, tenantId, action.notice)),
    };
  }

  // The seller's actions: the API's schema and function, the person's name from the session.
  for (const [path, { done, body }] of Object.entries(ACTION_FORMS)) {
    app.post<{ Params: { id: string } }>(
      `/orders/:id/${path}`,
      { preHandler: [checkCsrf, need(roles.ops)] },
      async (request, reply) =>
        act(
          async () =>
            sellerAction(
              deps,
              request.ui!.principal,
              request.params.id,
              await inTenantOrder(request.ui!.principal.tenantId!, parse(sellerActionSchema, body(form(request)))),
            ),
          (p) => orderPage(request, reply, p),
          reply,
          `${orderPagePath(request.params.id)}?done=${done}`,
        ),
    );
  }

  // The label or invoice: read on a signed-in ops session (before the body), checked like the API's.
  app.register(async (uploads) => {
    await acceptUploads(uploads);
    uploads.post<{ Params: { id: string } }>(
      '/orders/:id/documents',
      { onRequest: need(roles.ops), preHandler: checkCsrf },
      async (request, reply) => {
        const f = form(request);
        try {
          const body = parse(uploadDocumentSchema, {
            kind: text(f.kind),
            file: text(f.file),
            note: blankToNull(f.note),
          });
          await uploadDocument(deps, request.ui!.principal, request.params.id, uploadedFile(request, body), body);
        } catch (err) {
          if (err instanceof ApiError && [400, 409, 413, 422].includes(err.status))
            return orderPage(request, reply, { status: err.status, message: err.message });
          throw err;
        }
        return reply.redirect(`${orderPagePath(request.params.id)}?done=uploaded`, 303);
      },
    );
  });

  app.get<{ Params: { id: string; documentId: string } }>(
    '/orders/:id/documents/:documentId',
    { preHandler: need(roles.orders) },
    async (request, reply) =>
      sendDocument(deps, request.ui!.principal.tenantId!, request.params.id, request.params.documentId, reply),
  );
}
