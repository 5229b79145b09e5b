// What the worker process adds around the SDK: its log lines as pino JSON (the SDK's own lines
// carry workflowId, runId, activityType…), the SDK's Prometheus metrics, and one HTTP endpoint
// for both: /metrics (Relais's counters + the SDK's) and /healthz (the worker is running).
import type { Server } from 'node:http';
import { AddressInfo, createServer as createTcpServer } from 'node:net';
import { Runtime, type Logger as SdkLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from 'pino';
import { startOpsHttp } from './metrics-http';

/** The SDK's Logger interface on top of pino: one JSON line per entry, SDK metadata as fields. */
export function sdkLogger(log: Logger): SdkLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level];
    log[method]({ ...meta }, message);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

function loopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Installs the SDK runtime (once per process, before any connection): pino logs, and the SDK's
 * Prometheus exporter on a private loopback port that /metrics reads through.
 */
export async function installRuntime(log: Logger): Promise<{ sdkMetricsUrl: string }> {
  const port = await loopbackPort();
  Runtime.install({
    logger: sdkLogger(log),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } },
  });
  return { sdkMetricsUrl: `http://127.0.0.1:${port}/metrics` };
}

/** /metrics and /healthz for the worker process (the port Prometheus and the orchestrator's probes use). */
export function startWorkerHttp(options: {
  host: string;
  port: number;
  sdkMetricsUrl: string;
  running: () => boolean;
}): Promise<Server> {
  return startOpsHttp({
    host: options.host,
    port: options.port,
    healthy: options.running,
    moreMetrics: () => fetch(options.sdkMetricsUrl).then((r) => r.text()),
  });
}
