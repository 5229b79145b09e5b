// Message templates (rule N2): templates/<channel>/<type>.<locale>.<part>.hbs, Handlebars in
// strict mode so a missing variable is an error, never a silent blank; HTML parts escape data.
import Handlebars from 'handlebars';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export type MessageChannel = 'sms' | 'whatsapp';

export interface RenderedEmail { subject: string; html: string; text: string }

export class TemplateError extends Error {
  constructor(readonly code: 'template_not_found' | 'template_variable_missing', message: string, readonly field?: string) {
    super(message);
  }
}

export const DEFAULT_TEMPLATE_DIR = resolve(__dirname, '..', 'templates');

type Part = 'subject' | 'html' | 'text' | 'body';

/** Loads and compiles templates once; rendering is then pure and fast. */
export class Templates {
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();
  private readonly hb = Handlebars.create();

  constructor(private readonly dir: string = DEFAULT_TEMPLATE_DIR) {
    this.hb.registerHelper('datetime', (value: unknown, options: Handlebars.HelperOptions) => {
      const { timeZone, locale } = options.data.root as { timeZone?: string; locale?: string };
      const date = new Date(String(value));
      if (Number.isNaN(date.getTime())) throw new TemplateError('template_variable_missing', `not a date: ${String(value)}`);
      return new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
        dateStyle: 'long', timeStyle: 'short', timeZone: timeZone ?? 'UTC',
      }).format(date);
    });
    this.hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    this.hb.registerHelper('join', (items: unknown, sep: unknown) =>
      Array.isArray(items) ? items.join(typeof sep === 'string' ? sep : ', ') : '');
    const layout = join(dir, 'email', '_layout.html.hbs');
    if (existsSync(layout)) this.hb.registerPartial('layout', readFileSync(layout, 'utf8'));
  }

  /** Template types available for a channel and locale (files present for every part). */
  types(channel: 'email' | MessageChannel, locale: Locale): string[] {
    const folder = join(this.dir, channel);
    if (!existsSync(folder)) return [];
    const suffix = channel === 'email' ? `.${locale}.subject.hbs` : `.${locale}.hbs`;
    return readdirSync(folder).filter((f) => f.endsWith(suffix) && !f.startsWith('_')).map((f) => f.slice(0, -suffix.length)).sort();
  }

  has(channel: 'email' | MessageChannel, type: string, locale: Locale): boolean {
    return this.types(channel, locale).includes(type);
  }

  renderEmail(type: string, locale: Locale, data: Record<string, unknown>): RenderedEmail {
    const context = { locale, ...data };
    return {
      subject: this.render('email', type, locale, 'subject', context).replace(/\s+/g, ' ').trim(),
      html: this.render('email', type, locale, 'html', context),
      text: this.render('email', type, locale, 'text', context).trim() + '\n',
    };
  }

  renderMessage(channel: MessageChannel, type: string, locale: Locale, data: Record<string, unknown>): string {
    return this.render(channel, type, locale, 'body', { locale, ...data }).replace(/[ \t]+\n/g, '\n').trim();
  }

  private render(channel: string, type: string, locale: Locale, part: Part, context: Record<string, unknown>): string {
    const file = part === 'body' ? join(this.dir, channel, `${type}.${locale}.hbs`) : join(this.dir, channel, `${type}.${locale}.${part}.hbs`);
    let template = this.compiled.get(file);
    if (!template) {
      if (!/^[a-z0-9_]+$/.test(type) || !existsSync(file)) {
        throw new TemplateError('template_not_found', `no ${channel} template "${type}" in ${locale}`, 'template');
      }
      // Only HTML escapes: subjects, text and SMS are plain text.
      template = this.hb.compile(readFileSync(file, 'utf8'), { strict: true, noEscape: part !== 'html' });
      this.compiled.set(file, template);
    }
    try {
      return template(context);
    } catch (err) {
      const match = /"([^"]+)" not defined/.exec((err as Error).message);
      if (match) {
        throw new TemplateError('template_variable_missing',
          `template "${type}" (${channel}, ${locale}) needs variable "${match[1]}"`, `data.${match[1]}`);
      }
      throw err;
    }
  }
}
