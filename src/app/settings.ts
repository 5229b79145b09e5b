// A tenant's settings (policies, locale, time zone, sender, outlets) and alert preferences (O9):
// only the fields sent change, audited; the same for the API and the settings pages.
import type { Db } from '../db/models';
import type { Principal } from '../db/api-keys';
import type { PreferencesBody, SettingsBody } from '../api/schemas';
import { refusePolicyProblems } from '../api/errors';
import { effectivePreferences, type CustomerNotice, type NoticeChannel } from '../domain/preferences';
import { DEFAULT_POLICIES } from '../domain/durations';
import { DEFAULT_SEND_WINDOW } from '../domain/customer-notice';

/** The fields of a tenant its settings show. */
const PROJECTION = {
  name: 1,
  locale: 1,
  timeZone: 1,
  emailFrom: 1,
  outlets: 1,
  policies: 1,
  copyToSender: 1,
  knownBadAddresses: 1,
  acknowledgeDocuments: 1,
  sendWindow: 1,
} as const;

/** The tenant's settings as the API and the settings page show them. */
export async function readSettings(db: Db, tenantId: string) {
  const tenant = await db.Tenant.findById(tenantId, PROJECTION).lean();
  const { _id, ...settings } = tenant!;
  // A policy added after the tenant was created (failoverAfter, issue 20) is shown at its default.
  return {
    tenantId: _id,
    ...settings,
    policies: { ...DEFAULT_POLICIES, ...settings.policies },
    sendWindow: settings.sendWindow?.from ? settings.sendWindow : DEFAULT_SEND_WINDOW,
  };
}

/** The tenant's channel order for a customer notice (its preferences over the defaults). */
export async function preferredChannels(db: Db, tenantId: string, notice: CustomerNotice): Promise<NoticeChannel[]> {
  const tenant = await db.Tenant.findById(tenantId, { preferences: 1 }).lean();
  return effectivePreferences(tenant?.preferences as never).customerNotices[notice].channels;
}

/** Only the fields sent change (audited); shared with the settings page (src/ui). */
export async function updateSettings(db: Db, principal: Principal, body: SettingsBody) {
  const tenantId = principal.tenantId!;
  if (body.policies)
    refusePolicyProblems(body.policies, (await db.Tenant.findById(tenantId, { policies: 1 }).lean())?.policies ?? {});
  const set: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'policies') for (const [p, v] of Object.entries(value as object)) set[`policies.${p}`] = v;
    else set[key] = value;
  }
  // updateOne then read: FerretDB's findAndModify takes no projection.
  await db.Tenant.updateOne({ _id: tenantId }, { $set: set }, { runValidators: true });
  const settings = await readSettings(db, tenantId);
  await db.Audit.create({
    tenantId,
    actor: principal.keyId,
    action: 'settings.update',
    target: tenantId,
    at: new Date(),
    details: body,
  });
  return settings;
}

/** O9: the choices sent, over the current ones (audited). */
export async function updatePreferences(db: Db, principal: Principal, body: PreferencesBody) {
  const tenantId = principal.tenantId!;
  const tenant = await db.Tenant.findById(tenantId, { preferences: 1 }).lean();
  const current = effectivePreferences(tenant?.preferences as never);
  const next = {
    sellerAlerts: { ...current.sellerAlerts, ...(body.sellerAlerts ?? {}) },
    customerNotices: { ...current.customerNotices, ...(body.customerNotices ?? {}) },
    sellerDigestMinutes:
      body.sellerDigestMinutes === undefined ? current.sellerDigestMinutes : body.sellerDigestMinutes,
  };
  await db.Tenant.updateOne({ _id: tenantId }, { $set: { preferences: next } });
  await db.Audit.create({
    tenantId,
    actor: principal.keyId,
    action: 'preferences.update',
    target: tenantId,
    at: new Date(),
    details: body,
  });
  return next;
}
