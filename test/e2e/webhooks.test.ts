// Rule N3 and D2 at the webhook edge: only signed, fresh, well-formed provider calls are
// believed; replays change nothing; statuses only move forward; unknown ids are acknowledged.
import twilio from 'twilio';
import { purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';
import { firstRecipientEvent, signedSendGrid as signed } from '../support/sendgrid-webhook';
import { timestampMs } from '../support/timestamps';
import { MAX_EVENTS_PER_SIGNAL } from '../../src/domain/dispatch';
import { dispatchWorkflowId } from '../../src/workflows/dispatch/contract';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ eventDelayMs: 50 });
});
afterAll(async () => {
  await stack?.close();
});

const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;

const signedSendGrid = (events: unknown[], ageSeconds = 0) => signed(stack, events, ageSeconds);
const postSendGrid = (req: { body: string; headers: Record<string, string> }) =>
  fetch(`${stack.apiUrl}/webhooks/sendgrid`, { method: 'POST', ...req });

/** An event for the first recipient (position 0), first attempt, of a dispatch. */
const event = (dispatchId: string, type: string, id: string, extra: Record<string, unknown> = {}) =>
  firstRecipientEvent(stack, dispatchId, type, id, extra);

test('a stale signed batch (older than 5 minutes) is refused and changes nothing', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-stale', ['a+silent@acme.test']));
  await stack.waitFor('processed', async () => (await get('wh-stale'))?.recipients?.[0]?.status === 'processed');
  const res = await postSendGrid(signedSendGrid([event('wh-stale', 'bounce', 'stale-1', { reason: '550 x' })], 301));
  expect(res.status).toBe(401);
  expect(((await res.json()) as any).error.code).toBe('stale_signature');
  await new Promise((r) => setTimeout(r, 300));
  expect((await get('wh-stale')).recipients[0].status).toBe('processed');
});

test('a replayed signed batch is applied once', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-replay', ['b+silent@acme.test']));
  await stack.waitFor('processed', async () => (await get('wh-replay'))?.recipients?.[0]?.status === 'processed');
  const batch = signedSendGrid([event('wh-replay', 'delivered', 'replay-1', { response: '250 OK' })]);
  expect((await postSendGrid(batch)).status).toBe(200);
  await stack.waitFor('delivered', async () => (await get('wh-replay')).recipients[0].status === 'delivered');
  const before = (await get('wh-replay')).recipients[0].history.length;
  expect((await postSendGrid(batch)).status).toBe(200);
  expect(
    (await postSendGrid(signedSendGrid([event('wh-replay', 'delivered', 'replay-1', { response: '250 OK' })]))).status,
  ).toBe(200);
  await new Promise((r) => setTimeout(r, 500));
  expect((await get('wh-replay')).recipients[0].history.length).toBe(before);
});

test('a late `processed` never undoes delivered; a bounce after delivered counts (D2, D7)', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-order', ['c+silent@acme.test']));
  await stack.waitFor('processed', async () => (await get('wh-order'))?.recipients?.[0]?.status === 'processed');
  await postSendGrid(signedSendGrid([event('wh-order', 'delivered', 'o-1'), event('wh-order', 'processed', 'o-2')]));
  await stack.waitFor('delivered', async () => (await get('wh-order')).recipients[0].history.length >= 4);
  expect((await get('wh-order')).recipients[0].status).toBe('delivered');
  await postSendGrid(
    signedSendGrid([
      event('wh-order', 'bounce', 'o-3', {
        reason: '550 5.1.1 gone',
        type: 'bounce',
        bounce_classification: 'Invalid Address',
      }),
    ]),
  );
  // The recipient's status and the dispatch's result live in two documents, written one after the
  // other: wait for the two together.
  await stack.waitFor('bounced, and the result error', async () => {
    const d = await get('wh-order');
    return d.recipients[0].status === 'bounced' && d.result === 'error';
  });
});

