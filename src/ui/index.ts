// /ui — the operator pages (L1–L4, D8, D11, O4, O9, O10): sign-in, delivery log, a dispatch,
// orders, preferences and settings. Server-rendered HTML that works without JavaScript;
// /ui/assets/app.js adds live updates and resend progress. Every action calls the same
// functions as the REST API (src/api/routes), with the same roles.
import { hkdfSync, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import { z } from 'zod';
import type { ApiDeps } from '../api/server';
import { allows } from '../api/server';
import { ApiError, parse } from '../api/errors';
import { markSentSchema, opsActionSchema, preferencesSchema, resendSchema, resendViaSchema, settingsSchema } from '../api/schemas';
import { listDispatches, markSent, readDispatch, resendRecipient, resendVia } from '../api/routes/dispatches';
import { opsAction, orderTimelineQuery, readOrder, updatePreferences } from '../api/routes/orders';
import { updateSettings } from '../api/routes/settings';
import type { Principal, Role } from '../db/api-keys';
import { DISPATCH_RESULTS, FAILED_RESULTS, isFinal, isFailure, statusSummaryOfCounts, type DispatchResult, type RecipientStatus } from '../domain/dispatch-status';
import { plainReason, type ReasonCode } from '../domain/reasons';
import { actionWords, exceptionLabel, reasonWords, resolutionWords } from '../domain/order-words';
import { EXCEPTION_TYPES, FINISHED_STATES } from '../domain/order';
import { carriesSecrets } from '../domain/secrets';
import { CUSTOMER_NOTICES, effectivePreferences, type NoticeChannel } from '../domain/preferences';
import { dispatchPagePath, orderPagePath, returnPath } from './paths';
import { assets, render, type PageContext } from './render';
import { csrfBinding, SESSION_COOKIE, SESSION_HOURS, sessionPrincipal, signIn, signOut } from './session';
import { fill, WORDS, type Locale } from './words';
import { webhookPages } from './webhooks';
import { dashboardPages } from './dashboard';
import { isCalendarDay } from '../domain/days';
import { logForm, logQuery } from './log-filters';

export { isCalendarDay };

declare module 'fastify' {
  interface FastifyRequest { ui?: { principal: Principal; locale: Locale; timeZone: string; tenantName: string } }
}

const CHANNELS: NoticeChannel[] = ['email', 'sms', 'whatsapp'];
/** @fastify/csrf-protection's cookie holding the CSRF secret. */
const CSRF_COOKIE = '_csrf';
const cookieOptions = { path: '/ui', httpOnly: true, secure: true, sameSite: 'strict' as const };

/** Who may open what: the REST API's roles (L4: admins by default, others when granted). */
const ROLES = {
  log: ['log:read'] as Role[],
  write: ['dispatch:write'] as Role[],
  orders: ['orders:write', 'ops', 'log:read'] as Role[],
  ops: ['ops'] as Role[],
  admin: ['admin'] as Role[],
};

/** A dispatch page shows this many recipients at a time (a dispatch has up to 1000). */
const RECIPIENTS_PER_PAGE = 50;
const recipientPageForm = z.object({ recipientsCursor: z.coerce.number().int().min(0).default(0) });

/** Before sign-in there is no tenant yet: the browser's language. */
const browserLocale = (request: FastifyRequest): Locale => (/^fr\b/i.test(request.headers['accept-language'] ?? '') ? 'fr' : 'en');

/** A status that will not move without a new action or a late provider event (the pages stop polling). */
const settledStatus = (s: RecipientStatus) => isFinal(s) || s === 'unknown' || s === 'deferred';

/** The Status column (L1): each status the recipients are in, labelled, with how many when there are several recipients. */
const statusColumn = (counts: Partial<Record<string, number>>, opened: number, recipientCount: number, w: (typeof WORDS)[Locale]) =>
  statusSummaryOfCounts(counts, opened).map((s) => ({ ...s, label: w.statuses[s.status], count: recipientCount > 1 ? s.count : null }));

/** A history entry of an open (email) or a read (WhatsApp) shows as Opened, the status it adds on top of delivered (D2). */
const OPENED_EVENT = /^(open|read)\b/;

const form = (request: FastifyRequest) => (request.body ?? {}) as Record<string, string | string[] | undefined>;
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export async function uiRoutes(app: FastifyInstance, deps: ApiDeps) {
  const { db } = deps;
  await app.register(cookie);
  await app.register(csrf, {
    cookieOpts: cookieOptions,
    getToken: (request) => (request.body as Record<string, string> | undefined)?._csrf,
    // Each token is bound to the session it was issued in (issue 14, finding 7), under a key every
    // API replica shares (derived from LINK_SECRET; a random one per process without it).
    getUserInfo: (request) => csrfBinding(request.cookies[SESSION_COOKIE]),
    csrfOpts: { hmacKey: deps.linkSecret ? Buffer.from(hkdfSync('sha256', deps.linkSecret, Buffer.alloc(0), 'relais csrf v1', 32)) : randomBytes(32) },
  });

  /** Signed in, with one of the roles; pages redirect to sign-in (and back after it), form posts get 401. */
  const need = (roles: Role[] = []) => async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = await sessionPrincipal(db, request.cookies[SESSION_COOKIE]);
    if (!principal) {
      if (request.method === 'GET') {
        const back = returnPath(request.url);
        return reply.redirect(back && back !== '/ui/' ? `/ui/sign-in?${new URLSearchParams({ next: back })}` : '/ui/sign-in', 303);
      }
      throw new ApiError(401, 'unauthenticated', 'sign in again');
    }
    const tenant = await db.Tenant.findById(principal.tenantId, { locale: 1, timeZone: 1, name: 1 }).lean();
    request.ui = { principal, locale: (tenant?.locale ?? 'en') as Locale, timeZone: tenant?.timeZone ?? 'UTC', tenantName: tenant?.name ?? '' };
    if (roles.length && !allows(principal, roles)) throw new ApiError(403, 'forbidden', `this key lacks the role ${roles.join(' or ')}`);
  };
  const checkCsrf = app.csrfProtection;

  function context(request: FastifyRequest, reply: FastifyReply, title: keyof typeof WORDS.en | string, extra: Record<string, unknown> = {}): PageContext {
    const locale = request.ui?.locale ?? browserLocale(request);
    const w = WORDS[locale];
    const p = request.ui?.principal;
    const query = request.query as Record<string, string>;
    return {
      w, locale, timeZone: request.ui?.timeZone ?? 'UTC', tenantName: request.ui?.tenantName ?? '',
      title: (w as unknown as Record<string, string>)[title] ?? title,
      csrf: reply.generateCsrf({ userInfo: csrfBinding(request.cookies[SESSION_COOKIE]) }),
      nav: {
        signedIn: Boolean(p), log: Boolean(p && allows(p, ROLES.log)), orders: Boolean(p && allows(p, ROLES.orders)), settings: Boolean(p && allows(p, ROLES.admin)),
        dashboard: Boolean(p && (allows(p, ROLES.log) || allows(p, ROLES.orders))), current: request.url.split('?')[0],
      },
      done: query?.done ? w.done[query.done] : undefined,
      ...extra,
    };
  }

  app.setErrorHandler((error, request, reply) => {
    const err = error as Error & { statusCode?: number; code?: string };
    const status = err instanceof ApiError ? err.status : err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'operator page failed');
    const w = WORDS[request.ui?.locale ?? browserLocale(request)];
    const csrfFailed = String(err.code ?? '').startsWith('FST_CSRF');
    const [title, text] = status === 403 && !csrfFailed ? [w.forbidden, w.forbiddenText] : status === 404 ? [w.notFound, w.notFoundText]
      : csrfFailed ? [w.error, w.expired] : status === 401 ? [w.signIn, ''] : [w.error, status < 500 ? err.message : ''];
    return render(reply, 'error', context(request, reply, title, { text, status }), status);
  });
  app.setNotFoundHandler(async (request, reply) => {
    await need()(request, reply);
    if (reply.sent) return reply;
    throw new ApiError(404, 'not_found', 'no such page');
  });

  app.get<{ Params: { file: keyof typeof assets } }>('/assets/:file', async (request, reply) => {
    const asset = assets[request.params.file];
    if (!asset) throw new ApiError(404, 'not_found', 'no such file');
    return reply.type(asset.type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(asset.body);
  });

  // ---- the dashboard (landing page) and the pages' downloads ---------------------------
  dashboardPages(app, deps, { need, context, roles: { log: ROLES.log, orders: ROLES.orders } });

  // ---- sign-in, sign-out --------------------------------------------------------------
  // `next`: the page a link (in a notice, or a page opened signed out) asked for; only an operator
  // page of this site is ever followed (paths.ts returnPath), anything else lands on /ui/.
  app.get('/sign-in', async (request, reply) =>
    render(reply, 'sign-in', context(request, reply, 'signInTitle', { next: returnPath((request.query as { next?: unknown }).next) })));
  app.post('/sign-in', { preHandler: checkCsrf }, async (request, reply) => {
    const key = String(form(request).key ?? '');
    const next = returnPath(form(request).next);
    const session = key ? await signIn(db, key) : undefined;
    if (!session) return render(reply, 'sign-in', context(request, reply, 'signInTitle', { next, problem: { message: WORDS[browserLocale(request)].badKey } }), 401);
    reply.setCookie(SESSION_COOKIE, session.token, { ...cookieOptions, maxAge: SESSION_HOURS * 3600 });
    // A new CSRF secret with the new session: nothing issued before sign-in carries over.
    reply.clearCookie(CSRF_COOKIE, cookieOptions);
    return reply.redirect(next ?? '/ui/', 303);
  });
  app.post('/sign-out', { preHandler: checkCsrf }, async (request, reply) => {
    await signOut(db, request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, cookieOptions);
    reply.clearCookie(CSRF_COOKIE, cookieOptions);
    return reply.redirect('/ui/sign-in', 303);
  });

  // ---- delivery log (L1, L3) ----------------------------------------------------------
  app.get('/log', { preHandler: need(ROLES.log) }, async (request, reply) => {
    const { timeZone, locale, principal } = request.ui!;
    const f = parse(logForm, request.query);
    const w = WORDS[locale];
    const showAll = f.show === 'all';
    const query = logQuery(f, timeZone, w, 25);
    const page = await listDispatches(db, principal.tenantId!, query);
    // A row names its failures and its first addresses, and counts the rest (L1, L3): never every address.
    const more = (shown: number, total: number) => (total > shown ? ` ${fill(w.andMore, { n: total - shown })}` : '');
    const rows = page.dispatches.map((d) => {
      const failures = d.failures as Array<{ address: string; status: string; plainReason: string | null }>;
      const failedCount = Object.entries(d.counts).filter(([s]) => isFailure(s as RecipientStatus) || s === 'unknown').reduce((n, [, c]) => n + (c ?? 0), 0);
      return {
        ...d, href: dispatchPagePath(d.dispatchId), at: d.sentAt ?? d.createdAt,
        failed: FAILED_RESULTS.includes(d.result as DispatchResult), resultLabel: w.results[d.result as DispatchResult] ?? d.result,
        statuses: statusColumn(d.counts, d.opened, d.recipientCount, w),
        reasons: failures.map((r) => `${r.address}: ${r.plainReason ?? w.statuses[r.status as RecipientStatus]}`).join('; ') + more(failures.length, failedCount),
        recipientList: d.recipientPreview.join(', ') + more(d.recipientPreview.length, d.recipientCount),
      };
    });
    const keep = new URLSearchParams(Object.entries({ ...f, cursor: undefined }).filter(([, v]) => v) as [string, string][]);
    const toggle = new URLSearchParams(keep); if (showAll) toggle.delete('show'); else toggle.set('show', 'all');
    const older = page.nextCursor ? new URLSearchParams(keep) : null; older?.set('cursor', String(page.nextCursor));
    return render(reply, 'log', context(request, reply, showAll ? 'allDispatches' : 'failedOnly', {
      rows, f, showAll, toggleHref: `/ui/log?${toggle}`, olderHref: older ? `/ui/log?${older}` : null, firstHref: f.cursor ? `/ui/log?${keep}` : null, csvHref: `/ui/log.csv?${keep}`,
      results: DISPATCH_RESULTS.map((r) => ({ value: r, label: w.results[r], selected: f.result === r })),
    }));
  });

  // ---- a dispatch (L2, D8, D11) -------------------------------------------------------
  async function dispatchPage(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, problem?: { status: number; message: string }) {
    const { principal, locale } = request.ui!;
    const w = WORDS[locale];
    const { recipientsCursor } = parse(recipientPageForm, request.query);
    // Fields beyond those every view has (number, subject, copy …) are read loosely: a dispatch of the first version not yet recorded has none.
    const d = await readDispatch(deps, principal.tenantId!, request.params.id, { from: recipientsCursor, limit: RECIPIENTS_PER_PAGE }) as Awaited<ReturnType<typeof readDispatch>> & Record<string, any>;
    const reason = (code: string | null | undefined, stored: string | null | undefined) => (code ? plainReason(code as ReasonCode, locale) : stored ?? null);
    const recipients = d.recipients.map((r) => ({
      ...r, statusLabel: w.statuses[r.status as RecipientStatus] ?? r.status, failed: isFailure(r.status as RecipientStatus) || r.status === 'unknown',
      openedLabel: r.status === 'delivered' && r.opened ? w.statuses.opened : null,
      fixable: r.status !== 'delivered' && r.status !== 'sent', plain: reason(r.reasonCode, r.plainReason),
      history: r.history.map((h) => ({
        ...h, statusLabel: OPENED_EVENT.test(h.event) ? w.statuses.opened : w.statuses[h.status as RecipientStatus] ?? h.status,
        raw: h.response ?? h.reason, plain: reason(h.reasonCode, h.plainReason),
      })),
    }));
    // Settled when no recipient (on any page) waits for the provider's first answer.
    const settled = !['queued', 'processed'].includes(d.result) && !Object.keys(d.counts).some((s) => !settledStatus(s as RecipientStatus));
    const base = dispatchPagePath(d.dispatchId);
    const shownTo = recipientsCursor + recipients.length;
    return render(reply, 'dispatch', context(request, reply, `${w.number} ${d.number ?? ''} — ${d.subject ?? d.dispatchId}`, {
      d, recipients, settled, failed: FAILED_RESULTS.includes(d.result as DispatchResult), resultLabel: w.results[d.result as DispatchResult] ?? d.result,
      statuses: statusColumn(d.counts, d.opened ?? 0, d.recipientCount, w),
      canWrite: allows(principal, ROLES.write), canResend: allows(principal, ROLES.write) && !carriesSecrets(d.template as string),
      problem: problem ? { ...problem, prefix: problem.status === 409 ? w.conflict : w.badRequest } : undefined,
      // How the recipients stand, all of them (the list below shows a page).
      recipientSummary: `${d.recipientCount}: ${Object.entries(d.counts as Record<string, number>).map(([status, n]) => `${w.statuses[status as RecipientStatus] ?? status} ${n}`).join(', ')}`,
      base, recipientRange: d.recipientCount > recipients.length ? fill(w.recipientRange, { from: recipientsCursor + 1, to: shownTo, count: d.recipientCount }) : null,
      nextRecipientsHref: d.nextRecipientsCursor !== null ? `${base}?recipientsCursor=${d.nextRecipientsCursor}` : null,
      firstRecipientsHref: recipientsCursor > 0 ? base : null,
    }), problem?.status ?? 200);
  }

  /** Runs a form's action; a refusal (400, 409, 422) shows on the page it came from, anything else goes to the error page. */
  async function act(run: () => Promise<unknown>, onRefused: (p: { status: number; message: string }) => Promise<unknown>, reply: FastifyReply, back: string) {
    try {
      await run();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 400 || err.status === 409 || err.status === 422)) return onRefused({ status: err.status, message: err.message });
      throw err;
    }
    return reply.redirect(back, 303);
  }

  type DispatchRequest = FastifyRequest<{ Params: { id: string; rid?: string } }>;
  app.get<{ Params: { id: string } }>('/dispatches/:id', { preHandler: need(ROLES.log) }, async (request, reply) => dispatchPage(request, reply));
  app.post<{ Params: { id: string; rid: string } }>('/dispatches/:id/recipients/:rid/resend', { preHandler: [checkCsrf, need(ROLES.write)] }, async (request: DispatchRequest, reply) =>
    act(() => resendRecipient(deps, request.ui!.principal, request.params.id, request.params.rid!, parse(resendSchema, { email: form(request).email })),
      (p) => dispatchPage(request, reply, p), reply, `${dispatchPagePath(request.params.id)}?done=resent`));
  app.post<{ Params: { id: string } }>('/dispatches/:id/resend-via', { preHandler: [checkCsrf, need(ROLES.write)] }, async (request, reply) =>
    act(() => resendVia(deps, request.ui!.principal, request.params.id, parse(resendViaSchema, { channel: form(request).channel, phone: form(request).phone })),
      (p) => dispatchPage(request, reply, p), reply, `${dispatchPagePath(request.params.id)}?done=via`));
  app.post<{ Params: { id: string } }>('/dispatches/:id/mark-sent', { preHandler: [checkCsrf, need(ROLES.write)] }, async (request, reply) =>
    act(() => markSent(deps, request.ui!.principal, request.params.id, parse(markSentSchema, { note: form(request).note ?? '' })),
      (p) => dispatchPage(request, reply, p), reply, `${dispatchPagePath(request.params.id)}?done=marked`));

  // ---- orders (O4, O10) ---------------------------------------------------------------
  app.get('/orders', { preHandler: need(ROLES.orders) }, async (request, reply) => {
    const id = (request.query as { id?: string }).id?.trim();
    if (id) return reply.redirect(orderPagePath(id), 303);
    const held = await db.Order.find({ tenantId: request.ui!.principal.tenantId, state: 'on_hold' }, { orderId: 1, hold: 1, view: 1, updatedAt: 1 }).sort({ updatedAt: -1 }).limit(100).lean();
    const { locale } = request.ui!;
    // An order started before issue 15 keeps its hold inside `view` (legacy/order-v1.ts).
    const holdOf = (o: (typeof held)[number]) => (o.hold ?? ((o as { view?: { hold?: unknown } }).view)?.hold) as { reason: string; since: string } | undefined;
    return render(reply, 'orders', context(request, reply, 'orders', {
      held: held.map((o) => ({ orderId: o.orderId, href: orderPagePath(o.orderId), since: holdOf(o)?.since, reason: reasonWords(holdOf(o)?.reason ?? '', locale) })),
    }));
  });

  async function orderPage(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, problem?: { status: number; message: string }) {
    const { principal, locale } = request.ui!;
    const w = WORDS[locale];
    const page = orderTimelineQuery.safeParse(request.query ?? {});
    const o = await readOrder(deps, principal.tenantId!, request.params.id, page.success ? page.data : {});
    return render(reply, 'order', context(request, reply, `${w.order} ${o.orderId}`, {
      o, stateLabel: w.states[o.state], held: o.state === 'on_hold', canAct: allows(principal, ROLES.ops),
      holdReason: o.hold ? reasonWords(o.hold.reason, locale) : null,
      exceptions: [...o.exceptions].reverse().map((e) => ({
        ...e, label: exceptionLabel(e.type, locale), reasonText: reasonWords(e.reason, locale), action: actionWords(e.reason, locale),
        resolution: e.resolution ? resolutionWords(e.resolution, locale) : null,
      })),
      notifications: [...o.notifications].reverse().map((n) => ({ ...n, statusLabel: w.statuses[n.status as RecipientStatus] ?? n.status, failed: isFailure(n.status as RecipientStatus), href: dispatchPagePath(n.dispatchId) })),
      history: [...o.history].reverse().map((h) => ({ ...h, label: w.events[h.event] ?? h.event, reasonText: h.reason ? reasonWords(h.reason, locale) : null })),
      // Live until nothing more can happen on its own: a finished order whose notifications have all settled.
      settled: FINISHED_STATES.includes(o.state) && o.notifications.every((n) => settledStatus(n.status as RecipientStatus)),
      problem: problem ? { ...problem, prefix: problem.status === 409 ? w.conflict : w.badRequest } : undefined,
      base: orderPagePath(o.orderId),
      olderHref: o.historyCursor ? `${orderPagePath(o.orderId)}?historyCursor=${o.historyCursor}` : null,
      newestHref: page.success && page.data.historyCursor ? orderPagePath(o.orderId) : null,
    }), problem?.status ?? 200);
  }
  app.get<{ Params: { id: string } }>('/orders/:id', { preHandler: need(ROLES.orders) }, async (request, reply) => orderPage(request, reply));
  for (const action of ['release', 'cancel'] as const) {
    app.post<{ Params: { id: string } }>(`/orders/:id/${action}`, { preHandler: [checkCsrf, need(ROLES.ops)] }, async (request, reply) =>
      act(() => opsAction(deps, request.ui!.principal, request.params.id, action, parse(opsActionSchema, { reason: form(request).reason })),
        (p) => orderPage(request, reply, p), reply, `${orderPagePath(request.params.id)}?done=${action === 'release' ? 'released' : 'cancelled'}`));
  }

  // ---- preferences and settings (O9, D3, D7) ------------------------------------------
  async function settingsPage(request: FastifyRequest, reply: FastifyReply, problem?: { status: number; message: string }) {
    const { principal, locale } = request.ui!;
    const w = WORDS[locale];
    const tenant = await db.Tenant.findById(principal.tenantId, { preferences: 1, policies: 1, locale: 1, timeZone: 1 }).lean();
    const prefs = effectivePreferences(tenant?.preferences as never);
    const row = (group: 'seller' | 'customer', key: string, label: string, choice: { enabled: boolean; channels: NoticeChannel[] }) => ({
      key, label, name: `${group}.${key}`, enabled: choice.enabled,
      channels: CHANNELS.map((c) => ({ value: c, label: w[c], checked: choice.channels.includes(c) })),
    });
    return render(reply, 'settings', context(request, reply, 'settings', {
      sellerRows: EXCEPTION_TYPES.map((t) => row('seller', t, exceptionLabel(t, locale), prefs.sellerAlerts[t])),
      customerRows: CUSTOMER_NOTICES.map((n) => row('customer', n, w.notice[n], prefs.customerNotices[n])),
      policies: Object.entries(w.policy).map(([key, label]) => ({ key, label, value: (tenant?.policies as Record<string, string> | undefined)?.[key] ?? '' })),
      tenantLocale: tenant?.locale, tenantTimeZone: tenant?.timeZone,
      problem: problem ? { ...problem, prefix: w.badRequest } : undefined,
    }), problem?.status ?? 200);
  }
  app.get('/settings', { preHandler: need(ROLES.admin) }, async (request, reply) => settingsPage(request, reply));
  app.post('/preferences', { preHandler: [checkCsrf, need(ROLES.admin)] }, async (request, reply) => {
    const f = form(request);
    const choices = (group: 'seller' | 'customer', keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, { enabled: f[`${group}.${k}.enabled`] === 'on', channels: list(f[`${group}.${k}.channels`]) }]));
    return act(() => updatePreferences(db, request.ui!.principal, parse(preferencesSchema, { sellerAlerts: choices('seller', EXCEPTION_TYPES), customerNotices: choices('customer', CUSTOMER_NOTICES) })),
      (p) => settingsPage(request, reply, p), reply, '/ui/settings?done=preferences');
  });
  app.post('/settings', { preHandler: [checkCsrf, need(ROLES.admin)] }, async (request, reply) => {
    const f = form(request);
    const policies = Object.fromEntries(Object.keys(WORDS.en.policy).map((k) => [k, f[`policies.${k}`]]).filter(([, v]) => v));
    return act(() => updateSettings(db, request.ui!.principal, parse(settingsSchema, { locale: f.locale, timeZone: f.timeZone, policies })),
      (p) => settingsPage(request, reply, p), reply, '/ui/settings?done=settings');
  });

  // ---- outbound webhooks (admin) ------------------------------------------------------
  webhookPages(app, deps, { admin: need(ROLES.admin), checkCsrf, context, act });
}
