// Message templates (rule N2): templates/<channel>/<type>.<locale>.<part>.hbs, Handlebars in
// strict mode so a missing variable is an error, never a silent blank; HTML parts escape data.
import Handlebars from 'handlebars';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Locale } from './domain/locale';
export type MessageChannel = 'sms' | 'whatsapp';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export class TemplateError extends Error {
  constructor(
    readonly code: 'template_not_found' | 'template_variable_missing' | 'template_variable_invalid',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const DEFAULT_TEMPLATE_DIR = resolve(__dirname, '..', 'templates');

type Part = 'subject' | 'html' | 'text' | 'body';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** Hash key added at compile time so a helper knows which variable its first argument came from. */
const VARIABLE = '__relaisVariable';
/** The helper every {{value}} written as a link in HTML goes through (see guardLinks). */
const LINK_HELPER = 'relaisLink';
const CHECKED_HELPERS = new Set(['if', 'unless', 'each', 'with', 'datetime', 'join', LINK_HELPER]);

/** Attributes whose value a browser follows or loads as a URL. */
const URL_ATTRIBUTE = /\b(?:href|src|action|formaction|xlink:href|background|poster|cite)\s*=\s*["']?$/i;

/** An absolute http(s) URL, as a browser would read it (leading spaces and tabs inside the scheme included). */
export function isWebLink(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * In an HTML template, a variable that starts a URL attribute (`href="{{document.url}}"`) goes
 * through LINK_HELPER, which accepts only http(s) URLs (issue 14, finding 10: a caller's
 * `javascript:` link would otherwise reach the email as a clickable href). AST rewrite, so every
 * template — and any added later — is covered without writing the helper by hand.
 */
function guardLinks(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach(guardLinks);
    return;
  }
  const n = node as Node;
  if (n.type === 'Program') {
    const body = n.body as Node[];
    body.forEach((statement, i) => {
      const before = body[i - 1];
      const path = statement.path as { type: string; original: string } | undefined;
      if (
        statement.type === 'MustacheStatement' &&
        path?.type === 'PathExpression' &&
        !(statement.params as unknown[]).length &&
        before?.type === 'ContentStatement' &&
        URL_ATTRIBUTE.test(String(before.value))
      ) {
        statement.params = [path];
        statement.path = {
          type: 'PathExpression',
          data: false,
          depth: 0,
          parts: [LINK_HELPER],
          original: LINK_HELPER,
          loc: statement.loc,
        };
      }
    });
  }
  for (const [key, value] of Object.entries(n))
    if (key !== 'loc' && value && typeof value === 'object') guardLinks(value);
}

class MissingVariable extends Error {
  constructor(readonly variable: string) {
    super(`"${variable}" not defined`);
  }
}

function variableOf(options: Handlebars.HelperOptions): string {
  const name = (options.hash as Record<string, unknown> | undefined)?.[VARIABLE];
  return typeof name === 'string' ? name : 'unknown';
}

type Node = { type?: string; [key: string]: unknown };

/**
 * Adds `__relaisVariable="path"` to {{#if path}}, {{#each path}}, {{datetime path}} … (AST walk),
 * and collects the variables shown with {{datetime}} into `dates`.
 */
function nameHelperArguments(node: unknown, dates: Set<string>): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) nameHelperArguments(n, dates);
    return;
  }
  const n = node as Node;
  if (n.type === 'BlockStatement' || n.type === 'MustacheStatement' || n.type === 'SubExpression') {
    const path = n.path as { type: string; original: unknown };
    const first = (n.params as Node[] | undefined)?.[0] as
      { type: string; original: string; data?: boolean } | undefined;
    if (
      path?.type === 'PathExpression' &&
      CHECKED_HELPERS.has(String(path.original)) &&
      first?.type === 'PathExpression' &&
      !first.data
    ) {
      const pair = {
        type: 'HashPair',
        key: VARIABLE,
        value: { type: 'StringLiteral', value: first.original, original: first.original, loc: n.loc },
        loc: n.loc,
      };
      const hash = n.hash as { pairs: unknown[] } | undefined;
      n.hash = hash ? { ...hash, pairs: [...hash.pairs, pair] } : { type: 'Hash', pairs: [pair], loc: n.loc };
      if (path.original === 'datetime') dates.add(first.original);
    }
  }
  for (const [key, value] of Object.entries(n))
    if (key !== 'loc' && value && typeof value === 'object') nameHelperArguments(value, dates);
}

/**
 * A date as people read it, in a time zone and language: "1er mars 2026 à 10:30", "1 March 2026
 * at 10:30". A calendar date (`2026-03-05`: a delivery or due date) has no time and no zone, and
 * is shown as that day: shifting midnight UTC into the zone would show a time of day, and the day
 * before west of Greenwich. Throws on a value that is not a date.
 */
