import type { Knex } from 'knex';

/**
 * App installations bound to one workspace (issue #18, item 1). A vendor app installation (a GitHub
 * App installed on an account) is bound to the one integration that connected it: the primary key
 * makes a second binding of the same installation fail whichever workspace tries, so app-level
 * webhooks reach one workspace and disconnect may uninstall the app without cutting off another.
 * Rows are workspace-isolated like every customer table; the unique violation tells another
 * workspace only that the installation is taken, never by whom.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE app_installation_bindings (
      vendor text NOT NULL,
      installation_id text NOT NULL,
      workspace_id uuid NOT NULL,
      integration_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (vendor, installation_id),
      UNIQUE (workspace_id, integration_id),
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE
    );
    ALTER TABLE app_installation_bindings ENABLE ROW LEVEL SECURITY;
    ALTER TABLE app_installation_bindings FORCE ROW LEVEL SECURITY;
    CREATE POLICY workspace_isolation ON app_installation_bindings
      USING (workspace_id = app_current_workspace())
      WITH CHECK (workspace_id = app_current_workspace());
    REVOKE ALL ON app_installation_bindings FROM PUBLIC;
    GRANT SELECT ON app_installation_bindings TO integrations_api;
    GRANT SELECT, INSERT, DELETE ON app_installation_bindings TO integrations_worker;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS app_installation_bindings`);
}
