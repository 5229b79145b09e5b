// The order use cases the REST routes (src/api/routes/orders.ts, order-workspace.ts) and the
// operator pages (src/ui/orders.ts) both call: read an order, run an Update on it, the seller's
// and ops' actions (audited), the orders workspace's list, an uploaded document.
import type { NoticePathEntry } from '../domain/customer-notice';
import type { WorkflowHandle } from '@temporalio/client';
import type { Principal } from '../db/api-keys';
import type { AppDeps } from './deps';
import { ApiError, unprocessable } from '../api/errors';
import { actorOf } from '../api/auth';
import { noticeRecipients } from '../api/dispatch-views';
import type { ListOrdersQuery, OrderEventBody, OrderTimelineQuery } from '../api/schemas';
import {
  cancelUpdate,
  orderEventUpdate,
  orderStateQuery,
  orderWorkflowId,
  releaseUpdate,
  sellerActionUpdate,
  type LegacyOrderView,
  type TimelineEntry,
} from '../workflows/order/contract';
import {
  FINISHED_STATES,
  holdRefusal,
  type ExceptionType,
  type OrderEventType,
  type OrderState,
} from '../domain/order';
import { checkDocument, documentFilename } from '../domain/documents';
import type { DocumentKind, SellerAction } from '../domain/seller-actions';
import { countOpen, listOrders, type ListRow } from '../db/order-list';
import { deleteDocument, storeDocument } from '../db/order-documents';
import type { UploadedFile } from '../api/uploads';
import { mapWorkflowError, refusalError, updateRefusal, workflowGone, type UpdateRefusal } from './workflow-errors';

/**
 * Runs an Update of the order's workflow: a missing order is a 404, a finished one a 409 with its
 * state, a refused Update a 409 (or 422 for a field) saying why: the validator's message and
 * details, or what `explain` says instead.
 */
export async function updateOrder<T>(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  tenantId: string,
  orderId: string,
  run: (handle: WorkflowHandle) => Promise<T>,
  explain?: (refusal: UpdateRefusal) => Promise<UpdateRefusal | ApiError>,
): Promise<T> {
  try {
    return await run(deps.temporal.workflow.getHandle(orderWorkflowId(tenantId, orderId)));
  } catch (err) {
    if (workflowGone(err)) {
      // A finished order's workflow is closed; it still exists, and accepts nothing more.
      const finished = await deps.db.Order.findOne({ tenantId, orderId }, { state: 1 }).lean();
      if (finished)
        throw new ApiError(409, 'conflict', `the order is ${finished.state} and accepts no more events or actions`, {
          state: finished.state,
          ended: true,
        });
    }
    const refusal = updateRefusal(err);
    if (refusal && explain) {
      const said = await explain(refusal);
      throw said instanceof ApiError ? said : refusalError(said);
    }
    throw mapWorkflowError(err, `order ${orderId}`);
  }
}

interface OrderFacts {
  state: OrderState;
  address: unknown;
  risk: unknown;
  hold: { reason: string; since: string } | null;
  stuck: boolean;
  lastTrackingAt: string | null;
  restocked: boolean;
  confirmation: { expiresAt: string; used: boolean } | null;
  /** Issue 18: whether it has ended; the documents uploaded; the carrier and dimensions the seller set; why it is stuck. */
  ended?: boolean;
  documents?: unknown;
  carrier?: string | null;
  dimensions?: unknown;
  stuckCause?: string | null;
  placedAt?: string | null;
}
type HistoryLine = {
  event: string;
  at: string;
  by: string | null;
  reason: string | null;
  details: Record<string, unknown> | null;
};
/** A notice of the order; an alert queued in the seller's digest (issue 20) has no dispatch of its own. */
type Notification = {
  dispatchId: string | null;
  digest?: true;
  noticeId?: string;
  audience: string;
  channel: string;
  template: string;
  at: string;
};

/**
 * O10: an order of the tenant, its exceptions (open and resolved), every notification with its
 * delivery status, and one page of its timeline in time order (the newest by default;
 * `historyCursor` names the next older page); 404 otherwise.
 */
