import type { Knex } from 'knex';
import { createOwnerDb, createRuntimeDb } from '../../db/knex';
import type { RuntimeRole } from '../../db/roles';
import { testStack } from './stackInfo';

/** Runtime pool (SET ROLE to the api or worker role) on the test database. */
export const runtimeDb = (role: RuntimeRole, poolMax = 4): Knex =>
  createRuntimeDb(testStack().database.appUrl, role, poolMax);
/** Owner connection (migrations, catalog checks). FORCE RLS applies to it too. */
export const ownerDb = (): Knex => createOwnerDb(testStack().database.ownerUrl);
/** Superuser on the service database: assertions that must see through RLS. Never used by service code. */
export const superuserDb = (): Knex => {
  const url = new URL(testStack().database.superuserUrl);
  url.pathname = '/integrations';
  return createOwnerDb(url.toString());
};