export function formatDateTime(value: string, locale: Locale, timeZone: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a date: ${value}`);
  const intlLocale = locale === 'fr' ? 'fr-FR' : 'en-GB';
  const formatted = DATE_ONLY.test(value)
    ? new Intl.DateTimeFormat(intlLocale, { dateStyle: 'long', timeZone: 'UTC' }).format(date)
    : new Intl.DateTimeFormat(intlLocale, { dateStyle: 'long', timeStyle: 'short', timeZone }).format(date);
  // French writes the first of the month as an ordinal ("1er mars"); Intl gives "1 mars".
  return locale === 'fr' ? formatted.replace(/^1 /, '1er ') : formatted;
}

type PathNode = { type: string; parts: string[]; depth: number; data: boolean };
const isPath = (x: unknown): x is PathNode => (x as Node | null)?.type === 'PathExpression';

/**
 * The variables a template reads in the root context (outside {{#each}} / {{#with}} bodies), as
 * path segments, in document order. They are checked before rendering so that a missing one is
 * named exactly (`document`, not the `number` read through it), whichever helper reads it.
 */
function rootPaths(node: unknown, out: string[][] = []): string[][] {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const n of node) rootPaths(n, out);
    return out;
  }
  const n = node as Node;
  const variable = (x: unknown) => {
    if (isPath(x) && !x.data && x.depth === 0 && x.parts.length > 0) out.push(x.parts);
    else rootPaths(x, out);
  };
  const args = (params: unknown, hash: unknown) => {
    for (const p of (params as unknown[] | undefined) ?? []) variable(p);
    for (const pair of (hash as { pairs?: Array<{ value: unknown }> } | undefined)?.pairs ?? []) variable(pair.value);
  };
  switch (n.type) {
    case 'MustacheStatement':
    case 'SubExpression': {
      const params = n.params as unknown[];
      const helper = params.length > 0 || ((n.hash as { pairs?: unknown[] } | undefined)?.pairs?.length ?? 0) > 0;
      if (helper) args(n.params, n.hash);
      else variable(n.path);
      return out;
    }
    case 'BlockStatement': {
      args(n.params, n.hash);
      const name = isPath(n.path) ? n.path.parts.join('.') : '';
      // if/unless keep the context; each/with and unknown block helpers change it.
      if (name === 'if' || name === 'unless') rootPaths(n.program, out);
      rootPaths(n.inverse, out);
      return out;
    }
    case 'PartialStatement':
    case 'PartialBlockStatement':
      args(n.params, n.hash);
      rootPaths(n.program, out);
      return out;
    case 'Program':
      return rootPaths(n.body, out);
    default:
      return out;
  }
}

/** The first segment path that cannot be read in the context (undefined, or read through a non-object). */
function firstMissing(context: Record<string, unknown>, parts: string[]): string | null {
  let current: unknown = context;
  for (let i = 0; i < parts.length; i += 1) {
    if (current === null || typeof current !== 'object') return parts.slice(0, i).join('.');
    const value = (current as Record<string, unknown>)[parts[i]];
    if (value === undefined && !(Array.isArray(current) && parts[i] === 'length'))
      return parts.slice(0, i + 1).join('.');
    current = value;
  }
  return null;
}

interface Compiled {
  template: Handlebars.TemplateDelegate;
  paths: string[][];
  dates: Set<string>;
}

/** Loads and compiles templates once; rendering is then pure and fast. */
export class Templates {
  private readonly compiled = new Map<string, Compiled>();
  private readonly hb = Handlebars.create();

  constructor(private readonly dir: string = DEFAULT_TEMPLATE_DIR) {
    this.hb.registerHelper('datetime', (value: unknown, options: Handlebars.HelperOptions) => {
      if (value === undefined) throw new MissingVariable(variableOf(options));
      const { timeZone, locale } = options.data.root as { timeZone?: unknown; locale?: string };
      // A missing time zone is an error like any other variable, not a silent UTC (rule N2).
      if (typeof timeZone !== 'string' || timeZone === '') throw new MissingVariable('timeZone');
      const text = String(value);
      try {
        return formatDateTime(text, locale === 'fr' ? 'fr' : 'en', timeZone);
      } catch {
        throw new TemplateError('template_variable_missing', `not a date: ${text}`, `data.${variableOf(options)}`);
      }
    });
    this.hb.registerHelper(LINK_HELPER, (value: unknown, options: Handlebars.HelperOptions) => {
      if (value === undefined) throw new MissingVariable(variableOf(options));
      if (value === null) return '';
      const text = String(value);
      if (!isWebLink(text)) {
        const field = `data.${variableOf(options)}`;
        throw new TemplateError(
          'template_variable_invalid',
          `${field}: a link must be an absolute http or https URL (got ${JSON.stringify(text.slice(0, 80))})`,
          field,
        );
      }
      return text;
    });
    this.hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    this.hb.registerHelper('join', (items: unknown, sep: unknown, options?: Handlebars.HelperOptions) => {
      if (items === undefined && options) throw new MissingVariable(variableOf(options));
      return Array.isArray(items) ? items.join(typeof sep === 'string' ? sep : ', ') : '';
    });
    // Strict mode only checks plain {{x}}: a helper's argument that is missing arrives as undefined, so
    // {{#if message}} or {{#each failures}} would render a silent blank. These built-ins refuse it
    // (null stays a valid "absent" value).
    for (const name of ['if', 'unless', 'each', 'with']) {
      const builtin = this.hb.helpers[name] as (...args: unknown[]) => unknown;
      this.hb.registerHelper(name, function (this: unknown, ...args: unknown[]) {
        const options = args[args.length - 1] as Handlebars.HelperOptions;
        if (args.length > 1 && args[0] === undefined) throw new MissingVariable(variableOf(options));
        const { [VARIABLE]: _omit, ...hash } = (options.hash ?? {}) as Record<string, unknown>;
        return builtin.apply(this, [...args.slice(0, -1), { ...options, hash }]);
      });
    }
    const layout = join(dir, 'email', '_layout.html.hbs');
    if (existsSync(layout))
      this.hb.registerPartial('layout', this.compile(readFileSync(layout, 'utf8'), false).template);
  }

  /** Template types available for a channel and locale (files present for every part). */
  types(channel: 'email' | MessageChannel, locale: Locale): string[] {
    const folder = join(this.dir, channel);
    if (!existsSync(folder)) return [];
    const suffix = channel === 'email' ? `.${locale}.subject.hbs` : `.${locale}.hbs`;
    return readdirSync(folder)
      .filter((f) => f.endsWith(suffix) && !f.startsWith('_'))
      .map((f) => f.slice(0, -suffix.length))
      .sort();
  }

  has(channel: 'email' | MessageChannel, type: string, locale: Locale): boolean {
    return this.types(channel, locale).includes(type);
  }

  renderEmail(type: string, locale: Locale, data: Record<string, unknown>): RenderedEmail {
    const context = { ...data, locale };
    return {
      subject: this.render('email', type, locale, 'subject', context).replace(/\s+/g, ' ').trim(),
      html: this.render('email', type, locale, 'html', context),
      text: this.render('email', type, locale, 'text', context).trim() + '\n',
    };
  }

  renderMessage(channel: MessageChannel, type: string, locale: Locale, data: Record<string, unknown>): string {
    return this.render(channel, type, locale, 'body', { ...data, locale })
      .replace(/[ \t]+\n/g, '\n')
      .trim();
  }

  /**
   * The variables a template shows as dates ({{datetime x}}), in any of its parts: an approved
   * WhatsApp template's variables are filled from the same data, and these are formatted the same way.
   */
  datetimeVariables(channel: 'email' | MessageChannel, type: string, locale: Locale): Set<string> {
    const parts: Part[] = channel === 'email' ? ['subject', 'html', 'text'] : ['body'];
    return new Set(parts.flatMap((part) => [...this.load(channel, type, locale, part).dates]));
  }

  private load(channel: string, type: string, locale: Locale, part: Part): Compiled {
    const file =
      part === 'body'
        ? join(this.dir, channel, `${type}.${locale}.hbs`)
        : join(this.dir, channel, `${type}.${locale}.${part}.hbs`);
    let compiled = this.compiled.get(file);
    if (!compiled) {
      if (!/^[a-z0-9_]+$/.test(type) || !existsSync(file)) {
        throw new TemplateError('template_not_found', `no ${channel} template "${type}" in ${locale}`, 'template');
      }
      // Only HTML escapes: subjects, text and SMS are plain text.
      compiled = this.compile(readFileSync(file, 'utf8'), part !== 'html');
      this.compiled.set(file, compiled);
    }
    return compiled;
  }

  private render(channel: string, type: string, locale: Locale, part: Part, context: Record<string, unknown>): string {
    const compiled = this.load(channel, type, locale, part);
    for (const path of compiled.paths) {
      const missing = firstMissing(context, path);
      if (missing !== null) {
        throw new TemplateError(
          'template_variable_missing',
          `template "${type}" (${channel}, ${locale}) needs variable "${missing}"`,
          `data.${missing}`,
        );
      }
    }
    try {
      return compiled.template(context);
    } catch (err) {
      const missing =
        err instanceof MissingVariable ? err.variable : /"([^"]+)" not defined/.exec((err as Error).message)?.[1];
      if (missing) {
        throw new TemplateError(
          'template_variable_missing',
          `template "${type}" (${channel}, ${locale}) needs variable "${missing}"`,
          `data.${missing}`,
        );
      }
      // {{#if document.url}} without `document`: Handlebars reads a property of undefined.
      const through =
        err instanceof TypeError
          ? /^Cannot read properties of (?:undefined|null) \(reading '([^']+)'\)/.exec(err.message)
          : null;
      if (through) {
        throw new TemplateError(
          'template_variable_missing',
          `template "${type}" (${channel}, ${locale}) needs the object holding "${through[1]}"`,
          'data',
        );
      }
      throw err;
    }
  }

  /** Compiles in strict mode, first naming the variable each helper argument reads (see variableOf). */
  private compile(source: string, noEscape: boolean): Compiled {
    const ast = Handlebars.parse(source);
    if (!noEscape) guardLinks(ast);
    const dates = new Set<string>();
    nameHelperArguments(ast, dates);
    return { template: this.hb.compile(ast, { strict: true, noEscape }), paths: rootPaths(ast), dates };
  }
}
