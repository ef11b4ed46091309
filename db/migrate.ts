import type { Knex } from 'knex';
import { migrations } from './migrations';
import { createOwnerDb } from './knex';
import { RUNTIME_ROLES } from './roles';

/** Knex migration source over an explicit, ordered list: no file-system globbing at run time. */
const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};

export const MIGRATION_CONFIG: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/**
 * Runs pending migrations as the owner, then lets the runtime login switch to the runtime roles
 * (without inheriting them: the login holds no privilege until it `SET ROLE`s).
 */
export async function migrateLatest(ownerUrl: string, appUrl?: string): Promise<string[]> {
  const db = createOwnerDb(ownerUrl);
  try {
    const [, applied] = (await db.migrate.latest(MIGRATION_CONFIG)) as [number, string[]];
    if (appUrl) {
      const login = decodeURIComponent(new URL(appUrl).username);
      for (const role of Object.values(RUNTIME_ROLES)) {
        await db.raw(`GRANT ${role} TO "${login.replace(/"/g, '""')}" WITH INHERIT FALSE, SET TRUE`);
      }
    }
    return applied;
  } finally {
    await db.destroy();
  }
}
