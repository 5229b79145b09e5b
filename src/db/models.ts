// MongoDB collections (through mongoose). Written only by activities and the API's own
// admin routes; Temporal holds the truth of running processes, these hold what people query.
// Kept to what both MongoDB and FerretDB v1 serve: no $lookup, transactions or partial indexes.
import mongoose, { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { metrics } from '../metrics';
import { heartbeatBoundMs, watchHeartbeats } from './heartbeat-watchdog';
import { DEFAULT_POLICIES } from '../domain/durations';

const personSchema = new Schema(
  {
    name: { type: String, required: true },
    email: { type: String, required: true },
    phone: { type: String, default: null },
    smsOptIn: { type: Boolean, default: false },
    whatsappOptIn: { type: Boolean, default: false },
  },
  { _id: false },
);

const outletSchema = new Schema(
  {
    id: { type: String, required: true },
    name: { type: String, required: true },
    purchasingManager: { type: personSchema, required: true },
  },
  { _id: false },
);

const policySchema = new Schema(
  {
    /** D3: a recipient unconfirmed after this becomes `unknown`. */
    unknownAfter: { type: String, default: DEFAULT_POLICIES.unknownAfter },
    /** D7: how long a dispatch keeps listening for late events. */
    listenFor: { type: String, default: DEFAULT_POLICIES.listenFor },
    /** O7: an order in transit with no tracking update for this long is stuck. */
    stuckAfter: { type: String, default: DEFAULT_POLICIES.stuckAfter },
    /** O3: how long an address confirmation link stays valid. */
    confirmationLinkTtl: { type: String, default: DEFAULT_POLICIES.confirmationLinkTtl },
    /** O5: how long an allocated order may wait to be packed. */
    readyToShipWithin: { type: String, default: DEFAULT_POLICIES.readyToShipWithin },
    /** Issue 20: SendGrid not reached within this hands the send to the SMTP server (when one is configured). */
    failoverAfter: { type: String, default: DEFAULT_POLICIES.failoverAfter },
    /** Issue 20: the sender is told when a recipient has not acknowledged receipt after this; absent or null: never. */
    acknowledgeWithin: { type: String },
    /** Issue 20: still nothing this long after that: escalated as D4 (null: the same as acknowledgeWithin). */
    acknowledgeEscalateAfter: { type: String },
    /** Issue 20: a customer notice's channel silent this long hands the notice to the next channel. */
    moveOnAfter: { type: String, default: DEFAULT_POLICIES.moveOnAfter },
  },
  { _id: false },
);

const tenantSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    locale: { type: String, enum: ['fr', 'en'], default: 'fr' },
    timeZone: { type: String, default: 'Europe/Paris' },
    policies: { type: policySchema, default: () => ({}) },
    emailFrom: { email: { type: String, required: true }, name: { type: String, default: null } },
    outlets: { type: [outletSchema], default: [] },
    /** Who receives order exception alerts (O9). */
    seller: { type: personSchema, default: null },
    /** O9: stored choices over the defaults (src/domain/preferences.ts). */
    preferences: { type: Schema.Types.Mixed, default: null },
    /** Issue 17: the sender in copy (cc) or blind copy (bcc) of the documents it emails, unless a dispatch says otherwise. */
    copyToSender: { type: String, enum: ['cc', 'bcc', null], default: null },
    /** Issue 20: a dispatch or order notice to an address known bad is sent with a warning, or refused. */
    knownBadAddresses: { type: String, enum: ['warn', 'refuse'], default: 'warn' },
    /** Issue 20: document types whose dispatches ask for receipt acknowledgement unless a dispatch says otherwise. */
    acknowledgeDocuments: { type: [String], default: [] },
    /** Issue 20: quiet hours, as the hours customer SMS and WhatsApp may go (HH:MM, the customer's zone); null: 08:00–21:00. */
    sendWindow: { type: new Schema({ from: String, to: String }, { _id: false }), default: null },
  },
  { timestamps: true, versionKey: false, minimize: false },
);

const apiKeySchema = new Schema(
  {
    _id: { type: String, required: true }, // the key's public id, the part before the secret
    tenantId: { type: String, default: null }, // null: a platform key (creates tenants)
    secretHash: { type: String, required: true }, // sha256 of the secret, compared in constant time
    roles: { type: [String], default: [] },
    label: { type: String, default: null },
  },
  { timestamps: true, versionKey: false },
);

const statusEntrySchema = new Schema(
  {
    status: { type: String, required: true },
    event: { type: String, required: true },
    at: { type: Date, required: true },
    eventId: { type: String, default: null },
    reason: { type: String, default: null },
    response: { type: String, default: null },
    reasonCode: { type: String, default: null },
    plainReason: { type: String, default: null },
  },
  { _id: false },
);

const legacyRecipientSchema = new Schema(
  {
    recipientId: { type: String, required: true },
    address: { type: String, required: true },
    name: { type: String, default: null },
    status: { type: String, required: true },
    opened: { type: Boolean, default: false },
    reasonCode: { type: String, default: null },
    plainReason: { type: String, default: null },
    rawReason: { type: String, default: null },
    providerMessageId: { type: String, default: null },
    attempt: { type: Number, default: 1 },
    replacedBy: { type: String, default: null },
    history: { type: [statusEntrySchema], default: [] },
  },
  { _id: false },
);

/**
 * FROZEN: a dispatch as the first version of the dispatch workflow recorded it, every recipient
 * with its whole status history in one document (ObjectId `_id`). Records of that shape stay in
 * `dispatches` beside the new ones; the API reads both, and the first version's activities
 * (src/activities/legacy/dispatch-v1.ts) keep writing them for the runs it started.
 */
