// A tenant's own system in the tests: a real HTTP server on loopback that keeps every request
// (headers and raw body, as the signature covers them) and answers what the test scripts, per path.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface WebhookReceiver {
  url(path: string): string;
  /** What `path` answers next, in order (then 200): e.g. [500, 200], or [{ status: 503, retryAfter: '1' }]. */
  script(path: string, answers: Array<number | { status: number; body?: string; retryAfter?: string }>): void;
  received(path?: string): ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const scripts = new Map<string, Array<number | { status: number; body?: string; retryAfter?: string }>>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const next = scripts.get(path)?.shift() ?? 200;
      const answer = typeof next === 'number' ? { status: next } : next;
      res.writeHead(answer.status, {
        'content-type': 'text/plain',
        ...(answer.retryAfter ? { 'retry-after': answer.retryAfter } : {}),
      });
      res.end(answer.body ?? (answer.status < 300 ? 'ok' : `refused with ${answer.status}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path) => `${base}${path}`,
    script: (path, answers) => {
      scripts.set(path, [...answers]);
    },
    received: (path) => received.filter((r) => path === undefined || r.path === path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