export async function readOrder(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  tenantId: string,
  orderId: string,
  page: Partial<OrderTimelineQuery> = {},
) {
  const { db } = deps;
  const limit = page.historyLimit ?? 50;
  const doc = await db.Order.findOne({ tenantId, orderId }).lean();
  let facts: OrderFacts;
  let exceptions: Array<{
    type: ExceptionType;
    reason: string;
    details: string | null;
    cause?: string | null;
    openedAt: string;
    resolvedAt: string | null;
    resolution: string | null;
  }>;
  let notifications: Notification[];
  let history: HistoryLine[];
  let historyCursor: number | null = null;
  const legacy = doc?.view as LegacyOrderView | undefined;
  if (legacy) {
    // An order started before issue 15: its whole view is one field, paged here.
    facts = {
      ...legacy,
      ended: FINISHED_STATES.includes(legacy.state),
      confirmation: legacy.confirmation && { expiresAt: legacy.confirmation.expiresAt, used: legacy.confirmation.used },
    };
    ({ exceptions, notifications } = legacy);
    const end = Math.min(legacy.history.length, (page.historyCursor ?? legacy.history.length + 1) - 1);
    history = legacy.history.slice(Math.max(0, end - limit), end);
    historyCursor = end - limit > 0 ? end - limit + 1 : null;
  } else {
    if (doc) {
      facts = {
        state: doc.state as OrderState,
        address: doc.address,
        risk: doc.risk ?? null,
        hold: doc.hold ?? null,
        stuck: doc.stuck ?? false,
        lastTrackingAt: doc.lastTrackingAt ?? null,
        restocked: doc.restocked ?? false,
        confirmation: doc.confirmation ?? null,
        ended: doc.ended ?? FINISHED_STATES.includes(doc.state as OrderState),
        documents: doc.documents ?? { label: null, invoice: null },
        carrier: doc.carrier ?? null,
        dimensions: doc.dimensions ?? null,
        stuckCause: doc.stuckCause ?? null,
        placedAt: (doc.placedAt ?? doc.createdAt)?.toISOString() ?? null,
      };
    } else {
      // Accepted, not yet recorded by the worker: answer from the workflow itself.
      try {
        const s = await deps.temporal.workflow.getHandle(orderWorkflowId(tenantId, orderId)).query(orderStateQuery);
        facts = {
          ...s,
          ended: s.ended ?? FINISHED_STATES.includes(s.state),
          confirmation: s.confirmation && { expiresAt: s.confirmation.expiresAt, used: s.confirmation.used },
        };
      } catch (err) {
        throw mapWorkflowError(err, `order ${orderId}`);
      }
    }
    const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
    const [exceptionDocs, notificationDocs, events] = await Promise.all([
      db.OrderException.find({ tenantId, orderId }).lean(),
      db.OrderTimeline.find({ tenantId, orderId, kind: 'notification' }).lean(),
      db.OrderTimeline.find({
        tenantId,
        orderId,
        kind: 'event',
        ...(page.historyCursor ? { seq: { $lt: page.historyCursor } } : {}),
      })
        .sort({ seq: -1 })
        .limit(limit + 1)
        .lean(),
    ]);
    exceptions = exceptionDocs
      .sort((a, b) => a.n - b.n)
      .map((e) => ({
        type: e.type as ExceptionType,
        reason: e.reason,
        details: e.details ?? null,
        cause: e.cause ?? null,
        openedAt: e.openedAt.toISOString(),
        resolvedAt: iso(e.resolvedAt),
        resolution: e.resolution ?? null,
      }));
    notifications = (
      notificationDocs as unknown as Array<Extract<TimelineEntry, { kind: 'notification' }> & { at: Date }>
    )
      .sort((a, b) => a.seq - b.seq)
      .map((n) => ({
        dispatchId: n.dispatchId,
        ...(n.digest ? { digest: true as const } : {}),
        ...(n.noticeId ? { noticeId: n.noticeId } : {}),
        audience: n.audience,
        channel: n.channel,
        template: n.template,
        at: n.at.toISOString(),
      }));
    const lines = events.slice(0, limit).reverse() as unknown as Array<
      Extract<TimelineEntry, { kind: 'event' }> & { at: Date }
    >;
    history = lines.map((h) => ({
      event: h.event,
      at: h.at.toISOString(),
      by: h.by ?? null,
      reason: h.reason ?? null,
      details: h.details ?? null,
    }));
    historyCursor = events.length > limit ? lines[0].seq : null;
  }
  // Issue 20: each customer notice's path through its channels (which channel when, why it moved on, held until when).
  const customerNotices = (
    await db.CustomerNotice.find({ tenantId, orderId }, { noticeId: 1, notice: 1, state: 1, path: 1 }).lean()
  )
    .map(({ noticeId, notice, state, path }) => ({ noticeId, notice, state, path: path as NoticePathEntry[] }))
    .sort((a, b) => (a.path[0]?.at ?? '').localeCompare(b.path[0]?.at ?? ''));
  // A notice on its channel order is a row per channel that went (its dispatch), or one row while none went yet.
  const rows = notifications.flatMap((n): Notification[] => {
    const sent = n.noticeId
      ? (customerNotices.find((c) => c.noticeId === n.noticeId)?.path ?? []).filter((p) => p.event === 'sent')
      : [];
    return sent.length ? sent.map((p) => ({ ...n, dispatchId: p.dispatchId ?? null, channel: p.channel })) : [n];
  });
  const dispatches = await noticeRecipients(
    db,
    tenantId,
    rows.flatMap((n) => (n.dispatchId ? [n.dispatchId] : [])),
  );
  return {
    orderId,
    ...facts,
    exceptions,
    history,
    historyCursor,
    notifications: rows.map((n) => {
      if (n.noticeId && !n.dispatchId) {
        const cascade = customerNotices.find((c) => c.noticeId === n.noticeId);
        return { ...n, result: 'queued', to: null, status: cascade?.state ?? 'running' };
      }
      if (!n.dispatchId) return { ...n, result: 'queued', to: null, status: 'digest' };
      const d = dispatches.get(n.dispatchId);
      return { ...n, result: d?.result ?? 'queued', to: d?.to ?? null, status: d?.status ?? 'queued' };
    }),
    customerNotices,
  };
}