test('an event stored but never signalled (the API died in between) is signalled when the provider retries it', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-crash', ['d+silent@acme.test']));
  await stack.waitFor('processed', async () => (await get('wh-crash'))?.recipients?.[0]?.status === 'processed');
  const bounce = event('wh-crash', 'bounce', 'crash-1', {
    reason: '550 5.1.1 gone',
    type: 'bounce',
    bounce_classification: 'Invalid Address',
  });
  // What the first request left behind: the event stored, its signal never sent.
  await stack.db.DispatchEvent.create({
    _id: 'sendgrid:crash-1',
    tenantId: stack.tenantId,
    dispatchId: 'wh-crash',
    index: 0,
    attempt: 1,
    source: 'sendgrid',
    event: 'bounce',
    status: 'bounced',
    at: new Date(),
    receivedAt: new Date(),
    position: 0,
    reason: '550 5.1.1 gone',
    reasonCode: 'invalid_address',
    payload: bounce,
  });
  await new Promise((r) => setTimeout(r, 500));
  expect((await get('wh-crash')).recipients[0].status).toBe('processed');
  expect((await postSendGrid(signedSendGrid([bounce]))).status).toBe(200); // the provider's retry
  await stack.waitFor('bounced', async () => (await get('wh-crash')).recipients[0].status === 'bounced');
  const r = (await get('wh-crash')).recipients[0];
  expect(r.history.filter((h: any) => h.eventId === 'crash-1')).toHaveLength(1);
  expect(r.rawReason).toMatch(/550 5\.1\.1 gone/);
});

test('an asynchronous bounce without our custom args is routed by its message id (D7)', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-async', ['first@acme.test', 'second@acme.test']));
  await stack.waitFor('delivered', async () => (await get('wh-async'))?.result === 'delivered');
  const sent = stack.sandbox.messages({ to: 'second@acme.test' })[0];
  const bounce = {
    email: 'Second@acme.test',
    timestamp: Math.floor(Date.now() / 1000),
    event: 'bounce',
    sg_event_id: 'async-1',
    sg_message_id: `${sent.providerMessageId}.filter0001-1`,
    reason: '550 5.2.1 mailbox disabled',
    type: 'bounce',
    bounce_classification: 'Mailbox Unavailable',
  };
  expect((await postSendGrid(signedSendGrid([bounce]))).status).toBe(200);
  await stack.waitFor('alert', async () => (await get('wh-async')).result === 'alert');
  expect((await get('wh-async')).recipients.map((r: any) => r.status)).toEqual(['delivered', 'bounced']);
});

test('a batch of more events than one signal carries reaches the workflow whole', async () => {
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-many', ['e+silent@acme.test']));
  await stack.waitFor('processed', async () => (await get('wh-many'))?.recipients?.[0]?.status === 'processed');
  const handle = stack.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, 'wh-many'));
  const signals = async () =>
    (await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
  const before = await signals();
  const count = MAX_EVENTS_PER_SIGNAL + 200;
  const opens = Array.from({ length: count }, (_, i) => event('wh-many', 'open', `many-${i}`));
  expect((await postSendGrid(signedSendGrid(opens))).status).toBe(200);
  await stack.waitFor('two signals', async () => (await signals()) === before + 2); // a full one, then 200
  await stack.waitFor(
    `${count} opens in the history`,
    async () => (await get('wh-many')).recipients[0].history.filter((h: any) => h.event === 'open').length === count,
    60_000,
  );
  expect((await get('wh-many')).recipients[0]).toMatchObject({ status: 'delivered', opened: true });
});

test('malformed, unsigned and oversized requests get 4xx; unknown ids are acknowledged and kept for audit', async () => {
  const notJson = signedSendGrid([]);
  notJson.body = 'not json';
  expect((await postSendGrid(notJson)).status).toBe(401); // body changed after signing
  const notABatch = signedSendGrid({ hello: 'world' } as never);
  expect((await postSendGrid(notABatch)).status).toBe(400);
  expect((await postSendGrid(signedSendGrid([]))).status).toBe(400);
  const huge = await fetch(`${stack.apiUrl}/webhooks/sendgrid`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: 'x'.repeat(11 * 1024 * 1024),
  });
  expect(huge.status).toBe(413);

  const unknown = await postSendGrid(
    signedSendGrid([
      event('no-such-dispatch', 'delivered', 'u-1'),
      event('no-such-dispatch-v1', 'delivered', 'u-2', { relais_index: undefined, relais_recipient: 'r1.1' }),
    ]),
  );
  expect(unknown.status).toBe(200);
  // Applied behind the answer (issue 15: the webhook inbox).
  const audited = (eventId: string) => stack.db.WebhookEvent.findOne({ eventId }).lean();
  await stack.waitFor('both kept for audit', async () => (await audited('u-1')) && (await audited('u-2')));
  expect(await audited('u-1')).toMatchObject({
    provider: 'sendgrid',
    outcome: 'unknown_target',
  });
  expect(await audited('u-2')).toMatchObject({
    provider: 'sendgrid',
    outcome: 'unknown_target',
  }); // a first-version routing id
});

