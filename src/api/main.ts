// The API process: Fastify on HOST:API_PORT, connected to MongoDB and Temporal.
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { backfillLogPages } from '../db/dispatch-log';
import { connectDb, ensureWebhookEventRetention, purgeOutboundWebhooks, purgeWebhookEvents } from '../db/models';
import { createLogger } from '../logger';
import { Templates } from '../templates';
import { temporalConnectionOptions } from '../temporal-connection';
import { buildServer } from './server';
import { limitsFromConfig } from './limits';
import { startOpsHttp } from '../metrics-http';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is not set (npm start sets it to the embedded FerretDB)');
  const db = await connectDb(config.MONGODB_URI, { log: logger });
  // Once per store: records written before the log's pages existed get theirs (src/db/dispatch-log.ts).
  const paged = await backfillLogPages(db);
  if (paged) logger.info({ records: paged }, 'delivery log: page numbers given to earlier records');
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const app = buildServer({
    db,
    temporal,
    templates: new Templates(),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    sendgridWebhookPublicKey: config.SENDGRID_WEBHOOK_PUBLIC_KEY,
    twilioAuthToken: config.TWILIO_AUTH_TOKEN,
    linkSecret: config.LINK_SECRET,
    smtpConfigured: Boolean(config.SMTP_URL),
    logger,
    limits: limitsFromConfig(config),
    trustProxy: config.TRUST_PROXY,
    docs: config.API_DOCS === 'public',
    webhooks: { allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS },
    previous: {
      linkSecret: config.LINK_SECRET_PREVIOUS,
      twilioAuthToken: config.TWILIO_AUTH_TOKEN_PREVIOUS,
      sendgridWebhookPublicKey: config.SENDGRID_WEBHOOK_PUBLIC_KEY_PREVIOUS,
    },
  });
  await app.listen({ host: config.HOST, port: config.API_PORT });
  // Prometheus on its own port, not the public one (docs/deploy.md, "Metrics").
  const ops = await startOpsHttp({ host: config.HOST, port: config.API_METRICS_PORT });
  const retention = await ensureWebhookEventRetention(db);
  const purge =
    retention === 'periodic-purge'
      ? setInterval(() => {
          purgeWebhookEvents(db).catch((err) => logger.warn({ err }, 'webhook event purge failed'));
          purgeOutboundWebhooks(db).catch((err) => logger.warn({ err }, 'outbound webhook purge failed'));
        }, 3_600_000)
      : undefined;
  purge?.unref();
  logger.info({ retention }, 'raw webhook events, tenant events and finished outbound deliveries expire after 30 days');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    await app.close();
    ops.close();
    await connection.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
