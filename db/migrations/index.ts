import type { Knex } from 'knex';
import * as m0001 from './0001_foundation';

/** Every migration, in order. A new migration is added here as well as in its own file. */
export const migrations: Record<string, Knex.Migration> = {
  '0001_foundation': m0001,
};
