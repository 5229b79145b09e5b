// What the dashboard says (issue 21), in French and English; statuses, results and exception
// names come from words.ts and src/domain (the same words as the log and the order pages).
import type { Locale } from '../domain/locale';
import type { ExceptionAge, HoldAge } from '../domain/dashboard';

const en = {
  period: 'Period', last: 'Last {n} days', apply: 'Show',
  periodTooLong: 'a period is at most {n} days', periodBackwards: 'the start comes after the end',
  deliveries: 'Deliveries', orders: 'Orders',
  dispatches: 'Dispatches', deliveryRate: 'Delivery rate', deliveryRateOf: '{delivered} of {tracked} recipients delivered',
  medianTtd: 'Median time to delivered', medianOf: 'over {n} delivered recipients', none: 'nothing yet',
  hardBounceRate: 'Hard-bounce rate', hardBounceOf: '{n} addresses or domains that do not exist, of {of} emails',
  warnHardBounces: 'Hard bounces are {rate} of the emails of this period, above the {limit} that providers tolerate from a healthy sender: check the addresses that bounced (correct or remove them) before sending more.',
  byResultPerDay: 'Dispatches by result, per day', byResultDesc: '{n} dispatches from {from} to {to}: {parts}.',
  ratePerDay: 'Delivery rate, per day', rateDesc: 'Delivered share of the recipients of each day\'s dispatches; {rate} over the period.',
  byReason: 'Bounces and drops by reason', byDomain: 'Bounces and drops by recipient domain (top 10)', noFailure: 'No bounce or drop in this period.',
  otherDomains: 'other domains', openInLog: 'Open in the delivery log', openFailed: 'Open the failed dispatches of this period',
  day: 'Day', count: 'Number', rate: 'Rate', total: 'Total', dataTable: 'Figures as a table', reason: 'Reason', domain: 'Domain',
  exceptionsOpened: 'Exceptions opened', exceptionsResolved: 'Exceptions resolved', openNow: 'Open now', heldWaiting: 'Held orders waiting',
  exceptionsPerDay: 'Order exceptions opened (up) and resolved (down), per day', exceptionsDesc: '{opened} exceptions opened and {resolved} resolved from {from} to {to}.',
  opened: 'Opened', resolved: 'Resolved', type: 'Exception',
  openByAge: 'Open exceptions by age', noOpen: 'No exception is open.', oldestOpen: 'the oldest opened on {day}',
  ages: { today: 'opened today', days1to2: '1–2 days', days3to6: '3–6 days', week: 'a week or more' } satisfies Record<ExceptionAge, string>,
  heldByAge: 'Held orders by time waiting', noHeld: 'No order is on hold.', heldLongest: 'Waiting longest', openHeld: 'Open the orders on hold',
  holdAges: { hour: 'under an hour', day: '1–24 hours', days: '1–3 days', longer: 'more than 3 days' } satisfies Record<HoldAge, string>,
  openOrders: 'Open the orders with this exception',
  /** Short names of provider reasons for the chart (the plain sentence is in the table). */
  reasons: {
    invalid_address: 'Address does not exist', domain_not_found: 'Domain does not exist', mailbox_full: 'Mailbox full or unavailable', blocked_as_spam: 'Blocked as spam',
    content_rejected: 'Content refused', sending_rate: 'Too many at once', technical_failure: 'Technical failure', suppressed: 'Suppressed (bounced before)',
    unsubscribed: 'Unsubscribed or spam report', not_sent_to_server: 'Refused by your mail server', unreachable_phone: 'Phone unreachable', unknown_phone: 'Number does not exist',
    landline_or_carrier: 'Landline or carrier', filtered_by_carrier: 'Filtered by the carrier', whatsapp_window: 'WhatsApp 24-hour window', invalid_phone: 'Invalid number',
    no_confirmation: 'No confirmation', unclassified: 'Unclassified',
  } as Record<string, string>,
};

export type DashboardWords = typeof en;

