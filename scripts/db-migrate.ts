/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL (the owner role) and, when
 * DATABASE_APP_URL is set, lets that login switch to the runtime roles.
 */
import { migrateLatest } from '../db/migrate';
import { loadConfigOrExit } from '../lib/config';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (!config.database.url) {
    process.stderr.write('DATABASE_URL is not set. (`npm start` migrates its embedded Postgres by itself.)\n');
    process.exit(78);
  }
  const applied = await migrateLatest(config.database.url, config.database.appUrl);
  process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date.\n');
}

main().catch((error) => {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
