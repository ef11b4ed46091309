import type { Knex } from 'knex';

/**
 * A retried sync batch must not run a finished round again (T11: the committed counters add up).
 * A completed round leaves a resource without a page cursor, so a retry of the activity that
 * committed its last page cannot tell "done" from "not started" by the cursor: the commit of a
 * round's last page stores which activity made it (the workflow run and the activity's id, which a
 * Temporal retry keeps). No source data, no secret; RLS and grants of `sync_state` unchanged.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE sync_state ADD COLUMN round_completed_by text`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE sync_state DROP COLUMN round_completed_by`);
}
