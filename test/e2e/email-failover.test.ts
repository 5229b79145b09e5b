// Issue 20, item 3: email failover between SendGrid and the tenant's SMTP server, end to end on the
// real stack (HTTP → dispatch workflow → SendGrid SDK → sandbox → signed webhooks; nodemailer →
// smtp-server on loopback). A send moves to the other provider only when the first certainly did
// not take it (5xx, or not reached within the tenant's `failoverAfter`), once per recipient
// attempt, recorded in the recipient's history; never both delivering (rules D10, N4).
import net, { type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { purchaseOrder, startStack, type Stack } from '../support/stack';

const unavailable = () => Object.assign(new Error('service not available, closing channel'), { responseCode: 421 });

/** A mail server on loopback that keeps what it took, and can be made to refuse every connection (421). */
async function startMailServer() {
  const received: Array<{ to: string[]; dispatch: string | null }> = [];
  const state = { down: false };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Down: new connections are refused, and so is the next message on a pooled one.
    onConnect(_session, callback) {
      callback(state.down ? unavailable() : undefined);
    },
    onMailFrom(_address, _session, callback) {
      callback(state.down ? unavailable() : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          dispatch: /^X-Relais-Dispatch: (.+)$/im.exec(text)?.[1]?.trim() ?? null,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as AddressInfo).port,
    state,
    to: (address: string) => received.filter((m) => m.to.includes(address.toLowerCase())),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type History = Array<{ event: string; status: string | null; reason: string | null; response: string | null }>;

/** The recipient at `address` of a dispatch, once it has `status` (its history with it). */
async function settled(stack: Stack, dispatchId: string, address: string, status: string, timeoutMs?: number) {
  return stack.waitFor(
    `${dispatchId}: ${address} ${status}`,
    async () => {
      const { body } = await stack.request('GET', `/v1/dispatches/${dispatchId}`);
      const found = body?.recipients?.find((r: { address: string }) => r.address === address);
      return found?.status === status && (found as { status: string; history: History });
    },
    timeoutMs,
  );
}

describe('issue 20: email failover (sandbox SendGrid, SMTP on loopback)', () => {
  let stack: Stack;
  let mail: Awaited<ReturnType<typeof startMailServer>>;
  beforeAll(async () => {
    mail = await startMailServer();
    stack = await startStack({ smtp: { host: '127.0.0.1', port: mail.port }, eventDelayMs: 50 });
  });
  afterAll(async () => {
    await stack?.close();
    await mail?.close();
  });
  afterEach(() => {
    stack.sandbox.clearFaults();
    mail.state.down = false;
  });

  const get = async (id: string) => (await stack.request('GET', `/v1/dispatches/${id}`)).body;
  const sendgridTo = (address: string) => stack.sandbox.messages({ to: address });

  test('SendGrid answers 503: the send goes through SMTP, `sent` with the server reply; the history says which provider and why', async () => {
    stack.sandbox.fault({ provider: 'sendgrid', status: 503, count: 1 });
    const address = 'anna@failover-503.test';
    expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('fo-503', [address]))).status).toBe(202);
    const r = await settled(stack, 'fo-503', address, 'sent');
    // Rule D10: SMTP tracking stops at the hand-off; the result says so.
    expect((await get('fo-503')).result).toBe('sent');
    expect(mail.to(address)).toEqual([{ to: [address], dispatch: 'fo-503' }]);
    expect(sendgridTo(address)).toEqual([]);
    const failover = r.history.filter((h) => h.event === 'failover');
    expect(failover).toHaveLength(1);
    expect(failover[0].reason).toMatch(
      /^SendGrid did not take it \(SendGrid answered 503: .+\); sent through SMTP instead$/,
    );
    expect(r.history.map((h) => h.event)).toEqual(['failover', 'sent']);
    // The proof of sending carries it too.
    const proof = await stack.request('GET', '/v1/dispatches/fo-503/proof.json');
    const pack = typeof proof.body === 'string' ? JSON.parse(proof.body) : proof.body;
    expect(pack.recipients[0].events.map((e: { event: string }) => e.event)).toEqual(['failover', 'sent']);
  }, 60_000);

  test("the SMTP server refuses (421): the send goes through SendGrid, and SendGrid's events reach the dispatch (delivered)", async () => {
    mail.state.down = true;
    const address = 'bruno@failover-smtp.test';
    const body = purchaseOrder('fo-smtp', [address], { provider: 'smtp' });
    expect((await stack.request('POST', '/v1/dispatches', body)).status).toBe(202);
    const r = await settled(stack, 'fo-smtp', address, 'delivered');
    expect(mail.to(address)).toEqual([]);
    expect(sendgridTo(address)).toHaveLength(1);
    expect(r.history.find((h) => h.event === 'failover')?.reason).toMatch(
      /^SMTP did not take it \(SMTP server 127\.0\.0\.1:\d+: 421 .+\); sent through SendGrid instead$/,
    );
    expect(r.history.map((h) => h.event)).toEqual(
      expect.arrayContaining(['failover', 'accepted', 'processed', 'delivered']),
    );
    expect((await get('fo-smtp')).result).toBe('delivered');
  }, 60_000);

  test('both down: nothing is lost; the send is retried later and goes out once, when SendGrid is back', async () => {
    mail.state.down = true;
    stack.sandbox.fault({ provider: 'sendgrid', status: 503, count: 2 });
    const address = 'clara@failover-both.test';
    expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('fo-both', [address]))).status).toBe(202);
    const r = await settled(stack, 'fo-both', address, 'delivered', 60_000);
    // Two SendGrid answers of 503 used up, each time SMTP refused too: then SendGrid took it, once.
    expect(stack.sandbox.messages({ to: address })).toHaveLength(1);
    expect(mail.to(address)).toEqual([]);
    expect(r.history.filter((h) => h.event === 'failover')).toHaveLength(1);
    expect(r.history.filter((h) => h.event === 'accepted')).toHaveLength(1);
  }, 90_000);

  test('SendGrid reached but slow to answer (past failoverAfter): not sent elsewhere, since it may have taken it; delivered once by SendGrid', async () => {
    // rule N4: the request went out; sending it through SMTP as well could deliver it twice.
    expect((await stack.request('PUT', '/v1/settings', { policies: { failoverAfter: 'PT2S' } })).status).toBe(200);
    stack.sandbox.fault({ provider: 'sendgrid', delayMs: 4_000, count: 1 });
    const address = 'dora@failover-slow.test';
    expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('fo-slow', [address]))).status).toBe(202);
    const r = await settled(stack, 'fo-slow', address, 'delivered');
    expect(sendgridTo(address)).toHaveLength(1);
    expect(mail.to(address)).toEqual([]);
    expect(r.history.map((h) => h.event)).not.toContain('failover');
    await stack.request('PUT', '/v1/settings', { policies: { failoverAfter: 'PT10S' } });
  }, 60_000);
});

