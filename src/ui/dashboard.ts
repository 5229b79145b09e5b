// /ui — the dashboard, the page operators land on after signing in (issue 21): for a period of
// days in the tenant's zone, dispatches by result per day, the delivery rate, bounces and drops by
// reason and by recipient domain, the median time to delivered, order exceptions opened and
// resolved per day, the open ones by age and the held orders waiting; each chart with its figures
// as text and links to the log or the orders it counts. Read from the rollups (src/db/rollups.ts):
// a period is a few lookups by `_id`, whatever the number of dispatches stored.
// Also the pages' downloads: the log and the orders as CSV with the page's filters, and a
// dispatch's proof of sending (the same files as the API's).
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../api/deps';
import { allows } from '../api/auth';
import { ApiError, parse } from '../api/errors';
import { DISPATCH_COLUMNS, dispatchRows, ORDER_COLUMNS, orderCsvRows } from '../app/exports';
import { exportOrdersQuery } from '../api/schemas';
import { sendCsv, sendProofJson, sendProofPdf } from '../api/downloads';
import { readProof } from '../app/proof';
import type { Role } from '../db/api-keys';
import { readDays } from '../db/rollups';
import { exceptionsPerDay, heldOrders, openExceptions } from '../db/order-reports';
import { EXCEPTION_AGES, HOLD_AGES, HARD_BOUNCE_WARNING, OTHER_DOMAINS, summarize } from '../domain/dashboard';
import { addDays, dayOf, daysBetween, daysFrom, startOfDay, endOfDay } from '../domain/days';
import { EXCEPTION_TYPES } from '../domain/order';
import { exceptionLabel, reasonWords } from '../domain/order-words';
import { orderPagePath } from './paths';
import { barShares, columnsChart, EXCEPTION_COLORS, RESULT_COLORS } from './charts';
import { DASHBOARD_WORDS } from './dashboard-words';
import { logForm, logQuery } from './log-filters';
import { listForm } from './orders';
import { checkDays } from './dates';
import { render, type PageContext } from './render';
import { fill, WORDS } from './words';
import type { Locale } from '../domain/locale';

export interface DashboardTools {
  /** Signed in (with one of the roles, when given). */
  need(roles?: Role[]): preHandlerHookHandler;
  context(request: FastifyRequest, reply: FastifyReply, title: string, extra?: Record<string, unknown>): PageContext;
  roles: { log: Role[]; orders: Role[] };
}

/** A period is at most this many days (a year, leap day included). */
export const MAX_PERIOD_DAYS = 366;
export const DEFAULT_PERIOD_DAYS = 30;
const QUICK_PERIODS = [7, 30, 90];
/** The results in the order their segments stack, from received to failed. */
const RESULT_ORDER = ['delivered', 'sent', 'processed', 'queued', 'unknown', 'alert', 'error', 'failed'] as const;

const periodForm = z.object({
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  days: z.coerce.number().int().min(1).max(MAX_PERIOD_DAYS).optional(),
});

/** The period asked for: `from`–`to` (calendar days in the tenant's zone), or the last `days` days, by default the last 30. */
export function periodOf(query: unknown, today: string, locale: Locale) {
  const w = WORDS[locale];
  const d = DASHBOARD_WORDS[locale];
  const f = parse(periodForm, query);
  checkDays(f, w, w.invalidDate);
  const to = f.to || today;
  const from = f.from || addDays(to, -((f.days ?? DEFAULT_PERIOD_DAYS) - 1));
  const refuse = (message: string) => {
    throw new ApiError(400, 'invalid_request', `${w.from}: ${message}`, [{ field: 'from', message, value: from }]);
  };
  if (daysFrom(from, to) < 0) refuse(d.periodBackwards);
  if (daysFrom(from, to) + 1 > MAX_PERIOD_DAYS) refuse(fill(d.periodTooLong, { n: MAX_PERIOD_DAYS }));
  return { from, to, days: daysBetween(from, to) };
}

const logHref = (params: Record<string, string | undefined>) =>
  `/ui/log?${new URLSearchParams(Object.entries(params).filter(([, v]) => v) as [string, string][])}`;