const legacyDispatchSchema = new Schema(
  {
    tenantId: { type: String, required: true },
    dispatchId: { type: String, required: true },
    workflowId: { type: String, required: true },
    /** Record number shown in the delivery log (L1), per tenant, from 1. */
    number: { type: Number, required: true },
    kind: { type: String, enum: ['document', 'notification'], required: true },
    channel: { type: String, enum: ['email', 'sms', 'whatsapp'], required: true },
    provider: { type: String, required: true },
    template: { type: String, required: true },
    locale: { type: String, required: true },
    document: { type: { type: String, default: null }, number: { type: String, default: null } },
    sender: { name: String, email: String, outletId: { type: String, default: null } },
    requestedBy: { type: String, required: true },
    subject: { type: String, default: null },
    html: { type: String, default: null },
    text: { type: String, default: null },
    attachments: { type: [String], default: [] },
    /** The data the template was rendered with (WhatsApp approved templates need it again); secrets withheld. */
    templateData: { type: Schema.Types.Mixed, default: null },
    /**
     * When the copy above withholds a customer's link or reply code (src/domain/secrets.ts): what
     * is really sent, sealed (src/sealed.ts). Left out of every query unless asked for by name.
     */
    sealed: { type: String, default: null, select: false },
    recipients: { type: [legacyRecipientSchema], default: [] },
    recipientAddresses: { type: [String], default: [] },
    result: { type: String, required: true },
    providerError: { type: String, default: null },
    sentAt: { type: Date, default: null },
    completedAt: { type: Date, default: null },
    markedSent: { by: String, at: Date, note: String, on: String },
    resentVia: {
      type: [{ dispatchId: String, channel: String, address: String, at: Date, requestedBy: String, _id: false }],
      default: [],
    },
    sendLog: {
      type: [{ routingId: String, providerMessageId: String, outcome: String, response: String, at: Date, _id: false }],
      default: [],
    },
    parent: { type: String, default: null },
    /** Guards out-of-order projection writes: only a newer workflow state replaces an older one. */
    stateVersion: { type: Number, default: 0 },
    logPage: { type: Number },
    failedSeq: { type: Number },
    failedPage: { type: Number },
  },
  { timestamps: true, versionKey: false },
);
// The asynchronous-bounce fallback of runs of the first version (webhooks.ts); the other indexes are the new schema's.
legacyDispatchSchema.index({ 'sendLog.providerMessageId': 1 });

/**
 * A dispatch in the delivery log (L1, L2): what it is, its result and counts, the few recipients
 * that need attention. `_id` is `<tenant>/<dispatchId>`, so reading and writing one dispatch is a
 * lookup by `_id` on every MongoDB-wire server. Written by the API when the dispatch is accepted
 * (before its workflow starts), then only by its workflow's activities (one writer at a time).
 * The rendered copy is in `dispatch_contents`, each recipient in `dispatch_recipients`, each event
 * of their history in `dispatch_events`: a write touches only what changed.
 */
const dispatchSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** 2: this shape. Records of the first version have no format (legacyDispatchSchema). */
    format: { type: Number, required: true },
    tenantId: { type: String, required: true },
    dispatchId: { type: String, required: true },
    workflowId: { type: String, required: true },
    /** Record number shown in the delivery log (L1), per tenant, from 1. */
    number: { type: Number, required: true },
    kind: { type: String, enum: ['document', 'notification'], required: true },
    channel: { type: String, enum: ['email', 'sms', 'whatsapp'], required: true },
    provider: { type: String, required: true },
    template: { type: String, required: true },
    locale: { type: String, required: true },
    document: { type: { type: String, default: null }, number: { type: String, default: null } },
    sender: { name: String, email: String, outletId: { type: String, default: null } },
    requestedBy: { type: String, required: true },
    subject: { type: String, default: null },
    attachments: { type: [String], default: [] },
    recipientCount: { type: Number, required: true },
    /** Current addresses, lower-cased (the log's recipient filter). */
    recipientAddresses: { type: [String], default: [] },
    /** The first few current addresses, shown in the log row. */
    recipientPreview: { type: [String], default: [] },
    result: { type: String, required: true },
    /**
     * Recipients by status (only statuses some recipient has). A list, not an object keyed by
     * status: FerretDB v1 leaves `{ queued: 3 }` as it is when `$set` to `{ deferred: 3 }` (it
     * compares the two by their values alone).
     */
    counts: { type: [{ status: String, count: Number, _id: false }], default: [] },
    /** Delivered recipients whose mailbox showed the message's images (shown as Opened, D2). */
    opened: { type: Number, default: 0 },
    /** Recipients still deferred after the confirmation delay (D3): the failed-only log lists the dispatch, with its own marker. */
    overdueDeferred: { type: Number, default: 0 },
    /** The first few recipients that failed, stayed unknown or are deferred past the delay, named in the log row (L3). */
    failures: {
      type: [
        {
          index: Number,
          recipientId: String,
          address: String,
          status: String,
          reasonCode: String,
          plainReason: String,
          _id: false,
        },
      ],
      default: [],
    },
    providerError: { type: String, default: null },
    sentAt: { type: Date, default: null },
    completedAt: { type: Date, default: null },
    markedSent: { by: String, at: Date, note: String, on: String },
    resentVia: {
      type: [{ dispatchId: String, channel: String, address: String, at: Date, requestedBy: String, _id: false }],
      default: [],
    },
    /**
     * Issue 17: the sender in copy (cc) or blind copy (bcc) of the first recipient's email, and how
     * that copy fared (its own status from the provider's events, `events`: their ids in
     * `dispatch_events`). Not a recipient: its status never changes the result, nor tells anyone.
     */
    copy: {
      type: new Schema(
        {
          mode: { type: String, enum: ['cc', 'bcc'], required: true },
          address: { type: String, required: true },
          status: { type: String, default: null },
          reasonCode: { type: String, default: null },
          sentAt: { type: Date, default: null },
          events: { type: [String], default: [] },
          /** Each write of the copy adds 1 (src/db/dispatch-copy.ts). */
          version: { type: Number },
        },
        { _id: false },
      ),
      default: null,
    },
    /**
     * Issue 20: the dispatch asks each recipient to acknowledge receipt; how many did, and how many
     * still owe it (sent and not failed). Null when it does not ask.
     */
    acknowledgement: {
      type: new Schema(
        {
          requested: { type: Boolean, required: true },
          acknowledged: { type: Number, default: 0 },
          awaiting: { type: Number, default: 0 },
        },
        { _id: false },
      ),
      default: null,
    },
    parent: { type: String, default: null },
    /**
     * The accepted request, one hash per field (src/api/fingerprint.ts): a retried POST must be the
     * same request, and another under this id is refused naming the fields that differ. Null for a notice.
     */
    request: { type: Schema.Types.Mixed, default: null },
    /** Set once the content and every recipient are recorded too (the record is complete). */
    recordedAt: { type: Date, default: null },
    /** Guards out-of-order projection writes: only a newer workflow state replaces an older one. */
    stateVersion: { type: Number, default: 0 },
    /** The log's page of 64 record numbers, and while failing the place in the tenant's failures (src/db/dispatch-log.ts). */
    logPage: { type: Number },
    failedSeq: { type: Number },
    failedPage: { type: Number },
    /** The result the tenant's endpoints were last told of (dispatch.result_changed, docs/webhooks.md). */
    publishedResult: { type: String },
  },
  { timestamps: true, versionKey: false },
);
dispatchSchema.index({ tenantId: 1, dispatchId: 1 }, { unique: true });
dispatchSchema.index({ tenantId: 1, logPage: 1 });
dispatchSchema.index({ tenantId: 1, failedPage: 1 });
dispatchSchema.index({ tenantId: 1, number: -1 });
dispatchSchema.index({ tenantId: 1, result: 1, number: -1 });
// The failed-only log is `$or` of failed results and deferred-past-the-delay (issue 16): on MongoDB each branch needs an index.
dispatchSchema.index({ tenantId: 1, overdueDeferred: 1, number: -1 });
dispatchSchema.index({ tenantId: 1, recipientAddresses: 1 });
// Issue 20: `GET /v1/dispatches?acknowledged=false`.
dispatchSchema.index({ tenantId: 1, 'acknowledgement.awaiting': 1, number: -1 });

