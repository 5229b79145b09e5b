// The OpenAPI document (GET /openapi.json) against the routes Fastify really registers: no route
// of the HTTP surface can be missing from it, it is valid OpenAPI 3.1, and every error it
// describes has the one shape { error: { code, message, details } }.
// Only the document is read here: no request reaches MongoDB or Temporal, so the server is built
// without them (the fuzz test, test/contract/fuzz.test.ts, runs the same document against the full stack).
import type { FastifyInstance } from 'fastify';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../../src/api/server';
import { MAX_RECIPIENTS } from '../../src/api/schemas';
import { Templates } from '../../src/templates';
import { TENANT_EVENT_TYPES } from '../../src/domain/tenant-events';

type Operation = {
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, { schema: any }> };
  responses: Record<string, { content?: Record<string, { schema: any }> }>;
};

describe('OpenAPI document', () => {
  let app: FastifyInstance;
  const routes: Array<{ method: string; url: string; rateLimited: boolean }> = [];
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: any };
  let base: string;

  beforeAll(async () => {
    app = buildServer({
      db: {} as never,
      temporal: {} as never,
      templates: new Templates(),
      taskQueue: 'unused',
      publicBaseUrl: 'http://127.0.0.1:3000',
      sendgridWebhookPublicKey: undefined,
    });
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD')
          routes.push({
            method,
            url: route.url,
            rateLimited: Boolean((route.config as { rateLimit?: unknown } | undefined)?.rateLimit),
          });
      }
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as typeof doc;
  });
  // fetch keeps its connections alive; close them, or closing the server waits for their timeout.
  afterAll(async () => {
    app.server.closeAllConnections();
    await app.close();
  });

  const operation = (method: string, url: string): Operation | undefined =>
    doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];

  it('is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator, the official 3.1 JSON schema)', () => {
    expect(doc.openapi).toBe('3.1.0');
    // The validator is an ES module, which this Jest set-up can't load: its own CLI runs it.
    const file = join(mkdtempSync(join(tmpdir(), 'relais-openapi-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    let out: string;
    try {
      out = execFileSync(
        process.execPath,
        [require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js'), file],
        { encoding: 'utf8' },
      );
    } catch (err) {
      out = (err as { stdout?: string }).stdout ?? String(err);
    }
    expect(JSON.parse(out)).toEqual({ valid: true });
  });

  it('describes every registered route of the API, webhooks and public pages (only /ui, /docs and itself left out)', () => {
    const api = routes.filter((r) => !/^\/(ui|docs)(\/|$)|^\/openapi\.json$/.test(r.url));
    // The surface of docs/api.md is all there: a route added without a schema would still be listed.
    for (const url of [
      '/v1/dispatches',
      '/v1/orders/:id/events',
      '/webhooks/sendgrid',
      '/webhooks/twilio/status',
      '/webhooks/twilio/inbound',
      '/c/:token',
      '/d/:token',
      '/healthz',
      '/readyz',
    ]) {
      expect(api.map((r) => r.url)).toContain(url);
    }
    const missing = api.filter((r) => !operation(r.method, r.url)).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/ui') || p.startsWith('/docs'))).toEqual([]);
  });

  it('gives every JSON error response the { error: { code, message, details } } schema', () => {
    const errorSchema = doc.components.schemas.Error;
    expect(errorSchema.required).toEqual(['error']);
    expect(errorSchema.properties.error.required).toEqual(['code', 'message', 'details']);
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          // The error schema is JSON, whatever the route's pages are (a 429 of /c/:token is JSON too).
          for (const [type, media] of Object.entries(response.content ?? {})) {
            if (media.schema?.$ref === '#/components/schemas/Error')
              expect({ at: `${method} ${path} ${status}`, type }).toEqual({
                at: `${method} ${path} ${status}`,
                type: 'application/json',
              });
          }
          const json = response.content?.['application/json'];
          // The readiness probe's 503 is its report ({ status: not_ready, checks }), read by orchestrators.
          if (Number(status) < 400 || !json || (path === '/readyz' && status === '503')) continue;
          expect({ at: `${method} ${path} ${status}`, ref: json.schema.$ref }).toEqual({
            at: `${method} ${path} ${status}`,
            ref: '#/components/schemas/Error',
          });
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('documents auth, body limits and rate limits where they apply', () => {
    for (const r of routes.filter((x) => x.url.startsWith('/v1/'))) {
      const op = operation(r.method, r.url)!;
      expect({ route: `${r.method} ${r.url}`, security: op.security }).toEqual({
        route: `${r.method} ${r.url}`,
        security: [{ apiKey: [] }],
      });
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '401', '403']));
    }
    for (const r of routes.filter((x) => x.url.startsWith('/webhooks/'))) {
      expect(operation(r.method, r.url)!.security?.[0]).toEqual({
        [r.url === '/webhooks/sendgrid' ? 'sendgridSignature' : 'twilioSignature']: [],
      });
    }
    for (const r of routes) {
      const op = operation(r.method, r.url);
      if (op?.requestBody)
        expect({ route: `${r.method} ${r.url}`, has413: '413' in op.responses }).toEqual({
          route: `${r.method} ${r.url}`,
          has413: true,
        });
    }
    const rateLimited = routes
      .filter((r) => r.rateLimited)
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(rateLimited).toEqual([
      'GET /a/:token',
      'GET /c/:token',
      'GET /d/:token',
      'GET /d/:token/:filename',
      'POST /a/:token',
      'POST /c/:token',
      'POST /webhooks/sendgrid',
      'POST /webhooks/twilio/inbound',
      'POST /webhooks/twilio/status',
    ]);
    for (const r of routes.filter((x) => x.rateLimited))
      expect(operation(r.method, r.url)!.responses).toHaveProperty('429');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'apiKey',
      'sendgridSignature',
      'twilioSignature',
    ]);
  });

  it('takes request bodies from the zod schemas that validate them (rule D1: 1..1000 recipients)', () => {
    const body = operation('POST', '/v1/dispatches')!.requestBody!.content['application/json'].schema;
    expect(body.properties.recipients).toMatchObject({ type: 'array', minItems: 1, maxItems: MAX_RECIPIENTS });
    expect(body.required).toEqual(
      expect.arrayContaining(['dispatchId', 'template', 'document', 'sender', 'recipients']),
    );
    // Input side: a field with a default is optional for the caller.
    expect(body.required).not.toContain('channel');
    const items = operation('POST', '/v1/orders')!.requestBody!.content['application/json'].schema.properties.items;
    expect(items).toMatchObject({ minItems: 1, maxItems: 500 });
  });

  it('describes every outbound webhook event (OpenAPI `webhooks`) with its payload schema and the Standard Webhooks headers', () => {
    const webhooks = (
      doc as unknown as {
        webhooks: Record<string, { post: Operation & { parameters: Array<{ name: string; in: string }> } }>;
      }
    ).webhooks;
    expect(Object.keys(webhooks).sort()).toEqual([...TENANT_EVENT_TYPES].sort());
    for (const [type, { post }] of Object.entries(webhooks)) {
      expect({ type, headers: post.parameters.filter((p) => p.in === 'header').map((p) => p.name) }).toEqual({
        type,
        headers: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
      });
      const body = post.requestBody!.content['application/json'].schema;
      expect({ type, required: body.required, constant: body.properties.type.const }).toEqual({
        type,
        required: ['type', 'timestamp', 'data'],
        constant: type,
      });
      expect(Object.keys(body.properties.data.properties).length).toBeGreaterThan(0);
    }
    expect(
      webhooks['order.held'].post.requestBody!.content['application/json'].schema.properties.data.required,
    ).toEqual(['orderId', 'reason', 'risk', 'customerAsked']);
  });

  it('serves a reference page at /docs from local assets (no CDN)', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const scripts = [...html.matchAll(/src="([^"]+\.js)"/g)].map((m) => new URL(m[1], page.url).toString());
    expect(scripts.length).toBeGreaterThan(0);
    for (const url of scripts) expect({ url, status: (await fetch(url)).status }).toEqual({ url, status: 200 });
  });
});