export function dashboardPages(app: FastifyInstance, deps: ApiDeps, tools: DashboardTools) {
  const { db } = deps;

  app.get('/', { preHandler: tools.need() }, async (request, reply) => {
    const { principal, locale, timeZone } = request.ui!;
    const canLog = allows(principal, tools.roles.log);
    const canOrders = allows(principal, tools.roles.orders);
    if (!canLog && !canOrders) {
      if (allows(principal, ['admin'])) return reply.redirect('/ui/settings', 303);
      throw new ApiError(403, 'forbidden', 'this key opens no operator page');
    }
    const w = WORDS[locale];
    const dw = DASHBOARD_WORDS[locale];
    const now = new Date();
    const today = dayOf(now, timeZone);
    const period = periodOf(request.query, today, locale);
    const tenantId = principal.tenantId!;
    const summary = summarize(period.days, await readDays(db, tenantId, period.days));

    const numbers = new Intl.NumberFormat(locale === 'fr' ? 'fr-FR' : 'en-GB');
    const percent = new Intl.NumberFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
      style: 'percent',
      maximumFractionDigits: 1,
    });
    const shortDay = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
      day: 'numeric',
      month: 'short',
      timeZone: 'UTC',
    });
    const longDay = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
      dateStyle: 'medium',
      timeZone: 'UTC',
    });
    const asDate = (day: string) => new Date(`${day}T00:00:00Z`);
    const n = (v: number) => numbers.format(v);
    const inPeriod = { from: period.from, to: period.to };

    const deliveries = canLog
      ? (() => {
          const resultsShown = RESULT_ORDER.filter((r) => (summary.results[r] ?? 0) > 0);
          const byResult = columnsChart(
            summary.days.map((day) => ({
              label: shortDay.format(asDate(day.day)),
              up: RESULT_ORDER.map((r) => ({ key: r, value: day.results[r] ?? 0, color: RESULT_COLORS[r] })),
            })),
            { format: (v) => n(Math.round(v * 10) / 10) },
          );
          const rate = columnsChart(
            summary.days.map((day) => ({
              label: shortDay.format(asDate(day.day)),
              up: [
                { key: 'rate', value: day.tracked ? day.delivered / day.tracked : 0, color: RESULT_COLORS.delivered },
              ],
            })),
            { format: (v) => percent.format(v), fixedMax: 1 },
          );
          const reasons = barShares(
            summary.reasons.map((r) => ({
              label: dw.reasons[r.reason] ?? r.reason,
              value: r.count,
              text: n(r.count),
              href: logHref(inPeriod),
            })),
          );
          const domains = barShares(
            summary.domains.map((dm) => ({
              label: dm.domain === OTHER_DOMAINS ? dw.otherDomains : dm.domain,
              value: dm.count,
              text: n(dm.count),
              href: logHref(inPeriod),
            })),
          );
          return {
            tiles: {
              dispatches: n(summary.dispatches),
              dispatchesHref: logHref({ show: 'all', ...inPeriod }),
              deliveryRate: summary.deliveryRate === null ? dw.none : percent.format(summary.deliveryRate),
              deliveryRateOf: fill(dw.deliveryRateOf, { delivered: n(summary.delivered), tracked: n(summary.tracked) }),
              medianTtd: summary.medianTtdMs === null ? dw.none : duration(summary.medianTtdMs, locale),
              medianOf: fill(dw.medianOf, { n: n(summary.timed) }),
              hardBounceRate: summary.hardBounceRate === null ? dw.none : percent.format(summary.hardBounceRate),
              hardBounceOf: fill(dw.hardBounceOf, { n: n(summary.hardBounces), of: n(summary.emailTracked) }),
            },
            warning: summary.warnHardBounces
              ? fill(dw.warnHardBounces, {
                  rate: percent.format(summary.hardBounceRate!),
                  limit: percent.format(HARD_BOUNCE_WARNING),
                })
              : null,
            hardBounceClass: summary.warnHardBounces ? 'is-failed' : '',
            byResult: {
              id: 'by-result',
              chart: byResult,
              title: dw.byResultPerDay,
              desc: fill(dw.byResultDesc, {
                n: n(summary.dispatches),
                from: longDay.format(asDate(period.from)),
                to: longDay.format(asDate(period.to)),
                parts: resultsShown.map((r) => `${w.results[r]} ${n(summary.results[r])}`).join(', ') || '0',
              }),
              legend: resultsShown.map((r) => ({
                label: w.results[r],
                color: RESULT_COLORS[r],
                href: logHref({ show: 'all', result: r, ...inPeriod }),
              })),
              columns: resultsShown.map((r) => w.results[r]),
              rows: summary.days.map((day) => ({
                day: longDay.format(asDate(day.day)),
                href: day.dispatches ? logHref({ show: 'all', from: day.day, to: day.day }) : null,
                total: n(day.dispatches),
                cells: resultsShown.map((r) => ({
                  text: n(day.results[r] ?? 0),
                  href: day.results[r] ? logHref({ show: 'all', result: r, from: day.day, to: day.day }) : null,
                })),
              })),
              href: logHref({ show: 'all', ...inPeriod }),
            },
            rate: {
              id: 'rate',
              chart: rate,
              title: dw.ratePerDay,
              desc: fill(dw.rateDesc, {
                rate: summary.deliveryRate === null ? dw.none : percent.format(summary.deliveryRate),
              }),
              rows: summary.days.map((day) => ({
                day: longDay.format(asDate(day.day)),
                delivered: n(day.delivered),
                tracked: n(day.tracked),
                rate: day.tracked ? percent.format(day.delivered / day.tracked) : '—',
              })),
              href: logHref({ show: 'all', ...inPeriod }),
            },
            reasons,
            domains,
            failedHref: logHref(inPeriod),
          };
        })()
      : null;

    const orders = canOrders
      ? await (async () => {
          const [open, held] = await Promise.all([openExceptions(db, tenantId, today), heldOrders(db, tenantId, now)]);
          const perDay = exceptionsPerDay(summary);
          const typesShown = EXCEPTION_TYPES.filter((t) => (summary.opened[t] ?? 0) + (summary.resolved[t] ?? 0) > 0);
          const label = (t: string) => exceptionLabel(t as never, locale);
          const total = (counts: Array<{ count: number }>) => counts.reduce((sum, c) => sum + c.count, 0);
          const chart = columnsChart(
            perDay.days.map((day) => ({
              label: shortDay.format(asDate(day.day)),
              up: day.opened.map((c) => ({ key: c.type, value: c.count, color: EXCEPTION_COLORS[c.type] })),
              down: day.resolved.map((c) => ({ key: c.type, value: c.count, color: EXCEPTION_COLORS[c.type] })),
            })),
            { format: (v) => n(Math.round(v * 10) / 10) },
          );
          const counts = (list: Array<{ type: string; count: number }>) =>
            list
              .filter((c) => c.count > 0)
              .map((c) => `${label(c.type)} ${n(c.count)}`)
              .join(', ') || '0';
          const openTypes = EXCEPTION_TYPES.filter((t) => EXCEPTION_AGES.some((a) => open.byAge[a.key][t]));
          return {
            tiles: {
              opened: n(total(perDay.opened)),
              resolved: n(total(perDay.resolved)),
              open: n(open.count),
              held: n(held.count),
              oldestOpen: open.oldest ? fill(dw.oldestOpen, { day: longDay.format(asDate(open.oldest)) }) : null,
            },
            perDay: {
              id: 'exceptions',
              chart,
              title: dw.exceptionsPerDay,
              desc: fill(dw.exceptionsDesc, {
                opened: n(total(perDay.opened)),
                resolved: n(total(perDay.resolved)),
                from: longDay.format(asDate(period.from)),
                to: longDay.format(asDate(period.to)),
              }),
              legend: typesShown.map((t) => ({
                label: label(t),
                color: EXCEPTION_COLORS[t],
                href: `/ui/orders?exception=${t}`,
              })),
              rows: perDay.days
                .filter((day) => total(day.opened) + total(day.resolved) > 0)
                .map((day) => ({
                  day: longDay.format(asDate(day.day)),
                  opened: counts(day.opened),
                  resolved: counts(day.resolved),
                })),
            },
            openByAge: barShares(
              EXCEPTION_AGES.map((a) => ({
                label: dw.ages[a.key],
                value: Object.values(open.byAge[a.key]).reduce((s, v) => s + v, 0),
                text: n(Object.values(open.byAge[a.key]).reduce((s, v) => s + v, 0)),
                parts: EXCEPTION_TYPES.map((t) => ({
                  key: t,
                  value: open.byAge[a.key][t] ?? 0,
                  color: EXCEPTION_COLORS[t],
                })),
              })),
            ),
            openTable: {
              ages: EXCEPTION_AGES.map((a) => dw.ages[a.key]),
              rows: openTypes.map((t) => ({
                type: label(t),
                color: EXCEPTION_COLORS[t],
                href: `/ui/orders?exception=${t}`,
                cells: EXCEPTION_AGES.map((a) => n(open.byAge[a.key][t] ?? 0)),
              })),
            },
            openCount: open.count,
            heldByAge: barShares(
              HOLD_AGES.map((a) => ({
                label: dw.holdAges[a.key],
                value: held.byAge[a.key],
                text: n(held.byAge[a.key]),
                href: '/ui/orders?state=on_hold',
              })),
            ),
            heldCount: held.count,
            heldOldest: held.oldest.map((o) => ({
              orderId: o.orderId,
              href: orderPagePath(o.orderId),
              since: o.since,
              reason: o.reason ? reasonWords(o.reason, locale) : '',
            })),
          };
        })()
      : null;

    return render(
      reply,
      'dashboard',
      tools.context(request, reply, 'dashboard', {
        dw,
        period,
        deliveries,
        orders,
        quick: QUICK_PERIODS.map((days) => ({
          days,
          label: fill(dw.last, { n: days }),
          href: `/ui/?days=${days}`,
          current: period.to === today && period.days.length === days,
        })),
      }),
    );
  });

  // ---- downloads with the pages' filters ---------------------------------------------------
  app.get('/log.csv', { preHandler: tools.need(tools.roles.log) }, async (request, reply) => {
    const { principal, locale, timeZone } = request.ui!;
    const {
      cursor: _cursor,
      limit: _limit,
      ...query
    } = logQuery(parse(logForm, request.query), timeZone, WORDS[locale], 1);
    return sendCsv(
      reply,
      'relais-dispatches',
      DISPATCH_COLUMNS,
      dispatchRows(db, principal.tenantId!, query, locale, timeZone),
    );
  });

  app.get('/orders.csv', { preHandler: tools.need(tools.roles.orders) }, async (request, reply) => {
    const { principal, locale, timeZone } = request.ui!;
    const f = parse(listForm, request.query);
    checkDays(f, WORDS[locale], WORDS[locale].invalidDate);
    const query = parse(exportOrdersQuery, {
      exception: f.exception || undefined,
      state: f.state || undefined,
      stuck: f.stuck || undefined,
      held: f.held || undefined,
      from: f.from ? startOfDay(f.from, timeZone).toISOString() : undefined,
      to: f.to ? endOfDay(f.to, timeZone).toISOString() : undefined,
    });
    return sendCsv(
      reply,
      'relais-orders',
      ORDER_COLUMNS,
      orderCsvRows(db, principal.tenantId!, query, locale, timeZone),
    );
  });

  for (const ext of ['pdf', 'json'] as const) {
    app.get<{ Params: { id: string } }>(
      `/dispatches/:id/proof.${ext}`,
      { preHandler: tools.need(tools.roles.log) },
      async (request, reply) => {
        const { principal } = request.ui!;
        const pack = await readProof(deps, principal.tenantId!, request.params.id, principal.keyId);
        return ext === 'pdf' ? sendProofPdf(reply, pack) : sendProofJson(reply, pack);
      },
    );
  }
}

/** A duration as people say it: 850 ms, 2.4 s, 42 s, 3 min 10 s, 2 h 05 min. */
export function duration(ms: number, locale: Locale): string {
  const decimal = (v: number) =>
    new Intl.NumberFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: 1 }).format(v);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${decimal(Math.round(ms / 100) / 10)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
