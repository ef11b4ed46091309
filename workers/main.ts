/** Worker process bootstrap: config → dependencies → worker.run(), with a clean shutdown. */
import os from 'node:os';
import { createActivities } from '../activities';
import { readServiceConfig } from '../activities/vendors/catalog';
import { createSharedVendorBudgets } from '../activities/vendors/shared';
import { createAuditLog } from '../db/audit';
import { createRuntimeDb } from '../db/knex';
import { createPostgresVendorBudgetStore } from '../db/vendorBudgets';
import { keyProviderFromConfig, SecretStore } from '../db/secrets';
import { loadConfigOrExit } from '../lib/config';
import { createLogger } from '../lib/logger';
import { startTracing, tracingTarget } from '../lib/tracing';
import { codecKeysFromConfig } from '../lib/temporal/codec';
import { connectClient, connectWorkerConnection } from '../lib/temporal/connection';
import { installWorkerRuntime } from '../lib/temporal/runtime';
import { createDataConverter } from '@trackproject/integrations-client/dataConverter';
import { createWorker, prebuiltWorkflowBundle } from './createWorker';
import { startWorkerHealthServer, workerHealth } from './health';
import { ensureMaintenanceSchedules } from './schedules';
import { shutdownGraceProblem, shutdownOnSignals } from './shutdown';
import { createVendorRegistry } from './vendors';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, readServiceConfig);
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const workflowBundle = prebuiltWorkflowBundle(config.env, config.workflowBundle);
  // SDK, workflow, activity and Core logs go through the same scrubbing logger at LOG_LEVEL; Core's
  // and our worker metrics to Prometheus at METRICS_WORKER_ADDRESS.
  installWorkerRuntime({ logger, logLevel: config.logLevel, metricsAddress: config.metrics.workerAddress });
  // Workflow, activity and vendor-call spans over OTLP at OTEL_EXPORTER_OTLP_ENDPOINT; unset: off.
  const tracing = startTracing({ serviceName: 'trackproject-integrations-worker', ...config.tracing });
  const graceProblem = shutdownGraceProblem(config.workerShutdownGraceMs);
  if (graceProblem) {
    logger.fatal(graceProblem);
    process.exit(78);
  }
  const databaseUrl = config.database.appUrl ?? config.database.url;
  if (!databaseUrl) {
    logger.fatal('DATABASE_URL (or DATABASE_APP_URL) is required for the worker; `npm start` sets it in embedded mode');
    process.exit(78);
  }
  const db = createRuntimeDb(databaseUrl, 'worker', config.database.poolMax);
  // Every worker draws from the same vendor budgets, in Postgres next to the API's rate limits.
  const budgets = createSharedVendorBudgets({
    store: createPostgresVendorBudgetStore(db),
    expectedWorkers: config.vendorBudgets.expectedWorkers,
    log: logger,
  });
  const vendors = createVendorRegistry(config.vendors, budgets);
  const shutdown = new AbortController();
  const keys = keyProviderFromConfig(config);
  const activities = createActivities({
    db,
    logger,
    keys,
    integrations: {
      secrets: new SecretStore(db, keys),
      audit: createAuditLog(db),
      vendors,
      webhookBaseUrl: config.api.publicUrl,
      workerShutdown: shutdown.signal,
    },
  });

  const dataConverter = createDataConverter(codecKeysFromConfig(config));
  const client = await connectClient(config, dataConverter);
  await ensureMaintenanceSchedules(client, config.temporal.taskQueue, {
    kekRotationEveryMs: config.secrets.kekRotationEveryMs,
  });
  await client.connection.close();

  const connection = await connectWorkerConnection(config);
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    ...(workflowBundle ? { workflowBundle } : {}),
    dataConverter,
    identity: `worker@${os.hostname()}:${process.pid}`,
    tracing,
    shutdownGraceMs: config.workerShutdownGraceMs,
    ...(config.workerCachedWorkflows ? { capacity: { maxCachedWorkflows: config.workerCachedWorkflows } } : {}),
  });
  shutdownOnSignals({ worker, logger, graceMs: config.workerShutdownGraceMs, controller: shutdown });
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      vendors: vendors.vendors(),
      metrics: config.metrics.workerAddress ? `http://${config.metrics.workerAddress}/metrics` : 'off',
      traces: tracingTarget(config.tracing.otlpEndpoint),
      workflows: workflowBundle ? 'prebuilt bundle' : 'bundled at start',
    },
    'worker polling',
  );
  const health = config.workerHealth.port
    ? await startWorkerHealthServer({ ...config.workerHealth, report: () => workerHealth(worker, connection) })
    : undefined;
  // Returns once SIGTERM/SIGINT drained the worker: polling stopped, in-flight activities done or cancelled.
  await worker.run();
  await health?.close();
  await connection.close();
  await db.destroy();
  await tracing?.shutdown();
  logger.info('worker stopped');
}

main().catch((error) => {
  process.stderr.write(`worker failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
