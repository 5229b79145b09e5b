// /ui/address-health (issue 20, item 2): the tenant's address-health registry, filtered by state
// and kind, paged, and a form to clear a record (role ops, audited) — the same functions and
// roles as /v1/address-health. Server-rendered; works without JavaScript.
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import type { ApiDeps } from '../api/deps';
import { parse } from '../api/errors';
import { clearAddressHealthSchema } from '../api/schemas';
import { clearAddressHealth, listAddressHealth, listAddressHealthQuery } from '../app/address-health';
import { readRecords } from '../db/address-health';
import { badFor, HEALTH_STATES, normalizeAddress } from '../domain/address-health';
import type { Db } from '../db/models';
import type { Channel } from '../providers/types';
import { formatDate, render, type PageContext } from './render';
import { HEALTH_WORDS } from './address-health-words';
import { dispatchPagePath, orderPagePath } from './paths';
import type { Locale } from '../domain/locale';

export const ADDRESS_HEALTH_PAGE = '/ui/address-health';

export interface HealthPageTools {
  read: preHandlerAsyncHookHandler;
  ops: preHandlerAsyncHookHandler;
  canClear(request: FastifyRequest): boolean;
  checkCsrf: preHandlerHookHandler;
  context(request: FastifyRequest, reply: FastifyReply, title: string, extra?: Record<string, unknown>): PageContext;
  act(
    run: () => Promise<unknown>,
    onRefused: (p: { status: number; message: string }) => Promise<unknown>,
    reply: FastifyReply,
    back: string,
  ): Promise<unknown>;
}

const fill = (text: string, values: Record<string, string | number>) =>
  text.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));

/** Per address shown on a dispatch page, what the registry knows bad about it for the dispatch's channel. */
export async function knownBadNotes(
  db: Db,
  tenantId: string,
  channel: Channel,
  addresses: string[],
  locale: Locale,
  timeZone: string,
): Promise<Map<string, string>> {
  const w = HEALTH_WORDS[locale];
  const records = await readRecords(db, tenantId, addresses);
  const notes = new Map<string, string>();
  for (const address of addresses) {
    const record = records.get(normalizeAddress(address).address);
    const bad = record ? badFor(record, channel) : [];
    if (bad.length)
      notes.set(
        address,
        `${w.knownBad}: ${bad.map((c) => `${w.conditionWords[c.condition]} ${fill(w.times, { n: c.count })}, ${w.since.toLowerCase()} ${formatDate(c.firstSeen, locale, timeZone)}`).join('; ')}`,
      );
  }
  return notes;
}

/** The settings page's choice of the `knownBadAddresses` policy. */
export function knownBadChoices(locale: Locale, current: string) {
  const w = HEALTH_WORDS[locale];
  return {
    label: w.policy,
    help: w.policyHelp,
    options: (['warn', 'refuse'] as const).map((value) => ({
      value,
      label: w.policies[value],
      selected: value === current,
    })),
  };
}

export function addressHealthPages(app: FastifyInstance, deps: ApiDeps, tools: HealthPageTools) {
  const { db } = deps;

  async function page(request: FastifyRequest, reply: FastifyReply, problem?: { status: number; message: string }) {
    const { locale, principal } = request.ui!;
    const w = HEALTH_WORDS[locale];
    const raw = request.query as Record<string, string | undefined>;
    const query = parse(listAddressHealthQuery, {
      state: raw.state || undefined,
      kind: raw.kind || undefined,
      cursor: raw.cursor,
      limit: 50,
    });
    const list = await listAddressHealth(db, principal.tenantId!, query);
    const href = (cursor: number | null) =>
      `${ADDRESS_HEALTH_PAGE}?${new URLSearchParams({ ...(query.state ? { state: query.state } : {}), ...(query.kind ? { kind: query.kind } : {}), ...(cursor ? { cursor: String(cursor) } : {}) })}`.replace(
        /\?$/,
        '',
      );
    return render(
      reply,
      'address-health',
      tools.context(request, reply, w.title, {
        hw: w,
        canClear: tools.canClear(request),
        states: HEALTH_STATES.map((s) => ({ value: s, label: w.states[s], selected: s === query.state })),
        kinds: (['email', 'phone'] as const).map((k) => ({ value: k, label: w.kinds[k], selected: k === query.kind })),
        records: list.records.map((r) => ({
          ...r,
          stateLabel: w.states[r.state],
          bad: r.state === 'bad' || r.state === 'opted_out',
          kindLabel: w.kinds[r.kind],
          conditions: r.conditions.map((c) => ({
            ...c,
            label: w.conditionWords[c.condition],
            times: fill(w.times, { n: c.count }),
            dispatchHref: c.dispatchId ? dispatchPagePath(c.dispatchId) : null,
            orderHref: c.orderId ? orderPagePath(c.orderId) : null,
          })),
          clearedLabel: r.cleared ? fill(w.clearedBy, { by: r.cleared.by ?? '' }) : null,
        })),
        nextHref: list.nextCursor !== null ? href(list.nextCursor) : null,
        firstHref: query.cursor > 0 ? href(null) : null,
        done: (request.query as Record<string, string>).done === 'cleared' ? w.cleared : undefined,
        problem: problem ? { ...problem, prefix: '' } : undefined,
      }),
      problem?.status ?? 200,
    );
  }

  app.get(ADDRESS_HEALTH_PAGE.slice(3), { preHandler: tools.read }, async (request, reply) => page(request, reply));
  app.post(
    `${ADDRESS_HEALTH_PAGE.slice(3)}/clear`,
    { preHandler: [tools.checkCsrf, tools.ops] },
    async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string | undefined>;
      return tools.act(
        () =>
          clearAddressHealth(
            db,
            request.ui!.principal,
            String(form.address ?? ''),
            parse(clearAddressHealthSchema, { reason: form.reason }).reason,
          ),
        (p) => page(request, reply, p),
        reply,
        `${ADDRESS_HEALTH_PAGE}?done=cleared`,
      );
    },
  );
}
