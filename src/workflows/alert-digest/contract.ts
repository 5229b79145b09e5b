// A seller's alert digest on one channel (src/workflows/alert-digest/workflow.ts), as its callers
// see it: its id, its input and the signal that queues an alert. The order workflow's activity
// starts it with the first alert (signalWithStart); it ends after a quiet window.
import { defineSignal } from '@temporalio/workflow';
import type { DigestAlert, DigestPending } from '../../domain/alert-digest';
import type { DispatchPolicy, Person } from '../../domain/dispatch';
import type { Locale } from '../../domain/locale';
import type { NoticeChannel } from '../../domain/preferences';

export const ALERT_DIGEST_WORKFLOW = 'sellerAlertDigest';
/** `key`: `alert-digest-<channel>-<hash of the seller's address>` (no address in an id people read). */
export const alertDigestWorkflowId = (tenantId: string, key: string) => `alert-digest/${tenantId}/${key}`;

export const alertQueuedSignal = defineSignal<[DigestAlert]>('alertQueued');

export interface AlertDigestInput {
  tenantId: string;
  /** The id's key, which the digests' dispatch ids start with. */
  key: string;
  channel: NoticeChannel;
  /** The seller the alerts are for (who the order's alerts would have gone to). */
  seller: Person;
  locale: Locale;
  timeZone: string;
  tenantName: string;
  /** The notices' policy (the order's, D3/D7) and the page a digest opens: the orders with open exceptions. */
  policy: DispatchPolicy;
  ordersUrl: string;
  /** The window: at most one message per this many milliseconds. */
  everyMs: number;
  /** Carried across continue-as-new. */
  lastSentAt?: number | null;
  pending?: DigestPending;
}
