// The operations port of a process (issue 14, finding 12): Prometheus text at /metrics, and
// /healthz where the process has a health of its own to report. Kept off the public API port:
// bind it where only Prometheus and the orchestrator reach it.
import { createServer, type Server } from 'node:http';
import { registry } from './metrics';

export interface OpsHttpOptions {
  host: string;
  port: number;
  /** Extra exposition text after Relais's own counters (the worker adds the Temporal SDK's). */
  moreMetrics?: () => Promise<string>;
  /** Whether the process is healthy; without it, no /healthz here. */
  healthy?: () => boolean;
}

export function startOpsHttp(options: OpsHttpOptions): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz' && options.healthy) {
      const ok = options.healthy();
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'stopping' }));
      return;
    }
    if (req.url === '/metrics') {
      void (async () => {
        const more = options.moreMetrics ? `\n${await options.moreMetrics().catch(() => '')}` : '';
        res.writeHead(200, { 'content-type': registry.contentType }).end(`${await registry.metrics()}${more}`);
      })();
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { code: 'not_found', message: 'this port serves /metrics', details: null } }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
