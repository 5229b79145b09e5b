// The dispatch use cases the REST routes (src/api/routes/dispatches.ts) and the operator pages
// (src/ui) both call: one way to list, read, resend and mark sent, with the same audits.
import type { Principal } from '../db/api-keys';
import type { Db } from '../db/models';
import type { AppDeps } from './deps';
import { ApiError, notFound, unprocessable } from '../api/errors';
import { actorOf } from '../api/auth';
import { personName } from '../ui/session';
import type { ListDispatchesQuery } from '../api/schemas';
import { dayOf, isCalendarDay, startOfDay } from '../domain/days';
import { carriesSecrets, NO_RESEND_OF_SECRETS } from '../domain/secrets';
import {
  dispatchStateQueryV1,
  dispatchWorkflowId,
  markSentUpdate,
  resendRecipientUpdate,
  resendRecipientUpdateV1,
  resendViaUpdate,
} from '../workflows/dispatch/contract';
import { listNewest } from '../db/dispatch-log';
import { dispatchKey } from '../db/dispatch-records';
import {
  DEFAULT_RECIPIENTS_PAGE,
  dispatchView,
  firstVersionStateView,
  logFilter,
  logRow,
  recipientByIdentifier,
  type RecipientPage,
} from '../api/dispatch-views';
import { mapWorkflowError, updateRefusal, workflowGone } from './workflow-errors';

/** A moment a little ahead of this clock is taken as now (the caller's clock may run ahead). */
const CLOCK_SKEW_MS = 60_000;

/** L1: the delivery log, failed dispatches only unless asked for all, newest first; each row counts its recipients and names its failures. */
export async function listDispatches(db: Db, tenantId: string, q: ListDispatchesQuery) {
  // Every address, and the first version's records' histories and copies, are left out of a row.
  const projection = {
    recipientAddresses: 0,
    'recipients.history': 0,
    html: 0,
    text: 0,
    templateData: 0,
    sendLog: 0,
  } as const;
  // Notices are listed too (issue 16 item 7): record numbers have no gaps; `kind` keeps one or the other.
  const kind = q.kind === 'all' ? undefined : q.kind;
  // The default listings (all, failed only) read the log page by page: flat as the store grows.
  const listing = !q.result || q.result === 'failed' ? 'failed' : q.result === 'all' ? 'all' : null;
  // Issue 20: asking who has (not) acknowledged is about every result, unless one is asked for.
  if (q.acknowledged && !q.result) q = { ...q, result: 'all' };
  if (listing && !q.recipient && !q.document && !q.from && !q.to && !q.acknowledged) {
    const { rows, nextCursor } = await listNewest(db, tenantId, {
      listing,
      kind,
      before: q.cursor,
      limit: q.limit,
      projection,
    });
    return { dispatches: rows.map((d) => logRow(d)), nextCursor };
  }
  const filter = logFilter(tenantId, q);
  if (q.cursor) filter.number = { $lt: q.cursor };
  const docs = await db.Dispatch.find(filter, projection)
    .sort({ number: -1 })
    .limit(q.limit + 1)
    .lean();
  const page = docs.slice(0, q.limit);
  return {
    dispatches: page.map((d) => logRow(d as Record<string, unknown>)),
    nextCursor: docs.length > q.limit ? page[page.length - 1].number : null,
  };
}

/** L2: one dispatch of the tenant with a page of its recipients; 404 otherwise. */
export async function readDispatch(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  tenantId: string,
  dispatchId: string,
  page: RecipientPage = { from: 0, limit: DEFAULT_RECIPIENTS_PAGE },
) {
  const view = await dispatchView(deps.db, tenantId, dispatchId, page);
  if (view) return view;
  // A dispatch is recorded before its workflow starts; one started by the first version was
  // recorded by its workflow, which answers until then.
  try {
    const state = await deps.temporal.workflow
      .getHandle(dispatchWorkflowId(tenantId, dispatchId))
      .query(dispatchStateQueryV1);
    return firstVersionStateView(tenantId, dispatchId, state as never, page);
  } catch (err) {
    throw mapWorkflowError(err, `dispatch ${dispatchId}`);
  }
}

/**
 * D8: a recipient corrected and resent, audited; the old address is remembered as corrected. Issue
 * 17: a delivered one can be sent again, to the same address or another, as a new attempt in the same
 * history (its own statuses, D3–D7 applying to it); audited as `dispatch.send_again`.
 */
