import type { Knex } from 'knex';

/**
 * One round trip per audit entry. Every API request and every vendor call appends an entry, and
 * the transaction `db/audit.ts` used to run for it (begin, bind workspace, lock, read head,
 * insert, commit) cost six round trips: on a loaded 2-core host each one is a pair of context
 * switches, and together they were the largest share of the API's own latency (bench:api).
 *
 * `audit_log_append` does the same steps inside one statement, as the caller (SECURITY INVOKER:
 * the runtime role's grants and the RLS policies still apply). The caller computes the canonical
 * serialisation around the sequence number, which only the function knows once it holds the
 * workspace's lock; the function hashes `prev_hash ‖ prefix ‖ seq ‖ suffix`. The insert trigger
 * still refuses a row that does not extend the head, and `verifyAuditChain` recomputes every hash
 * from the stored columns, so a caller cannot make a wrong hash pass.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION audit_log_append(
      p_workspace_id uuid, p_created_at timestamptz, p_actor_type text, p_actor_id text, p_direction text,
      p_vendor text, p_integration_id uuid, p_action text, p_scope text, p_outcome text, p_error_class text,
      p_request_id text, p_workflow_id text, p_canonical_prefix text, p_canonical_suffix text
    ) RETURNS bigint
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
    AS $$
    DECLARE
      bound text := current_setting('app.workspace_id', true);
      head record;
      next_seq bigint;
    BEGIN
      -- Inside a caller's transaction already bound to another workspace: refuse rather than rebind it.
      IF bound IS NOT NULL AND bound <> '' AND bound::uuid <> p_workspace_id THEN
        RAISE EXCEPTION 'audit_log_append: the transaction is bound to another workspace' USING ERRCODE = 'insufficient_privilege';
      END IF;
      PERFORM set_config('app.workspace_id', p_workspace_id::text, true);
      PERFORM pg_advisory_xact_lock(hashtext('audit:' || p_workspace_id::text));
      SELECT * INTO head FROM audit_log_head(p_workspace_id);
      next_seq := head.head_seq + 1;
      INSERT INTO audit_log (workspace_id, seq, created_at, actor_type, actor_id, direction, vendor, integration_id, action, scope,
                             outcome, error_class, request_id, workflow_id, prev_hash, hash)
      VALUES (p_workspace_id, next_seq, p_created_at, p_actor_type, p_actor_id, p_direction, p_vendor, p_integration_id, p_action, p_scope,
              p_outcome, p_error_class, p_request_id, p_workflow_id, head.head_hash,
              sha256(head.head_hash || convert_to(p_canonical_prefix || next_seq::text || p_canonical_suffix, 'UTF8')));
      RETURN next_seq;
    END $$;
    REVOKE ALL ON FUNCTION audit_log_append(uuid, timestamptz, text, text, text, text, uuid, text, text, text, text, text, text, text, text) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION audit_log_append(uuid, timestamptz, text, text, text, text, uuid, text, text, text, text, text, text, text, text) TO integrations_api, integrations_worker;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    `DROP FUNCTION IF EXISTS audit_log_append(uuid, timestamptz, text, text, text, text, uuid, text, text, text, text, text, text, text, text)`,
  );
}
