// The smaller holes of the security review (issue 14, findings 6–10, 12), each through the real
// HTTP surface: dates on the log page, CSRF tokens bound to the session, router errors in the one
// error shape, customer pages that cannot be framed or sniffed, http(s)-only links in emails, and
// metrics off the public port.
import { randomBytes } from 'node:crypto';
import { signInOverHttp, type UiSession } from '../support/ui-session';
import { purchaseOrder, SANDBOX_SECRETS, startStack, type Stack } from '../support/stack';
import { signLink } from '../../src/links';
import { buildServer } from '../../src/api/server';
import { Templates } from '../../src/templates';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const page = async (
  session: UiSession,
  path: string,
  init: { method?: string; form?: Record<string, string>; cookie?: string } = {},
) => {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    headers: {
      cookie: init.cookie ?? session.cookie,
      ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: init.form ? new URLSearchParams(init.form) : undefined,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
};

describe('finding 6: dates on the log page', () => {
  test.each([
    ['9999-99-99', 'from'],
    ['2026-02-31', 'from'],
    ['2026-13-01', 'to'],
    ['2026-2-1', 'to'],
    ['0000-01-01', 'from'],
  ])("%s (%s) is a 400 on the page, in the tenant's language; nothing is read as another day", async (value, field) => {
    const en = await page(await signInOverHttp(stack.apiUrl, stack.key), `/ui/log?${field}=${value}`);
    expect(en.status).toBe(400);
    expect(en.headers.get('content-type')).toMatch(/^text\/html/);
    expect(en.text).toContain('is not a real date');
    // The other tenant works in French.
    const fr = await page(await signInOverHttp(stack.apiUrl, stack.other.key), `/ui/log?${field}=${value}`);
    expect(fr.status).toBe(400);
    expect(fr.text).toContain('n&#x27;est pas une date réelle');
  });

  test('a real date is read as that day', async () => {
    expect(
      (await page(await signInOverHttp(stack.apiUrl, stack.key), '/ui/log?from=2026-02-28&to=2028-02-29')).status,
    ).toBe(200);
  });
});

describe('finding 7: CSRF tokens are bound to the session', () => {
  const markSent = (session: UiSession, token: string, cookie?: string) =>
    page(session, '/ui/dispatches/no-such-dispatch/mark-sent', {
      method: 'POST',
      form: { _csrf: token, note: 'posted' },
      cookie,
    });

  test('a valid (cookie, token) pair of one session does not work with another session', async () => {
    const alice = await signInOverHttp(stack.apiUrl, stack.key);
    const bob = await signInOverHttp(stack.apiUrl, await stack.keyWithRoles(['dispatch:write', 'log:read']));
    // Each with its own pair: through CSRF (then 404: no such dispatch).
    expect((await markSent(alice, alice.csrf)).status).toBe(404);
    expect((await markSent(bob, bob.csrf)).status).toBe(404);
    // Alice's CSRF cookie and token beside Bob's session: refused.
    const crossed = `${alice.cookie
      .split('; ')
      .filter((c) => c.startsWith('_csrf='))
      .join('; ')}; relais_session=${bob.sessionToken}`;
    expect((await markSent(bob, alice.csrf, crossed)).status).toBe(403);
  });

  test('the token of the sign-in form stops working once signed in (renewed at sign-in)', async () => {
    const session = await signInOverHttp(stack.apiUrl, stack.key);
    expect(
      (await markSent(session, session.signInCsrf, `${session.signInCookie}; relais_session=${session.sessionToken}`))
        .status,
    ).toBe(403);
    expect((await markSent(session, session.csrf)).status).toBe(404);
  });
});

describe('finding 8: router errors have the one error shape and echo nothing', () => {
  test.each([
    ['a path parameter over 2048 characters', `/v1/dispatches/${'a'.repeat(3000)}`, 414, 'uri_too_long'],
    ['a link token over 2048 characters', `/c/${'b'.repeat(3000)}`, 414, 'uri_too_long'],
    ['a bad percent-encoding', '/v1/dispatches/%E0%A4%A', 400, 'invalid_request'],
    ['a bad percent-encoding on a page', '/ui/dispatches/%zz', 400, 'invalid_request'],
    ['no such route, long', `/nothing/${'c'.repeat(3000)}`, 404, 'not_found'],
  ])('%s', async (_case, path, status, code) => {
    const res = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${stack.key}` } });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string; details: unknown } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
    expect(body.error.code).toBe(code);
    expect(JSON.stringify(body)).not.toMatch(/aaaa|bbbb|cccc|%E0|%zz/);
  });
});

describe('finding 9: customer pages cannot be framed or sniffed, and say their charset', () => {
  const link = (kind: 'confirm' | 'document' | 'receipt', target: string) =>
    signLink(SANDBOX_SECRETS.linkSecret, { kind, tenantId: stack.tenantId, target, exp: Date.now() + 3_600_000 });
  test.each([
    ['/c/ with a forged link', () => '/c/not-a-token'],
    ['/c/ with a link to no order', () => `/c/${link('confirm', 'no-order:nonce')}`],
    ['/d/ with a forged link', () => '/d/not-a-token'],
    [
      '/d/ with an expired link',
      () =>
        `/d/${signLink(SANDBOX_SECRETS.linkSecret, { kind: 'document', tenantId: stack.tenantId, target: 'x', exp: Date.now() - 1 })}`,
    ],
    ['/d/ with a document', () => `/d/${link('document', 'hard-doc')}`],
    // Issue 20: the receipt acknowledgement page is a customer page too.
    ['/a/ with a forged link', () => '/a/not-a-token'],
    ['/a/ with a link to no dispatch', () => `/a/${link('receipt', 'no-dispatch:0.1')}`],
  ])('%s', async (_case, path) => {
    if (!(await stack.db.Dispatch.exists({ dispatchId: 'hard-doc' }))) {
      await stack.request('POST', '/v1/dispatches', purchaseOrder('hard-doc', ['hard@acme.test']));
      await stack.waitFor('the document recorded', async () => stack.db.Dispatch.exists({ dispatchId: 'hard-doc' }));
    }
    const res = await fetch(`${stack.apiUrl}${path()}`);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });
});

describe('finding 10: links put into emails are http(s) only', () => {
  test.each([
    'javascript:alert(3)',
    ' JavaScript:alert(3)',
    'java\tscript:alert(3)',
    'data:text/html,<script>alert(3)</script>',
    'vbscript:msgbox(3)',
    '//evil.example/x',
    '/relative',
  ])('document.url = %j is a 422 naming data.document.url; nothing starts', async (url) => {
    const id = `js-${randomBytes(3).toString('hex')}`;
    const body = purchaseOrder(id, ['anna@supplier.test']);
    const res = await stack.request('POST', '/v1/dispatches', {
      ...body,
      data: { ...body.data, document: { number: 'PO-1', url } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].field).toBe('data.document.url');
    expect((await stack.request('GET', `/v1/dispatches/${id}`)).status).toBe(404);
  });

  test('an https link is kept as it is', async () => {
    const body = purchaseOrder('https-link', ['https.link@supplier.test']);
    const url = 'https://docs.example.test/po/1?x=1&y=2';
    expect(
      (
        await stack.request('POST', '/v1/dispatches', {
          ...body,
          data: { ...body.data, document: { number: 'PO-1', url } },
        })
      ).status,
    ).toBe(202);
    const sent = await stack.waitFor(
      'the email',
      async () => stack.sandbox.messages({ to: 'https.link@supplier.test' })[0],
    );
    expect(sent.html).toContain('href="https://docs.example.test/po/1?x&#x3D;1&amp;y&#x3D;2"');
  });
});

describe('finding 12: metrics are not on the public port', () => {
  test('/metrics on the API port is a 404; the metrics port serves it', async () => {
    const res = await fetch(`${stack.apiUrl}/metrics`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const metrics = await fetch(`${stack.metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('relais_webhook_verify_failures_total');
  });

  test('the contract and its page are public by default; API_DOCS=off hides both', async () => {
    expect((await fetch(`${stack.apiUrl}/openapi.json`)).status).toBe(200);
    const app = buildServer({
      db: stack.db,
      temporal: stack.client,
      templates: new Templates(),
      taskQueue: stack.taskQueue,
      publicBaseUrl: 'http://127.0.0.1',
      docs: false,
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      for (const path of ['/openapi.json', '/docs', '/docs/static/index.html'])
        expect({ path, status: (await fetch(`${base}${path}`)).status }).toEqual({ path, status: 404 });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      app.server.closeAllConnections();
      await app.close();
    }
  });
});