export async function resendRecipient(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  principal: Principal,
  dispatchId: string,
  recipientId: string,
  body: { email: string },
) {
  const tenantId = principal.tenantId!;
  const { db } = deps;
  const handle = deps.temporal.workflow.getHandle(dispatchWorkflowId(tenantId, dispatchId));
  const current = await db.Dispatch.findById(dispatchKey(tenantId, dispatchId), { template: 1 }).lean();
  const header = current ?? (await db.LegacyDispatch.findOne({ tenantId, dispatchId }, { template: 1 }).lean());
  // The workflow refuses it too (before this record exists, and for any caller); here also once it has finished.
  if (header && carriesSecrets(header.template)) throw new ApiError(409, 'conflict', NO_RESEND_OF_SECRETS);
  try {
    let previous: string | undefined;
    let previousStatus: string | undefined;
    let recipient: unknown;
    if (current) {
      const target = await recipientByIdentifier(db, tenantId, dispatchId, recipientId);
      if (!target) throw new ApiError(409, 'conflict', `no recipient ${recipientId} in this dispatch`);
      previous = target.address;
      previousStatus = target.status;
      const { index } = await handle.executeUpdate(resendRecipientUpdate, {
        args: [{ index: target.index, recipientId, address: body.email, requestedBy: actorOf(principal) }],
      });
      recipient = (await readDispatch(deps, tenantId, dispatchId, { from: index, limit: 1 })).recipients[0];
    } else {
      // A dispatch of the first version of the workflow (docs/deploy.md).
      const before = await db.LegacyDispatch.findOne({ tenantId, dispatchId }, { recipients: 1 }).lean();
      previous = before?.recipients.find((r) => r.recipientId === recipientId)?.address;
      recipient = await handle.executeUpdate(resendRecipientUpdateV1, {
        args: [{ recipientId, address: body.email, requestedBy: actorOf(principal) }],
      });
    }
    const at = new Date();
    // Issue 17: a delivered one sent again is not a correction of its address (a later dispatch to it is not warned).
    const again = previousStatus === 'delivered' || previousStatus === 'sent';
    await db.Audit.create({
      tenantId,
      actor: actorOf(principal),
      action: again ? 'dispatch.send_again' : 'dispatch.resend',
      target: `${dispatchId}/${recipientId}`,
      at,
      details: { from: previous ?? null, to: body.email, previousStatus: previousStatus ?? null },
    });
    if (!again && previous && previous.toLowerCase() !== body.email.toLowerCase()) {
      await db.ContactCorrection.create({
        tenantId,
        from: previous.toLowerCase(),
        to: body.email,
        by: principal.keyId,
        at,
      });
    }
    return { recipient };
  } catch (err) {
    throw mapWorkflowError(err, `dispatch ${dispatchId}`);
  }
}

/** D8: the document re-sent over SMS or WhatsApp as a signed link, audited. */
export async function resendVia(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  principal: Principal,
  dispatchId: string,
  body: { channel: 'sms' | 'whatsapp'; phone: string },
) {
  const tenantId = principal.tenantId!;
  try {
    const result = await deps.temporal.workflow
      .getHandle(dispatchWorkflowId(tenantId, dispatchId))
      .executeUpdate(resendViaUpdate, {
        args: [{ channel: body.channel, phone: body.phone, requestedBy: actorOf(principal) }],
      });
    await deps.db.Audit.create({
      tenantId,
      actor: actorOf(principal),
      action: 'dispatch.resend_via',
      target: dispatchId,
      at: new Date(),
      details: result,
    });
    return result;
  } catch (err) {
    throw mapWorkflowError(err, `dispatch ${dispatchId}`);
  }
}

/**
 * D11: a document marked as sent by other means (posted, handed over), with who and when: the day
 * chosen (in the tenant's time zone, not after today) or the moment, and the person's name. A
 * failed dispatch so marked leaves the failed-only log; its recipients' histories keep what failed.
 */
export async function markSent(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  principal: Principal,
  dispatchId: string,
  body: { note: string; at?: string; date?: string; by?: string },
) {
  const tenantId = principal.tenantId!;
  const { db } = deps;
  const tenant = await db.Tenant.findById(tenantId, { timeZone: 1 }).lean();
  const timeZone = tenant?.timeZone ?? 'UTC';
  const now = new Date();
  // Schema-valid, refused by a rule the schema cannot say (a real day, not after today, one of the two): 422.
  if (body.date !== undefined && body.at !== undefined)
    throw unprocessable('give the day (date) or the moment (at), not both', 'date', body.date);
  if (body.date !== undefined) {
    if (!isCalendarDay(body.date))
      throw unprocessable(`date: "${body.date}" is not a day of the calendar`, 'date', body.date);
    const today = dayOf(now, timeZone);
    if (body.date > today)
      throw unprocessable(`date: ${body.date} is after today (${today} in ${timeZone})`, 'date', body.date);
  }
  if (body.at !== undefined && new Date(body.at).getTime() > now.getTime() + CLOCK_SKEW_MS)
    throw unprocessable(`at: ${body.at} is in the future`, 'at', body.at);
  // A past day is recorded at its start in the tenant's zone (the page shows the day); today, now.
  const at = body.at
    ? new Date(body.at)
    : body.date && body.date !== dayOf(now, timeZone)
      ? startOfDay(body.date, timeZone)
      : now;
  const person = personName(body.by) ?? principal.person ?? null;
  const marked = {
    by: actorOf({ ...principal, person }),
    at: at.toISOString(),
    note: body.note,
    ...(body.at ? {} : { on: body.date ?? dayOf(now, timeZone) }),
  };
  const current = await db.Dispatch.exists({ _id: dispatchKey(tenantId, dispatchId) });
  if (!current && !(await db.LegacyDispatch.exists({ tenantId, dispatchId }))) throw notFound(`dispatch ${dispatchId}`);
  try {
    // The running workflow owns the projection; it records the mark and writes it.
    await deps.temporal.workflow
      .getHandle(dispatchWorkflowId(tenantId, dispatchId))
      .executeUpdate(markSentUpdate, { args: [marked] });
  } catch (err) {
    // A dispatch that finished listening has no writer left: record it directly, out of the failures.
    if (!workflowGone(err) && !updateRefusal(err)) throw err;
    const update = {
      $set: { markedSent: { ...marked, at: new Date(marked.at) } },
      $unset: { failedSeq: 1, failedPage: 1 },
    };
    if (current) await db.Dispatch.updateOne({ _id: dispatchKey(tenantId, dispatchId) }, update);
    else await db.LegacyDispatch.updateOne({ tenantId, dispatchId }, update);
  }
  await db.Audit.create({
    tenantId,
    actor: actorOf(principal),
    action: 'dispatch.mark_sent',
    target: dispatchId,
    at: now,
    reason: body.note || null,
    details: marked,
  });
  return { dispatchId, markedSent: marked };
}
