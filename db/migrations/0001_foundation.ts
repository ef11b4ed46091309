import type { Knex } from 'knex';

/**
 * Runtime roles, the workspace-setting accessor every RLS policy uses, and the workspaces table.
 *
 * Roles are cluster-wide and may already exist (another database of the same cluster, a re-run):
 * they are created only when missing and never dropped by `down`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'integrations_api') THEN
        CREATE ROLE integrations_api NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
      END IF;
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'integrations_worker') THEN
        CREATE ROLE integrations_worker NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
      END IF;
    END $$;
  `);
  await knex.raw(`GRANT USAGE ON SCHEMA public TO integrations_api, integrations_worker`);
  await knex.raw(`REVOKE ALL ON SCHEMA public FROM PUBLIC`);

  // An unset or empty setting yields NULL, and NULL matches no row: never "all rows".
  await knex.raw(`
    CREATE FUNCTION app_current_workspace() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.workspace_id', true), '')::uuid $$
  `);
  await knex.raw(`REVOKE ALL ON FUNCTION app_current_workspace() FROM PUBLIC`);
  await knex.raw(`GRANT EXECUTE ON FUNCTION app_current_workspace() TO integrations_api, integrations_worker`);

  await knex.raw(`
    CREATE TABLE workspaces (
      workspace_id uuid PRIMARY KEY,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleting', 'deleted')),
      created_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz
    );
    ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
    ALTER TABLE workspaces FORCE ROW LEVEL SECURITY;
    CREATE POLICY workspace_isolation ON workspaces
      USING (workspace_id = app_current_workspace())
      WITH CHECK (workspace_id = app_current_workspace());
    GRANT SELECT, INSERT, UPDATE ON workspaces TO integrations_api, integrations_worker;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS workspaces`);
  await knex.raw(`DROP FUNCTION IF EXISTS app_current_workspace()`);
}