test('Twilio status callbacks: signed against the public URL, forward only, unsigned refused', async () => {
  const url = `${stack.apiUrl}/webhooks/twilio/status?tenant=${stack.tenantId}&dispatch=wh-sms&recipient=r1.1`;
  const params = {
    MessageSid: `SM${'a'.repeat(32)}`,
    MessageStatus: 'delivered',
    AccountSid: SANDBOX_SECRETS.twilioAccountSid,
    To: '+33612345678',
  };
  const post = (p: Record<string, string>, signature?: string) =>
    fetch(url, {
      method: 'POST',
      body: new URLSearchParams(p).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature ? { 'x-twilio-signature': signature } : {}),
      },
    });
  expect((await post(params)).status).toBe(401);
  expect((await post(params, 'bm90IGEgc2lnbmF0dXJl')).status).toBe(401);
  const signed = twilio.getExpectedTwilioSignature(SANDBOX_SECRETS.twilioAuthToken, url, params);
  expect((await post({ ...params, MessageStatus: 'failed' }, signed)).status).toBe(401); // params changed after signing
  const ok = await post(params, signed);
  expect(ok.status).toBe(200); // no such dispatch: acknowledged so Twilio stops retrying
  expect(await ok.text()).toContain('<Response');
});

test('provider 429 then success: the message is recorded exactly once', async () => {
  await fetch(`${stack.sandbox.url}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'sendgrid', status: 429, count: 2, retryAfterSeconds: 1 }),
  });
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-429', ['rate@acme.test']));
  await stack.waitFor('delivered', async () => (await get('wh-429'))?.result === 'delivered', 60_000);
  expect(stack.sandbox.messages({ to: 'rate@acme.test' })).toHaveLength(1);
});

test('a 500 after ten 429s waits as long as the send has been failing, not the 5-minute cap of its attempt number', async () => {
  const fault = (body: object) =>
    fetch(`${stack.sandbox.url}/sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  // Taken in order: ten rate-limited answers (about a second each), then one 500.
  await fault({ provider: 'sendgrid', status: 429, count: 10, retryAfterSeconds: 1 });
  await fault({ provider: 'sendgrid', status: 500, count: 1 });
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-429-500', ['storm@acme.test']));
  const handle = stack.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, 'wh-429-500'));
  let send: NonNullable<Awaited<ReturnType<typeof handle.describe>>['raw']['pendingActivities']>[number] | undefined;
  await stack.waitFor(
    'the send failed with the 500',
    async () => {
      send = (await handle.describe()).raw.pendingActivities?.find(
        (a) => a.activityType?.name === 'sendRecipients' && /500/.test(a.lastFailure?.message ?? ''),
      );
      return send !== undefined;
    },
    60_000,
  );
  expect(send!.attempt).toBe(12);
  const wait = timestampMs(send!.nextAttemptScheduleTime)! - timestampMs(send!.lastAttemptCompleteTime)!;
  // By attempt number, attempt 11 would back off 2 s × 2^10, capped at 5 minutes. It waits as
  // long as it has been failing: ten rate-limited seconds or so.
  expect(wait).toBeGreaterThanOrEqual(2_000);
  expect(wait).toBeLessThan(60_000);
  await stack.waitFor('delivered', async () => (await get('wh-429-500'))?.result === 'delivered', 60_000);
  expect(stack.sandbox.messages({ to: 'storm@acme.test' })).toHaveLength(1);
}, 120_000);

