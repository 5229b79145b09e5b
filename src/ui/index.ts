// /ui — the operator pages (L1–L4, D8, D11, O4, O9, O10): sign-in, delivery log, a dispatch,
// orders, preferences and settings. Server-rendered HTML that works without JavaScript;
// /ui/assets/app.js adds live updates and resend progress. Every action calls the same
// functions as the REST API (src/api/routes), with the same roles.
import { DEFAULT_SEND_WINDOW } from '../domain/customer-notice';
import { DEFAULT_POLICIES, type PolicyName } from '../domain/durations';
import { hkdfSync, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import { z } from 'zod';
import type { ApiDeps } from '../api/deps';
import { allows } from '../api/auth';
import { ApiError, parse } from '../api/errors';
import { markSentSchema, preferencesSchema, resendSchema, resendViaSchema, settingsSchema } from '../api/schemas';
import { listDispatches, markSent, readDispatch, resendRecipient, resendVia } from '../app/dispatches';
import { sendAttachment } from '../api/downloads';
import { updatePreferences, updateSettings } from '../app/settings';
import type { Principal, Role } from '../db/api-keys';
import {
  DISPATCH_RESULTS,
  FAILED_RESULTS,
  isFinal,
  isFailure,
  RECIPIENT_STATUSES,
  statusSummaryOfCounts,
  type DispatchResult,
  type RecipientStatus,
} from '../domain/dispatch-status';
import { readersReason } from '../domain/reasons';
import { exceptionLabel } from '../domain/order-words';
import { EXCEPTION_TYPES } from '../domain/order';
import { carriesSecrets } from '../domain/secrets';
import { CUSTOMER_NOTICES, effectivePreferences, type NoticeChannel } from '../domain/preferences';
import { DIGEST_MINUTES } from '../domain/alert-digest';
import { dispatchPagePath, orderPagePath, returnPath } from './paths';
import { assets, render, type PageContext } from './render';
import { csrfBinding, SESSION_COOKIE, SESSION_HOURS, sessionPrincipal, signIn, signOut } from './session';
import { fill, WORDS } from './words';
import type { Locale } from '../domain/locale';
import { webhookPages } from './webhooks';
import type { Channel } from '../providers/types';
import { addressHealthPages, knownBadChoices, knownBadNotes } from './address-health';
import { orderPages } from './orders';
import { dashboardPages } from './dashboard';
import { dayOf, isCalendarDay } from '../domain/days';
import { logForm, logQuery } from './log-filters';

export { isCalendarDay };

declare module 'fastify' {
  interface FastifyRequest {
    ui?: { principal: Principal; locale: Locale; timeZone: string; tenantName: string };
  }
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
  health: ['log:read', 'ops'] as Role[],
};

/** A dispatch page shows this many recipients at a time (a dispatch has up to 1000). */
const RECIPIENTS_PER_PAGE = 50;
const recipientPageForm = z.object({
  recipientsCursor: z.coerce.number().int().min(0).default(0),
  /** Only the recipients in this status (the summary's counts are links to it). */
  status: z.union([z.literal(''), z.enum(RECIPIENT_STATUSES)]).optional(),
});

const attachmentParams = z.object({ index: z.coerce.number().int().min(0).max(9) });

/** Before sign-in there is no tenant yet: the browser's language. */
const browserLocale = (request: FastifyRequest): Locale =>
  /^fr\b/i.test(request.headers['accept-language'] ?? '') ? 'fr' : 'en';

/** A status that will not move without a new action or a late provider event (the pages stop polling). */
const settledStatus = (s: RecipientStatus) => isFinal(s) || s === 'unknown' || s === 'deferred';

/** The Status column (L1): each status the recipients are in, labelled, with how many when there are several recipients. */
const statusColumn = (
  counts: Partial<Record<string, number>>,
  opened: number,
  recipientCount: number,
  w: (typeof WORDS)[Locale],
) =>
  statusSummaryOfCounts(counts, opened).map((s) => ({
    ...s,
    label: w.statuses[s.status],
    count: recipientCount > 1 ? s.count : null,
  }));

/**
 * The log's Recipients column (L1, issue 16 item 4): a few recipients are named; more are counted,
 * with how many failed, are unconfirmed or still deferred after the delay, and those named.
 */
function recipientsCell(
  d: {
    recipientCount: number;
    recipientPreview: string[];
    counts: Partial<Record<string, number>>;
    overdueDeferred: number;
    failures: Array<{ address: string }>;
  },
  w: (typeof WORDS)[Locale],
) {
  if (d.recipientCount <= d.recipientPreview.length) return d.recipientPreview.join(', ');
  const failed = Object.entries(d.counts)
    .filter(([s]) => isFailure(s as RecipientStatus))
    .reduce((n, [, c]) => n + (c ?? 0), 0);
  const unconfirmed = d.counts.unknown ?? 0;
  const parts = [
    fill(w.recipientCount, { n: d.recipientCount }),
    ...(failed ? [fill(w.failedCount, { n: failed })] : []),
    ...(unconfirmed ? [fill(w.unconfirmedCount, { n: unconfirmed })] : []),
    ...(d.overdueDeferred ? [fill(w.deferredCount, { n: d.overdueDeferred })] : []),
  ];
  const attention = failed + unconfirmed + d.overdueDeferred;
  return (
    parts.join(', ') +
    (d.failures.length
      ? `: ${d.failures.map((f) => f.address).join(', ')}${andMore(d.failures.length, attention, w)}`
      : '')
  );
}

/** " and 995 more" after a list that names `shown` of `total`, or nothing. */
const andMore = (shown: number, total: number, w: (typeof WORDS)[Locale]) =>
  total > shown ? ` ${fill(w.andMore, { n: total - shown })}` : '';

/**
 * A history as the page shows it: entries that repeat the one before (same event, status, attempt
 * and words: a provider deferring again and again) are one line, "×5", with the time of the last.
 * The API keeps every entry; the page of 50 recipients stays light (issue 16 item 4).
 */
function repeatsTogether<
  T extends {
    event: string;
    status: string | null;
    attempt: number;
    raw: string | null;
    plain: string | null;
    at: Date;
  },
>(entries: T[]) {
  const lines: Array<T & { times: number; lastAt: Date | null }> = [];
  for (const entry of entries) {
    const last = lines[lines.length - 1];
    if (
      last &&
      last.event === entry.event &&
      last.status === entry.status &&
      last.attempt === entry.attempt &&
      last.raw === entry.raw &&
      last.plain === entry.plain
    ) {
      last.times += 1;
      last.lastAt = entry.at;
    } else {
      lines.push({ ...entry, times: 1, lastAt: null });
    }
  }
  return lines;
}

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
    csrfOpts: {
      hmacKey: deps.linkSecret
        ? Buffer.from(hkdfSync('sha256', deps.linkSecret, Buffer.alloc(0), 'relais csrf v1', 32))
        : randomBytes(32),
    },
  });

  /** Signed in, with one of the roles; pages redirect to sign-in (and back after it), form posts get 401. */
  const need =
    (roles: Role[] = []) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = await sessionPrincipal(db, request.cookies[SESSION_COOKIE]);
      if (!principal) {
        if (request.method === 'GET') {
          const back = returnPath(request.url);
          return reply.redirect(
            back && back !== '/ui/' ? `/ui/sign-in?${new URLSearchParams({ next: back })}` : '/ui/sign-in',
            303,
          );
        }
        throw new ApiError(401, 'unauthenticated', 'sign in again');
      }
      const tenant = await db.Tenant.findById(principal.tenantId, { locale: 1, timeZone: 1, name: 1 }).lean();
      request.ui = {
        principal,
        locale: (tenant?.locale ?? 'en') as Locale,
        timeZone: tenant?.timeZone ?? 'UTC',
        tenantName: tenant?.name ?? '',
      };
      if (roles.length && !allows(principal, roles))
        throw new ApiError(403, 'forbidden', `this key lacks the role ${roles.join(' or ')}`);
    };
  const checkCsrf = app.csrfProtection;

  function context(
    request: FastifyRequest,
    reply: FastifyReply,
    title: keyof typeof WORDS.en | string,
    extra: Record<string, unknown> = {},
  ): PageContext {
    const locale = request.ui?.locale ?? browserLocale(request);
    const w = WORDS[locale];
    const p = request.ui?.principal;
    const query = request.query as Record<string, string>;
    return {
      w,
      locale,
      timeZone: request.ui?.timeZone ?? 'UTC',
      tenantName: request.ui?.tenantName ?? '',
      title: (w as unknown as Record<string, string>)[title] ?? title,
      csrf: reply.generateCsrf({ userInfo: csrfBinding(request.cookies[SESSION_COOKIE]) }),
      nav: {
        signedIn: Boolean(p),
        log: Boolean(p && allows(p, ROLES.log)),
        orders: Boolean(p && allows(p, ROLES.orders)),
        settings: Boolean(p && allows(p, ROLES.admin)),
        dashboard: Boolean(p && (allows(p, ROLES.log) || allows(p, ROLES.orders))),
        current: request.url.split('?')[0],
        addressHealth: Boolean(p && allows(p, ROLES.health)),
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
    const [title, text] =
      status === 403 && !csrfFailed
        ? [w.forbidden, w.forbiddenText]
        : status === 404
          ? [w.notFound, w.notFoundText]
          : csrfFailed
            ? [w.error, w.expired]
            : status === 401
              ? [w.signIn, '']
              : [w.error, status < 500 ? err.message : ''];
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
    return reply
      .type(asset.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  });

  // ---- the dashboard (landing page) and the pages' downloads ---------------------------
  dashboardPages(app, deps, { need, context, roles: { log: ROLES.log, orders: ROLES.orders } });
  // Issue 20: the address-health registry (read: log:read or ops; clear: ops).
  addressHealthPages(app, deps, {
    read: need(ROLES.health),
    ops: need(ROLES.ops),
    canClear: (r) => allows(r.ui!.principal, ROLES.ops),
    checkCsrf,
    context,
    act,
  });

  // ---- sign-in, sign-out --------------------------------------------------------------
  // `next`: the page a link (in a notice, or a page opened signed out) asked for; only an operator
  // page of this site is ever followed (paths.ts returnPath), anything else lands on /ui/.
  app.get('/sign-in', async (request, reply) =>
    render(
      reply,
      'sign-in',
      context(request, reply, 'signInTitle', { next: returnPath((request.query as { next?: unknown }).next) }),
    ),
  );
  app.post('/sign-in', { preHandler: checkCsrf }, async (request, reply) => {
    const key = String(form(request).key ?? '');
    const next = returnPath(form(request).next);
    const person = form(request).person;
    const session = key ? await signIn(db, key, typeof person === 'string' ? person : null) : undefined;
    if (!session)
      return render(
        reply,
        'sign-in',
        context(request, reply, 'signInTitle', { next, problem: { message: WORDS[browserLocale(request)].badKey } }),
        401,
      );
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
    const rows = page.dispatches.map((d) => {
      const failures = d.failures as Array<{
        address: string;
        status: string;
        reasonCode: string | null;
        plainReason: string | null;
      }>;
      const failedCount =
        Object.entries(d.counts)
          .filter(([s]) => isFailure(s as RecipientStatus) || s === 'unknown')
          .reduce((n, [, c]) => n + (c ?? 0), 0) + d.overdueDeferred;
      const failed = FAILED_RESULTS.includes(d.result as DispatchResult);
      const about =
        d.about &&
        ('dispatchId' in d.about
          ? { href: dispatchPagePath(d.about.dispatchId), label: d.about.dispatchId }
          : { href: orderPagePath(d.about.orderId), label: `${w.order} ${d.about.orderId}` });
      return {
        ...d,
        href: dispatchPagePath(d.dispatchId),
        at: d.sentAt ?? d.createdAt,
        failed,
        resultLabel: w.results[d.result as DispatchResult] ?? d.result,
        // Its own marker (issue 16 item 3): not failed, but a recipient is still deferred after the delay.
        marker: failed ? 'failed' : d.overdueDeferred > 0 ? 'deferred' : null,
        markerLabel: failed ? '' : w.deferredMarker,
        notice: d.kind === 'notification',
        about,
        // A text message has no subject: its channel and what it is, by its template.
        subject:
          d.subject ??
          `${w[d.channel as 'sms' | 'whatsapp'] ?? d.channel}: ${(d.template && w.templates[d.template]) ?? d.template ?? d.dispatchId}`,
        statuses: statusColumn(d.counts, d.opened, d.recipientCount, w),
        reasons:
          failures
            .map((r) => `${r.address}: ${readersReason(r, locale) ?? w.statuses[r.status as RecipientStatus]}`)
            .join('; ') + andMore(failures.length, failedCount, w),
        recipientList: recipientsCell(d as Parameters<typeof recipientsCell>[0], w),
        // Issue 20: how many confirmed receipt, when the dispatch asked.
        acknowledgement: d.acknowledgement ? acknowledgementLine(d.acknowledgement, w) : null,
      };
    });
    const keep = new URLSearchParams(
      Object.entries({ ...f, cursor: undefined }).filter(([, v]) => v) as [string, string][],
    );
    const toggle = new URLSearchParams(keep);
    if (showAll) toggle.delete('show');
    else toggle.set('show', 'all');
    const older = page.nextCursor ? new URLSearchParams(keep) : null;
    older?.set('cursor', String(page.nextCursor));
    return render(
      reply,
      'log',
      context(request, reply, showAll ? 'allDispatches' : 'failedOnly', {
        rows,
        f,
        showAll,
        toggleHref: `/ui/log?${toggle}`,
        olderHref: older ? `/ui/log?${older}` : null,
        firstHref: f.cursor ? `/ui/log?${keep}` : null,
        csvHref: `/ui/log.csv?${keep}`,
        results: DISPATCH_RESULTS.map((r) => ({ value: r, label: w.results[r], selected: f.result === r })),
        kinds: (['all', 'document', 'notification'] as const).map((k) => ({
          value: k,
          label: w.kinds[k],
          selected: (f.kind || 'all') === k,
        })),
      }),
    );
  });

  // ---- a dispatch (L2, D8, D11) -------------------------------------------------------
  async function dispatchPage(
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    problem?: { status: number; message: string },
  ) {
    const { principal, locale } = request.ui!;
    const w = WORDS[locale];
    const { recipientsCursor, status } = parse(recipientPageForm, request.query);
    // Fields beyond those every view has (number, subject, copy …) are read loosely: a dispatch of the first version not yet recorded has none.
    const d = (await readDispatch(deps, principal.tenantId!, request.params.id, {
      from: recipientsCursor,
      limit: RECIPIENTS_PER_PAGE,
      status: status || undefined,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
    })) as Awaited<ReturnType<typeof readDispatch>> & Record<string, any>;
    const reason = (reasonCode: string | null | undefined, plainReason: string | null | undefined) =>
      readersReason({ reasonCode, plainReason }, locale);
    const health = await knownBadNotes(
      db,
      principal.tenantId!,
      (d.channel ?? 'email') as Channel,
      d.recipients.map((r) => r.address),
      locale,
      request.ui!.timeZone,
    );
    const recipients = d.recipients.map((r) => ({
      ...r,
      healthWarning: health.get(r.address) ?? null,
      statusLabel: w.statuses[r.status as RecipientStatus] ?? r.status,
      failed: isFailure(r.status as RecipientStatus) || r.status === 'unknown',
      openedLabel: r.status === 'delivered' && r.opened ? w.statuses.opened : null,
      // Issue 20: beside the status, never instead of it.
      awaitingAcknowledgement:
        Boolean(d.acknowledgement?.requested) && !r.acknowledged && !isFailure(r.status as RecipientStatus),
      // A failed one is corrected and resent; a delivered one can be sent again (issue 17); none once the dispatch stopped listening.
      fixable:
        !d.completedAt &&
        r.status !== 'delivered' &&
        r.status !== 'sent' &&
        r.status !== 'queued' &&
        r.status !== 'processed',
      sendAgain: !d.completedAt && (r.status === 'delivered' || r.status === 'sent'),
      plain: reason(r.reasonCode, r.plainReason),
      history: repeatsTogether(
        r.history.map((h) => ({
          ...h,
          statusLabel: OPENED_EVENT.test(h.event)
            ? w.statuses.opened
            : h.event === 'failover'
              ? w.failover
              : (w.statuses[h.status as RecipientStatus] ?? h.status),
          raw: h.response ?? h.reason,
          plain: reason(h.reasonCode, h.plainReason),
          // Each entry's attempt (D8, issue 16 item 8), shown once the recipient was resent.
          attemptLabel: r.attempt > 1 ? fill(w.attemptN, { n: h.attempt }) : null,
        })),
      ),
    }));
    // Issue 17: the sender's copy, its status in the same words as a recipient's.
    const copy = d.copy as {
      mode: 'cc' | 'bcc';
      address: string;
      status: RecipientStatus | null;
      reasonCode: string | null;
      rawReason: string | null;
      history: Array<{
        event: string;
        status: string | null;
        at: Date;
        response: string | null;
        reason: string | null;
      }>;
    } | null;
    const senderCopy = copy && {
      ...copy,
      modeLabel: w.copyModes[copy.mode],
      statusLabel: copy.status ? (w.statuses[copy.status] ?? copy.status) : w.notSentYet,
      plain: reason(copy.reasonCode, null),
      history: copy.history.map((h) => ({
        ...h,
        statusLabel: OPENED_EVENT.test(h.event)
          ? w.statuses.opened
          : (w.statuses[h.status as RecipientStatus] ?? h.status),
        raw: h.response ?? h.reason,
      })),
    };
    // Settled when no recipient (on any page) waits for the provider's first answer.
    const settled =
      !['queued', 'processed'].includes(d.result) &&
      !Object.keys(d.counts).some((s) => !settledStatus(s as RecipientStatus));
    const base = dispatchPagePath(d.dispatchId);
    const filtered = d.filteredRecipients as { status: RecipientStatus; count: number; first: number } | undefined;
    const firstShown = filtered ? filtered.first : recipientsCursor + 1;
    const pageOf = (cursor: number | null) =>
      `${base}?${new URLSearchParams({ ...(filtered ? { status: filtered.status } : {}), ...(cursor ? { recipientsCursor: String(cursor) } : {}) })}`.replace(
        /\?$/,
        '',
      );
    return render(
      reply,
      'dispatch',
      context(request, reply, `${w.number} ${d.number ?? ''} — ${d.subject ?? d.dispatchId}`, {
        d,
        // A notice has no document type.
        documentType: d.document?.type
          ? (w.documentTypes[d.document.type] ?? d.document.type.replaceAll('_', ' '))
          : null,
        recipients,
        senderCopy,
        settled,
        failed: FAILED_RESULTS.includes(d.result as DispatchResult),
        resultLabel: w.results[d.result as DispatchResult] ?? d.result,
        deferredLate: !FAILED_RESULTS.includes(d.result as DispatchResult) && (d.overdueDeferred ?? 0) > 0,
        acknowledgement: d.acknowledgement?.requested ? acknowledgementLine(d.acknowledgement, w) : null,
        statuses: statusColumn(d.counts, d.opened ?? 0, d.recipientCount, w),
        canWrite: allows(principal, ROLES.write),
        today: dayOf(new Date(), request.ui!.timeZone),
        person: principal.person ?? '',
        canResend: allows(principal, ROLES.write) && !carriesSecrets(d.template as string),
        problem: problem ? { ...problem, prefix: problem.status === 409 ? w.conflict : w.badRequest } : undefined,
        // How the recipients stand, all of them (the list below shows a page); each count shows only those (issue 16 item 4).
        recipientSummary: Object.entries(d.counts as Record<string, number>).map(([s, n]) => ({
          label: `${w.statuses[s as RecipientStatus] ?? s} ${n}`,
          href: d.recipientCount > 1 ? `${base}?status=${encodeURIComponent(s)}` : null,
          current: s === filtered?.status,
        })),
        filter: filtered ? { label: w.statuses[filtered.status] ?? filtered.status, allHref: base } : null,
        base,
        recipientRange:
          filtered || d.recipientCount > recipients.length
            ? fill(w.recipientRange, {
                from: recipients.length ? firstShown : 0,
                to: recipients.length ? firstShown + recipients.length - 1 : 0,
                count: filtered?.count ?? d.recipientCount,
              })
            : null,
        nextRecipientsHref: d.nextRecipientsCursor !== null ? pageOf(d.nextRecipientsCursor) : null,
        firstRecipientsHref: recipientsCursor > 0 ? pageOf(null) : null,
      }),
      problem?.status ?? 200,
    );
  }

  /** Runs a form's action; a refusal (400, 409, 422) shows on the page it came from, anything else goes to the error page. */
  async function act(
    run: () => Promise<unknown>,
    onRefused: (p: { status: number; message: string }) => Promise<unknown>,
    reply: FastifyReply,
    back: string,
  ) {
    try {
      await run();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 400 || err.status === 409 || err.status === 422))
        return onRefused({ status: err.status, message: err.message });
      throw err;
    }
    return reply.redirect(back, 303);
  }

  type DispatchRequest = FastifyRequest<{ Params: { id: string; rid?: string } }>;
  app.get<{ Params: { id: string } }>('/dispatches/:id', { preHandler: need(ROLES.log) }, async (request, reply) =>
    dispatchPage(request, reply),
  );
  // Issue 17 item 3: each attachment as it was sent, to download and send another way.
  app.get<{ Params: { id: string; index: string } }>(
    '/dispatches/:id/attachments/:index',
    { preHandler: need(ROLES.log) },
    async (request, reply) => {
      const { index } = parse(attachmentParams, request.params);
      return sendAttachment(db, request.ui!.principal.tenantId!, request.params.id, index, reply);
    },
  );
  app.post<{ Params: { id: string; rid: string } }>(
    '/dispatches/:id/recipients/:rid/resend',
    { preHandler: [checkCsrf, need(ROLES.write)] },
    async (request: DispatchRequest, reply) =>
      act(
        () =>
          resendRecipient(
            deps,
            request.ui!.principal,
            request.params.id,
            request.params.rid!,
            parse(resendSchema, { email: form(request).email }),
          ),
        (p) => dispatchPage(request, reply, p),
        reply,
        `${dispatchPagePath(request.params.id)}?done=resent`,
      ),
  );
  app.post<{ Params: { id: string } }>(
    '/dispatches/:id/resend-via',
    { preHandler: [checkCsrf, need(ROLES.write)] },
    async (request, reply) =>
      act(
        () =>
          resendVia(
            deps,
            request.ui!.principal,
            request.params.id,
            parse(resendViaSchema, { channel: form(request).channel, phone: form(request).phone }),
          ),
        (p) => dispatchPage(request, reply, p),
        reply,
        `${dispatchPagePath(request.params.id)}?done=via`,
      ),
  );
  app.post<{ Params: { id: string } }>(
    '/dispatches/:id/mark-sent',
    { preHandler: [checkCsrf, need(ROLES.write)] },
    async (request, reply) =>
      act(
        () =>
          markSent(
            deps,
            request.ui!.principal,
            request.params.id,
            parse(markSentSchema, {
              note: form(request).note ?? '',
              date: form(request).date || undefined,
              by: form(request).by || undefined,
            }),
          ),
        (p) => dispatchPage(request, reply, p),
        reply,
        `${dispatchPagePath(request.params.id)}?done=marked`,
      ),
  );

  // ---- orders: the workspace and an order's page (O4, O10, issue 18) -------------------
  orderPages(app, deps, {
    need,
    checkCsrf,
    context,
    act,
    roles: { orders: ROLES.orders, ops: ROLES.ops },
    settledStatus,
  });

  // ---- preferences and settings (O9, D3, D7) ------------------------------------------
  async function settingsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    problem?: { status: number; message: string },
  ) {
    const { principal, locale } = request.ui!;
    const w = WORDS[locale];
    const tenant = await db.Tenant.findById(principal.tenantId, {
      preferences: 1,
      policies: 1,
      locale: 1,
      timeZone: 1,
      copyToSender: 1,
      knownBadAddresses: 1,
      sendWindow: 1,
    }).lean();
    const prefs = effectivePreferences(tenant?.preferences as never);
    const row = (
      group: 'seller' | 'customer',
      key: string,
      label: string,
      choice: { enabled: boolean; channels: NoticeChannel[] },
    ) => ({
      key,
      label,
      name: `${group}.${key}`,
      enabled: choice.enabled,
      channels: CHANNELS.map((c) => ({ value: c, label: w[c], checked: choice.channels.includes(c) })),
    });
    return render(
      reply,
      'settings',
      context(request, reply, 'settings', {
        sellerRows: EXCEPTION_TYPES.map((t) => row('seller', t, exceptionLabel(t, locale), prefs.sellerAlerts[t])),
        // Issue 20: a customer notice's channels are an order, one select per position.
        customerRows: CUSTOMER_NOTICES.map((n) => {
          const choice = prefs.customerNotices[n];
          return {
            ...row('customer', n, w.notice[n], choice),
            positions: w.channelN.map((label, i) => ({
              label,
              options: [{ value: '', label: w.none, selected: !choice.channels[i] }].concat(
                CHANNELS.map((c) => ({ value: c, label: w[c], selected: choice.channels[i] === c })),
              ),
            })),
          };
        }),
        sendWindow: tenant?.sendWindow?.from ? tenant.sendWindow : DEFAULT_SEND_WINDOW,
        sellerDigestMinutes: prefs.sellerDigestMinutes ?? '',
        digestMin: DIGEST_MINUTES.min,
        digestMax: DIGEST_MINUTES.max,
        policies: Object.entries(w.policy).map(([key, label]) => ({
          key,
          label,
          // A policy added after the tenant was created (failoverAfter, issue 20) shows its default.
          value:
            (tenant?.policies as Record<string, string> | undefined)?.[key] ??
            DEFAULT_POLICIES[key as PolicyName] ??
            '',
        })),
        tenantLocale: tenant?.locale,
        tenantTimeZone: tenant?.timeZone,
        copyChoices: (['', 'cc', 'bcc'] as const).map((value) => ({
          value,
          label: w.copyModes[value || 'none'],
          selected: (tenant?.copyToSender ?? '') === value,
        })),
        knownBad: knownBadChoices(locale, tenant?.knownBadAddresses ?? 'warn'),
        problem: problem ? { ...problem, prefix: w.badRequest } : undefined,
      }),
      problem?.status ?? 200,
    );
  }
  app.get('/settings', { preHandler: need(ROLES.admin) }, async (request, reply) => settingsPage(request, reply));
  app.post('/preferences', { preHandler: [checkCsrf, need(ROLES.admin)] }, async (request, reply) => {
    const f = form(request);
    const choices = (group: 'seller' | 'customer', keys: readonly string[]) =>
      Object.fromEntries(
        keys.map((k) => [
          k,
          {
            enabled: f[`${group}.${k}.enabled`] === 'on',
            // Customer notices: the selects in position order, the empty ones left out.
            channels:
              group === 'customer' ? list(f[`${group}.${k}.order`]).filter(Boolean) : list(f[`${group}.${k}.channels`]),
          },
        ]),
      );
    return act(
      () =>
        updatePreferences(
          db,
          request.ui!.principal,
          parse(preferencesSchema, {
            sellerAlerts: choices('seller', EXCEPTION_TYPES),
            customerNotices: choices('customer', CUSTOMER_NOTICES),
            // An empty field switches the digest off; anything else must be a whole number in bounds.
            sellerDigestMinutes:
              typeof f.sellerDigestMinutes === 'string' && f.sellerDigestMinutes.trim()
                ? Number(f.sellerDigestMinutes)
                : null,
          }),
        ),
      (p) => settingsPage(request, reply, p),
      reply,
      '/ui/settings?done=preferences',
    );
  });
  app.post('/settings', { preHandler: [checkCsrf, need(ROLES.admin)] }, async (request, reply) => {
    const f = form(request);
    const policies = Object.fromEntries(
      Object.keys(WORDS.en.policy)
        // Issue 20: the acknowledgement deadlines are off when left empty; the other policies keep their value.
        .map((k) => [k, OPTIONAL_POLICIES.includes(k) ? f[`policies.${k}`] || null : f[`policies.${k}`]])
        .filter(([, v]) => v !== undefined && v !== ''),
    );
    return act(
      () =>
        updateSettings(
          db,
          request.ui!.principal,
          parse(settingsSchema, {
            locale: f.locale,
            timeZone: f.timeZone,
            policies,
            ...(f.copyToSender !== undefined ? { copyToSender: f.copyToSender || null } : {}),
            ...(f.knownBadAddresses ? { knownBadAddresses: f.knownBadAddresses } : {}),
            ...(f['sendWindow.from'] !== undefined || f['sendWindow.to'] !== undefined
              ? { sendWindow: { from: f['sendWindow.from'], to: f['sendWindow.to'] } }
              : {}),
          }),
        ),
      (p) => settingsPage(request, reply, p),
      reply,
      '/ui/settings?done=settings',
    );
  });

  // ---- outbound webhooks (admin) ------------------------------------------------------
  webhookPages(app, deps, { admin: need(ROLES.admin), checkCsrf, context, act });
}

/** Policies that are off when empty (issue 20). */
const OPTIONAL_POLICIES: readonly string[] = ['acknowledgeWithin', 'acknowledgeEscalateAfter'];

/** Issue 20: "1 of 2 confirmed receipt — 1 still to confirm", for the log row and the dispatch page. */
function acknowledgementLine(
  a: { acknowledged: number; awaiting: number },
  w: (typeof WORDS)[keyof typeof WORDS],
): string {
  const counts = fill(w.acknowledgementCounts, {
    acknowledged: a.acknowledged,
    asked: a.acknowledged + a.awaiting,
  });
  return a.awaiting ? `${counts} — ${fill(w.acknowledgementAwaiting, { awaiting: a.awaiting })}` : counts;
}