/** A fulfilment event (allocated, packed, tracking_update, delivered, …), as the order workflow's Update. */
export async function sendOrderEvent(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  tenantId: string,
  orderId: string,
  event: OrderEventBody,
) {
  return updateOrder(
    deps,
    tenantId,
    orderId,
    (h) => h.executeUpdate(orderEventUpdate, { args: [event] }),
    async (refusal) => {
      // An order started before these refusals said what lifts a hold: the same words, from its record (issue 18 item 6).
      if (refusal.details) return refusal;
      const doc = await deps.db.Order.findOne({ tenantId, orderId }, { state: 1, hold: 1, view: 1 }).lean();
      const hold = (doc?.hold ?? (doc?.view as LegacyOrderView | undefined)?.hold) as
        { reason: string; since: string } | null | undefined;
      if (doc?.state !== 'on_hold' || !hold) return refusal;
      return {
        ...refusal,
        ...holdRefusal(
          { message: refusal.message, details: { state: 'on_hold', event: event.type as OrderEventType, allowed: [] } },
          hold,
          orderId,
        ),
      };
    },
  );
}

/** O4: ops release or cancel a held order with a reason (audited). */
export async function opsAction(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  principal: Principal,
  orderId: string,
  action: 'release' | 'cancel',
  body: { reason: string },
) {
  const tenantId = principal.tenantId!;
  const by = actorOf(principal);
  const def = action === 'release' ? releaseUpdate : cancelUpdate;
  const view = await updateOrder(deps, tenantId, orderId, (h) =>
    h.executeUpdate(def, { args: [{ by, reason: body.reason }] }),
  );
  await deps.db.Audit.create({
    tenantId,
    actor: by,
    action: `order.${action}`,
    target: orderId,
    reason: body.reason,
    at: new Date(),
  });
  return { orderId, state: view.state };
}

