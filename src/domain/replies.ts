// A customer's SMS/WhatsApp reply to an address confirmation (rule O3; issue 14, finding 3): what
// it says, which pending confirmation it answers, and what Relais answers back. Pure; the webhook
// (src/api/inbound-replies.ts) finds the candidates and applies the choice.
import type { Locale } from './reasons';

export interface Reply {
  /** The customer says yes (a word, or the quick-reply button). */
  confirms: boolean;
  /** The 4-digit code of the confirmation it answers, when the reply carries one. */
  code: string | null;
  /** The language of the customer's word, when it tells (oui → fr, yes → en). */
  locale: Locale | null;
}

const YES: Array<[RegExp, Locale | null]> = [
  [/^(oui|confirmer)\b/, 'fr'],
  [/^(yes|confirm)\b/, 'en'],
  [/^(ok|y|o)\b/, null],
];

/**
 * A WhatsApp quick reply arrives as its payload (`confirm:4821`, or `confirm` from templates that
 * carry no code); anything else is read from the text: a yes-word first, a 4-digit code anywhere.
 */
export function readReply(body: string | undefined, buttonPayload: string | undefined): Reply {
  const payload = /^confirm(?::(\d{4}))?$/i.exec((buttonPayload ?? '').trim());
  if (payload) return { confirms: true, code: payload[1] ?? null, locale: null };
  const text = (body ?? '').trim().toLowerCase();
  const word = YES.find(([re]) => re.test(text));
  if (!word) return { confirms: false, code: null, locale: null };
  return { confirms: true, code: /(?:^|\D)(\d{4})(?!\d)/.exec(text)?.[1] ?? null, locale: word[1] };
}

/** A pending confirmation this phone was asked, as far as its customer already knows it. */
export interface PendingConfirmation {
  orderId: string;
  companyName: string;
  code: string | null;
  locale: Locale;
}

export type ReplyChoice<T extends PendingConfirmation> =
  | { kind: 'confirm'; confirmation: T }
  | { kind: 'ask'; among: T[] }
  | { kind: 'unknown_code'; code: string }
  | { kind: 'none' };

/**
 * Never a guess: the one pending confirmation the reply names by its code, or the only one there
 * is; several possible → ask which.
 */
export function chooseConfirmation<T extends PendingConfirmation>(pending: T[], reply: Reply): ReplyChoice<T> {
  if (reply.code !== null) {
    const named = pending.filter((c) => c.code === reply.code);
    if (named.length === 1) return { kind: 'confirm', confirmation: named[0] };
    if (named.length > 1) return { kind: 'ask', among: named };
    return pending.length ? { kind: 'unknown_code', code: reply.code } : { kind: 'none' };
  }
  if (pending.length === 1) return { kind: 'confirm', confirmation: pending[0] };
  return pending.length ? { kind: 'ask', among: pending } : { kind: 'none' };
}

const WORDS = {
  en: {
    confirmed: (c: PendingConfirmation) =>
      `Thank you! Your delivery address for order ${c.orderId} (${c.companyName}) is confirmed.`,
    refused: (c: PendingConfirmation) =>
      `We could not confirm order ${c.orderId} (${c.companyName}): it no longer waits for a confirmation. Contact the seller if something is wrong.`,
    which: (list: string) =>
      `Several orders are waiting for you to confirm their address. Reply with the code of the one you confirm: ${list}.`,
    item: (c: PendingConfirmation) =>
      c.code
        ? `YES ${c.code} for order ${c.orderId} (${c.companyName})`
        : `for order ${c.orderId} (${c.companyName}), the link in our message`,
    unknownCode: (code: string) =>
      `No order waiting for your confirmation has the code ${code}. Check the code in our message, or use its link.`,
    none: 'No order of yours is waiting for an address confirmation.',
  },
  fr: {
    confirmed: (c: PendingConfirmation) =>
      `Merci ! Votre adresse de livraison pour la commande ${c.orderId} (${c.companyName}) est confirmée.`,
    refused: (c: PendingConfirmation) =>
      `Nous n'avons pas pu confirmer la commande ${c.orderId} (${c.companyName}) : elle n'attend plus de confirmation. Contactez le vendeur en cas de problème.`,
    which: (list: string) =>
      `Plusieurs commandes attendent la confirmation de leur adresse. Répondez avec le code de celle que vous confirmez : ${list}.`,
    item: (c: PendingConfirmation) =>
      c.code
        ? `OUI ${c.code} pour la commande ${c.orderId} (${c.companyName})`
        : `pour la commande ${c.orderId} (${c.companyName}), le lien de notre message`,
    unknownCode: (code: string) =>
      `Aucune commande en attente de votre confirmation n'a le code ${code}. Vérifiez le code de notre message, ou utilisez son lien.`,
    none: "Aucune de vos commandes n'attend de confirmation d'adresse.",
  },
} satisfies Record<Locale, unknown>;

/**
 * What Relais answers (the text of a TwiML <Message>), in the customer's language: the one of
 * their word, else the one the candidates were asked in, else English. Names only what this phone
 * was already sent: order numbers, sellers and codes of its own confirmations.
 */
export function replyText<T extends PendingConfirmation>(
  choice: ReplyChoice<T> | { kind: 'confirmed' | 'refused'; confirmation: T },
  reply: Reply,
): string {
  const asked = choice.kind === 'ask' ? choice.among : 'confirmation' in choice ? [choice.confirmation] : [];
  const locale =
    reply.locale ?? (asked.length && asked.every((c) => c.locale === asked[0].locale) ? asked[0].locale : 'en');
  const w = WORDS[locale];
  switch (choice.kind) {
    case 'confirmed':
    case 'confirm':
      return w.confirmed(choice.confirmation);
    case 'refused':
      return w.refused(choice.confirmation);
    // A code two of them share (drawn in a race) tells nothing apart: those are pointed to their links.
    case 'ask':
      return w.which(
        choice.among
          .map((c) => w.item(choice.among.filter((o) => o.code === c.code).length > 1 ? { ...c, code: null } : c))
          .join('; '),
      );
    case 'unknown_code':
      return w.unknownCode(choice.code);
    case 'none':
      return w.none;
  }
}
