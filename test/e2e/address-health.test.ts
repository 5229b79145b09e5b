// Issue 20, item 2 end to end: HTTP → workflows → SendGrid/Twilio SDKs → sandbox fates → signed
// webhooks → the tenant's address-health registry; then what the registry changes: warnings and
// refusals of POST /v1/dispatches, no SMS to a number that opted out (STOP/START), the notice
// asking to correct an address saying it failed before, and an operator clearing a record.
import { customerWrites, newOrder, purchaseOrder, startStack, type Stack } from '../support/stack';
import { postSignedSendGrid } from '../support/sendgrid-webhook';
import { SOFT_FAILURE_LIMIT } from '../../src/domain/address-health';
import { recipientsKey } from '../../src/db/dispatch-records';
import { dispatchWorkflowId } from '../../src/workflows/dispatch/contract';

let stack: Stack;
let ops: string;
let reader: string;
beforeAll(async () => {
  stack = await startStack({ eventDelayMs: 50 });
  ops = await stack.keyWithRoles(['ops']);
  reader = await stack.keyWithRoles(['log:read']);
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.sandbox.clear());

const BUYER = 'bruno.buyer@bistro.test';
const health = async (address: string) => {
  const res = await stack.request('GET', `/v1/address-health/${encodeURIComponent(address)}`);
  return res.status === 200 ? res.body : undefined;
};
/** Waits until the registry holds this condition for the address. */
const condition = (address: string, name: string) =>
  stack.waitFor(`${address}: ${name}`, async () => {
    const h = await health(address);
    return h?.conditions.find((c: any) => c.condition === name) && h;
  });
const dispatched = async (id: string, emails: string[]) => {
  const res = await stack.request('POST', '/v1/dispatches', purchaseOrder(id, emails));
  expect(res.status).toBe(202);
  return res.body;
};
/** No activity of the dispatch's workflow is running (its last projection write has finished, registry included). */
const idle = async (dispatchId: string) =>
  !(await stack.client.workflow.getHandle(dispatchWorkflowId(stack.tenantId, dispatchId)).describe()).raw
    .pendingActivities?.length;
const to = (address: string) => stack.sandbox.messages({ to: address });
const orders = {
  place: async (id: string, customer: Record<string, unknown>) => {
    const res = await stack.request('POST', '/v1/orders', newOrder(id, customer));
    expect(res.status).toBe(202);
    await stack.waitFor(
      `order ${id} assessed`,
      async () => (await stack.request('GET', `/v1/orders/${id}`)).body?.risk,
    );
    return res.body;
  },
  /**
   * Placed, packed, then not ready to ship for an unserviceable PIN code: the customer is told of the
   * delay (delivery_delay: SMS and email by default, O5) — and no failed delivery raises the next order's risk.
   */
  tellCustomer: async (id: string, customer: Record<string, unknown>) => {
    const placed = await orders.place(id, customer);
    for (const e of [
      { type: 'allocated' },
      { type: 'packed' },
      { type: 'rts_failed', reason: 'pincode_unserviceable' },
    ]) {
      expect((await stack.request('POST', `/v1/orders/${id}/events`, e)).status).toBe(200);
    }
    return placed;
  },
  notifications: async (id: string) =>
    (await stack.request('GET', `/v1/orders/${id}`)).body.notifications as Array<{
      channel: string;
      status: string;
      audience: string;
      dispatchId: string;
    }>,
};

describe('every SendGrid outcome of the sandbox lands in the registry with its reason', () => {
  test.each([
    // [address, condition, state, code]
    ['e1+bounce@acme.test', 'invalid_address', 'bad', 'Invalid Address'], // hard bounce
    ['e1+drop@acme.test', 'invalid_address', 'bad', 'Bounced Address'], // drop: bad
    ['e1+invalid@acme.test', 'invalid_address', 'bad', 'Invalid'], // drop: bad
    ['e1+unsub@acme.test', 'opted_out', 'opted_out', 'Unsubscribed Address'], // drop: the person asked
    ['e1+block@acme.test', 'blocked', 'ok', 'Reputation'], // block: not the address's fault
    ['e1+content@acme.test', 'blocked', 'ok', 'Content'],
    ['e1+softbounce@acme.test', 'soft_failure', 'soft', 'Mailbox Unavailable'],
  ])('%s → %s (%s)', async (address, name, state, code) => {
    const id = `h-${address.split('+')[1].split('@')[0]}`;
    await dispatched(id, [address]);
    const h = await condition(address, name);
    expect(h.state).toBe(state);
    expect(h.conditions).toEqual([
      expect.objectContaining({ condition: name, count: 1, code, dispatchId: id, orderId: null }),
    ]);
    expect(Date.parse(h.conditions[0].firstSeen)).toBeLessThanOrEqual(Date.parse(h.conditions[0].lastSeen));
  });

  test('a delivered email address gets no record: nothing is written for a healthy address', async () => {
    await dispatched('h-ok', ['good.supplier@acme.test']);
    await stack.waitFor(
      'delivered',
      async () => (await stack.request('GET', '/v1/dispatches/h-ok')).body?.recipients?.[0]?.status === 'delivered',
    );
    // The projection that wrote `delivered` has run its registry part too (the same activity, after the log).
    await stack.waitFor('no projection running', () => idle('h-ok'));
    expect(await health('good.supplier@acme.test')).toBeUndefined();
  });

  test(`soft failures of ${SOFT_FAILURE_LIMIT} messages make an address bad (a message's repeated deferrals count once)`, async () => {
    const address = 'slow+defer@acme.test'; // deferred 5 times per message, never final
    for (let i = 1; i <= SOFT_FAILURE_LIMIT; i += 1) {
      await dispatched(`h-defer-${i}`, [address]);
      await stack.waitFor(
        `message ${i} counted`,
        async () => (await health(address))?.conditions.find((c: any) => c.condition === 'soft_failure')?.count === i,
      );
    }
    const h = await health(address);
    expect(h.state).toBe('bad');
    // More deferrals of those messages arriving change nothing.
    await stack.waitFor('every deferral in', async () =>
      to(address).every((m) => m.events.filter((e) => e.type === 'deferred').length === 5),
    );
    expect((await health(address)).conditions[0].count).toBe(SOFT_FAILURE_LIMIT);
  });

  test('a later success clears a soft record', async () => {
    const address = 'later+deferok@acme.test'; // deferred, then delivered
    await dispatched('h-deferok', [address]);
    await stack.waitFor('soft, then cleared by the delivery', async () => {
      const h = await health(address);
      return h?.state === 'ok' && h.lastSuccessAt && h;
    });
    expect((await health(address)).conditions).toEqual([]);
  });
});

describe("POST /v1/dispatches warns, or refuses by the tenant's policy, naming why and since when", () => {
  test('warn (the default): 202 with a warning naming the field, the reason and the date (the dispatch page: test/ui/address-health-page.test.ts)', async () => {
    await dispatched('h-w1-first', ['w1+bounce@acme.test']);
    const bad = await condition('w1+bounce@acme.test', 'invalid_address');
    const created = await dispatched('h-w1', ['fine@acme.test', 'w1+bounce@acme.test']);
    expect(created.warnings).toEqual([
      {
        field: 'recipients.1.email',
        message: expect.stringContaining(
          'w1+bounce@acme.test is known bad: hard-bounced as an invalid address (Invalid Address)',
        ),
      },
    ]);
    expect(created.warnings[0].message).toContain(`since ${bad.conditions[0].firstSeen}`);
  });

  test('refuse: 422 naming every bad field, nothing recorded or sent; warn again once the policy is back', async () => {
    await dispatched('h-r1-first', ['r1+drop@acme.test']);
    await condition('r1+drop@acme.test', 'invalid_address');
    expect((await stack.request('PUT', '/v1/settings', { knownBadAddresses: 'refuse' })).status).toBe(200);
    try {
      const refused = await stack.request(
        'POST',
        '/v1/dispatches',
        purchaseOrder('h-r1', ['fine.r1@acme.test', 'r1+drop@acme.test']),
      );
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('known_bad_address');
      expect(refused.body.error.details).toEqual([
        { field: 'recipients.1.email', message: expect.stringContaining('known bad'), value: 'r1+drop@acme.test' },
      ]);
      expect((await stack.request('GET', '/v1/dispatches/h-r1')).status).toBe(404);
      expect(to('fine.r1@acme.test')).toHaveLength(0);
      // A retry of a request accepted before (its answer lost) answers as the first did: 200, with the warning.
      const retried = await stack.request('POST', '/v1/dispatches', purchaseOrder('h-r1-first', ['r1+drop@acme.test']));
      expect(retried.status).toBe(200);
      expect(retried.body.warnings).toEqual([
        { field: 'recipients.0.email', message: expect.stringContaining('known bad') },
      ]);
    } finally {
      expect((await stack.request('PUT', '/v1/settings', { knownBadAddresses: 'warn' })).status).toBe(200);
      const defaults = { delivery_delay: { enabled: true, channels: ['sms', 'email'] } };
      expect((await stack.request('PUT', '/v1/preferences', { customerNotices: defaults })).status).toBe(200);
    }
    expect(
      (await stack.request('POST', '/v1/dispatches', purchaseOrder('h-r1', ['fine.r1@acme.test', 'r1+drop@acme.test'])))
        .status,
    ).toBe(202);
  });

  test('refuse: an order notice to a known-bad email is not sent on that channel, recorded with why; the SMS goes', async () => {
    await dispatched('h-r2-first', ['r2+invalid@acme.test']);
    await condition('r2+invalid@acme.test', 'invalid_address');
    expect((await stack.request('PUT', '/v1/settings', { knownBadAddresses: 'refuse' })).status).toBe(200);
    // Email first: its refusal is what moves the notice on to the SMS (one channel at a time).
    const order = { delivery_delay: { enabled: true, channels: ['email', 'sms'] } };
    expect((await stack.request('PUT', '/v1/preferences', { customerNotices: order })).status).toBe(200);
    try {
      const placed = await orders.tellCustomer('h-r2', { phone: '+33612307773', email: 'r2+invalid@acme.test' });
      expect(placed.warnings).toEqual([
        { field: 'customer.email', message: expect.stringContaining('r2+invalid@acme.test is known bad') },
      ]);
      const told = await stack.waitFor('both notices settled', async () => {
        const n = (await orders.notifications('h-r2')).filter((x) => x.audience === 'customer');
        return n.length === 2 && n.every((x) => x.status === 'not_sent' || x.status === 'delivered') && n;
      });
      expect(Object.fromEntries(told.map((n) => [n.channel, n.status]))).toEqual({
        sms: 'delivered',
        email: 'not_sent',
      });
      expect(
        to('r2+invalid@acme.test').filter((m) => String(m.customArgs?.relais_dispatch).startsWith('order-h-r2')),
      ).toHaveLength(0);
      const emailNotice = (await stack.request('GET', '/v1/orders/h-r2')).body.notifications.find(
        (n: any) => n.audience === 'customer' && n.channel === 'email',
      );
      const d = (await stack.request('GET', `/v1/dispatches/${encodeURIComponent(emailNotice.dispatchId)}`)).body;
      expect(d.recipients[0].rawReason).toMatch(
        /^not sent: r2\+invalid@acme\.test is known bad: hard-bounced as an invalid address \(Invalid\) since /,
      );
    } finally {
      expect((await stack.request('PUT', '/v1/settings', { knownBadAddresses: 'warn' })).status).toBe(200);
      const defaults = { delivery_delay: { enabled: true, channels: ['sms', 'email'] } };
      expect((await stack.request('PUT', '/v1/preferences', { customerNotices: defaults })).status).toBe(200);
    }
  });

  test('the policy is a setting: an unknown value is refused naming the field', async () => {
    const res = await stack.request('PUT', '/v1/settings', { knownBadAddresses: 'ignore' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('knownBadAddresses');
  });
});

test('D5: the notice asking to correct an address says it already failed before', async () => {
  const address = 'again+bounce@acme.test';
  await dispatched('h-again-1', [address]);
  await condition(address, 'invalid_address');
  stack.sandbox.clear();
  await dispatched('h-again-2', ['ok.again@acme.test', address]);
  const notice = await stack.waitFor('partial-failure notice', async () =>
    to(BUYER).find((m) => (m.text ?? '').includes('h-again-2')),
  );
  expect(notice.text).toContain(address);
  expect(notice.text).toMatch(/This address already failed before: once, on /);
  // The first dispatch's escalation said nothing of the kind: it was the first failure.
  stack.sandbox.clear();
  await dispatched('h-first-time', ['first+bounce@acme.test']);
  const escalation = await stack.waitFor('escalation', async () =>
    to(BUYER).find((m) => (m.text ?? '').includes('h-first-time')),
  );
  expect(escalation.text).not.toContain('already failed before');
});

describe('Twilio outcomes of order notices, and the SMS opt-out', () => {
  test.each([
    ['+33612300002', 'unknown_number', 'bad', '30005'],
    ['+33612300004', 'landline', 'bad', '30006'],
    ['+33612300005', 'opted_out', 'opted_out', '21610'], // refused at the Messages API
  ])('%s → %s', async (phone, name, state, code) => {
    const id = `h-o-${phone.slice(-4)}`;
    await orders.tellCustomer(id, { phone, email: `c${phone.slice(-4)}@example.test` });
    const h = await condition(phone, name);
    expect(h).toMatchObject({ state, kind: 'phone' });
    expect(h.conditions[0]).toMatchObject({
      code,
      orderId: id,
      dispatchId: expect.stringMatching(new RegExp(`^order-${id}~`)),
    });
  });

  test('63016: WhatsApp outside the 24-hour window is recorded, and the number stays good', async () => {
    const put = await stack.request('PUT', '/v1/preferences', {
      customerNotices: { delivery_delay: { enabled: true, channels: ['whatsapp'] } },
    });
    expect(put.status).toBe(200);
    try {
      // The customer wrote, so Relais believes the window open; Twilio answers 63016 all the same.
      await customerWrites(stack, '+33612300006');
      await orders.tellCustomer('h-o-wa', { phone: '+33612300006', email: null });
      const h = await condition('+33612300006', 'outside_window');
      expect(h.state).toBe('ok');
      expect(h.conditions[0].code).toBe('63016');
    } finally {
      await stack.request('PUT', '/v1/preferences', {
        customerNotices: { delivery_delay: { enabled: true, channels: ['sms', 'email'] } },
      });
    }
  });

  test('STOP: no SMS again (the notice falls to email, or to WhatsApp without one); START: SMS again', async () => {
    const phone = '+33612307771';
    await orders.tellCustomer('h-stop-1', { phone, email: 'stop1@example.test' });
    await stack.waitFor('SMS delivered', async () => (await health(phone))?.state === 'ok');
    expect(to(phone).filter((m) => m.channel === 'sms')).toHaveLength(1);

    await stack.sandbox.inbound({ channel: 'sms', from: phone, body: 'STOP' });
    const stopped = await health(phone);
    expect(stopped.state).toBe('opted_out');
    expect(stopped.conditions[0]).toMatchObject({ condition: 'opted_out', code: 'STOP' });

    stack.sandbox.clear();
    // Email chosen too: the notice goes by email only.
    await orders.tellCustomer('h-stop-2', { phone, email: 'stop2@example.test' });
    await stack.waitFor('email notice', async () => to('stop2@example.test').length === 1);
    // No email: it falls to WhatsApp (free text: the customer wrote on WhatsApp within 24 h).
    await customerWrites(stack, phone);
    await orders.tellCustomer('h-stop-3', { phone, email: null });
    await stack.waitFor('WhatsApp notice', async () => to(phone).some((m) => m.channel === 'whatsapp'));
    expect(to(phone).filter((m) => m.channel === 'sms')).toHaveLength(0);
    expect(
      (await orders.notifications('h-stop-2')).filter((n) => n.audience === 'customer').map((n) => n.channel),
    ).toEqual(['email']);
    expect(
      (await orders.notifications('h-stop-3')).filter((n) => n.audience === 'customer').map((n) => n.channel),
    ).toEqual(['whatsapp']);

    await stack.sandbox.inbound({ channel: 'sms', from: phone, body: 'START' });
    expect((await health(phone)).state).toBe('ok');
    stack.sandbox.clear();
    await orders.tellCustomer('h-stop-4', { phone, email: null });
    await stack.waitFor('SMS again', async () => to(phone).some((m) => m.channel === 'sms'));
  });

  test('a dispatch by SMS to an opted-out number is recorded not sent, with why (never handed to Twilio)', async () => {
    const phone = '+33612307772';
    await orders.tellCustomer('h-stop-sms-only', { phone, email: 'sms-only@example.test' });
    await stack.waitFor('good record', async () => (await health(phone))?.state === 'ok');
    await stack.sandbox.inbound({ channel: 'sms', from: phone, body: 'STOP' });
    stack.sandbox.clear();
    const resent = await stack.request('POST', '/v1/dispatches/h-ok/resend-via', { channel: 'sms', phone });
    expect(resent.status).toBe(202);
    const child = await stack.waitFor('the link dispatch settles', async () => {
      const d = (await stack.request('GET', `/v1/dispatches/${resent.body.dispatchId}`)).body;
      return d?.recipients?.[0]?.status === 'not_sent' && d;
    });
    expect(child.recipients[0].rawReason).toMatch(/not sent: \+33612307772 is known bad: opted out \(STOP\) since /);
    expect(to(phone)).toHaveLength(0);
  });
});

describe('an operator clears a record (role ops, audited)', () => {
  test('cleared: good again, who and why in the audit; a reader may not clear', async () => {
    const address = 'cleared+bounce@acme.test';
    await dispatched('h-clear', [address]);
    await condition(address, 'invalid_address');
    const path = `/v1/address-health/${encodeURIComponent(address)}`;
    expect((await stack.request('GET', path, undefined, reader)).status).toBe(200);
    expect((await stack.request('DELETE', path, { reason: 'supplier confirmed the address' }, reader)).status).toBe(
      403,
    );
    expect((await stack.request('DELETE', path, {}, ops)).status).toBe(400); // a reason is required
    // A blank reason, or one with a NUL character (the contract fuzzer's find), is a 400 naming the field.
    for (const reason of ['   ', 'confirmed\u0000']) {
      const bad = await stack.request('DELETE', path, { reason }, ops);
      expect(bad.status).toBe(400);
      expect(bad.body.error.details[0].field).toBe('reason');
    }
    const cleared = await stack.request('DELETE', path, { reason: 'supplier confirmed the address' }, ops);
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ state: 'ok', conditions: [], cleared: { by: expect.any(String) } });
    const audit = await stack.db.Audit.findOne({
      tenantId: stack.tenantId,
      action: 'address_health.clear',
      target: address,
    }).lean();
    expect(audit).toMatchObject({ reason: 'supplier confirmed the address' });
    expect(
      (await stack.request('GET', '/v1/address-health?state=bad&limit=200')).body.records.map((r: any) => r.address),
    ).not.toContain(address);
    expect(
      (
        await stack.request(
          'DELETE',
          `/v1/address-health/${encodeURIComponent('nobody@nowhere.test')}`,
          { reason: 'x' },
          ops,
        )
      ).status,
    ).toBe(404);
    // Another tenant sees none of it.
    expect((await stack.request('GET', path, undefined, stack.other.key)).status).toBe(404);
  });

  test('the list filters by state and kind, pages, and the 202 of an order warns about its customer', async () => {
    const bad = await stack.request('GET', '/v1/address-health?state=bad&kind=email&limit=2');
    expect(bad.status).toBe(200);
    expect(bad.body.records).toHaveLength(2);
    expect(bad.body.records.every((r: any) => r.state === 'bad' && r.kind === 'email')).toBe(true);
    const next = await stack.request(
      'GET',
      `/v1/address-health?state=bad&kind=email&limit=2&cursor=${bad.body.nextCursor}`,
    );
    expect(next.body.records.map((r: any) => r.address)).not.toContain(bad.body.records[0].address);
    const placed = await orders.place('h-o-warn', { phone: '+33612300002', email: 'e1+bounce@acme.test' });
    expect(placed.warnings.map((w: any) => w.field)).toEqual(['customer.email', 'customer.phone']);
  });
});

/** Dispatches to an address the sandbox says nothing more about once processed; their events are posted by the test. */
const silentDispatches = async (prefix: string, address: string, n: number) => {
  for (let i = 0; i < n; i += 1) await dispatched(`${prefix}-${i}`, [address]);
  await stack.waitFor(
    `${n} processed`,
    async () => to(address).every((m) => m.events.some((e) => e.type === 'processed')) && to(address).length === n,
  );
};

test("concurrent webhook batches about one address, each dispatch's projection recording its own: every outcome counted once (FerretDB updates are read-modify-write)", async () => {
  const address = 'busy+silent@acme.test';
  await silentDispatches('busy', address, 12);
  const batch = (i: number) => [
    {
      email: address,
      timestamp: Math.floor(Date.now() / 1000),
      event: 'deferred',
      sg_event_id: `busy-${i}`,
      response: '451 4.2.0 try later',
      attempt: '1',
      relais_tenant: stack.tenantId,
      relais_dispatch: `busy-${i}`,
      relais_index: '0.1',
    },
  ];
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => postSignedSendGrid(stack, batch(i))));
  expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
  await stack.waitFor('12 counted', async () => (await health(address))?.conditions[0]?.count === 12);
  // Retried by the provider: nothing more (the retried events reach the histories, and the registry, as duplicates).
  await Promise.all(Array.from({ length: 4 }, (_, i) => postSignedSendGrid(stack, batch(i))));
  // Projected: each retry's batch is in its dispatch's histories, and no projection write is still running.
  await stack.waitFor('the retries projected', async () =>
    (
      await Promise.all(
        Array.from({ length: 4 }, async (_, i) => {
          const recipients = await stack.db.DispatchRecipients.findById(
            recipientsKey(stack.tenantId, `busy-${i}`, 0),
          ).lean();
          return (recipients?.batches.length ?? 0) >= 3 && (await idle(`busy-${i}`));
        }),
      )
    ).every(Boolean),
  );
  const h = await health(address);
  expect(h.conditions).toEqual([expect.objectContaining({ condition: 'soft_failure', count: 12 })]);
  expect(h.state).toBe('bad');
});

