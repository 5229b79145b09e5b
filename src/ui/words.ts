// What the operator pages say, in French and English (the tenant's locale chooses).
// Reasons and exception wording come from src/domain (reasons.ts, order-words.ts), not from here.
import type { DispatchResult, ShownStatus } from '../domain/dispatch-status';
import type { OrderState } from '../domain/order';

export type Locale = 'fr' | 'en';

const en = {
  appName: 'Relais', skip: 'Skip to content', signIn: 'Sign in', signOut: 'Sign out',
  signInTitle: 'Sign in to Relais', signInIntro: 'Paste an API key of your organisation. It is exchanged for a session; the key itself is not kept in the browser.',
  apiKey: 'API key', badKey: 'This key is unknown, revoked, or not an organisation\'s key.',
  log: 'Delivery log', orders: 'Orders', settings: 'Preferences and settings', dashboard: 'Dashboard',
  exportCsv: 'Download as CSV', exportListed: 'Download these orders as CSV', exportOrders: 'Download every order as CSV', proof: 'Proof of sending', proofPdf: 'PDF', proofJson: 'JSON',
  failedOnly: 'Failed dispatches', showAll: 'Show all dispatches', showFailed: 'Show failed only', allDispatches: 'All dispatches',
  filters: 'Filters', result: 'Result', anyResult: 'Any', recipient: 'Recipient', documentRef: 'Document reference', from: 'From', to: 'To', apply: 'Apply',
  invalidDate: 'is not a real date: write it as YYYY-MM-DD, e.g. 2026-02-28.',
  number: 'No.', sentAt: 'Sent', subject: 'Subject', sender: 'Sender', recipients: 'Recipients', next: 'Older dispatches', first: 'Newest',
  andMore: 'and {n} more', recipientRange: '{from}–{to} of {count}', nextRecipients: 'Next recipients', firstRecipients: 'First recipients',
  /** The log's Recipients column at size (issue 16 item 4): a count, the failures named. */
  recipientCount: '{n} recipients', failedCount: '{n} failed', unconfirmedCount: '{n} unconfirmed', deferredCount: '{n} deferred',
  deferredMarker: 'Still temporarily failed after the delay', onlyStatus: 'Only', allRecipients: 'All recipients', attemptN: 'attempt {n}', lastAt: 'the last',
  kind: 'Type', noticeTag: 'Notice', noticeAbout: 'Notice about',
  kinds: { all: 'Documents and notices', document: 'Documents', notification: 'Notices' } as Record<string, string>,
  /** A notice by its template, where it has no subject (SMS, WhatsApp). */
  templates: {
    dispatch_escalation: 'Escalation: no address received it', dispatch_failed: 'Alert: not emailed', dispatch_partial_failure: 'An address to correct',
    dispatch_unknown: 'No confirmation yet', dispatch_deferred: 'Not delivered yet', dispatch_delivered_update: 'Now delivered',
    order_exception: 'Seller alert', order_exception_resolved: 'Seller alert resolved', address_confirmation: 'Address confirmation',
    delivery_delay: 'Delivery delay', delivery_failed_customer: 'Delivery failed', document_link: 'Link to the document',
  } as Record<string, string>,
  emptyFailed: 'No failed dispatch. Everything sent was delivered or is on its way.', empty: 'No dispatch matches these filters.',
  failedMarker: 'Failed', details: 'Details', copy: 'Copy of what was sent', copyTitle: 'Copy of the email as sent', document: 'Document',
  attachments: 'Attachments', status: 'Status', history: 'Status history', plainReason: 'Reason', rawReason: 'Provider\'s reason',
  correct: 'Correct the address and resend', newAddress: 'New address for', resend: 'Resend', resending: 'Resending…',
  resendVia: 'Resend over SMS or WhatsApp', channel: 'Channel', phone: 'Phone (E.164, e.g. +33612345678)', sendLink: 'Send a link to the document',
  markSent: 'Mark as sent by hand', note: 'How it was sent (e.g. posted)', markedSent: 'Marked as sent by hand', by: 'by', at: 'at',
  resentVia: 'Also sent as a link', live: 'Updates appear here as they arrive.', updating: 'Waiting for the provider…',
  done: { resent: 'Resent. The new address\'s status appears below as the provider answers.', via: 'The link was sent.', marked: 'Marked as sent.', released: 'The order was released.', cancelled: 'The order was cancelled.', preferences: 'Preferences saved. The next alert follows them.', settings: 'Settings saved.', webhookSaved: 'Endpoint saved.', webhookDeleted: 'Endpoint deleted. Its deliveries still waiting stop; the log of past ones stays.', replayed: 'Sent again: this new delivery\'s attempts appear below.', uploaded: 'The file is stored with the order.', carrierChanged: 'The carrier was changed.', dimensionsFixed: 'The dimensions were saved.', pickupRequested: 'A new pickup was requested.', customerTold: 'The customer is being told; the messages appear under Notifications.', causeRecorded: 'The cause was recorded.', resolved: 'The exception was resolved.' } as Record<string, string>,
  order: 'Order', state: 'State', hold: 'On hold because', since: 'since', risk: 'Risk', lastTracking: 'Last tracking update', exceptions: 'Exceptions', opened: 'Opened', resolved: 'Resolved', open: 'Open',
  action: 'What to do', notifications: 'Notifications', audience: 'To', seller: 'Seller', customer: 'Customer', template: 'Message',
  timeline: 'Timeline', olderEvents: 'Earlier events', newestEvents: 'Latest events', release: 'Release the order', cancel: 'Cancel the order', releaseReason: 'Why release it (required)', cancelReason: 'Why cancel it (required)', settingsH: 'Settings', heldOrders: 'Orders on hold',
  noHeld: 'No order is on hold.', openOrder: 'Open an order', orderId: 'Order id', go: 'Open', none: '—',
  preferences: 'Alert preferences', sellerAlerts: 'Seller alerts', customerNotices: 'Customer notifications', on: 'On', channels: 'Channels', save: 'Save',
  email: 'Email', sms: 'SMS', whatsapp: 'WhatsApp', policies: 'Policies (ISO-8601 durations, e.g. PT30M, P3D)', locale: 'Language', timeZone: 'Time zone',
  /** Each policy in an operator's words: what it decides, not the rule's number. */
  policy: {
    unknownAfter: 'Tell the sender when a recipient has confirmed nothing after',
    listenFor: 'Keep following a dispatch (late bounces) for',
    stuckAfter: 'Alert when an order in transit has had no tracking update for',
    confirmationLinkTtl: 'Address confirmation links stay valid for',
    readyToShipWithin: 'An allocated order must be packed within',
  } as Record<string, string>,
  notice: { address_confirmation: 'Address confirmation', delivery_delay: 'Delivery delay', delivery_failed: 'Delivery failed' } as Record<string, string>,
  /** The orders workspace (issue 18) and the seller's actions on an order. */
  workspace: {
    title: 'Orders with an open exception', allTitle: 'Orders', allOpen: 'All open', stuck: 'Stuck', stuckBadge: 'Stuck', stuckOnly: 'Stuck only',
    exception: 'Exception', anyOpen: 'Any open exception', everyOrder: 'Every order, with or without', state: 'State', anyState: 'Any state',
    held: 'On hold', heldAny: 'Held or not', heldOnly: 'On hold only', heldNone: 'Not on hold', from: 'Placed from', to: 'Placed to',
    placed: 'Placed', customer: 'Customer', open: 'Open exceptions', since: 'open since', none: 'No order has an open exception. Nothing to act on.',
    noMatch: 'No order matches these filters.', more: 'More orders', restart: 'Back to the oldest',
    documents: 'Label and invoice', label: 'Shipping label', invoice: 'Invoice', missing: 'not uploaded', download: 'Download',
    carrier: 'Carrier', dimensions: 'Dimensions', cause: 'Why it is stuck', ended: 'Ended', colon: ': ',
    actions: 'Act on this order', upload: 'Upload the label or the invoice', kind: 'Document', file: 'File (PDF, PNG or JPEG, at most 10 MB)', uploadButton: 'Upload',
    changeCarrier: 'Change the carrier', newCarrier: 'New carrier', fixDimensions: 'Fix the dimensions', lengthCm: 'Length (cm)', widthCm: 'Width (cm)', heightCm: 'Height (cm)', weightKg: 'Weight (kg)', saveDimensions: 'Save the dimensions',
    requestPickup: 'Request a new pickup', tell: 'Tell the customer', notice: 'What to tell', tellButton: 'Send to the customer',
    recordCause: 'Record why the parcel is stuck', causeField: 'Cause', resolve: 'Resolve an exception with a note', resolveButton: 'Resolve',
    note: 'Note (optional)', noteRequired: 'Note (required): what was done', yourName: 'Your name (recorded with what you do; optional)',
    told: { delivery_delay: 'The delivery is delayed', delivery_failed: 'The delivery failed, and what happens next' } as Record<string, string>,
  },
  webhooks: 'Webhooks',
  /** Outbound webhooks (/ui/webhooks): endpoints of the tenant's own system, deliveries, attempts. */
  webhook: {
    intro: 'Relais calls your own system when a dispatch or an order changes: each endpoint receives the events it subscribes to, signed (Standard Webhooks), retried for more than a day when it does not answer 2xx.',
    endpoints: 'Endpoints', noEndpoint: 'No endpoint yet.', add: 'Add an endpoint', edit: 'Change', url: 'URL', description: 'Description (optional)', events: 'Events',
    enabled: 'Enabled', disabled: 'Disabled', disabledGone: 'Disabled: it answered 410 Gone', enabledBox: 'Enabled (send events to it)',
    rotate: 'Rotate the secret', overlap: 'Keep signing with the previous secret for', overlapDay: 'a day (default)', overlapWeek: 'a week', overlapNone: 'no time: stop it now (leaked secret)',
    rotatedAt: 'secret rotated', previousUntil: 'previous secret signs until', delete: 'Delete',
    secretOnce: 'The signing secret, shown this once: copy it into your system now. Relais keeps it sealed and never shows it again.',
    deliveries: 'Deliveries', noDelivery: 'Nothing sent yet.', older: 'Older deliveries', created: 'Created', event: 'Event', attempts: 'Attempts',
    delivery: 'Delivery', nextAttempt: 'Next attempt', finished: 'Ended', replayOf: 'Replay of', replay: 'Send it again',
    replayHelp: 'Sends the same event again to the endpoint\'s current URL, with the same webhook-id: a receiver that already has it ignores it.',
    at: 'When', code: 'HTTP status', duration: 'Took', answer: 'Answer', noAttempt: 'No attempt yet.', payload: 'What is sent', back: 'All webhooks',
    statuses: { pending: 'Pending', retrying: 'Retrying', delivered: 'Delivered', failed: 'Failed', cancelled: 'Cancelled' } as Record<string, string>,
    reasons: {
      gone: 'the endpoint answered 410 Gone: it is disabled', gave_up: 'no 2xx after 8 attempts over 31 hours', blocked_address: 'the URL leads to an address Relais does not send to',
      secret_unreadable: 'its secret no longer opens (LINK_SECRET was changed): rotate the secret', event_expired: 'the event is older than the 30 days events are kept', endpoint_deleted: 'the endpoint was deleted', endpoint_disabled: 'the endpoint was disabled', endpoint_gone: 'the endpoint had answered 410 Gone',
    } as Record<string, string>,
  },
  error: 'Something went wrong', forbidden: 'You cannot open this page', forbiddenText: 'Your key lacks the role this page needs. Ask an administrator.',
  notFound: 'Not found', notFoundText: 'Nothing here for your organisation.', badRequest: 'Please correct:', conflict: 'Not possible now:', expired: 'The form expired; please try again.',
  results: {
    failed: 'Failed', queued: 'Queued', processed: 'Processed', unknown: 'Unknown', delivered: 'Delivered', alert: 'Alert', error: 'Error', sent: 'Sent',
  } satisfies Record<DispatchResult, string>,
  /** The delivery log's own words (the source documents': Deferred, Bounced, Dropped, Opened …), docs/operators.md. */
  statuses: {
    queued: 'Queued', processed: 'Processed', deferred: 'Deferred', unknown: 'Unknown', delivered: 'Delivered', opened: 'Opened', bounced: 'Bounced', dropped: 'Dropped', sent: 'Sent', not_sent: 'Not sent',
  } satisfies Record<ShownStatus, string>,
  risks: { low: 'low', medium: 'medium', high: 'high' } as Record<string, string>,
  states: {
    placed: 'Placed', on_hold: 'On hold', allocated: 'Allocated', unfulfillable: 'Unfulfillable', ready_to_ship: 'Ready to ship', rts_failed: 'Ready-to-ship failed',
    handed_over: 'Handed over', handover_failed: 'Handover failed', in_transit: 'In transit', delivered: 'Delivered', delivery_failed: 'Delivery failed', cancelled: 'Cancelled',
  } satisfies Record<OrderState, string>,
  /** The order timeline's events (O10), by the name the order workflow records. */
  events: {
    placed: 'Order placed', allocated: 'Stock allocated', allocation_failed: 'Allocation failed', packed: 'Packed', rts_failed: 'Ready-to-ship failed',
    rts_deadline_passed: 'Not packed in time', label_uploaded: 'Label uploaded', carrier_changed: 'Carrier changed', dimensions_fixed: 'Dimensions fixed',
    handed_over: 'Handed over to the carrier', handover_failed: 'Handover failed', pickup_requested: 'Pickup requested', tracking_update: 'Tracking update',
    stuck_in_transit: 'No tracking update', delivered: 'Delivered', delivery_failed: 'Delivery failed', released: 'Hold released', cancelled: 'Cancelled',
    address_confirmed: 'Address confirmed by the customer', address_corrected: 'Address corrected by the customer',
    document_uploaded: 'Document uploaded', customer_told: 'Customer told', stuck_cause_recorded: 'Stuck: cause recorded', exception_resolved: 'Exception resolved',
  } as Record<string, string>,
};

