// What the address-health page says (issue 20, item 2), in French and English.
import type { Condition, HealthState } from '../domain/address-health';
import { SOFT_FAILURE_LIMIT } from '../domain/address-health';
import type { Locale } from '../domain/locale';

const en = {
  title: 'Address health',
  intro: `Every address and number a provider said something about: a hard bounce, a drop, an unknown number, a landline, an opt-out, or ${SOFT_FAILURE_LIMIT} temporary failures in a row make it bad; a block or WhatsApp's 24-hour window is recorded but is not the address's fault. A later success clears temporary failures.`,
  address: 'Address',
  state: 'State',
  since: 'Since',
  conditions: 'What was seen',
  lastSeen: 'Last seen',
  anyState: 'Any state',
  anyKind: 'Email and phone',
  kinds: { email: 'Email', phone: 'Phone' } as Record<string, string>,
  states: { ok: 'Good', soft: 'Failing temporarily', bad: 'Bad', opted_out: 'Opted out' } as Record<
    HealthState,
    string
  >,
  conditionWords: {
    invalid_address: 'invalid address (hard bounce or drop)',
    unknown_number: 'unknown number',
    landline: 'landline: no SMS',
    opted_out: 'opted out',
    soft_failure: 'temporary failure',
    blocked: "blocked by the receiving server (not the address's fault)",
    outside_window: "outside WhatsApp's 24-hour window",
  } as Record<Condition, string>,
  times: '×{n}',
  first: 'first',
  last: 'last',
  onDispatch: 'dispatch',
  onOrder: 'order',
  clear: 'Clear this record',
  clearReason: 'Why (recorded in the audit log)',
  cleared: 'The record was cleared; the address starts afresh.',
  clearedBy: 'Cleared by {by}',
  empty: 'No address matches these filters.',
  next: 'More',
  firstPage: 'First',
  apply: 'Apply',
  knownBad: 'Known bad address',
  policy: 'Sending to an address known bad',
  policyHelp: 'A dispatch or an order notice to an address the registry knows bad (see Address health).',
  policies: {
    warn: 'Send it, with a warning',
    refuse: 'Refuse it (a dispatch answers 422; an order notice is not sent on that channel)',
  } as Record<'warn' | 'refuse', string>,
};
type Words = typeof en;

const fr: Words = {
  title: 'Santé des adresses',
  intro: `Chaque adresse et numéro dont un fournisseur a dit quelque chose : un rejet définitif, une suppression, un numéro inconnu, une ligne fixe, un désabonnement ou ${SOFT_FAILURE_LIMIT} échecs temporaires d'affilée la rendent mauvaise ; un blocage ou la fenêtre de 24 h de WhatsApp sont notés, mais ne sont pas la faute de l'adresse. Un envoi réussi ensuite efface les échecs temporaires.`,
  address: 'Adresse',
  state: 'État',
  since: 'Depuis',
  conditions: 'Ce qui a été vu',
  lastSeen: 'Vu en dernier',
  anyState: 'Tous les états',
  anyKind: 'E-mail et téléphone',
  kinds: { email: 'E-mail', phone: 'Téléphone' },
  states: { ok: 'Bonne', soft: 'En échec temporaire', bad: 'Mauvaise', opted_out: 'Désabonnée' },
  conditionWords: {
    invalid_address: 'adresse invalide (rejet définitif ou suppression)',
    unknown_number: 'numéro inconnu',
    landline: 'ligne fixe : pas de SMS',
    opted_out: 'désabonnement',
    soft_failure: 'échec temporaire',
    blocked: "bloqué par le serveur destinataire (pas la faute de l'adresse)",
    outside_window: 'hors de la fenêtre de 24 h de WhatsApp',
  },
  times: '×{n}',
  first: 'première fois',
  last: 'dernière',
  onDispatch: 'envoi',
  onOrder: 'commande',
  clear: 'Effacer cette fiche',
  clearReason: "Pourquoi (noté au journal d'audit)",
  cleared: "La fiche a été effacée ; l'adresse repart de zéro.",
  clearedBy: 'Effacée par {by}',
  empty: 'Aucune adresse ne correspond à ces filtres.',
  next: 'Suite',
  firstPage: 'Début',
  apply: 'Appliquer',
  knownBad: 'Adresse connue comme mauvaise',
  policy: 'Envoi à une adresse connue comme mauvaise',
  policyHelp:
    'Un envoi ou une notification de commande vers une adresse que le registre sait mauvaise (voir Santé des adresses).',
  policies: {
    warn: "L'envoyer, avec un avertissement",
    refuse: 'Le refuser (un envoi répond 422 ; une notification de commande ne part pas sur ce canal)',
  },
};

export const HEALTH_WORDS: Record<Locale, Words> = { en, fr };