/** The cursor of the next page: the last row's number in the placing order and its order id, opaque to the caller. */
const encodeCursor = (row: ListRow) => Buffer.from(JSON.stringify([row.seq, row.orderId])).toString('base64url');
function decodeCursor(cursor: string): { seq: number; orderId: string } {
  try {
    const [seq, orderId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
    if (Number.isInteger(seq) && seq >= 0 && typeof orderId === 'string') return { seq, orderId };
  } catch {
    /* refused below */
  }
  // Well-formed (the schema's pattern) but not one this API gave: a rule the schema cannot say, 422.
  throw unprocessable(
    'cursor: not a cursor this API gave (pass back nextCursor as it came)',
    'cursor',
    cursor.slice(0, 40),
  );
}

/** One page of the orders workspace and, unless asked not to, its counts (issue 18 item 1). */
export async function listOrdersPage(deps: Pick<AppDeps, 'db'>, tenantId: string, q: ListOrdersQuery) {
  const from = q.from ? new Date(q.from) : undefined;
  const to = q.to ? new Date(q.to) : undefined;
  if (from && to && from > to) throw unprocessable('to: must not be before from', 'to', q.to);
  const [page, tally] = await Promise.all([
    listOrders(deps.db, tenantId, {
      exception: q.exception,
      state: q.state,
      stuck: q.stuck,
      held: q.held,
      from,
      to,
      limit: q.limit,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
    }),
    q.counts ? countOpen(deps.db, tenantId) : undefined,
  ]);
  return {
    orders: page.rows.map(({ seq: _seq, ...r }) => ({
      ...r,
      placedAt: r.placedAt.toISOString(),
      exceptions: r.exceptions.map((e) => ({ ...e, openedAt: e.openedAt.toISOString() })),
    })),
    nextCursor: page.more && page.rows.length ? encodeCursor(page.rows.at(-1)!) : null,
    ...(tally ? { counts: tally } : {}),
  };
}

/**
 * A seller's action on an order (issue 18 item 2): the order workflow's Update, the same from the
 * API and the page, audited with who (a person's name from the page's session, or the key) and when.
 * A channel the customer cannot receive is a 422 naming `channels`; an action the order's state
 * does not allow, a 409 saying why.
 */
export async function sellerAction(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  principal: Principal,
  orderId: string,
  action: SellerAction,
) {
  const tenantId = principal.tenantId!;
  const by = actorOf(principal);
  const view = await updateOrder(
    deps,
    tenantId,
    orderId,
    (h) => h.executeUpdate(sellerActionUpdate, { args: [{ by, action }] }),
    async (refusal) => {
      const field = refusal.details?.field;
      if (field === 'channels')
        return new ApiError(422, 'invalid_request', `channels: ${refusal.message}`, [
          { field, message: refusal.message, value: null },
        ]);
      // An order started before issue 15 runs the earlier workflow, which has no seller actions.
      if (/no registered handler/i.test(refusal.message)) {
        return {
          ...refusal,
          message:
            'this order was started by an earlier version of Relais, which takes no seller actions: use the fulfilment events (POST …/events), or release and cancel a hold',
          details: { field: null },
        };
      }
      return refusal;
    },
  );
  const note = 'note' in action ? action.note : null;
  const { type, ...details } = action;
  await deps.db.Audit.create({
    tenantId,
    actor: by,
    action: `order.${type}`,
    target: orderId,
    reason: note,
    at: new Date(),
    details,
  });
  return { orderId, state: view.state, stuck: view.stuck, ended: (view as { ended?: boolean }).ended ?? false };
}

/**
 * Stores the label or invoice and records it on the order (issue 18 item 2, O5): size and type
 * checked first (PDF, PNG, JPEG by their first bytes), then kept in GridFS, then the order's
 * Update; a refused Update removes the file again, so a refusal stores nothing.
 */
export async function uploadDocument(
  deps: Pick<AppDeps, 'db' | 'temporal'>,
  principal: Principal,
  orderId: string,
  file: UploadedFile,
  body: { kind: DocumentKind; note?: string | null },
) {
  const tenantId = principal.tenantId!;
  // Another tenant's order, or none: 404 before the file is even looked at.
  if (!(await deps.db.Order.exists({ tenantId, orderId }))) {
    await deps.temporal.workflow
      .getHandle(orderWorkflowId(tenantId, orderId))
      .describe()
      .catch((err: unknown) => {
        throw mapWorkflowError(err, `order ${orderId}`);
      });
  }
  const check = checkDocument(file.content, file.mimetype);
  if (!check.ok)
    throw new ApiError(
      check.status,
      check.status === 413 ? 'payload_too_large' : 'invalid_request',
      `file: ${check.message}`,
      [{ field: 'file', message: check.message, value: file.filename || null }],
    );
  const filename = documentFilename(file.filename, body.kind, check.contentType);
  const document = await storeDocument(
    deps.db,
    { tenantId, orderId, kind: body.kind, contentType: check.contentType, uploadedBy: actorOf(principal) },
    filename,
    file.content,
  );
  try {
    const answer = await sellerAction(deps, principal, orderId, { type: 'upload_document', kind: body.kind, document });
    return {
      ...answer,
      document: {
        ...document,
        kind: body.kind,
        url: `/v1/orders/${encodeURIComponent(orderId)}/documents/${document.documentId}`,
      },
    };
  } catch (err) {
    await deleteDocument(deps.db, document.documentId);
    throw err;
  }
}
