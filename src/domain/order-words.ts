// Order exceptions in plain words for sellers and customers (O1–O8), French and English.
import type { ExceptionType, StuckCause } from './order';

type Words = { fr: string; en: string };
import type { Locale } from './locale';
export type { Locale };

export const EXCEPTION_LABELS: Record<ExceptionType, Words> = {
  unfulfillable: { fr: 'Commande non expédiable', en: 'Order unfulfillable' },
  on_hold: { fr: 'Commande en attente (risque élevé)', en: 'Order on hold (high risk)' },
  rts_failed: { fr: "Échec de la préparation à l'expédition", en: 'Ready-to-ship failed' },
  handover_failed: { fr: 'Échec de la remise au transporteur', en: 'Handover failed' },
  stuck_in_transit: { fr: 'Bloquée en transit', en: 'Stuck in transit' },
  delivery_failed: { fr: 'Échec de la livraison', en: 'Delivery failed' },
};

/** Reason → what happened, and what the seller should do now. */
export const REASON_WORDS: Record<string, { reason: Words; action: Words }> = {
  out_of_stock: {
    reason: { fr: "l'article est en rupture de stock", en: 'the item is out of stock' },
    action: {
      fr: "réapprovisionnez l'article ou annulez la commande et prévenez le client",
      en: 'restock the item, or cancel the order and tell the customer',
    },
  },
  not_found_at_location: {
    reason: { fr: "l'article n'a pas été trouvé à son emplacement", en: 'the item was not found at its location' },
    action: {
      fr: "faites vérifier l'emplacement et l'inventaire, puis réallouez",
      en: 'have the location and inventory checked, then allocate again',
    },
  },
  address_or_contact: {
    reason: {
      fr: "l'adresse ou les coordonnées du client sont incomplètes ou inexactes",
      en: "the customer's address or contact details are incomplete or inaccurate",
    },
    action: {
      fr: 'nous avons demandé au client de confirmer son adresse ; libérez ou annulez la commande si besoin',
      en: 'we asked the customer to confirm their address; release or cancel the order if needed',
    },
  },
  no_valid_contact: {
    reason: {
      fr: "ni le téléphone ni l'e-mail du client ne permettent de le joindre",
      en: "neither the customer's phone nor their email can reach them",
    },
    action: {
      fr: 'impossible de lui demander : obtenez un contact valide sur le canal de vente, puis libérez ou annulez',
      en: 'we could not ask them: get a valid phone or email from the sales channel, then release or cancel',
    },
  },
  suspicious_behaviour: {
    reason: {
      fr: 'le client a annulé ou refusé plusieurs commandes récemment',
      en: 'the customer cancelled or refused several recent orders',
    },
    action: {
      fr: "vérifiez l'historique du client, puis libérez ou annulez la commande",
      en: "check the customer's history, then release or cancel the order",
    },
  },
  label_or_invoice_unavailable: {
    reason: {
      fr: "la facture et l'étiquette d'expédition n'ont pas pu être récupérées depuis le canal de vente",
      en: 'the invoice and shipping label could not be fetched from the sales channel',
    },
    action: {
      fr: 'récupérez-les sur le portail du canal de vente et téléversez-les',
      en: "download them from the sales channel's portal and upload them",
    },
  },
  pincode_unserviceable: {
    reason: {
      fr: 'le transporteur ne dessert pas temporairement ce code postal',
      en: 'the carrier temporarily cannot serve this PIN/postal code',
    },
    action: {
      fr: 'choisissez un autre transporteur et téléversez la nouvelle étiquette ; le client a été prévenu du retard',
      en: 'choose another carrier and upload its label; the customer was told of the delay',
    },
  },
  dimension_mismatch: {
    reason: {
      fr: 'les dimensions du produit diffèrent entre Relais et le canal de vente',
      en: 'the product dimensions differ between Relais and the sales channel',
    },
    action: { fr: 'corrigez les dimensions des deux côtés', en: 'correct the dimensions on both sides' },
  },
  not_ready_in_time: {
    reason: { fr: "la commande n'a pas été emballée à temps", en: 'the order was not packed in time' },
    action: { fr: 'emballez-la en priorité', en: 'pack it first' },
  },
  customer_cancelled: {
    reason: {
      fr: "le client a annulé après l'emballage, avant la remise",
      en: 'the customer cancelled after packing, before handover',
    },
    action: {
      fr: 'la commande est traitée comme un retour et les articles remis en stock',
      en: 'the order is treated as a return and the items restocked',
    },
  },
  pickup_refused: {
    reason: { fr: 'le partenaire de retrait a refusé le retrait', en: 'the pickup partner refused the pickup' },
    action: { fr: 'demandez une nouvelle tentative de retrait', en: 'request a new pickup attempt' },
  },
  no_tracking_update: {
    reason: { fr: 'aucune mise à jour de suivi depuis le délai fixé', en: 'no tracking update within the set delay' },
    action: {
      fr: 'demandez au transporteur si le colis est mal acheminé, perdu, endommagé ou retenu, et notez la cause',
      en: 'ask the carrier whether the parcel is misrouted, lost, damaged or held up, and record the cause',
    },
  },
  not_scanned_since_handover: {
    reason: {
      fr: "le transporteur n'a pas scanné le colis depuis sa remise",
      en: 'the carrier has not scanned the parcel since it was handed over',
    },
    action: {
      fr: 'vérifiez auprès du transporteur que le colis a bien été enlevé, et notez la cause',
      en: 'check with the carrier that the parcel was picked up, and record the cause',
    },
  },
  // The causes of a parcel stuck in transit (O7), as the seed lists them.
  misrouted: {
    reason: {
      fr: 'le colis a été mal acheminé vers une mauvaise destination',
      en: 'the parcel was misrouted to a wrong destination',
    },
    action: {
      fr: 'demandez au transporteur de le réacheminer ; prévenez le client du retard',
      en: 'ask the carrier to reroute it; tell the customer of the delay',
    },
  },
  natural_disaster: {
    reason: {
      fr: 'une calamité naturelle (inondation, fortes pluies…) retient le colis',
      en: 'a natural disaster (flood, heavy rain…) is holding the parcel up',
    },
    action: {
      fr: 'prévenez le client du retard ; suivez la reprise avec le transporteur',
      en: "tell the customer of the delay; follow the carrier's recovery",
    },
  },
  strike: {
    reason: {
      fr: 'une grève, un rassemblement ou un trouble politique retient le colis',
      en: 'a strike, a rally or political unrest is holding the parcel up',
    },
    action: {
      fr: 'prévenez le client du retard ; demandez au transporteur une date de reprise',
      en: 'tell the customer of the delay; ask the carrier when it will move again',
    },
  },
  operational: {
    reason: {
      fr: 'le transporteur rencontre une difficulté opérationnelle',
      en: 'the carrier has an operational difficulty',
    },
    action: {
      fr: 'demandez au transporteur une date de livraison ; prévenez le client du retard',
      en: 'ask the carrier for a delivery date; tell the customer of the delay',
    },
  },
  untraceable: {
    reason: { fr: 'le colis est introuvable', en: 'the parcel cannot be traced' },
    action: {
      fr: 'ouvrez une enquête auprès du transporteur ; préparez un renvoi si elle échoue',
      en: 'open an investigation with the carrier; prepare a replacement if it fails',
    },
  },
  lost_or_damaged: {
    reason: { fr: 'le colis est perdu ou endommagé', en: 'the parcel is lost or damaged' },
    action: {
      fr: 'réclamez au transporteur, renvoyez la commande ou remboursez le client',
      en: 'claim from the carrier, and send the order again or refund the customer',
    },
  },
  customer_unavailable: {
    reason: { fr: "le client n'était pas disponible", en: 'the customer was not available' },
    action: { fr: "convenez d'un nouveau créneau avec le client", en: 'agree a new delivery slot with the customer' },
  },
  refused: {
    reason: { fr: 'le client a refusé la commande', en: 'the customer refused the order' },
    action: {
      fr: 'contactez le client ; sinon, préparez le retour',
      en: 'contact the customer; otherwise prepare the return',
    },
  },
  cancelled: {
    reason: { fr: 'le client a annulé la commande', en: 'the customer cancelled the order' },
    action: { fr: 'préparez le retour', en: 'prepare the return' },
  },
  cod_not_ready: {
    reason: {
      fr: "le client n'avait pas le paiement à la livraison prêt",
      en: 'the customer was not ready with the cash-on-delivery payment',
    },
    action: { fr: "convenez d'une nouvelle livraison avec le client", en: 'agree a new delivery with the customer' },
  },
  address_incorrect: {
    reason: { fr: "l'adresse du client est incorrecte", en: "the customer's address is incorrect" },
    action: {
      fr: "obtenez l'adresse exacte du client et transmettez-la au transporteur",
      en: 'get the correct address from the customer and pass it to the carrier',
    },
  },
  unreachable: {
    reason: { fr: 'le client était injoignable', en: 'the customer could not be reached' },
    action: { fr: 'essayez un autre moyen de contact', en: 'try another way of contacting them' },
  },
};

