// Which values of a message are secrets, and the copy people read instead (issue 14, finding 1).
// A notice that carries a customer's signed link (/c/… to confirm an address, /d/… to open a
// document) or the code of an SMS/WhatsApp reply gives whoever holds it the customer's power:
// confirm or correct the address and release the hold, which only `ops` may otherwise do. The
// delivery log keeps a copy of every message (D11), readable with `log:read`; so the copy it
// keeps has those values withheld, and what is really sent is stored sealed (src/sealed.ts).
// Pure: the dispatch workflow asks `carriesSecrets` too.
import type { Locale } from './reasons';

/** Template data fields that are secrets, per notice template: a signed link, or a reply code. */
const SECRET_FIELDS: Record<string, Readonly<Record<string, 'link' | 'code'>>> = {
  address_confirmation: { link: 'link', confirmationCode: 'code' },
  document_link: { link: 'link' },
};

export const secretFields = (template: string): readonly string[] => Object.keys(SECRET_FIELDS[template] ?? {});

/** Whether messages of this template carry a customer's link or reply code. */
export const carriesSecrets = (template: string): boolean => secretFields(template).length > 0;

/**
 * What stands in the stored copy where a secret was. A link stays a URL (templates accept only
 * http(s) links), one that can never open anything: `.invalid` is reserved for that (RFC 2606).
 */
export const WITHHELD: Record<'link' | 'code', Record<Locale, string>> = {
  link: { en: 'https://link-withheld-from-this-copy.invalid/', fr: 'https://lien-retire-de-cette-copie.invalid/' },
  code: { en: '[withheld from this copy]', fr: '[retiré de cette copie]' },
};

/**
 * Issue 20: where a document's receipt link stands in the copy that is stored and shared by all its
 * recipients. At send time each recipient's own signed link replaces it (SendGrid substitutions),
 * so the live links exist only in the emails sent. A URL that opens nothing (`.invalid`).
 */
export const RECEIPT_LINK_TAG: Record<Locale, string> = {
  en: 'https://receipt-link-withheld-from-this-copy.invalid/',
  fr: 'https://lien-accuse-de-reception-retire-de-cette-copie.invalid/',
};

/** Why such a notice is never resent: to another address, the link would go to whoever asked. */
export const NO_RESEND_OF_SECRETS =
  "this notice carries a customer's signed link or reply code and cannot be resent: " +
  'it would hand them to whoever the new address belongs to (a new link is sent when the order asks again)';

/** The template data people may read: every secret field (present and not null) replaced by the placeholder. */
export function withheldData(template: string, data: Record<string, unknown>, locale: Locale): Record<string, unknown> {
  const copy = { ...data };
  for (const [field, kind] of Object.entries(SECRET_FIELDS[template] ?? {})) {
    if (copy[field] !== undefined && copy[field] !== null) copy[field] = WITHHELD[kind][locale];
  }
  return copy;
}

/**
 * A copy stored before secrets were withheld (records older than this rule): each secret value of
 * its template data replaced wherever it appears in the subject, html and text, as written and as
 * HTML writes it. Only values long enough not to be ordinary words (signed links; such records
 * never held reply codes).
 */
export function withheldCopy<
  T extends { subject?: string | null; html?: string | null; text?: string | null; templateData?: unknown },
>(template: string, copy: T, locale: Locale): T {
  const data = (copy.templateData ?? {}) as Record<string, unknown>;
  const values = secretFields(template)
    .map((f) => data[f])
    .filter((v): v is string => typeof v === 'string' && v.length >= 16);
  const hide = (text: string | null | undefined) =>
    typeof text === 'string'
      ? values.reduce(
          (t, v) => t.split(v).join(WITHHELD.link[locale]).split(escapeHtml(v)).join(WITHHELD.link[locale]),
          text,
        )
      : text;
  return {
    ...copy,
    subject: hide(copy.subject),
    html: hide(copy.html),
    text: hide(copy.text),
    templateData: withheldData(template, data, locale),
  };
}

/** As Handlebars escapes a value in HTML. */
const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};
const escapeHtml = (v: string) => v.replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]);