const fr: DashboardWords = {
  period: 'Période', last: '{n} derniers jours', apply: 'Afficher',
  periodTooLong: 'une période fait au plus {n} jours', periodBackwards: 'le début vient après la fin',
  deliveries: 'Envois', orders: 'Commandes',
  dispatches: 'Envois', deliveryRate: 'Taux de livraison', deliveryRateOf: '{delivered} destinataires livrés sur {tracked}',
  medianTtd: 'Délai médian de livraison', medianOf: 'sur {n} destinataires livrés', none: 'rien pour l\'instant',
  hardBounceRate: 'Taux de rebonds définitifs', hardBounceOf: '{n} adresses ou domaines inexistants, sur {of} e-mails',
  warnHardBounces: 'Les rebonds définitifs font {rate} des e-mails de la période, au-delà des {limit} que les prestataires tolèrent d\'un expéditeur sain : vérifiez les adresses qui ont rebondi (corrigez-les ou retirez-les) avant d\'envoyer davantage.',
  byResultPerDay: 'Envois par résultat, par jour', byResultDesc: '{n} envois du {from} au {to} : {parts}.',
  ratePerDay: 'Taux de livraison, par jour', rateDesc: 'Part livrée des destinataires des envois de chaque jour ; {rate} sur la période.',
  byReason: 'Rebonds et abandons par raison', byDomain: 'Rebonds et abandons par domaine destinataire (10 premiers)', noFailure: 'Aucun rebond ni abandon sur la période.',
  otherDomains: 'autres domaines', openInLog: 'Ouvrir dans le journal des envois', openFailed: 'Ouvrir les envois en échec de la période',
  day: 'Jour', count: 'Nombre', rate: 'Taux', total: 'Total', dataTable: 'Les chiffres en tableau', reason: 'Raison', domain: 'Domaine',
  exceptionsOpened: 'Exceptions ouvertes', exceptionsResolved: 'Exceptions résolues', openNow: 'Ouvertes maintenant', heldWaiting: 'Commandes en attente',
  exceptionsPerDay: 'Exceptions de commande ouvertes (en haut) et résolues (en bas), par jour', exceptionsDesc: '{opened} exceptions ouvertes et {resolved} résolues du {from} au {to}.',
  opened: 'Ouvertes', resolved: 'Résolues', type: 'Exception',
  openByAge: 'Exceptions ouvertes par ancienneté', noOpen: 'Aucune exception ouverte.', oldestOpen: 'la plus ancienne ouverte le {day}',
  ages: { today: 'ouvertes aujourd\'hui', days1to2: '1 à 2 jours', days3to6: '3 à 6 jours', week: 'une semaine ou plus' },
  heldByAge: 'Commandes en attente par durée', noHeld: 'Aucune commande en attente.', heldLongest: 'En attente depuis le plus longtemps', openHeld: 'Ouvrir les commandes en attente',
  holdAges: { hour: 'moins d\'une heure', day: '1 à 24 heures', days: '1 à 3 jours', longer: 'plus de 3 jours' },
  openOrders: 'Ouvrir les commandes avec cette exception',
  reasons: {
    invalid_address: 'Adresse inexistante', domain_not_found: 'Domaine inexistant', mailbox_full: 'Boîte pleine ou indisponible', blocked_as_spam: 'Bloqué comme spam',
    content_rejected: 'Contenu refusé', sending_rate: 'Trop d\'envois à la fois', technical_failure: 'Panne technique', suppressed: 'Supprimée (rebonds passés)',
    unsubscribed: 'Désabonnement ou signalement', not_sent_to_server: 'Refusé par votre serveur', unreachable_phone: 'Téléphone injoignable', unknown_phone: 'Numéro inexistant',
    landline_or_carrier: 'Fixe ou opérateur', filtered_by_carrier: 'Filtré par l\'opérateur', whatsapp_window: 'Fenêtre WhatsApp de 24 h', invalid_phone: 'Numéro invalide',
    no_confirmation: 'Aucune confirmation', unclassified: 'Non classé',
  },
};

export const DASHBOARD_WORDS: Record<Locale, DashboardWords> = { en, fr };
