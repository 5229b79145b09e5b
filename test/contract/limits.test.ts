// Limits of the HTTP surface (docs/api.md, "Limits"), each through the real API: body size per
// route (413 naming the limit), recipient and item caps (400 naming the field; rule D1), and the
// per-address rate limits of public routes (429 with Retry-After), all in the one error shape.
import { request as httpRequest } from 'node:http';
import { newOrder, purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';
import { signLink } from '../../src/links';
import { DEFAULT_LIMITS } from '../../src/api/limits';
import { DATA_LIMITS, MAX_RECIPIENTS } from '../../src/api/schemas';

const SMALL = {
  publicRate: { max: 3, windowMs: 60_000 },
  webhookRate: { max: 3, windowMs: 60_000 },
  tenantPublicRate: { max: 4, windowMs: 60_000 },
};

/** A request from a chosen loopback address, so two "clients" can be told apart by the server. */
function from(localAddress: string, url: string, method = 'GET', body?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest(url, { method, localAddress, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

const dispatch = (overrides: Record<string, unknown> = {}) =>
  purchaseOrder(`lim-${Math.random().toString(36).slice(2, 10)}`, ['anna@supplier.test'], overrides);

describe('API limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ limits: SMALL });
  });
  afterAll(() => stack?.close());

  const post = async (path: string, raw: string) => {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: raw,
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('413 naming the limit when a JSON body is over the default limit', async () => {
    const big = JSON.stringify({ orderId: 'o-big', padding: 'x'.repeat(DEFAULT_LIMITS.bodyLimitBytes) });
    const res = await post('/v1/orders', big);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      error: {
        code: 'payload_too_large',
        message: `the body is larger than this route's limit of ${DEFAULT_LIMITS.bodyLimitBytes} bytes`,
        details: { limitBytes: DEFAULT_LIMITS.bodyLimitBytes },
      },
    });
  });

  it('a dispatch may carry attachments above the default limit, up to its own (413 above it)', async () => {
    const pdf = Buffer.alloc(2 * 1024 * 1024, 0x25).toString('base64'); // 2 MB decoded, 2.7 MB in the body
    const ok = await post(
      '/v1/dispatches',
      JSON.stringify(
        dispatch({ attachments: [{ filename: 'PO-1.pdf', contentType: 'application/pdf', contentBase64: pdf }] }),
      ),
    );
    expect(ok.status).toBe(202);

    const huge = JSON.stringify(dispatch({ padding: 'x'.repeat(DEFAULT_LIMITS.dispatchBodyLimitBytes) }));
    const refused = await post('/v1/dispatches', huge);
    expect(refused.status).toBe(413);
    expect(refused.body.error).toMatchObject({
      code: 'payload_too_large',
      details: { limitBytes: DEFAULT_LIMITS.dispatchBodyLimitBytes },
    });
  });

  it(`rule D1: more than ${MAX_RECIPIENTS} recipients, or none, is refused naming the field`, async () => {
    const many = Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) => ({ email: `p${i}@supplier.test` }));
    const tooMany = await post('/v1/dispatches', JSON.stringify(dispatch({ recipients: many })));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({
      code: 'invalid_request',
      details: [expect.objectContaining({ field: 'recipients', message: `at most ${MAX_RECIPIENTS} recipients` })],
    });

    const none = await post('/v1/dispatches', JSON.stringify(dispatch({ recipients: [] })));
    expect(none.status).toBe(400);
    expect(none.body.error.details).toEqual([
      expect.objectContaining({ field: 'recipients', message: 'at least one recipient' }),
    ]);
  });

  it("a dispatch's data: over its size a 413, deeper than its depth a 400, both naming data; nothing starts (issue 14, finding 4)", async () => {
    const data = (extra: Record<string, unknown>) => ({ ...purchaseOrder('x', []).data, ...extra });
    const big = dispatch({ data: data({ notes: 'x'.repeat(2.5 * 1024 * 1024) }) });
    const tooBig = await post('/v1/dispatches', JSON.stringify(big));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toEqual({
      code: 'payload_too_large',
      message: expect.stringMatching(new RegExp(`^data is \\d+ bytes as JSON; at most ${DATA_LIMITS.bytes}`)),
      details: [
        {
          field: 'data',
          message: expect.any(String),
          value: null,
          limitBytes: DATA_LIMITS.bytes,
          sizeBytes: expect.any(Number),
        },
      ],
    });
    // 20,000 levels, written as text (JSON.stringify itself cannot go that deep).
    const deep = dispatch({ data: data({ nested: 'DEEP' }) });
    const tooDeep = await post(
      '/v1/dispatches',
      JSON.stringify(deep).replace('"DEEP"', `${'{"nested":'.repeat(20_000)}"bottom"${'}'.repeat(20_000)}`),
    );
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error.details).toEqual([
      expect.objectContaining({ field: 'data', message: `nested deeper than ${DATA_LIMITS.depth} levels` }),
    ]);
    for (const refused of [big, deep])
      expect((await stack.request('GET', `/v1/dispatches/${refused.dispatchId}`)).status).toBe(404);

    // What a purchase order really carries fits: 300 lines, a few levels deep.
    const lines = Array.from({ length: 300 }, (_, i) => ({
      sku: `SKU-${i}`,
      label: `Article ${i} — carton de 12`,
      quantity: 12,
      unitPrice: { amount: '14.90', currency: 'EUR' },
    }));
    expect((await post('/v1/dispatches', JSON.stringify(dispatch({ data: data({ lines }) })))).status).toBe(202);
  });

  it('more than 500 items in an order is refused naming the field', async () => {
    const items = Array.from({ length: 501 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1, location: 'WH1' }));
    const res = await post('/v1/orders', JSON.stringify({ ...newOrder('o-many'), items }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'items', message: 'at most 500 items' })]);
  });

  it('/c/:token: 429 with Retry-After past the per-address limit; another address is not affected', async () => {
    const url = `${stack.apiUrl}/c/not-a-real-token`;
    for (let i = 0; i < SMALL.publicRate.max; i += 1) expect((await from('127.0.0.1', url)).status).toBe(404);
    const limited = await from('127.0.0.1', url);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(limited.body)).toEqual({
      error: {
        code: 'rate_limited',
        message: expect.stringMatching(/^too many requests from this address: at most 3 per 1 minute; retry in \d+ s$/),
        details: { limit: 3, window: '1 minute', retryAfterSeconds: expect.any(Number) },
      },
    });
    // The customer next door (another address) still gets the page.
    expect((await from('127.0.0.2', url)).status).toBe(404);
  });

  it('/c/:token: 429 past the per-tenant limit, counted on links that verify; forged links spend nothing; other tenants unaffected', async () => {
    const link = (tenantId: string, secret = SANDBOX_SECRETS.linkSecret) =>
      `${stack.apiUrl}/c/${signLink(secret, { kind: 'confirm', tenantId, target: 'o-none:nonce', exp: Date.now() + 3_600_000 })}`;
    // Forged links naming the tenant, from many addresses: only their addresses' allowances are spent.
    for (let i = 0; i < 6; i += 1)
      expect((await from(`127.0.1.${i + 1}`, link(stack.tenantId, 'x'.repeat(32)))).status).toBe(404);
    // Real links of the tenant, each from a new address (under every per-address limit): the fifth is refused.
    for (let i = 0; i < SMALL.tenantPublicRate.max; i += 1)
      expect((await from(`127.0.2.${i + 1}`, link(stack.tenantId))).status).toBe(404);
    const limited = await from('127.0.2.99', link(stack.tenantId));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(limited.body).error).toMatchObject({
      code: 'rate_limited',
      message: expect.stringContaining("this business's links"),
      details: { limit: 4 },
    });
    // Another business's customers still get their pages.
    expect((await from('127.0.2.98', link(stack.other.tenantId))).status).toBe(404);
  });

  it('webhooks: 429 with Retry-After past the per-address limit, before any signature work', async () => {
    const url = `${stack.apiUrl}/webhooks/twilio/status`;
    const form = 'MessageSid=SM00000000000000000000000000000000&MessageStatus=delivered';
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    for (let i = 0; i < SMALL.webhookRate.max; i += 1)
      expect((await from('127.0.0.3', url, 'POST', form, headers)).status).toBe(401);
    const limited = await from('127.0.0.3', url, 'POST', form, headers);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(JSON.parse(limited.body).error.code).toBe('rate_limited');
  });

  it('authenticated API routes are not rate limited per address', async () => {
    for (let i = 0; i < SMALL.publicRate.max + 2; i += 1)
      expect((await stack.request('GET', '/v1/preferences')).status).toBe(200);
  });
});
