// The languages Relais writes in (templates, pages, notices): one definition, imported everywhere.
export const LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
