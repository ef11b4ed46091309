/** API process bootstrap: config → dependencies → listen, with a clean shutdown on SIGINT/SIGTERM. */
import { createRuntimeDb } from '../db/knex';
import { loadConfigOrExit } from '../lib/config';
import { createLogger } from '../lib/logger';
import { connectClient } from '../lib/temporal/connection';
import { readinessChecks } from './readiness';
import { buildServer } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const databaseUrl = config.database.appUrl ?? config.database.url;
  if (!databaseUrl) {
    logger.fatal('DATABASE_URL (or DATABASE_APP_URL) is required for the API; `npm start` sets it in embedded mode');
    process.exit(78);
  }
  const db = createRuntimeDb(databaseUrl, 'api', config.database.poolMax);
  const client = await connectClient(config);
  const app = await buildServer({
    logger,
    readiness: readinessChecks({ db, client, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue }),
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