test("provider 400: the dispatch fails at once with the provider's reason kept (D9 failed)", async () => {
  await fetch(`${stack.sandbox.url}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'sendgrid', status: 400, count: 1 }),
  });
  await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-400', ['refused@acme.test']));
  await stack.waitFor('failed', async () => (await get('wh-400'))?.result === 'failed');
  const d = await get('wh-400');
  expect(d.providerError).toMatch(/SendGrid refused the request/);
  expect(d.providerError).toMatch(/content value must be a string/);
  expect(d.recipients[0].status).toBe('not_sent');
  expect(stack.sandbox.messages({ to: 'refused@acme.test' })).toHaveLength(0);
});

describe('one bad event never sinks its batch (issue 14, finding 5): it is kept for audit and skipped, the rest applied', () => {
  const now = () => Math.floor(Date.now() / 1000);

  test('a timestamp of 1e300 and events without sg_event_id, beside good events of the same batch', async () => {
    for (const id of ['wh-bad-ts', 'wh-no-id']) {
      await stack.request('POST', '/v1/dispatches', purchaseOrder(id, [`${id}+silent@acme.test`]));
      await stack.waitFor(`${id} processed`, async () => (await get(id))?.recipients?.[0]?.status === 'processed');
    }
    const batch = [
      event('wh-bad-ts', 'delivered', 'bad-ts-1', { timestamp: 1e300 }),
      event('wh-bad-ts', 'delivered', 'good-1', { response: '250 OK' }),
      // SendGrid's own published `dropped` sample carries no sg_event_id.
      {
        ...event('wh-no-id', 'dropped', 'unused', {
          reason: 'Bounced Address',
          status: '5.0.0',
          'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
          category: 'cat facts',
        }),
        sg_event_id: undefined,
      },
      { email: 42, timestamp: now(), event: 'delivered', sg_event_id: 'bad-email-1' },
    ];
    const req = signedSendGrid(batch);
    const res = await postSendGrid(req);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 4, invalid: 2 });
    await stack.waitFor(
      'the good event applied',
      async () => (await get('wh-bad-ts')).recipients[0].status === 'delivered',
    );
    await stack.waitFor(
      'the dropped event applied',
      async () => (await get('wh-no-id')).recipients[0].status === 'dropped',
    );
    // The bad ones are kept for audit with why, and nothing else.
    const invalid = await stack.db.WebhookEvent.find({ provider: 'sendgrid', outcome: /^invalid/ }).lean();
    expect(invalid.map((e) => e.outcome).sort()).toEqual([
      expect.stringMatching(/^invalid: email: /),
      expect.stringMatching(/^invalid: timestamp: /),
    ]);
    expect(invalid.find((e) => /timestamp/.test(e.outcome))!.payload).toMatchObject({
      sg_event_id: 'bad-ts-1',
      timestamp: 1e300,
    });

    // SendGrid retries the same batch (it may: at-least-once): the event without an id is recognised, not applied twice.
    const history = (await get('wh-no-id')).recipients[0].history.length;
    expect((await postSendGrid(signedSendGrid(batch))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect((await get('wh-no-id')).recipients[0].history.length).toBe(history);
    // The dropped event is stored once, with its payload, under its derived id (the retry found it there).
    const stored = await stack.db.DispatchEvent.find({
      tenantId: stack.tenantId,
      dispatchId: 'wh-no-id',
      'payload.event': 'dropped',
    }).lean();
    expect(stored.map((e) => e._id)).toEqual([expect.stringMatching(/^sendgrid:derived:[A-Za-z0-9_-]{43}$/)]);
  });

  test("SendGrid's documented samples: categories as a string and as an array, unique args as top-level fields, attempt as a string", async () => {
    await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-samples', ['samples+silent@acme.test']));
    await stack.waitFor('processed', async () => (await get('wh-samples'))?.recipients?.[0]?.status === 'processed');
    // Shapes from the Event Webhook reference (and its Unique Arguments page), routed to our dispatch.
    const batch = [
      event('wh-samples', 'deferred', 'sample-deferred', {
        'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
        category: 'cat facts',
        response: '400 try again later',
        attempt: '5',
        ip: '168.1.1.1',
      }),
      event('wh-samples', 'delivered', 'sample-delivered', {
        category: ['cat facts', 'dog facts'],
        response: '250 OK',
        tls: 1,
        customerAccountNumber: '55555',
        activationAttempt: '1',
        'New Argument 1': 'New Value 1',
      }),
      event('wh-samples', 'open', 'sample-open', {
        category: ['cat facts'],
        useragent: 'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
        ip: '255.255.255.255',
        sg_machine_open: false,
      }),
      event('wh-samples', 'group_resubscribe', 'sample-resub', { asm_group_id: 10 }),
    ];
    const res = await postSendGrid(signedSendGrid(batch));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 4, invalid: 0 });
    await stack.waitFor('opened', async () => (await get('wh-samples')).recipients[0].opened === true);
    const r = (await get('wh-samples')).recipients[0];
    expect(r.status).toBe('delivered');
    expect(r.history.map((h: { event: string }) => h.event)).toEqual(
      expect.arrayContaining(['deferred', 'delivered', 'open']),
    );
  });
});

describe("a NUL character (U+0000) in a signed provider payload is the provider's to send: accepted, stored as U+FFFD", () => {
  // PostgreSQL, under the embedded FerretDB, cannot store U+0000 in text: a refused insert was a
  // 500, and SendGrid retries a 500 batch, good events included, for a day.
  const NUL = String.fromCharCode(0);
  const noNul = (value: unknown) => !JSON.stringify(value).includes('\\u0000');

  test('a SendGrid batch: the event is applied, stored once with U+FFFD where the NULs were, and a retry is recognised', async () => {
    await stack.request('POST', '/v1/dispatches', purchaseOrder('wh-nul', ['nul+silent@acme.test']));
    await stack.waitFor('processed', async () => (await get('wh-nul'))?.recipients?.[0]?.status === 'processed');
    const batch = [
      event('wh-nul', 'bounce', `nul-${NUL}-1`, {
        reason: `550 5.1.1 <nul${NUL}@acme.test>: user unknown`,
        type: 'bounce',
        bounce_classification: 'Invalid Address',
        [`note${NUL}`]: `a${NUL}b`,
      }),
    ];
    const res = await postSendGrid(signedSendGrid(batch));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 1, invalid: 0 });
    await stack.waitFor('bounced', async () => (await get('wh-nul')).recipients[0].status === 'bounced');
    const stored = await stack.db.DispatchEvent.find({
      tenantId: stack.tenantId,
      dispatchId: 'wh-nul',
      source: 'sendgrid',
      event: 'bounce',
    }).lean();
    expect(stored.map((e) => ({ _id: e._id, reason: e.reason, nul: noNul(e) }))).toEqual([
      { _id: 'sendgrid:nul-\uFFFD-1', reason: '550 5.1.1 <nul\uFFFD@acme.test>: user unknown', nul: true },
    ]);
    expect(stored[0].payload).toMatchObject({ 'note\uFFFD': 'a\uFFFDb' });
    const recipient = (await get('wh-nul')).recipients[0];
    expect(recipient.rawReason).toBe('550 5.1.1 <nul\uFFFD@acme.test>: user unknown');
    const entries = recipient.history.length;
    expect((await postSendGrid(signedSendGrid(batch))).status).toBe(200); // SendGrid's retry: the same event
    await new Promise((r) => setTimeout(r, 500));
    expect((await get('wh-nul')).recipients[0].history.length).toBe(entries);
  });

  test('a Twilio status callback and an inbound reply: acknowledged, kept for audit with U+FFFD', async () => {
    const url = `${stack.apiUrl}/webhooks/twilio/status?tenant=${stack.tenantId}&dispatch=wh-nul-sms&index=0.1`;
    const params = {
      MessageSid: `SM${'b'.repeat(32)}`,
      MessageStatus: 'undelivered',
      ErrorCode: `30003${NUL}`,
      AccountSid: SANDBOX_SECRETS.twilioAccountSid,
      To: '+33612345678',
    };
    const status = await fetch(url, {
      method: 'POST',
      body: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(SANDBOX_SECRETS.twilioAuthToken, url, params),
      },
    });
    expect(status.status).toBe(200);
    const audited = await stack.db.WebhookEvent.findOne({
      provider: 'twilio',
      'payload.MessageSid': params.MessageSid,
    }).lean();
    expect({ errorCode: (audited?.payload as Record<string, string>).ErrorCode, nul: noNul(audited) }).toEqual({
      errorCode: '30003\uFFFD',
      nul: true,
    });

    const answer = await stack.sandbox.inbound({ channel: 'sms', from: '+33698700301', body: `YES${NUL} 1234` });
    expect(answer.status).toBe(200);
    const inbound = await stack.db.WebhookEvent.findOne({ provider: 'twilio', 'payload.From': '+33698700301' }).lean();
    expect({ body: (inbound?.payload as Record<string, string>).Body, nul: noNul(inbound) }).toEqual({
      body: 'YES\uFFFD 1234',
      nul: true,
    });
  });
});
