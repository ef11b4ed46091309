import type { Knex } from 'knex';

/**
 * The OAuth state is bound to whoever started the consent (issue #18, item 3, T2): the connect
 * workflow records the initiator with the state, the API hands the authorize URL and the consent
 * session cookie to that caller only, and the callback completes only in that caller's browser.
 * States issued before this migration have no initiator and can no longer be completed (they
 * expire within 15 minutes; the admin reconnects).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE oauth_states
      ADD COLUMN initiator_type text CHECK (initiator_type IN ('user', 'service')),
      ADD COLUMN initiator_id text CHECK (char_length(initiator_id) BETWEEN 1 AND 200)
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE oauth_states DROP COLUMN initiator_id, DROP COLUMN initiator_type`);
}
