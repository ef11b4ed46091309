import type { Knex } from 'knex';

/**
 * The pages one sync costs (issue #15 item 7, T12): the polling floor is derived from the vendor's
 * request budget and what a sync of this integration costs, so each resource keeps the pages of its
 * round in progress and of its last completed round (one round = one sync's walk of the resource).
 * Rows from before this migration read as "no completed round yet" until their next round ends.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE sync_state
      ADD COLUMN round_pages bigint NOT NULL DEFAULT 0 CHECK (round_pages >= 0),
      ADD COLUMN last_round_pages bigint CHECK (last_round_pages >= 0)
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE sync_state DROP COLUMN last_round_pages, DROP COLUMN round_pages`);
}