/** The stuck causes (O7) as a seller picks one from a list. */
export const STUCK_CAUSE_LABELS: Record<StuckCause, Words> = {
  misrouted: { fr: 'Mal acheminé', en: 'Misrouted' },
  natural_disaster: {
    fr: 'Calamité naturelle (inondation, fortes pluies…)',
    en: 'Natural disaster (flood, heavy rain…)',
  },
  strike: { fr: 'Grève, rassemblement ou trouble politique', en: 'Strike, rally or political unrest' },
  operational: { fr: 'Difficulté opérationnelle du transporteur', en: 'Operational difficulty at the carrier' },
  untraceable: { fr: 'Introuvable', en: 'Untraceable' },
  lost_or_damaged: { fr: 'Perdu ou endommagé', en: 'Lost or damaged' },
};

/** What the customer is told after a failed delivery (O8). */
export const CUSTOMER_NEXT_STEP: Record<string, Words> = {
  customer_unavailable: {
    fr: 'le transporteur repassera ; vous pouvez aussi nous contacter pour choisir un créneau',
    en: 'the carrier will try again; you can also contact us to choose a slot',
  },
  refused: {
    fr: "la commande nous sera retournée ; contactez-nous en cas d'erreur",
    en: 'the order will come back to us; contact us if this was a mistake',
  },
  cancelled: {
    fr: 'la commande nous sera retournée et remboursée selon nos conditions',
    en: 'the order will come back to us and be refunded under our terms',
  },
  cod_not_ready: {
    fr: 'le transporteur repassera : merci de préparer le montant exact',
    en: 'the carrier will come again: please have the exact amount ready',
  },
  address_incorrect: { fr: 'merci de nous donner votre adresse exacte', en: 'please send us your correct address' },
  unreachable: {
    fr: "merci de nous rappeler pour convenir d'une livraison",
    en: 'please call us back to arrange delivery',
  },
};

