// Provider reasons in plain words (rules D4, L3). The raw reason is always kept beside these.
import type { ProviderEvent } from '../providers/types';

export const REASON_CODES = [
  'invalid_address',
  'domain_not_found',
  'mailbox_full',
  'blocked_as_spam',
  'content_rejected',
  'sending_rate',
  'technical_failure',
  'suppressed',
  'unsubscribed',
  'not_sent_to_server',
  'unreachable_phone',
  'unknown_phone',
  'landline_or_carrier',
  'filtered_by_carrier',
  'whatsapp_window',
  'invalid_phone',
  'no_confirmation',
  'unclassified',
  'temporarily_refused',
  'retries_expired',
  'request_refused',
  'sending_gave_up',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

type Words = { fr: string; en: string };

const WORDS: Record<ReasonCode, { reason: Words; next: Words }> = {
  invalid_address: {
    reason: {
      en: "the address does not exist at the recipient's mail server",
      fr: "l'adresse n'existe pas sur le serveur de messagerie du destinataire",
    },
    next: {
      en: 'check the address for typos, correct it and resend, or call the recipient',
      fr: "vérifiez l'adresse (faute de frappe ?), corrigez-la et renvoyez, ou appelez le destinataire",
    },
  },
  domain_not_found: {
    reason: { en: 'the domain of the address does not exist', fr: "le domaine de l'adresse n'existe pas" },
    next: {
      en: 'check the part after @ and correct the address',
      fr: "vérifiez la partie après @ et corrigez l'adresse",
    },
  },
  mailbox_full: {
    reason: {
      en: "the recipient's mailbox is full or unavailable",
      fr: 'la boîte du destinataire est pleine ou indisponible',
    },
    next: { en: 'call the recipient, then resend later', fr: 'appelez le destinataire, puis renvoyez plus tard' },
  },
  blocked_as_spam: {
    reason: {
      en: "the recipient's server blocked the message as spam",
      fr: 'le serveur du destinataire a bloqué le message comme spam',
    },
    next: {
      en: 'ask the recipient to allow our sender address, or send the document another way',
      fr: "demandez au destinataire d'autoriser notre adresse d'envoi, ou envoyez le document autrement",
    },
  },
  content_rejected: {
    reason: {
      en: "the recipient's server refused the content of the message",
      fr: 'le serveur du destinataire a refusé le contenu du message',
    },
    next: { en: 'send the document another way and tell us', fr: 'envoyez le document autrement et prévenez-nous' },
  },
  sending_rate: {
    reason: {
      en: "the recipient's server refused too many messages at once",
      fr: 'le serveur du destinataire a refusé trop de messages à la fois',
    },
    next: { en: 'resend later', fr: 'renvoyez plus tard' },
  },
  technical_failure: {
    reason: {
      en: "a technical failure at the recipient's mail server",
      fr: 'une panne technique du serveur de messagerie du destinataire',
    },
    next: { en: 'resend later or call the recipient', fr: 'renvoyez plus tard ou appelez le destinataire' },
  },
  suppressed: {
    reason: {
      en: 'earlier messages to this address bounced, so the provider no longer sends to it',
      fr: "des messages précédents vers cette adresse ont rebondi, le fournisseur n'y envoie plus",
    },
    next: {
      en: 'confirm the address with the recipient and correct it',
      fr: "confirmez l'adresse avec le destinataire et corrigez-la",
    },
  },
  unsubscribed: {
    reason: {
      en: 'the recipient unsubscribed or reported the message as spam',
      fr: "le destinataire s'est désabonné ou a signalé le message comme spam",
    },
    next: { en: 'contact the recipient another way', fr: 'contactez le destinataire par un autre moyen' },
  },
  not_sent_to_server: {
    reason: { en: 'your mail server refused the message', fr: 'votre serveur de messagerie a refusé le message' },
    next: {
      en: 'check the address and your mail server settings, then resend',
      fr: "vérifiez l'adresse et les réglages de votre serveur de messagerie, puis renvoyez",
    },
  },
  unreachable_phone: {
    reason: {
      en: 'the phone was unreachable (off or out of coverage)',
      fr: 'le téléphone était injoignable (éteint ou hors couverture)',
    },
    next: { en: 'try again later or use email', fr: "réessayez plus tard ou utilisez l'e-mail" },
  },
  unknown_phone: {
    reason: { en: 'the phone number does not exist', fr: "le numéro de téléphone n'existe pas" },
    next: { en: 'check the number and correct it', fr: 'vérifiez le numéro et corrigez-le' },
  },
  landline_or_carrier: {
    reason: {
      en: 'the number is a landline or its carrier cannot receive messages',
      fr: 'le numéro est un fixe ou son opérateur ne reçoit pas les messages',
    },
    next: { en: 'use a mobile number or email', fr: "utilisez un numéro mobile ou l'e-mail" },
  },
  filtered_by_carrier: {
    reason: { en: 'the carrier filtered the message', fr: "l'opérateur a filtré le message" },
    next: { en: 'use email or another channel', fr: "utilisez l'e-mail ou un autre canal" },
  },
  whatsapp_window: {
    reason: {
      en: 'WhatsApp refused free text outside the 24-hour window',
      fr: 'WhatsApp a refusé un texte libre hors de la fenêtre de 24 heures',
    },
    next: { en: 'send an approved template instead', fr: 'envoyez plutôt un modèle approuvé' },
  },
  invalid_phone: {
    reason: { en: 'the phone number is not valid', fr: "le numéro de téléphone n'est pas valide" },
    next: { en: 'correct the number', fr: 'corrigez le numéro' },
  },
  no_confirmation: {
    reason: { en: 'no confirmation from the provider yet', fr: 'aucune confirmation du fournisseur pour le moment' },
    next: {
      en: 'check with the recipient directly that they received it',
      fr: "vérifiez directement avec le destinataire qu'il l'a bien reçu",
    },
  },
  unclassified: {
    reason: { en: "the recipient's server refused the message", fr: 'le serveur du destinataire a refusé le message' },
    next: { en: 'check the address, then call the recipient', fr: "vérifiez l'adresse, puis appelez le destinataire" },
  },
  // D6: a deferral (the provider's own words, e.g. its 451 reply, are shown beside these).
  temporarily_refused: {
    reason: {
      en: "the recipient's server refuses it for now; the provider keeps trying",
      fr: "le serveur du destinataire le refuse pour le moment ; le fournisseur continue d'essayer",
    },
    next: {
      en: 'nothing yet; if it lasts, call the recipient or send the document another way',
      fr: "rien pour l'instant ; si cela dure, appelez le destinataire ou envoyez le document autrement",
    },
  },
  // D6/D7: still deferred when the listening window (the provider's retry horizon) closed.
  retries_expired: {
    reason: {
      en: "the recipient's server kept refusing it for now until the provider stopped trying",
      fr: "le serveur du destinataire l'a refusé temporairement jusqu'à ce que le fournisseur cesse d'essayer",
    },
    next: {
      en: 'call the recipient, check the address, then resend or send the document another way',
      fr: "appelez le destinataire, vérifiez l'adresse, puis renvoyez ou envoyez le document autrement",
    },
  },
  // D9 `failed`: the request itself was refused, or sending gave up; nothing went out.
  request_refused: {
    reason: {
      en: 'the sending service refused the request itself, so nothing was sent',
      fr: "le service d'envoi a refusé la demande elle-même, rien n'est donc parti",
    },
    next: {
      en: "tell the recipients another way, and ask whoever runs Relais to read the service's answer before sending again",
      fr: 'prévenez les destinataires par un autre moyen et demandez à la personne qui gère Relais de lire la réponse du service avant de renvoyer',
    },
  },
  sending_gave_up: {
    reason: {
      en: 'the sending service could not be reached for a day, so Relais stopped trying',
      fr: "le service d'envoi est resté injoignable pendant une journée, Relais a donc cessé d'essayer",
    },
    next: {
      en: 'send the document again once the service answers, or send it another way now',
      fr: 'renvoyez le document quand le service répondra, ou envoyez-le autrement dès maintenant',
    },
  },
};

const TWILIO_CODES: Record<string, ReasonCode> = {
  '30003': 'unreachable_phone',
  '30005': 'unknown_phone',
  '30006': 'landline_or_carrier',
  '30007': 'filtered_by_carrier',
  '30008': 'unclassified',
  '63016': 'whatsapp_window',
  '21211': 'invalid_phone',
  '21614': 'landline_or_carrier',
  '21610': 'unsubscribed',
};

/** Classifies a failure event (bounce, dropped, undelivered …) into a reason code. */
export function reasonCode(
  event: Pick<ProviderEvent, 'type' | 'reason' | 'response' | 'bounceType' | 'classification' | 'errorCode'>,
): ReasonCode {
  if (event.errorCode && TWILIO_CODES[event.errorCode]) return TWILIO_CODES[event.errorCode];
  const text = `${event.reason ?? ''} ${event.response ?? ''}`.toLowerCase();
  if (event.type === 'dropped') {
    if (/unsubscribe/.test(text)) return 'unsubscribed';
    if (/invalid/.test(text)) return 'invalid_address';
    return 'suppressed';
  }
  if (event.type === 'spamreport' || event.type === 'unsubscribe') return 'unsubscribed';
  if (event.bounceType === 'blocked' || /spam|blocked|blacklist|block list/.test(text)) return 'blocked_as_spam';
  if (/domain|host not found|nxdomain|no mx|name or service not known/.test(text)) return 'domain_not_found';
  if (/mailbox full|quota|over quota|insufficient storage|5\.2\.2|4\.2\.2/.test(text)) return 'mailbox_full';
  switch (event.classification) {
    case 'Invalid Address':
      return 'invalid_address';
    case 'Mailbox Unavailable':
      return 'mailbox_full';
    case 'Reputation':
      return 'blocked_as_spam';
    case 'Content':
      return 'content_rejected';
    case 'Frequency or Volume Too High':
      return 'sending_rate';
    case 'Technical Failure':
      return 'technical_failure';
    default:
      break;
  }
  if (/user unknown|no such user|does not exist|5\.1\.1|invalid/.test(text)) return 'invalid_address';
  return 'unclassified';
}

import type { Locale } from './locale';
export type { Locale };

export const plainReason = (code: ReasonCode, locale: Locale): string => WORDS[code].reason[locale];
export const nextStep = (code: ReasonCode, locale: Locale): string => WORDS[code].next[locale];

/**
 * A recipient's reason in the reader's language: from its code, since the words stored beside it
 * are in the dispatch's language (a log read in English named French reasons); the stored words
 * when there is no code, or one this version does not know.
 */
export function readersReason(
  r: { reasonCode?: string | null; plainReason?: string | null },
  locale: Locale,
): string | null {
  const words = r.reasonCode ? WORDS[r.reasonCode as ReasonCode] : undefined;
  return words ? words.reason[locale] : (r.plainReason ?? null);
}