test('a first success racing failures of the same address: the record folds every fact stored', async () => {
  const address = 'race+silent@acme.test';
  await silentDispatches('race', address, 10);
  const event = (i: number, kind: 'delivered' | 'bounce') => [
    {
      email: address,
      timestamp: Math.floor(Date.now() / 1000),
      event: kind,
      sg_event_id: `race-${kind}-${i}`,
      ...(kind === 'bounce'
        ? { type: 'bounce', bounce_classification: 'Invalid Address', reason: '550 5.1.1 user unknown' }
        : { response: '250 OK' }),
      relais_tenant: stack.tenantId,
      relais_dispatch: `race-${i}`,
      relais_index: '0.1',
    },
  ];
  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, i) => postSignedSendGrid(stack, event(i, i % 2 ? 'bounce' : 'delivered'))),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
  const h = await stack.waitFor('5 bounces counted', async () => {
    const r = await health(address);
    return r?.conditions[0]?.count === 5 && r;
  });
  expect(h.state).toBe('bad');
  expect(h.conditions).toEqual([expect.objectContaining({ condition: 'invalid_address', count: 5 })]);
  // Each dispatch's projection records its facts, then rebuilds the record: once every write is
  // done the record has folded every fact stored (a success stored after the fifth bounce included).
  const folded = async () => {
    const record = await stack.db.connection
      .collection('address_health')
      .findOne({ _id: `${stack.tenantId}/${address}` as never });
    const facts = await stack.db.connection
      .collection('address_health_facts')
      .countDocuments({ tenantId: stack.tenantId, address });
    return record?.folded === facts ? facts : undefined;
  };
  expect(await stack.waitFor('every fact folded', folded)).toBeGreaterThanOrEqual(5);
});

