// Seller alert digests (issue 20, item 4): a seller who chose a digest gets at most one alert
// message per N minutes per channel. The first alert after a quiet spell goes at once; what comes
// within the next N minutes waits and goes as one message listing everything, at the end of the
// window. Pure rules; the workflow (src/workflows/alert-digest) holds the timer.

/** One seller alert waiting for its digest: what the single alert would have said, in the tenant's words already. */
export interface DigestAlert {
  orderId: string;
  template: 'order_exception' | 'order_exception_resolved';
  exceptionLabel: string;
  reason: string;
  action: string;
  details: string | null;
  resolution: string;
  orderUrl: string;
  lastTrackingAt: string | null;
  /** When the order workflow raised it (ISO, workflow time). */
  at: string;
}

/** Bounds of the setting (minutes) and of what one digest lists; the rest is counted, not listed. */
export const DIGEST_MINUTES = { min: 5, max: 1440 } as const;
export const DIGEST_MAX_LISTED = 50;
/** Orders an SMS or WhatsApp digest names (a short message: the rest is counted). */
export const DIGEST_SHORT_LISTED = 3;

/** What waits for the next message: at most DIGEST_MAX_LISTED alerts, and how many more came. */
export interface DigestPending {
  alerts: DigestAlert[];
  more: number;
}

export const emptyPending = (): DigestPending => ({ alerts: [], more: 0 });

/** Adds an alert; past the listing bound it is counted only (the workflow's state stays bounded). */
export function addAlert(pending: DigestPending, alert: DigestAlert): DigestPending {
  return pending.alerts.length < DIGEST_MAX_LISTED
    ? { alerts: [...pending.alerts, alert], more: pending.more }
    : { alerts: pending.alerts, more: pending.more + 1 };
}

/** When the next message may go: now after a quiet spell (or never sent), else when the window since the last ends. */
export function nextSendAt(lastSentAt: number | null, everyMs: number, now: number): number {
  return lastSentAt === null ? now : Math.max(now, lastSentAt + everyMs);
}

/**
 * The message for what is pending: one alert alone goes as the alert itself (its own template and
 * words); several go as one digest listing them, oldest first, with how many more were not listed.
 */
export function digestMessage(
  pending: DigestPending,
  personName: string,
  ordersUrl: string,
): { template: string; data: Record<string, unknown> } {
  const [first, ...rest] = pending.alerts;
  if (first && rest.length === 0 && pending.more === 0) {
    const { template, at: _at, ...alert } = first;
    return { template, data: { personName, ...alert } };
  }
  const orders = new Set(pending.alerts.map((a) => a.orderId));
  return {
    template: 'order_alert_digest',
    data: {
      personName,
      count: pending.alerts.length + pending.more,
      ordersUrl,
      // SMS and WhatsApp name a few orders and count the others.
      shortList: [...orders].slice(0, DIGEST_SHORT_LISTED).join(', '),
      shortMore: Math.max(0, orders.size - DIGEST_SHORT_LISTED) + pending.more,
      alerts: pending.alerts.map(({ template, at: _at, lastTrackingAt: _last, ...a }) => ({
        ...a,
        resolved: template === 'order_exception_resolved',
      })),
      more: pending.more,
    },
  };
}
