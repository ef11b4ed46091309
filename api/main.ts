/** API process bootstrap: config → dependencies → listen, with a clean shutdown on SIGINT/SIGTERM. */
import { githubDescriptors } from '../activities/vendors/github';
import { jiraDescriptors } from '../activities/vendors/jira';
import { microsoftDescriptors } from '../activities/vendors/microsoft';
import type { VendorDescriptor, VendorId } from '../activities/vendors/types';
import { createAuditLog, deriveAuditSubjectKey } from '../db/audit';
import { createRuntimeDb } from '../db/knex';
import { createPostgresRateLimitStore } from '../db/rateLimits';
import { localKeyProviderFromConfig, SecretStore } from '../db/secrets';
import { loadConfigOrExit } from '../lib/config';
import { createLogger } from '../lib/logger';
import { codecKeysFromConfig, EncryptionCodec } from '../lib/temporal/codec';
import { connectClient } from '../lib/temporal/connection';
import { createDataConverter } from '../lib/temporal/dataConverter';
import { authenticatorFromConfig } from './auth';
import { readinessChecks } from './readiness';
import { buildServer } from './server';
import { webhookVerifiersFor } from './webhooks/verifiers';

/** Every vendor whose descriptor exists; the API offers exactly these. */
const DESCRIPTORS: readonly VendorDescriptor[] = [
  ...githubDescriptors,
  ...Object.values(microsoftDescriptors),
  ...jiraDescriptors,
];

async function main(): Promise<void> {
  const config = loadConfigOrExit();
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
      secrets: new SecretStore(db, localKeyProviderFromConfig(config)),
      vendors: new Map<VendorId, VendorDescriptor>(DESCRIPTORS.map((d) => [d.id, d])),
      webhookVerifiers: webhookVerifiersFor(config.vendors),
      appWebhookSecrets: config.vendors.github ? { github: config.vendors.github.webhookSecret } : {},
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

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await app.close();
    await client.connection.close();
    await db.destroy();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  process.stderr.write(`api failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