describe('issue 20: SendGrid not reached within the default failoverAfter (PT10S)', () => {
  let stack: Stack;
  let mail: Awaited<ReturnType<typeof startMailServer>>;
  let stalled: net.Server;
  const held = new Set<net.Socket>();
  beforeAll(async () => {
    mail = await startMailServer();
    // Takes the connection and never answers the TLS handshake: nothing of the request can reach it.
    stalled = net.createServer((socket) => {
      held.add(socket);
      socket.on('close', () => held.delete(socket));
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', () => resolve()));
    stack = await startStack({
      smtp: { host: '127.0.0.1', port: mail.port },
      sendgridBaseUrl: `https://127.0.0.1:${(stalled.address() as AddressInfo).port}`,
      eventDelayMs: 50,
    });
  });
  afterAll(async () => {
    await stack?.close();
    await mail?.close();
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => stalled?.close(() => resolve()));
  });

  test('the send goes through SMTP once the delay passes; the history says SendGrid was not reached', async () => {
    const address = 'emma@failover-timeout.test';
    expect((await stack.request('GET', '/v1/settings')).body.policies.failoverAfter).toBe('PT10S');
    const started = Date.now();
    expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('fo-timeout', [address]))).status).toBe(202);
    const r = await settled(stack, 'fo-timeout', address, 'sent');
    // Not before the tenant's delay: SendGrid had its 10 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(mail.to(address)).toHaveLength(1);
    expect(r.history.find((h) => h.event === 'failover')?.reason).toBe(
      'SendGrid did not take it (SendGrid not reached within 10 s (nothing was sent to it)); sent through SMTP instead',
    );
  }, 60_000);
});
