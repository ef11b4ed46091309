import knex, { type Knex } from 'knex';
import { RUNTIME_ROLES, type RuntimeRole } from './roles';

/** Owner connection: migrations and the retention routines only. */
export function createOwnerDb(url: string): Knex {
  return knex({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
}

/**
 * Runtime pool: every physical connection switches to the runtime role as soon as it is opened,
 * so no query of the service ever runs with the login's (or an owner's) privileges.
 */
export function createRuntimeDb(url: string, role: RuntimeRole, poolMax = 10): Knex {
  return knex({
    client: 'pg',
    connection: url,
    pool: {
      min: 0,
      max: poolMax,
      afterCreate: (
        connection: { query: (sql: string, cb: (error: Error | null) => void) => void },
        done: (error: Error | null, connection: unknown) => void,
      ) => {
        connection.query(`SET ROLE ${RUNTIME_ROLES[role]}`, (error) => done(error, connection));
      },
    },
  });
}
