/**
 * The API process's composition: config → dependencies → listening server. It loads the vendor
 * catalog (descriptors, config parsers, webhook verifiers) and never a vendor SDK: only the worker
 * loads connectors (`test/api/no-vendor-sdk.test.ts` holds it to that).
 */
import { appWebhookSecrets, catalogRows, webhookVerifiers, type ServiceConfig } from '../activities/vendors/catalog';
import { createAuditLog, deriveAuditSubjectKey } from '../db/audit';
import { createRuntimeDb } from '../db/knex';
import { createPostgresRateLimitStore } from '../db/rateLimits';
import { localKeyProviderFromConfig, SecretStore } from '../db/secrets';
import { createLogger } from '../lib/logger';
import { deriveConsentSessionKey } from '../lib/oauth/consentSession';
import { codecKeysFromConfig, EncryptionCodec } from '../lib/temporal/codec';
import { connectClient } from '../lib/temporal/connection';
import { createDataConverter } from '../lib/temporal/dataConverter';
import { authenticatorFromConfig } from './auth';
import { readinessChecks } from './readiness';
import { buildServer } from './server';

/** Starts the API; `close` stops listening, then releases Temporal and the pool. */
export async function startApi(config: ServiceConfig): Promise<{ close(): Promise<void> }> {
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const databaseUrl = config.database.appUrl ?? config.database.url;
  if (!databaseUrl) {
    logger.fatal('DATABASE_URL (or DATABASE_APP_URL) is required for the API; `npm start` sets it in embedded mode');
    process.exit(78);
  }
  const db = createRuntimeDb(databaseUrl, 'api', config.database.poolMax);
  const codecKeys = codecKeysFromConfig(config);
  const client = await connectClient(config, createDataConverter(codecKeys));
  const auth = authenticatorFromConfig(config);
  const app = await buildServer({
    logger,
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
      // Payload keys are required in production and generated in development; the current one keys the hash.
      auditSubjectKey: deriveAuditSubjectKey(codecKeys[0]!),
      consentSessionKey: deriveConsentSessionKey(codecKeys[0]!),
      secrets: new SecretStore(db, localKeyProviderFromConfig(config)),
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
      // Decoding crosses workspaces: only the operators named in TEMPORAL_CODEC_OPERATORS may.
      authorize: async (request) => {
        const caller = await auth.authenticate(request.headers.authorization).catch(() => undefined);
        return caller && config.temporal.codecOperators.includes(caller.sub) ? { subject: caller.sub } : null;
      },
    },
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  return {
    async close() {
      await app.close();
      await client.connection.close();
      await db.destroy();
    },
  };
}