/**
 * How an exception was resolved, by the event that resolved it (the workflow records the event's
 * name, or the customer's confirmation); an operator's release or cancellation keeps its own words.
 */
export const RESOLUTION_WORDS: Record<string, Words> = {
  packed: { fr: 'la commande a été emballée', en: 'the order was packed' },
  label_uploaded: { fr: "l'étiquette et la facture ont été téléversées", en: 'the label and invoice were uploaded' },
  carrier_changed: { fr: 'un autre transporteur a été choisi', en: 'another carrier was chosen' },
  dimensions_fixed: { fr: 'les dimensions ont été corrigées', en: 'the dimensions were corrected' },
  pickup_requested: { fr: 'un nouveau retrait a été demandé', en: 'a new pickup was requested' },
  tracking_update: {
    fr: 'le transporteur a de nouveau mis à jour le suivi',
    en: 'the carrier has updated the tracking again',
  },
  delivered: { fr: 'la commande a été livrée', en: 'the order was delivered' },
  delivery_failed: {
    fr: 'le transporteur a signalé un échec de livraison',
    en: 'the carrier reported a failed delivery',
  },
  'address confirmed by the customer': {
    fr: 'le client a confirmé son adresse',
    en: 'the customer confirmed their address',
  },
  'address corrected by the customer': {
    fr: 'le client a corrigé son adresse',
    en: 'the customer corrected their address',
  },
  allocated: { fr: "l'article a été alloué à nouveau", en: 'the item was allocated again' },
  returned: {
    fr: 'la commande est traitée comme un retour et les articles remis en stock',
    en: 'the order is treated as a return and the items restocked',
  },
  order_ended: { fr: 'la commande est terminée', en: 'the order has ended' },
};

/** Where an unfulfillable item is (O1), in the seller's language. */
export const itemDetails = (sku: string, location: string | null | undefined, locale: Locale) =>
  `SKU ${sku}${location ? `, ${locale === 'fr' ? 'emplacement' : 'location'} ${location}` : ''}`;

export const exceptionLabel = (type: ExceptionType, locale: Locale) => EXCEPTION_LABELS[type][locale];
export const stuckCauseLabel = (cause: string, locale: Locale) =>
  STUCK_CAUSE_LABELS[cause as StuckCause]?.[locale] ?? cause;
/** A resolution in someone's own words: `released by <who>: <why>` (O4), `resolved by <who>: <note>` (a seller's note). */
const BY_SOMEONE = /^(released|cancelled|resolved) by (.+?): ([\s\S]*)$/;
const BY_WORDS: Record<string, Words> = {
  released: { fr: 'libérée par', en: 'released by' },
  cancelled: { fr: 'annulée par', en: 'cancelled by' },
  resolved: { fr: 'résolue par', en: 'resolved by' },
};
export const resolutionWords = (resolution: string, locale: Locale) => {
  const by = BY_SOMEONE.exec(resolution);
  if (by) return `${BY_WORDS[by[1]][locale]} ${by[2]}${locale === 'fr' ? ' : ' : ': '}${by[3]}`;
  return RESOLUTION_WORDS[resolution]?.[locale] ?? resolution;
};
export const reasonWords = (reason: string, locale: Locale) => REASON_WORDS[reason]?.reason[locale] ?? reason;
export const actionWords = (reason: string, locale: Locale) => REASON_WORDS[reason]?.action[locale] ?? '';