/** The rendered copy of a dispatch (D11) and the recipients as requested; `_id` as the dispatch's. Written once. */
const dispatchContentSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    dispatchId: { type: String, required: true },
    html: { type: String, default: null },
    text: { type: String, default: null },
    /** The data the template was rendered with (WhatsApp approved templates need it again); secrets withheld. */
    templateData: { type: Schema.Types.Mixed, default: null },
    /**
     * When the copy above withholds a customer's link or reply code (src/domain/secrets.ts): what
     * is really sent (subject, html, text, template data), sealed (src/sealed.ts) and bound to the
     * dispatch. Left out of every query unless asked for by name.
     */
    sealed: { type: String, default: null, select: false },
    recipients: {
      type: [{ recipientId: String, address: String, name: { type: String, default: null }, _id: false }],
      default: [],
    },
  },
  { versionKey: false, minimize: false },
);

/**
 * One entry of a recipient's history (D2): a provider's event or Relais's own, as stored in
 * `dispatch_events` (a function of it alone: a duplicate is the same entry, shown once).
 */
const historyEntryFields = {
  /** `_id` of the event in `dispatch_events`. */
  ref: { type: String, required: true },
  attempt: { type: Number, required: true },
  event: { type: String, required: true },
  /** The status the event means; null for one that changes none (spam report …). */
  status: { type: String, default: null },
  /** The provider's time (whole seconds for SendGrid). */
  at: { type: Date, required: true },
  /** When Relais received it, and its place in that request: the order entries are shown in. */
  receivedAt: { type: Date, required: true },
  position: { type: Number, required: true },
  reason: { type: String, default: null },
  response: { type: String, default: null },
  reasonCode: { type: String, default: null },
  providerMessageId: { type: String, default: null },
  /** Issue 20: what the event says about its address (domain/address-health.ts), for the projection to record. */
  addressOutcome: {
    type: new Schema({ address: String, kind: String, code: String }, { _id: false }),
    default: null,
  },
} as const;
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- built only for mongoose to infer HistoryEntry from (InferSchemaType takes a Schema)
const historyEntrySchema = new Schema(historyEntryFields, { _id: false });

