// A small webhook receiver for the sandbox tests: keeps every request's raw bytes (signatures
// cover them), answers 200 unless told to fail, and can be waited on. Verification is left to
// the tests, with the providers' own libraries.
import Fastify from 'fastify';

export interface Received {
  /** The full URL the sandbox called, query included (Twilio signs it). */
  url: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  at: number;
  /** What this receiver answered. */
  answered: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests whose path starts with `prefix`. */
  on(prefix: string): Received[];
  /** The next `count` requests to paths starting with `prefix` get `status`. */
  failNext(prefix: string, count: number, status?: number): void;
  waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  reset(): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let failures: Array<{ prefix: string; count: number; status: number }> = [];
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  let base = '';
  app.post('/*', async (request, reply) => {
    const path = request.url.split('?')[0];
    const failure = failures.find((f) => f.count > 0 && path.startsWith(f.prefix));
    if (failure) failure.count -= 1;
    const status = failure?.status ?? 200;
    received.push({
      url: `${base}${request.url}`,
      path,
      headers: request.headers,
      raw: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      at: Date.now(),
      answered: status,
    });
    if (status !== 200) return reply.code(status).send({ error: 'told to fail' });
    if (path.includes('inbound'))
      return reply
        .type('text/xml')
        .send('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks!</Message></Response>');
    return reply.code(200).send('ok');
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });

  return {
    url: base,
    received,
    on: (prefix) => received.filter((r) => r.path.startsWith(prefix)),
    failNext: (prefix, count, status = 500) => {
      failures.push({ prefix, count, status });
    },
    async waitFor(what, probe, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = probe();
        if (value !== undefined && value !== false) return value as Awaited<typeof value> & {};
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset() {
      received.length = 0;
      failures = [];
    },
    close: () => app.close(),
  };
}
