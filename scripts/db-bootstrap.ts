/**
 * One-shot database setup for a cluster where we hold a superuser (docker compose): creates the
 * database, the owner and the runtime login, then migrates. Managed Postgres: see README.
 * Reads DATABASE_SUPERUSER_URL and the two passwords from the environment.
 */
import { bootstrapDatabase } from '../db/bootstrap';
import { migrateLatest } from '../db/migrate';

async function main(): Promise<void> {
  const superuserUrl = process.env.DATABASE_SUPERUSER_URL;
  const owner = process.env.INTEGRATIONS_OWNER_PASSWORD;
  const app = process.env.INTEGRATIONS_APP_PASSWORD;
  const missing = [
    !superuserUrl && 'DATABASE_SUPERUSER_URL',
    !owner && 'INTEGRATIONS_OWNER_PASSWORD',
    !app && 'INTEGRATIONS_APP_PASSWORD',
  ].filter(Boolean);
  if (missing.length) {
    process.stderr.write(`Missing: ${missing.join(', ')}\n`);
    process.exit(78);
  }
  const urls = await bootstrapDatabase(superuserUrl!, { owner: owner!, app: app! });
  const applied = await migrateLatest(urls.ownerUrl, urls.appUrl);
  process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date.\n');
}

main().catch((error) => {
  process.stderr.write(`bootstrap failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