/** One recipient: its current status, attempt and reason (its history is in `dispatch_event_batches`). */
const recipientSchema = new Schema(
  {
    index: { type: Number, required: true },
    recipientId: { type: String, required: true },
    address: { type: String, required: true },
    name: { type: String, default: null },
    status: { type: String, required: true },
    attempt: { type: Number, default: 1 },
    opened: { type: Boolean, default: false },
    sentAt: { type: Date, default: null },
    reasonCode: { type: String, default: null },
    plainReason: { type: String, default: null },
    /**
     * Issue 20: the recipient confirmed receipt through its link: when, the address the link was
     * sent to, the name typed, a delivery date and a note. Beside the status, never instead of it.
     */
    acknowledged: {
      type: new Schema(
        {
          at: { type: Date, required: true },
          by: { type: String, required: true },
          name: { type: String, default: null },
          deliveryDate: { type: String, default: null },
          note: { type: String, default: null },
          attempt: { type: Number, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
  },
  { _id: false },
);

/**
 * The recipients of a dispatch, RECIPIENTS_PER_DOCUMENT (25) to a document, `_id`
 * `<tenant>/<dispatchId>/<n>` (recipients n×25 … n×25+24), and the event batches that hold their
 * histories. Small on purpose: the embedded MongoDB-wire server reads and writes a document whole,
 * at about 1.5 ms per KB. A projection write touches only the documents of the recipients that
 * changed, once each; a page of the log reads one or two. Written by the dispatch's workflow
 * (projection activity), guarded by `version`.
 */
const dispatchRecipientsSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    dispatchId: { type: String, required: true },
    recipients: { type: [recipientSchema], default: [] },
    /** Batches of `dispatch_event_batches` with history entries of these recipients, oldest first. */
    batches: { type: [String], default: [] },
    version: { type: Number, default: 0 },
  },
  { versionKey: false },
);
// D8: a resend names a recipient by the id the platform gave it (a lookup off the hot paths).
dispatchRecipientsSchema.index({ tenantId: 1, dispatchId: 1, 'recipients.recipientId': 1 });

/**
 * Append-only: every event of every recipient (D2), once, never rewritten. A provider's event is
 * keyed by its own id (`sendgrid:<sg_event_id>`, `twilio:<MessageSid>:<status>`), so storing it
 * is the deduplication; Relais's own entries by recipient attempt and kind
 * (`relais:<tenant>/<dispatchId>/<index>.<attempt>:<kind>`), so a retried write adds nothing.
 */
const dispatchEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    dispatchId: { type: String, required: true },
    index: { type: Number, required: true },
    attempt: { type: Number, required: true },
    source: { type: String, enum: ['sendgrid', 'twilio', 'relais'], required: true },
    event: { type: String, required: true },
    /** The status the event means; null for one that changes none (spam report, unsubscribe …). */
    status: { type: String, default: null },
    at: { type: Date, required: true },
    receivedAt: { type: Date, required: true },
    position: { type: Number, default: 0 },
    reason: { type: String, default: null },
    response: { type: String, default: null },
    reasonCode: { type: String, default: null },
    errorCode: { type: String, default: null },
    providerMessageId: { type: String, default: null },
    /** The provider's payload as received (its signature verified). */
    payload: { type: Schema.Types.Mixed, default: null },
  },
  { versionKey: false },
);
dispatchEventSchema.index({ tenantId: 1, dispatchId: 1, index: 1, receivedAt: 1, position: 1 });

/**
 * History entries of the events one request brought (a webhook batch, or one send) for the
 * recipients of one document of `dispatch_recipients`: written once, never rewritten, and read
 * with one lookup by the pages. `_id` `<tenant>/<dispatchId>/<document>/<batch>`.
 */
const eventBatchSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    dispatchId: { type: String, required: true },
    /** History entries, each with the position of its recipient. */
    entries: {
      type: [new Schema({ index: { type: Number, required: true }, ...historyEntryFields }, { _id: false })],
      default: [],
    },
    receivedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/**
 * SendGrid: one request's `X-Message-Id` → the dispatch and its recipient attempts, for the
 * asynchronous bounces that come back without our custom args (`_id` `sendgrid:<X-Message-Id>`).
 */
const providerMessageSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    dispatchId: { type: String, required: true },
    /** Each recipient attempt of the request (FerretDB stores no nested arrays: objects). */
    recipients: { type: [{ index: Number, attempt: Number, address: String, _id: false }], default: [] },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

/**
 * The order projection people read (O10): one document per order, each field written only when
 * the workflow changed it. Orders started before issue 15 (legacy/order-v1.ts) write their whole
 * view into `view` instead, until they finish.
 */
const orderSchema = new Schema(
  {
    tenantId: { type: String, required: true },
    orderId: { type: String, required: true },
    workflowId: { type: String, required: true },
    customer: { type: Schema.Types.Mixed, required: true },
    state: { type: String, required: true },
    address: { type: Schema.Types.Mixed, default: undefined },
    risk: { type: Schema.Types.Mixed, default: undefined },
    hold: { type: Schema.Types.Mixed, default: undefined },
    stuck: { type: Boolean, default: undefined },
    lastTrackingAt: { type: String, default: undefined },
    restocked: { type: Boolean, default: undefined },
    /** The pending address confirmation: when it expires and whether it was used (never its nonce). */
    confirmation: { type: Schema.Types.Mixed, default: undefined },
    /** When its workflow started (orders recorded before issue 18 have only `createdAt`). */
    placedAt: { type: Date, default: undefined },
    /** Issue 18, lifecycle 3: whether the order has ended (lifecycle 2: its state says so). */
    ended: { type: Boolean, default: undefined },
    /** The label and invoice the seller uploaded (their files: the `order_documents` GridFS bucket). */
    documents: { type: Schema.Types.Mixed, default: undefined },
    /** The carrier, once the seller changed it; the dimensions, once fixed; why the parcel is stuck. */
    carrier: { type: String, default: undefined },
    dimensions: { type: Schema.Types.Mixed, default: undefined },
    stuckCause: { type: String, default: undefined },
    view: { type: Schema.Types.Mixed, default: undefined },
    stateVersion: { type: Number, default: 0 },
  },
  { timestamps: true, versionKey: false },
);
orderSchema.index({ tenantId: 1, orderId: 1 }, { unique: true });
orderSchema.index({ tenantId: 1, state: 1 });

