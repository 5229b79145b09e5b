// Rule O3, SMS/WhatsApp replies (issue 14, finding 3): what a reply says, which pending
// confirmation it answers — never a guess — and what Relais answers (src/domain/replies.ts).
import { chooseConfirmation, readReply, replyText, type PendingConfirmation } from '../../src/domain/replies';

test.each([
  [undefined, 'confirm:4821', { confirms: true, code: '4821', locale: null }],
  [undefined, 'confirm', { confirms: true, code: null, locale: null }],
  ['YES', undefined, { confirms: true, code: null, locale: 'en' }],
  ['yes 4821', undefined, { confirms: true, code: '4821', locale: 'en' }],
  ['Oui 4821 merci', undefined, { confirms: true, code: '4821', locale: 'fr' }],
  ['confirmer', undefined, { confirms: true, code: null, locale: 'fr' }],
  ['OK', undefined, { confirms: true, code: null, locale: null }],
  ['o', undefined, { confirms: true, code: null, locale: null }],
  ['yes 48215', undefined, { confirms: true, code: null, locale: 'en' }], // five digits is not a code
  ['yes, code:4821.', undefined, { confirms: true, code: '4821', locale: 'en' }],
  ['4821', undefined, { confirms: false, code: null, locale: null }], // a code without a yes is no answer
  ['no', undefined, { confirms: false, code: null, locale: null }],
  ['yesterday', undefined, { confirms: false, code: null, locale: null }],
  ['STOP', 'confirm:12', { confirms: false, code: null, locale: null }],
  [undefined, undefined, { confirms: false, code: null, locale: null }],
] as const)('readReply(%j, %j)', (body, payload, expected) => {
  expect(readReply(body, payload)).toEqual(expected);
});

const a1: PendingConfirmation = { orderId: 'A-1', companyName: 'Bistro', code: '1111', locale: 'en' };
const a2: PendingConfirmation = { orderId: 'A-2', companyName: 'Bistro', code: '2222', locale: 'en' };
const b1: PendingConfirmation = { orderId: 'B-1', companyName: 'Maison', code: '1111', locale: 'fr' };
const legacy: PendingConfirmation = { orderId: 'L-1', companyName: 'Bistro', code: null, locale: 'en' };
const yes = (code: string | null = null) => ({ confirms: true, code, locale: null });

test.each([
  ['nothing pending', [], yes(), { kind: 'none' }],
  ['nothing pending, with a code', [], yes('1111'), { kind: 'none' }],
  ['the only pending one', [a1], yes(), { kind: 'confirm', confirmation: a1 }],
  ['the one its code names', [a1, a2], yes('2222'), { kind: 'confirm', confirmation: a2 }],
  ['two pending, no code: ask', [a1, a2], yes(), { kind: 'ask', among: [a1, a2] }],
  ['a code two tenants drew: ask between those two', [a1, a2, b1], yes('1111'), { kind: 'ask', among: [a1, b1] }],
  ['a code nobody has', [a1, a2], yes('9999'), { kind: 'unknown_code', code: '9999' }],
  ['the only one, but another code', [a1], yes('2222'), { kind: 'unknown_code', code: '2222' }],
  ['a confirmation without a code (older run), alone', [legacy], yes(), { kind: 'confirm', confirmation: legacy }],
] as const)('chooseConfirmation: %s', (_case, pending, reply, expected) => {
  expect(chooseConfirmation([...pending], reply)).toEqual(expected);
});

test.each([
  [
    'ask, in English',
    { kind: 'ask', among: [a1, a2] },
    yes(),
    'Several orders are waiting for you to confirm their address. Reply with the code of the one you confirm: YES 1111 for order A-1 (Bistro); YES 2222 for order A-2 (Bistro).',
  ],
  [
    "ask, in the customer's French",
    { kind: 'ask', among: [a1, legacy] },
    { ...yes(), locale: 'fr' },
    'Plusieurs commandes attendent la confirmation de leur adresse. Répondez avec le code de celle que vous confirmez : OUI 1111 pour la commande A-1 (Bistro); pour la commande L-1 (Bistro), le lien de notre message.',
  ],
  [
    'confirmed, in the language it was asked in',
    { kind: 'confirmed', confirmation: b1 },
    yes(),
    'Merci ! Votre adresse de livraison pour la commande B-1 (Maison) est confirmée.',
  ],
  [
    'refused',
    { kind: 'refused', confirmation: a1 },
    yes(),
    'We could not confirm order A-1 (Bistro): it no longer waits for a confirmation. Contact the seller if something is wrong.',
  ],
  [
    'unknown code',
    { kind: 'unknown_code', code: '9999' },
    yes('9999'),
    'No order waiting for your confirmation has the code 9999. Check the code in our message, or use its link.',
  ],
  [
    'nothing pending, in French',
    { kind: 'none' },
    { ...yes(), locale: 'fr' },
    "Aucune de vos commandes n'attend de confirmation d'adresse.",
  ],
  [
    'asked in two languages, the word tells none: English; a shared code points to the links',
    { kind: 'ask', among: [a1, b1] },
    yes('1111'),
    'Several orders are waiting for you to confirm their address. Reply with the code of the one you confirm: for order A-1 (Bistro), the link in our message; for order B-1 (Maison), the link in our message.',
  ],
] as const)('replyText: %s', (_case, choice, reply, expected) => {
  expect(replyText(choice as never, reply)).toBe(expected);
});