export type Words = typeof en;

const fr: Words = {
  appName: 'Relais', skip: 'Aller au contenu', signIn: 'Se connecter', signOut: 'Se déconnecter',
  signInTitle: 'Connexion à Relais', signInIntro: 'Collez une clé d\'API de votre organisation. Elle est échangée contre une session ; la clé elle-même n\'est pas gardée dans le navigateur.',
  apiKey: 'Clé d\'API', badKey: 'Cette clé est inconnue, révoquée, ou n\'est pas celle d\'une organisation.',
  log: 'Journal des envois', orders: 'Commandes', settings: 'Préférences et réglages', dashboard: 'Tableau de bord',
  exportCsv: 'Télécharger en CSV', exportListed: 'Télécharger ces commandes en CSV', exportOrders: 'Télécharger toutes les commandes en CSV', proof: 'Preuve d\'envoi', proofPdf: 'PDF', proofJson: 'JSON',
  failedOnly: 'Envois en échec', showAll: 'Afficher tous les envois', showFailed: 'Afficher les échecs seulement', allDispatches: 'Tous les envois',
  filters: 'Filtres', result: 'Résultat', anyResult: 'Tous', recipient: 'Destinataire', documentRef: 'Référence du document', from: 'Du', to: 'Au', apply: 'Appliquer',
  invalidDate: 'n\'est pas une date réelle : écrivez-la AAAA-MM-JJ, par exemple 2026-02-28.',
  number: 'N° de fiche', sentAt: 'Envoyé', subject: 'Objet', sender: 'Expéditeur', recipients: 'Destinataires', next: 'Envois plus anciens', first: 'Les plus récents',
  andMore: 'et {n} de plus', recipientRange: '{from} à {to} sur {count}', nextRecipients: 'Destinataires suivants', firstRecipients: 'Premiers destinataires',
  recipientCount: '{n} destinataires', failedCount: '{n} en échec', unconfirmedCount: '{n} non confirmés', deferredCount: '{n} différés',
  deferredMarker: 'Toujours en échec temporaire après le délai', onlyStatus: 'Seulement', allRecipients: 'Tous les destinataires', attemptN: 'tentative {n}', lastAt: 'la dernière le',
  kind: 'Type', noticeTag: 'Avis', noticeAbout: 'Avis concernant',
  kinds: { all: 'Documents et avis', document: 'Documents', notification: 'Avis' },
  templates: {
    dispatch_escalation: 'Escalade : aucune adresse ne l\'a reçu', dispatch_failed: 'Alerte : non envoyé par e-mail', dispatch_partial_failure: 'Une adresse à corriger',
    dispatch_unknown: 'Pas encore de confirmation', dispatch_deferred: 'Pas encore livré', dispatch_delivered_update: 'Désormais livré',
    order_exception: 'Alerte vendeur', order_exception_resolved: 'Alerte vendeur résolue', address_confirmation: 'Confirmation d\'adresse',
    delivery_delay: 'Retard de livraison', delivery_failed_customer: 'Échec de livraison', document_link: 'Lien vers le document',
  },
  emptyFailed: 'Aucun envoi en échec. Tout ce qui a été envoyé est livré ou en route.', empty: 'Aucun envoi ne correspond à ces filtres.',
  failedMarker: 'Échec', details: 'Détails', copy: 'Copie de ce qui a été envoyé', copyTitle: 'Copie de l\'e-mail tel qu\'envoyé', document: 'Document',
  attachments: 'Pièces jointes', status: 'Statut', history: 'Historique des statuts', plainReason: 'Raison', rawReason: 'Raison du fournisseur',
  correct: 'Corriger l\'adresse et renvoyer', newAddress: 'Nouvelle adresse pour', resend: 'Renvoyer', resending: 'Renvoi en cours…',
  resendVia: 'Renvoyer par SMS ou WhatsApp', channel: 'Canal', phone: 'Téléphone (E.164, ex. +33612345678)', sendLink: 'Envoyer un lien vers le document',
  markSent: 'Marquer comme envoyé à la main', note: 'Comment il a été envoyé (ex. par la poste)', markedSent: 'Marqué comme envoyé à la main', by: 'par', at: 'le',
  resentVia: 'Aussi envoyé en lien', live: 'Les mises à jour s\'affichent ici dès qu\'elles arrivent.', updating: 'En attente du fournisseur…',
  done: { resent: 'Renvoyé. Le statut de la nouvelle adresse s\'affiche ci-dessous dès que le fournisseur répond.', via: 'Le lien a été envoyé.', marked: 'Marqué comme envoyé.', released: 'La commande a été libérée.', cancelled: 'La commande a été annulée.', preferences: 'Préférences enregistrées. La prochaine alerte les suivra.', settings: 'Réglages enregistrés.', webhookSaved: 'Point de réception enregistré.', webhookDeleted: 'Point de réception supprimé. Ses envois en attente s\'arrêtent ; l\'historique reste.', replayed: 'Renvoyé : les tentatives de ce nouvel envoi s\'affichent ci-dessous.', uploaded: 'Le fichier est enregistré avec la commande.', carrierChanged: 'Le transporteur a été changé.', dimensionsFixed: 'Les dimensions ont été enregistrées.', pickupRequested: 'Un nouvel enlèvement a été demandé.', customerTold: 'Le client est prévenu ; les messages s\'affichent sous Notifications.', causeRecorded: 'La cause a été notée.', resolved: 'L\'exception a été résolue.' },
  order: 'Commande', state: 'État', hold: 'En attente car', since: 'depuis', risk: 'Risque', lastTracking: 'Dernière mise à jour du suivi', exceptions: 'Exceptions', opened: 'Ouverte', resolved: 'Résolue', open: 'Ouverte',
  action: 'Que faire', notifications: 'Notifications', audience: 'À', seller: 'Vendeur', customer: 'Client', template: 'Message',
  timeline: 'Chronologie', olderEvents: 'Événements précédents', newestEvents: 'Derniers événements', release: 'Libérer la commande', cancel: 'Annuler la commande', releaseReason: 'Pourquoi la libérer (obligatoire)', cancelReason: 'Pourquoi l\'annuler (obligatoire)', settingsH: 'Réglages', heldOrders: 'Commandes en attente',
  noHeld: 'Aucune commande en attente.', openOrder: 'Ouvrir une commande', orderId: 'Identifiant de commande', go: 'Ouvrir', none: '—',
  preferences: 'Préférences d\'alerte', sellerAlerts: 'Alertes vendeur', customerNotices: 'Notifications client', on: 'Activée', channels: 'Canaux', save: 'Enregistrer',
  email: 'E-mail', sms: 'SMS', whatsapp: 'WhatsApp', policies: 'Règles (durées ISO-8601, ex. PT30M, P3D)', locale: 'Langue', timeZone: 'Fuseau horaire',
  policy: {
    unknownAfter: 'Prévenir l\'expéditeur quand un destinataire n\'a rien confirmé après',
    listenFor: 'Suivre un envoi (rebonds tardifs) pendant',
    stuckAfter: 'Alerter quand une commande en transit n\'a pas de mise à jour du suivi depuis',
    confirmationLinkTtl: 'Durée de validité des liens de confirmation d\'adresse',
    readyToShipWithin: 'Délai pour emballer une commande allouée',
  },
  notice: { address_confirmation: 'Confirmation d\'adresse', delivery_delay: 'Retard de livraison', delivery_failed: 'Échec de livraison' },
  workspace: {
    title: 'Commandes avec une exception ouverte', allTitle: 'Commandes', allOpen: 'Toutes', stuck: 'Bloquées', stuckBadge: 'Bloquée', stuckOnly: 'Bloquées seulement',
    exception: 'Exception', anyOpen: 'Toute exception ouverte', everyOrder: 'Toutes les commandes, avec ou sans', state: 'État', anyState: 'Tout état',
    held: 'En attente', heldAny: 'En attente ou non', heldOnly: 'En attente seulement', heldNone: 'Hors attente', from: 'Passée à partir du', to: 'Passée jusqu\'au',
    placed: 'Passée', customer: 'Client', open: 'Exceptions ouvertes', since: 'ouverte depuis', none: 'Aucune commande n\'a d\'exception ouverte. Rien à traiter.',
    noMatch: 'Aucune commande ne correspond à ces filtres.', more: 'Commandes suivantes', restart: 'Revenir aux plus anciennes',
    documents: 'Étiquette et facture', label: 'Étiquette d\'expédition', invoice: 'Facture', missing: 'pas téléversée', download: 'Télécharger',
    carrier: 'Transporteur', dimensions: 'Dimensions', cause: 'Pourquoi elle est bloquée', ended: 'Terminée', colon: ' : ',
    actions: 'Agir sur cette commande', upload: 'Téléverser l\'étiquette ou la facture', kind: 'Document', file: 'Fichier (PDF, PNG ou JPEG, 10 Mo au plus)', uploadButton: 'Téléverser',
    changeCarrier: 'Changer de transporteur', newCarrier: 'Nouveau transporteur', fixDimensions: 'Corriger les dimensions', lengthCm: 'Longueur (cm)', widthCm: 'Largeur (cm)', heightCm: 'Hauteur (cm)', weightKg: 'Poids (kg)', saveDimensions: 'Enregistrer les dimensions',
    requestPickup: 'Demander un nouvel enlèvement', tell: 'Prévenir le client', notice: 'Quoi lui dire', tellButton: 'Envoyer au client',
    recordCause: 'Noter pourquoi le colis est bloqué', causeField: 'Cause', resolve: 'Résoudre une exception avec une note', resolveButton: 'Résoudre',
    note: 'Note (facultative)', noteRequired: 'Note (obligatoire) : ce qui a été fait', yourName: 'Votre nom (noté avec ce que vous faites ; facultatif)',
    told: { delivery_delay: 'La livraison est retardée', delivery_failed: 'La livraison a échoué, et la suite' },
  },
  webhooks: 'Webhooks',
  webhook: {
    intro: 'Relais appelle votre propre système quand un envoi ou une commande change : chaque point de réception reçoit les événements auxquels il est abonné, signés (Standard Webhooks), renvoyés pendant plus d\'un jour tant qu\'il ne répond pas 2xx.',
    endpoints: 'Points de réception', noEndpoint: 'Aucun point de réception.', add: 'Ajouter un point de réception', edit: 'Modifier', url: 'URL', description: 'Description (facultative)', events: 'Événements',
    enabled: 'Actif', disabled: 'Désactivé', disabledGone: 'Désactivé : il a répondu 410 Gone', enabledBox: 'Actif (lui envoyer les événements)',
    rotate: 'Changer le secret', overlap: 'Signer aussi avec l\'ancien secret pendant', overlapDay: 'un jour (par défaut)', overlapWeek: 'une semaine', overlapNone: 'aucun délai : l\'arrêter maintenant (secret divulgué)',
    rotatedAt: 'secret changé', previousUntil: 'l\'ancien secret signe jusqu\'au', delete: 'Supprimer',
    secretOnce: 'Le secret de signature, affiché cette seule fois : copiez-le maintenant dans votre système. Relais le garde scellé et ne le montrera plus.',
    deliveries: 'Envois', noDelivery: 'Rien d\'envoyé pour l\'instant.', older: 'Envois plus anciens', created: 'Créé', event: 'Événement', attempts: 'Tentatives',
    delivery: 'Envoi', nextAttempt: 'Prochaine tentative', finished: 'Terminé', replayOf: 'Renvoi de', replay: 'Renvoyer',
    replayHelp: 'Renvoie le même événement à l\'URL actuelle du point de réception, avec le même webhook-id : un destinataire qui l\'a déjà l\'ignore.',
    at: 'Quand', code: 'Statut HTTP', duration: 'Durée', answer: 'Réponse', noAttempt: 'Aucune tentative pour l\'instant.', payload: 'Ce qui est envoyé', back: 'Tous les webhooks',
    statuses: { pending: 'En attente', retrying: 'Nouvel essai prévu', delivered: 'Livré', failed: 'Échec', cancelled: 'Annulé' },
    reasons: {
      gone: 'le point de réception a répondu 410 Gone : il est désactivé', gave_up: 'aucune réponse 2xx après 8 tentatives sur 31 heures', blocked_address: 'l\'URL mène à une adresse où Relais n\'envoie pas',
      secret_unreadable: 'son secret ne s\'ouvre plus (LINK_SECRET a changé) : changez le secret', event_expired: 'l\'événement a plus de 30 jours, la durée où les événements sont gardés', endpoint_deleted: 'le point de réception a été supprimé', endpoint_disabled: 'le point de réception a été désactivé', endpoint_gone: 'le point de réception avait répondu 410 Gone',
    },
  },
  error: 'Une erreur est survenue', forbidden: 'Vous ne pouvez pas ouvrir cette page', forbiddenText: 'Votre clé n\'a pas le rôle que demande cette page. Demandez à un administrateur.',
  notFound: 'Introuvable', notFoundText: 'Rien ici pour votre organisation.', badRequest: 'Merci de corriger :', conflict: 'Impossible pour le moment :', expired: 'Le formulaire a expiré ; merci de réessayer.',
  results: { failed: 'Raté', queued: 'En file', processed: 'Traité', unknown: 'Inconnu', delivered: 'Livré', alert: 'Alerte', error: 'Erreur', sent: 'Envoyé' },
  statuses: { queued: 'En file', processed: 'Traité', deferred: 'Différé', unknown: 'Inconnu', delivered: 'Livré', opened: 'Ouvert', bounced: 'Rebondi', dropped: 'Abandonné', sent: 'Envoyé', not_sent: 'Non envoyé' },
  risks: { low: 'faible', medium: 'moyen', high: 'élevé' },
  states: {
    placed: 'Passée', on_hold: 'En attente', allocated: 'Allouée', unfulfillable: 'Non expédiable', ready_to_ship: 'Prête à expédier', rts_failed: 'Échec de préparation',
    handed_over: 'Remise au transporteur', handover_failed: 'Échec de remise', in_transit: 'En transit', delivered: 'Livrée', delivery_failed: 'Échec de livraison', cancelled: 'Annulée',
  },
  events: {
    placed: 'Commande passée', allocated: 'Stock alloué', allocation_failed: 'Échec d\'allocation', packed: 'Emballée', rts_failed: 'Échec de préparation',
    rts_deadline_passed: 'Pas emballée à temps', label_uploaded: 'Étiquette chargée', carrier_changed: 'Transporteur changé', dimensions_fixed: 'Dimensions corrigées',
    handed_over: 'Remise au transporteur', handover_failed: 'Échec de remise', pickup_requested: 'Enlèvement demandé', tracking_update: 'Suivi mis à jour',
    stuck_in_transit: 'Aucune mise à jour du suivi', delivered: 'Livrée', delivery_failed: 'Échec de livraison', released: 'Mise en attente levée', cancelled: 'Annulée',
    address_confirmed: 'Adresse confirmée par le client', address_corrected: 'Adresse corrigée par le client',
    document_uploaded: 'Document téléversé', customer_told: 'Client prévenu', stuck_cause_recorded: 'Bloquée : cause notée', exception_resolved: 'Exception résolue',
  },
};

export const WORDS: Record<Locale, Words> = { en, fr };

/** Fills `{name}` placeholders of a phrase. */
export const fill = (phrase: string, values: Record<string, string | number>) => phrase.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));