/** O10: an order's timeline (its events, the notifications it sent), appended as it happens, never rewritten. */
const orderTimelineSchema = new Schema(
  {
    _id: { type: String, required: true }, // <tenant>/<orderId>/<seq>: a retried write inserts nothing twice
    tenantId: { type: String, required: true },
    orderId: { type: String, required: true },
    seq: { type: Number, required: true },
    at: { type: Date, required: true },
    kind: { type: String, enum: ['event', 'notification'], required: true },
    event: { type: String },
    by: { type: String, default: null },
    reason: { type: String, default: null },
    details: { type: Schema.Types.Mixed, default: null },
    dispatchId: { type: String },
    /** Issue 20: a seller alert queued in the seller's digest (no dispatch of its own). */
    digest: { type: Boolean },
    /** Issue 20: a customer notice on its channel order (`customer_notices`), whose dispatches go one at a time. */
    noticeId: { type: String },
    audience: { type: String },
    channel: { type: String },
    template: { type: String },
  },
  { versionKey: false },
);
orderTimelineSchema.index({ tenantId: 1, orderId: 1, kind: 1 });

/** O10: an order's exceptions, open and resolved; one document each, resolved in place. */
const orderExceptionSchema = new Schema(
  {
    _id: { type: String, required: true }, // <tenant>/<orderId>/<n>
    tenantId: { type: String, required: true },
    orderId: { type: String, required: true },
    n: { type: Number, required: true },
    type: { type: String, required: true },
    reason: { type: String, required: true },
    details: { type: String, default: null },
    /** A stuck exception: why the parcel is held up, once known (O7). */
    cause: { type: String, default: null },
    /** Whether it is still open (an equality the embedded store can look up; `resolvedAt: null` is not one). */
    open: { type: Boolean, default: undefined },
    openedAt: { type: Date, required: true },
    resolvedAt: { type: Date, default: null },
    resolution: { type: String, default: null },
  },
  { versionKey: false },
);
orderExceptionSchema.index({ tenantId: 1, orderId: 1 });

/**
 * The orders list (issue 18): one small document per order, `<tenant>/<orderId>`, with what the
 * list filters on and shows (state, stuck, its open exceptions, when it was placed) and where it is
 * read from: its number in the tenant's placing order, and the section (100) and block (2,000) of
 * numbers holding it (src/db/order-list.ts: a page reads by these keys, never by a sort over all).
 * Written whole by the order's own projection write, version-guarded like the order.
 */
const orderListSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    orderId: { type: String, required: true },
    seq: { type: Number, required: true },
    section: { type: Number, required: true },
    block: { type: Number, required: true },
    state: { type: String, required: true },
    /** Whether any exception is open: the workspace's default listing. */
    open: { type: Boolean, required: true },
    /** The types of the open exceptions (an array: equality on one type finds the order). */
    types: { type: [String], default: [] },
    exceptions: {
      type: [{ n: Number, type: { type: String }, reason: String, cause: String, openedAt: Date, _id: false }],
      default: [],
    },
    stuck: { type: Boolean, required: true },
    ended: { type: Boolean, required: true },
    customerName: { type: String, default: null },
    /** When the order was placed: the list's created range. */
    placedAt: { type: Date, required: true },
    stateVersion: { type: Number, required: true },
  },
  { versionKey: false },
);
// Each field a page filters on by equality (the embedded store serves those from an index: GIN twins, docs/architecture.md).
orderListSchema.index({ tenantId: 1, block: 1, open: 1 });
orderListSchema.index({ tenantId: 1, section: 1, open: 1 });
orderListSchema.index({ tenantId: 1, types: 1, section: 1 });
orderListSchema.index({ tenantId: 1, state: 1, section: 1 });
orderListSchema.index({ tenantId: 1, stuck: 1, section: 1 });

/**
 * O2: what a customer's past orders say about them, one document per contact key
 * (`<tenant>/<lower-cased email or phone>`), so the risk check is a lookup by id, not a scan of
 * the tenant's orders. Order ids, not counters: recording the same order twice changes nothing.
 */
const customerHistorySchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    cancelled: { type: [String], default: [] },
    failedDeliveries: { type: [String], default: [] },
  },
  { versionKey: false },
);

/**
 * O3: address confirmations waiting for a customer's reply, found by phone for WhatsApp/SMS
 * replies, and matched to the conversation (src/domain/replies.ts): the numbers the question went
 * out from, and the code it carried.
 */
