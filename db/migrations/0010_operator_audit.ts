import type { Knex } from 'knex';

/**
 * The operator audit log: what our own operators did across workspaces, starting with every
 * payload decode through the Temporal UI's codec endpoint. A decode is not a workspace's event:
 * the codec sees ciphertext and does not know (nor should learn) which workspace a payload belongs
 * to, and one batch can span several. So decodes are kept here, for our security review, not in a
 * workspace's hash chain. The API role may only insert; nobody updates or deletes (the trigger of
 * the workspace log refuses both, and TRUNCATE).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE operator_audit_log (
      id bigserial PRIMARY KEY,
      occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      operator_id text NOT NULL CHECK (operator_id ~ '^[A-Za-z0-9._:|@/+=-]{1,200}$'),
      auth_method text NOT NULL CHECK (auth_method IN ('oidc', 'local-dev')),
      action text NOT NULL CHECK (action IN ('codec.decode', 'codec.encode')),
      namespace text NOT NULL CHECK (length(namespace) BETWEEN 1 AND 255),
      payloads integer NOT NULL CHECK (payloads >= 0),
      outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
      request_id text CHECK (request_id ~ '^[A-Za-z0-9._:-]{1,128}$')
    );
    ALTER TABLE operator_audit_log ENABLE ROW LEVEL SECURITY;
    ALTER TABLE operator_audit_log FORCE ROW LEVEL SECURITY;
    REVOKE ALL ON operator_audit_log FROM PUBLIC;
    CREATE POLICY operator_audit_append ON operator_audit_log FOR INSERT TO integrations_api WITH CHECK (true);
    CREATE POLICY operator_audit_owner_read ON operator_audit_log FOR SELECT TO CURRENT_USER USING (true);
    GRANT INSERT ON operator_audit_log TO integrations_api;
    GRANT USAGE ON SEQUENCE operator_audit_log_id_seq TO integrations_api;
    CREATE TRIGGER operator_audit_append_only BEFORE UPDATE OR DELETE ON operator_audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
    CREATE TRIGGER operator_audit_no_truncate BEFORE TRUNCATE ON operator_audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS operator_audit_log`);
}
