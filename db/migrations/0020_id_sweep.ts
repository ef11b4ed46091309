import type { Knex } from 'knex';

/**
 * The id sweep (vendors that keep no tombstones: SAP, Oracle ERP Cloud, Primavera P6): every so many
 * completed rounds of a resource, the sync lists every id the vendor holds and deletes the cached
 * records it did not see. Its state lives with the resource's cursor in `sync_state` (RLS forced,
 * worker grants unchanged): completed rounds since the last sweep, the sweep's own cursor, and when
 * it started (records not seen since then are gone at the vendor).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE sync_state
      ADD COLUMN rounds_since_id_sweep integer NOT NULL DEFAULT 0,
      ADD COLUMN id_sweep_cursor text,
      ADD COLUMN id_sweep_started_at timestamptz;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE sync_state
      DROP COLUMN rounds_since_id_sweep,
      DROP COLUMN id_sweep_cursor,
      DROP COLUMN id_sweep_started_at;
  `);
}