describe('recording leaves the webhook request (issue 20: ingestion as fast as before)', () => {
  test("a provider event is recorded after its request was answered, by the dispatch's projection; a worker stopped in between loses nothing", async () => {
    const address = 'offpath+silent@acme.test';
    await silentDispatches('h-offpath', address, 1);
    await stack.stopWorker();
    try {
      const bounce = {
        email: address,
        timestamp: Math.floor(Date.now() / 1000),
        event: 'bounce',
        sg_event_id: 'offpath-bounce',
        type: 'bounce',
        bounce_classification: 'Invalid Address',
        reason: '550 5.1.1 user unknown',
        relais_tenant: stack.tenantId,
        relais_dispatch: 'h-offpath-0',
        relais_index: '0.1',
      };
      const answered = await postSignedSendGrid(stack, [bounce]);
      expect(answered.status).toBe(200);
      // Taken (stored, signalled: applied behind the answer, issue 15's webhook inbox), and not yet
      // in the registry: no worker has run the projection.
      await stack.waitFor('the event stored', () => stack.db.DispatchEvent.findById('sendgrid:offpath-bounce').lean());
      expect(await health(address)).toBeUndefined();
    } finally {
      await stack.startWorker();
    }
    const h = await condition(address, 'invalid_address');
    expect(h).toMatchObject({ state: 'bad', kind: 'email' });
    expect(h.conditions).toEqual([
      expect.objectContaining({
        condition: 'invalid_address',
        count: 1,
        code: 'Invalid Address',
        dispatchId: 'h-offpath-0',
      }),
    ]);
  });
});
