import type { Knex } from 'knex';

/**
 * SAML assertion ids already used for a sign-in (issue #13, rows 4–5): a captured assertion posted
 * again is refused while it is still inside its validity window. Only a hash of IdP entity id and
 * assertion id is kept (the id itself is the IdP's, not ours to store), with the instant after
 * which the assertion could no longer be accepted anyway; rows past it are deleted by the next
 * claim in the workspace. Workspace-isolated like every customer table; only the worker, which
 * validates assertions, reads or writes it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE saml_assertion_ids (
      workspace_id uuid NOT NULL REFERENCES workspaces (workspace_id) ON DELETE CASCADE,
      assertion_hash bytea NOT NULL CHECK (octet_length(assertion_hash) = 32),
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, assertion_hash)
    );
    CREATE INDEX saml_assertion_ids_expiry ON saml_assertion_ids (workspace_id, expires_at);
    ALTER TABLE saml_assertion_ids ENABLE ROW LEVEL SECURITY;
    ALTER TABLE saml_assertion_ids FORCE ROW LEVEL SECURITY;
    CREATE POLICY workspace_isolation ON saml_assertion_ids
      USING (workspace_id = app_current_workspace())
      WITH CHECK (workspace_id = app_current_workspace());
    REVOKE ALL ON saml_assertion_ids FROM PUBLIC;
    GRANT SELECT, INSERT, DELETE ON saml_assertion_ids TO integrations_worker;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS saml_assertion_ids`);
}
