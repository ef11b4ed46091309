/**
 * A database of its own, migrated like the test database, for tests that act on every workspace's
 * rows at once (KEK rotation re-wraps every secret): other test files' rows would otherwise be in
 * the way. Same cluster, same roles; dropped at the end.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createOwnerDb, createRuntimeDb } from '../../db/knex';
import { migrateLatest } from '../../db/migrate';
import { APP_LOGIN_ROLE, OWNER_ROLE } from '../../db/roles';
import { testStack } from './stackInfo';

export interface IsolatedDatabase {
  worker: Knex;
  superuser: Knex;
  drop(): Promise<void>;
}

const onDatabase = (url: string, database: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

export async function createIsolatedDatabase(prefix: string): Promise<IsolatedDatabase> {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  const { superuserUrl, ownerUrl, appUrl } = testStack().database;
  const cluster = createOwnerDb(superuserUrl);
  await cluster.raw(`CREATE DATABASE "${name}" OWNER ${OWNER_ROLE}`);
  await cluster.raw(`GRANT CONNECT ON DATABASE "${name}" TO ${APP_LOGIN_ROLE}`);
  await migrateLatest(onDatabase(ownerUrl, name), onDatabase(appUrl, name));
  const worker = createRuntimeDb(onDatabase(appUrl, name), 'worker', 4);
  const superuser = createOwnerDb(onDatabase(superuserUrl, name));
  return {
    worker,
    superuser,
    async drop() {
      await Promise.all([worker.destroy(), superuser.destroy()]);
      await cluster.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cluster.destroy();
    },
  };
}

/** A workspace with one connected integration and nothing else (no secret of a key nobody holds). */
export async function seedIntegration(superuser: Knex): Promise<{ workspaceId: string; integrationId: string }> {
  const workspaceId = crypto.randomUUID();
  const integrationId = crypto.randomUUID();
  await superuser('workspaces').insert({ workspace_id: workspaceId });
  await superuser('integrations').insert({
    workspace_id: workspaceId,
    integration_id: integrationId,
    vendor: 'github',
    status: 'connected',
    requested_scopes: ['repo'],
  });
  return { workspaceId, integrationId };
}
