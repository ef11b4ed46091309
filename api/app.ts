/**
 * The API process's composition: config → dependencies → listening server. It loads the vendor
 * catalog (descriptors, config parsers, webhook verifiers) and never a vendor SDK: only the worker
 * loads connectors (`test/api/no-vendor-sdk.test.ts` holds it to that).
 */
import { appWebhookSecrets, catalogRows, webhookVerifiers, type ServiceConfig } from '../activities/vendors/catalog';
import { createAuditLog, deriveAuditSubjectKey } from '../db/audit';
import { createRuntimeDb } from '../db/knex';
import { createOperatorAuditLog } from '../db/operatorAudit';
import { createPostgresRateLimitStore } from '../db/rateLimits';
import { keyProviderFromConfig, SecretStore } from '../db/secrets';
import { createLogger } from '../lib/logger';
import { startTracing, tracingTarget } from '../lib/tracing';
import { deriveConsentSessionKey } from '../lib/oauth/consentSession';
import { codecKeysFromConfig } from '../lib/temporal/codec';
import { EncryptionCodec } from '@trackproject/integrations-client/codec';
import { connectClient } from '../lib/temporal/connection';
import { createDataConverter } from '@trackproject/integrations-client/dataConverter';
import { authenticatorFromConfig } from './auth';
import { createCodecAuthorizer } from './codecAuth';
import { readinessChecks } from './readiness';
import { createApiMetrics, serveMetrics } from './metrics';
import { buildServer } from './server';

/** Starts the API; `close` stops listening, then releases Temporal and the pool. */
export async function startApi(config: ServiceConfig): Promise<{ close(): Promise<void> }> {
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const databaseUrl = config.database.appUrl ?? config.database.url;
  if (!databaseUrl) {
    logger.fatal('DATABASE_URL (or DATABASE_APP_URL) is required for the API; `npm start` sets it in embedded mode');
    process.exit(78);
  }
  // Request and Temporal client spans over OTLP at OTEL_EXPORTER_OTLP_ENDPOINT; unset: off.
  const tracing = startTracing({ serviceName: 'trackproject-integrations-api', ...config.tracing });
  const db = createRuntimeDb(databaseUrl, 'api', config.database.poolMax);
  const codecKeys = codecKeysFromConfig(config);
  const client = await connectClient(config, createDataConverter(codecKeys));
  const auth = authenticatorFromConfig(config);
  // Payload keys are required in production and generated in development; the current one keys the hash.
  const auditSubjectKey = deriveAuditSubjectKey(codecKeys[0]!);
  const metrics = createApiMetrics();
  const app = await buildServer({
    logger,
    metrics,
    ...(config.api.trustProxy !== undefined ? { trustProxy: config.api.trustProxy } : {}),
    readiness: readinessChecks({
      db,
      client,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
    }),
    services: {
      db,
      temporal: {
        client,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        uiUrl: config.temporal.uiUrl,
      },
      auth,
      audit: createAuditLog(db),
      auditSubjectKey,
      consentSessionKey: deriveConsentSessionKey(codecKeys[0]!),
      secrets: new SecretStore(db, keyProviderFromConfig(config)),
      vendors: new Map(catalogRows(config.vendors).map((row) => [row.descriptor.id, row])),
      webhookVerifiers: webhookVerifiers(config.vendors),
      appWebhookSecrets: appWebhookSecrets(config.vendors),
      publicUrl: config.api.publicUrl,
      purgeDelayMs: config.purgeDelayMs,
      rateLimitStore: createPostgresRateLimitStore(db),
    },
    codec: {
      codec: new EncryptionCodec(codecKeys),
      namespace: config.temporal.namespace,
      uiUrl: config.temporal.uiUrl,
      authorize: createCodecAuthorizer({ ...config.temporal.codecAuth, uiUrl: config.temporal.uiUrl }),
      audit: createOperatorAuditLog(db, auditSubjectKey),
    },
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  const metricsAddress = config.metrics.apiAddress;
  const metricsServer = metricsAddress ? await serveMetrics(metricsAddress, metrics.registry) : undefined;
  logger.info(
    {
      metrics: metricsAddress ? `http://${metricsAddress}/metrics` : 'off',
      traces: tracingTarget(config.tracing.otlpEndpoint),
    },
    'api telemetry',
  );
  return {
    async close() {
      await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
      await app.close();
      await client.connection.close();
      await db.destroy();
      await tracing?.shutdown();
    },
  };
}
