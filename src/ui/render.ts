// Every HTML page Relais serves — the operator pages, the customer pages (/c, /d) and the
// sandbox's inbox — is a Handlebars view under ./views, escaped by default (data is never markup):
// one escaping path. Two layouts (_layout: operator pages; _public: customer pages), a few
// helpers. The operator pages' words come from ./words.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { FastifyReply } from 'fastify';
import type { Words } from './words';
import type { Locale } from '../domain/locale';

const hbs = Handlebars.create();
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hbs.registerHelper('includes', (list: unknown, item: unknown) => Array.isArray(list) && list.includes(item));
/** A time in the tenant's time zone and language (D11: stored in UTC, shown where the tenant is). */
hbs.registerHelper('date', function (this: unknown, value: unknown, options: Handlebars.HelperOptions) {
  if (!value) return '';
  const { locale, timeZone } = options.data.root as PageContext;
  return formatDate(new Date(value as string), locale, timeZone);
});

/** A calendar day chosen in the tenant's zone (YYYY-MM-DD), in its language, without a time. */
hbs.registerHelper('day', function (this: unknown, value: unknown, options: Handlebars.HelperOptions) {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return '';
  const { locale } = options.data.root as PageContext;
  return new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(`${value}T00:00:00Z`),
  );
});

export const formatDate = (d: Date, locale: Locale, timeZone: string) =>
  new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone,
  }).format(d);

const dir = join(__dirname, 'views');
const views = new Map<string, Handlebars.TemplateDelegate>();
for (const file of readdirSync(dir)) {
  const name = file.replace(/\.hbs$/, '');
  const source = readFileSync(join(dir, file), 'utf8');
  if (name.startsWith('_')) hbs.registerPartial(name.slice(1), source);
  else views.set(name, hbs.compile(source, { strict: false }));
}

export interface PageContext {
  w: Words;
  locale: Locale;
  timeZone: string;
  title: string;
  csrf: string;
  /** Navigation: what this person may open. */
  nav?: {
    log: boolean;
    orders: boolean;
    settings: boolean;
    dashboard: boolean;
    signedIn: boolean;
    current: string;
    addressHealth?: boolean;
  };
  [key: string]: unknown;
}

/** Content-Security-Policy: scripts only from /ui/assets; the copy of an email renders in a sandboxed iframe. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A view filled in: the HTML of a page, or of a part of one. */
export function renderView(view: string, context: object): string {
  const template = views.get(view);
  if (!template) throw new Error(`no view ${view}`);
  return template(context);
}

export function render(reply: FastifyReply, view: string, context: PageContext, status = 200) {
  const html = renderView(view, context);
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', CSP)
    .send(html);
}

export const assets = {
  'app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(__dirname, 'assets', 'app.js')) },
  'app.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'assets', 'app.css')) },
} as const;
