// Rule O9: each seller chooses which exception alerts they get, on which channels, and which
// customer notifications go out. Defaults: every seller alert on, by email; customer notices on.
import type { ExceptionType } from './order';
import { EXCEPTION_TYPES } from './order';

export type NoticeChannel = 'email' | 'sms' | 'whatsapp';
export interface ChannelChoice {
  enabled: boolean;
  channels: NoticeChannel[];
}
export type CustomerNotice = 'address_confirmation' | 'delivery_delay' | 'delivery_failed';
export const CUSTOMER_NOTICES: readonly CustomerNotice[] = [
  'address_confirmation',
  'delivery_delay',
  'delivery_failed',
];

export interface Preferences {
  sellerAlerts: Record<ExceptionType, ChannelChoice>;
  customerNotices: Record<CustomerNotice, ChannelChoice>;
  /** Issue 20: at most one seller alert message per this many minutes per channel (a digest); null: each at once. */
  sellerDigestMinutes: number | null;
}

export function defaultPreferences(): Preferences {
  return {
    sellerAlerts: Object.fromEntries(
      EXCEPTION_TYPES.map((t) => [t, { enabled: true, channels: ['email'] }]),
    ) as Preferences['sellerAlerts'],
    customerNotices: {
      // Issue 20: the channels are an order, tried one at a time (src/domain/customer-notice.ts).
      address_confirmation: { enabled: true, channels: ['whatsapp', 'sms', 'email'] },
      delivery_delay: { enabled: true, channels: ['sms', 'email'] },
      delivery_failed: { enabled: true, channels: ['sms', 'email'] },
    },
    sellerDigestMinutes: null,
  };
}

/** Stored preferences over the defaults: a tenant that never chose gets the defaults. */
export function effectivePreferences(
  stored:
    | Partial<{
        sellerAlerts: Partial<Preferences['sellerAlerts']>;
        customerNotices: Partial<Preferences['customerNotices']>;
        sellerDigestMinutes: number | null;
      }>
    | null
    | undefined,
): Preferences {
  const d = defaultPreferences();
  return {
    sellerAlerts: { ...d.sellerAlerts, ...(stored?.sellerAlerts ?? {}) } as Preferences['sellerAlerts'],
    customerNotices: { ...d.customerNotices, ...(stored?.customerNotices ?? {}) } as Preferences['customerNotices'],
    sellerDigestMinutes: stored?.sellerDigestMinutes ?? d.sellerDigestMinutes,
  };
}

/** Channels to use for a person: the chosen ones they can receive (a phone for SMS/WhatsApp). */
export function channelsFor(
  choice: ChannelChoice,
  person: { email: string | null; phone: string | null },
): NoticeChannel[] {
  if (!choice.enabled) return [];
  return choice.channels.filter((c) => (c === 'email' ? Boolean(person.email) : Boolean(person.phone)));
}

/**
 * Channels ticked on a page, which carry no order, in the tenant's order for the notice (issue 20:
 * tried one at a time); a ticked channel the tenant's order leaves out comes after, as ticked.
 */
export function byPreference(ticked: readonly NoticeChannel[], preferred: readonly NoticeChannel[]): NoticeChannel[] {
  return [...preferred.filter((c) => ticked.includes(c)), ...ticked.filter((c) => !preferred.includes(c))];
}