const confirmationSchema = new Schema(
  {
    _id: { type: String, required: true }, // the nonce
    tenantId: { type: String, required: true },
    orderId: { type: String, required: true },
    phone: { type: String, default: null },
    /** 4 digits, distinct among the phone's pending confirmations when created; the customer replies "YES <code>". */
    code: { type: String, default: null },
    /** E.164 numbers the question was sent from (empty: not known, e.g. a messaging service). */
    replyTo: { type: [String], default: [] },
    /** How the customer knows the seller and speaks: for the answer to an ambiguous reply. */
    companyName: { type: String, default: null },
    locale: { type: String, default: 'en' },
    expiresAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);
confirmationSchema.index({ phone: 1, createdAt: -1 });

/**
 * Issue 20: a customer notice going through its channels one at a time, `_id`
 * `<tenant>/<noticeId>`; its path (held, sent, skipped, failed, silent, delivered: a few entries
 * per channel) written whole by its workflow after each step, read by the order page and the API.
 */
const customerNoticeSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    orderId: { type: String, required: true },
    noticeId: { type: String, required: true },
    notice: { type: String, required: true },
    state: { type: String, required: true },
    path: { type: [Schema.Types.Mixed], default: [] },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
customerNoticeSchema.index({ tenantId: 1, orderId: 1 });

/**
 * Issue 20: WhatsApp's 24 h session window. The last time each number wrote to Relais over
 * WhatsApp (`_id`: +E.164), from the inbound webhook; free text may go within 24 h of it.
 */
const whatsappSessionSchema = new Schema(
  {
    _id: { type: String, required: true },
    lastInboundAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/** A dispatch's attachments, kept out of workflow history (payload limits) and sent from here. */
const attachmentSchema = new Schema(
  {
    _id: { type: String, required: true }, // <tenant>/<dispatchId>/<index>
    tenantId: { type: String, required: true },
    dispatchId: { type: String, required: true },
    index: { type: Number, required: true },
    filename: { type: String, required: true },
    contentType: { type: String, required: true },
    content: { type: Buffer, required: true },
  },
  { versionKey: false },
);
attachmentSchema.index({ tenantId: 1, dispatchId: 1 });

/** D8: an address corrected on resend, so the next dispatch to the old one is warned about. */
const contactCorrectionSchema = new Schema(
  {
    tenantId: { type: String, required: true },
    from: { type: String, required: true },
    to: { type: String, required: true },
    by: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
contactCorrectionSchema.index({ tenantId: 1, from: 1 });

const counterSchema = new Schema(
  {
    _id: { type: String, required: true },
    seq: { type: Number, default: 0 },
  },
  { versionKey: false },
);

const webhookEventSchema = new Schema(
  {
    provider: { type: String, required: true },
    eventId: { type: String, default: null },
    tenantId: { type: String, default: null },
    workflowId: { type: String, default: null },
    outcome: { type: String, required: true }, // signalled | duplicate | unknown_target
    payload: { type: Schema.Types.Mixed, required: true },
    receivedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
webhookEventSchema.index({ provider: 1, eventId: 1 });

/**
 * Issue 15: a provider's webhook request accepted and not yet applied, kept as the bytes that were
 * signed (one small write per request on the accept path). Deleted once applied, so the
 * collection stays small: the sweep's filter on `leaseUntil` reads every document of it.
 */
const webhookInboxSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** The request's own id, kept when a sweep moves it under a new `_id` (its history batches are named after it). */
    requestId: { type: String, required: true },
    provider: { type: String, required: true },
    body: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    /** Until when the process that holds it (`owner`) is applying it; past it, any process's sweep may take it. */
    leaseUntil: { type: Date, required: true },
    owner: { type: String, required: true },
  },
  { versionKey: false },
);

const auditSchema = new Schema(
  {
    tenantId: { type: String, required: true },
    actor: { type: String, required: true },
    action: { type: String, required: true },
    target: { type: String, required: true },
    reason: { type: String, default: null },
    at: { type: Date, required: true },
    details: { type: Schema.Types.Mixed, default: null },
  },
  { versionKey: false },
);
auditSchema.index({ tenantId: 1, at: -1 });

/** Operator pages (src/ui): a signed-in browser. The cookie holds a random token; only its hash is stored. */
const uiSessionSchema = new Schema(
  {
    _id: { type: String, required: true }, // sha256 of the session token
    keyId: { type: String, required: true }, // the API key exchanged for it; its roles are read on every request
    tenantId: { type: String, required: true },
    /** The name the operator gave at sign-in, recorded with what they do (issue 18); null when none. */
    person: { type: String, default: null },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/**
 * Outbound webhooks (docs/webhooks.md): an endpoint of a tenant's own system. Its signing secrets
 * are sealed (src/sealed.ts, bound to the endpoint) and never selected unless asked for by name:
 * the secret is shown once, when created or rotated, and only the delivery activity opens it.
 */
const webhookEndpointSchema = new Schema(
  {
    _id: { type: String, required: true }, // we_…
    tenantId: { type: String, required: true },
    url: { type: String, required: true },
    description: { type: String, default: null },
    events: { type: [String], default: [] },
    enabled: { type: Boolean, default: true },
    /** Why it stopped: `gone` (the receiver answered 410), `operator` (disabled by hand). */
    disabledReason: { type: String, default: null },
    disabledAt: { type: Date, default: null },
    secret: { type: String, required: true, select: false },
    /** During a rotation: the secret before it, still signing beside the new one until previousSecretUntil. */
    previousSecret: { type: String, default: null, select: false },
    previousSecretUntil: { type: Date, default: null },
    secretRotatedAt: { type: Date, default: null },
  },
  { timestamps: true, versionKey: false },
);
webhookEndpointSchema.index({ tenantId: 1 });

/** An event raised for a tenant, recorded once (by its event id); its body is what every delivery sends, byte for byte. */
const tenantEventSchema = new Schema(
  {
    _id: { type: String, required: true }, // <tenant>/<eventId>
    tenantId: { type: String, required: true },
    eventId: { type: String, required: true },
    /** The Standard Webhooks `webhook-id`, the same for every delivery and replay of this event. */
    webhookId: { type: String, required: true },
    type: { type: String, required: true },
    /** `{ type, timestamp, data }` as serialised once: the signed bytes. */
    body: { type: String, required: true },
    occurredAt: { type: Date, required: true },
  },
  { versionKey: false },
);

const webhookAttemptSchema = new Schema(
  {
    at: { type: Date, required: true },
    statusCode: { type: Number, default: null },
    durationMs: { type: Number, required: true },
    /** No answer: a timeout, a refused connection, an address Relais does not send to. */
    error: { type: String, default: null },
    /** The first characters of the receiver's answer. */
    response: { type: String, default: null },
  },
  { _id: false },
);

/** One event to one endpoint: written only by its delivery workflow (after the API or the publishing activity creates it). */
const webhookDeliverySchema = new Schema(
  {
    _id: { type: String, required: true }, // wd_…
    tenantId: { type: String, required: true },
    /** Shown in the list, per tenant, from 1. */
    number: { type: Number, required: true },
    endpointId: { type: String, required: true },
    url: { type: String, required: true },
    eventId: { type: String, required: true },
    webhookId: { type: String, required: true },
    type: { type: String, required: true },
    /** pending → retrying … → delivered | failed | cancelled */
    status: { type: String, required: true },
    reason: { type: String, default: null },
    attempts: { type: [webhookAttemptSchema], default: [] },
    nextAttemptAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
    /** A replay: the delivery it sends again; and who asked. */
    replayOf: { type: String, default: null },
    requestedBy: { type: String, required: true },
  },
  { timestamps: true, versionKey: false },
);
webhookDeliverySchema.index({ tenantId: 1, number: -1 });

export type TenantDoc = InferSchemaType<typeof tenantSchema>;
export type ApiKeyDoc = InferSchemaType<typeof apiKeySchema>;
export type DispatchDoc = InferSchemaType<typeof dispatchSchema>;
export type RecipientDoc = InferSchemaType<typeof recipientSchema>;
export type DispatchEventDoc = InferSchemaType<typeof dispatchEventSchema>;
export type HistoryEntry = InferSchemaType<typeof historyEntrySchema>;
export type LegacyDispatchDoc = InferSchemaType<typeof legacyDispatchSchema>;
export type WebhookEventDoc = InferSchemaType<typeof webhookEventSchema>;
export type WebhookInboxDoc = InferSchemaType<typeof webhookInboxSchema>;
export type AuditDoc = InferSchemaType<typeof auditSchema>;
export type WebhookEndpointDoc = InferSchemaType<typeof webhookEndpointSchema>;
export type WebhookDeliveryDoc = InferSchemaType<typeof webhookDeliverySchema>;

function bindModels(connection: Connection, stopWatchdog: () => void) {
  return {
    connection,
    Tenant: connection.model('Tenant', tenantSchema, 'tenants'),
    ApiKey: connection.model('ApiKey', apiKeySchema, 'api_keys'),
    Dispatch: connection.model('Dispatch', dispatchSchema, 'dispatches'),
    LegacyDispatch: connection.model('LegacyDispatch', legacyDispatchSchema, 'dispatches'),
    DispatchContent: connection.model('DispatchContent', dispatchContentSchema, 'dispatch_contents'),
    DispatchRecipients: connection.model('DispatchRecipients', dispatchRecipientsSchema, 'dispatch_recipients'),
    EventBatch: connection.model('EventBatch', eventBatchSchema, 'dispatch_event_batches'),
    DispatchEvent: connection.model('DispatchEvent', dispatchEventSchema, 'dispatch_events'),
    ProviderMessage: connection.model('ProviderMessage', providerMessageSchema, 'provider_messages'),
    Counter: connection.model('Counter', counterSchema, 'counters'),
    WebhookEvent: connection.model('WebhookEvent', webhookEventSchema, 'webhook_events'),
    WebhookInbox: connection.model('WebhookInbox', webhookInboxSchema, 'webhook_inbox'),
    Audit: connection.model('Audit', auditSchema, 'audit'),
    ContactCorrection: connection.model('ContactCorrection', contactCorrectionSchema, 'contact_corrections'),
    Order: connection.model('Order', orderSchema, 'orders'),
    OrderTimeline: connection.model('OrderTimeline', orderTimelineSchema, 'order_timeline'),
    OrderException: connection.model('OrderException', orderExceptionSchema, 'order_exceptions'),
    OrderListEntry: connection.model('OrderListEntry', orderListSchema, 'order_list'),
    CustomerHistory: connection.model('CustomerHistory', customerHistorySchema, 'customer_history'),
    Attachment: connection.model('Attachment', attachmentSchema, 'attachments'),
    Confirmation: connection.model('Confirmation', confirmationSchema, 'confirmations'),
    UiSession: connection.model('UiSession', uiSessionSchema, 'ui_sessions'),
    WebhookEndpoint: connection.model('WebhookEndpoint', webhookEndpointSchema, 'webhook_endpoints'),
    TenantEvent: connection.model('TenantEvent', tenantEventSchema, 'tenant_events'),
    WebhookDelivery: connection.model('WebhookDelivery', webhookDeliverySchema, 'webhook_deliveries'),
    CustomerNotice: connection.model('CustomerNotice', customerNoticeSchema, 'customer_notices'),
    WhatsappSession: connection.model('WhatsappSession', whatsappSessionSchema, 'whatsapp_sessions'),
    close: async () => {
      stopWatchdog();
      await connection.close();
    },
  };
}

export type Db = ReturnType<typeof bindModels>;

/** Driver defaults, but a 10 s connect timeout (30 s by default): it bounds how long a stuck monitor goes unnoticed. */
const DRIVER_OPTIONS = { serverSelectionTimeoutMS: 10_000, connectTimeoutMS: 10_000, heartbeatFrequencyMS: 10_000 };

export interface ConnectDbOptions {
  dbName?: string;
  serverSelectionTimeoutMS?: number;
  /** Told when the driver's server monitor is found stuck and the client reconnects (src/db/heartbeat-watchdog.ts). */
  log?: { error(details: object, message: string): void; warn(details: object, message: string): void };
  /** Tests only: a shorter bound, and a connect timeout of their own (0: none). */
  watchdog?: { stuckAfterMs: number; connectTimeoutMS?: number; heartbeatFrequencyMS?: number };
}

/**
 * Opens its own connection (not mongoose's global one), so tests can hold several. A watchdog
 * reconnects the client when the driver's server monitor is stuck (see heartbeat-watchdog.ts).
 */
export async function connectDb(uri: string, options: ConnectDbOptions = {}): Promise<Db> {
  const connection = mongoose.createConnection(uri, {
    dbName: options.dbName,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? DRIVER_OPTIONS.serverSelectionTimeoutMS,
    connectTimeoutMS: options.watchdog?.connectTimeoutMS ?? DRIVER_OPTIONS.connectTimeoutMS,
    heartbeatFrequencyMS: options.watchdog?.heartbeatFrequencyMS ?? DRIVER_OPTIONS.heartbeatFrequencyMS,
  });
  await connection.asPromise();
  const stopWatchdog = watchHeartbeats(connection.getClient(), {
    // From the options the driver really uses (ours win over the URI's).
    stuckAfterMs: options.watchdog?.stuckAfterMs ?? heartbeatBoundMs(connection.getClient().options),
    onStuck: ({ address, stuckForMs }) => {
      metrics.mongodbReconnects.inc();
      options.log?.error({ address, stuckForMs }, 'MongoDB server monitor stuck: reconnecting the client');
    },
    onReconnectFailed: (err) => options.log?.warn({ err }, 'MongoDB reconnection failed; trying again'),
  });
  const db = bindModels(connection, stopWatchdog);
  await Promise.all([
    db.Dispatch.init(),
    db.LegacyDispatch.init(),
    db.DispatchRecipients.init(),
    db.DispatchEvent.init(),
    db.ApiKey.init(),
    db.WebhookEvent.init(),
    db.Audit.init(),
    db.Order.init(),
    db.OrderTimeline.init(),
    db.OrderException.init(),
    db.OrderListEntry.init(),
    db.Confirmation.init(),
    db.WebhookEndpoint.init(),
    db.WebhookDelivery.init(),
  ]);
  return db;
}

const duplicate = (err: unknown) => (err as { code?: number }).code === 11000;

/**
 * Next record number of a sequence (a tenant's dispatches, failures, orders): unique and rising.
 * Each number is taken by inserting `<sequence>#<n>` (a unique `_id`, which both servers enforce);
 * the sequence's own document only says where to start looking. A `findAndModify` with `$inc` would
 * be one round trip on MongoDB, but FerretDB v1 applies it as read-modify-write: twenty first
 * numbers asked at once came back as 1, 2, 2, 2, 3… (test/db/counters.test.ts).
 */
export async function nextNumber(db: Db, name: string): Promise<number> {
  let n = ((await db.Counter.findById(name, { seq: 1 }).lean())?.seq ?? 0) + 1;
  for (;;) {
    try {
      await db.Counter.collection.insertOne({ _id: `${name}#${n}` as never, seq: n });
      break;
    } catch (err) {
      if (!duplicate(err)) throw err;
      n += 1; // taken by another caller meanwhile
    }
  }
  // The hint may lose a race to a smaller number (read-modify-write again): the next caller then
  // finds the numbers after it taken and moves on, so a lost hint costs a retry, never a duplicate.
  await db.Counter.updateOne({ _id: name }, { $max: { seq: n } }, { upsert: true }).catch((err) => {
    if (!duplicate(err)) throw err;
  });
  return n;
}

/** The last number a sequence gave: its hint, moved past any number taken after it (see nextNumber). */
export async function lastNumber(db: Db, name: string): Promise<number> {
  let n = (await db.Counter.findById(name, { seq: 1 }).lean())?.seq ?? 0;
  while (await db.Counter.exists({ _id: `${name}#${n + 1}` })) n += 1;
  return n;
}

/** How long raw webhook events are kept for audit. */
export const WEBHOOK_EVENT_RETENTION_DAYS = 30;

/**
 * Expires raw webhook events: a TTL index on MongoDB; FerretDB v1 has no TTL indexes, so there
 * the caller runs `purgeWebhookEvents` periodically instead. Returns which one applies.
 */
export async function ensureWebhookEventRetention(
  db: Db,
  days = WEBHOOK_EVENT_RETENTION_DAYS,
): Promise<'ttl-index' | 'periodic-purge'> {
  const info = await db.connection.db!.admin().command({ buildInfo: 1 });
  if ('ferretdbVersion' in info) return 'periodic-purge';
  await db.WebhookEvent.collection.createIndex(
    { receivedAt: 1 },
    { name: 'receivedAt_ttl', expireAfterSeconds: days * 86_400 },
  );
  // Outbound webhooks: events and finished deliveries (a delivery still running has no finishedAt, and a TTL index skips it).
  await db.TenantEvent.collection.createIndex(
    { occurredAt: 1 },
    { name: 'occurredAt_ttl', expireAfterSeconds: days * 86_400 },
  );
  await db.WebhookDelivery.collection.createIndex(
    { finishedAt: 1 },
    { name: 'finishedAt_ttl', expireAfterSeconds: days * 86_400 },
  );
  return 'ttl-index';
}

export async function purgeWebhookEvents(
  db: Db,
  days = WEBHOOK_EVENT_RETENTION_DAYS,
  now = Date.now(),
): Promise<number> {
  const result = await db.WebhookEvent.deleteMany({ receivedAt: { $lt: new Date(now - days * 86_400_000) } });
  return result.deletedCount;
}

/**
 * Outbound webhooks, kept as long as raw webhook events: tenant events that happened, and
 * deliveries that finished, more than `days` ago (the periodic purge of FerretDB; MongoDB's TTL
 * indexes do the same). Deliveries still retrying are kept whatever their age.
 */
export async function purgeOutboundWebhooks(
  db: Db,
  days = WEBHOOK_EVENT_RETENTION_DAYS,
  now = Date.now(),
): Promise<{ events: number; deliveries: number }> {
  const before = new Date(now - days * 86_400_000);
  const events = await db.TenantEvent.deleteMany({ occurredAt: { $lt: before } });
  const deliveries = await db.WebhookDelivery.deleteMany({ finishedAt: { $lt: before } });
  return { events: events.deletedCount, deliveries: deliveries.deletedCount };
}
