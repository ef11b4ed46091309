import type { Knex } from 'knex';

/**
 * KEK rotation on a cadence (docs/key-management.md). The `maintenance/kek-rotation` Schedule runs
 * a workflow in the worker role, which RLS confines to one workspace at a time; re-wrapping is
 * cross-workspace, so three SECURITY DEFINER functions do what the owner's `kek_rotation` policy
 * allows, and nothing else: count DEKs per KEK, claim a batch of wrapped DEKs not yet under the
 * target KEK (locked until the caller's transaction ends), and swap one row's wrap, only if it is
 * still under the KEK it was claimed with. Wrapped DEKs are useless without the KEK, which the
 * worker's key provider holds anyway; payload ciphertext never leaves the table.
 *
 * `kek_rotation_log` is the append-only record of every rotation (who: the workflow id; what: key
 * ids and counts, never key material), written in the same transaction as each re-wrapped batch.
 */
const SEARCH_PATH = 'pg_catalog, public, pg_temp';
const rotationOn = `PERFORM set_config('app.kek_rotation', 'on', true)`;
const rotationOff = `PERFORM set_config('app.kek_rotation', 'off', true)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE kek_rotation_log (
      id bigserial PRIMARY KEY,
      occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      rotation_id text NOT NULL CHECK (rotation_id ~ '^[A-Za-z0-9._:/-]{1,255}$'),
      event text NOT NULL CHECK (event IN ('started', 'rewrapped', 'verified', 'key-retired', 'completed')),
      provider text NOT NULL CHECK (provider ~ '^[a-z0-9-]{1,32}$'),
      key_id text NOT NULL CHECK (length(key_id) BETWEEN 1 AND 2048),
      replaced_key_id text CHECK (length(replaced_key_id) BETWEEN 1 AND 2048),
      secrets integer CHECK (secrets >= 0),
      outcome text CHECK (outcome IN ('disabled', 'unused'))
    );
    CREATE INDEX kek_rotation_log_rotation ON kek_rotation_log (rotation_id, event);
    ALTER TABLE kek_rotation_log ENABLE ROW LEVEL SECURITY;
    ALTER TABLE kek_rotation_log FORCE ROW LEVEL SECURITY;
    REVOKE ALL ON kek_rotation_log FROM PUBLIC;
    CREATE POLICY kek_rotation_append ON kek_rotation_log FOR INSERT TO integrations_worker WITH CHECK (true);
    CREATE POLICY kek_rotation_read ON kek_rotation_log FOR SELECT TO integrations_worker, CURRENT_USER USING (true);
    GRANT SELECT, INSERT ON kek_rotation_log TO integrations_worker;
    GRANT USAGE ON SEQUENCE kek_rotation_log_id_seq TO integrations_worker;
    CREATE TRIGGER kek_rotation_log_append_only BEFORE UPDATE OR DELETE ON kek_rotation_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
    CREATE TRIGGER kek_rotation_log_no_truncate BEFORE TRUNCATE ON kek_rotation_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
  `);

  await knex.raw(`
    CREATE FUNCTION kek_usage()
    RETURNS TABLE (kek_id text, secrets bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${SEARCH_PATH}
    AS $$
    BEGIN
      ${rotationOn};
      RETURN QUERY SELECT s.kek_id, count(*) FROM public.secrets s WHERE s.kek_id IS NOT NULL GROUP BY s.kek_id ORDER BY s.kek_id;
      ${rotationOff};
    END $$;

    CREATE FUNCTION kek_rewrap_claim(p_target text, p_limit integer)
    RETURNS TABLE (secret_id uuid, workspace_id uuid, integration_id uuid, kind text, version integer, kek_id text, wrapped_dek bytea)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${SEARCH_PATH}
    AS $$
    BEGIN
      IF p_target IS NULL OR p_limit IS NULL OR p_limit < 1 OR p_limit > 5000 THEN
        RAISE EXCEPTION 'kek_rewrap_claim: invalid arguments';
      END IF;
      ${rotationOn};
      RETURN QUERY
        SELECT s.secret_id, s.workspace_id, s.integration_id, s.kind, s.version, s.kek_id, s.wrapped_dek
        FROM public.secrets s
        WHERE s.kek_id IS NOT NULL AND s.kek_id <> p_target
        ORDER BY s.secret_id
        LIMIT p_limit
        FOR UPDATE;
      ${rotationOff};
    END $$;

    CREATE FUNCTION kek_rewrap_apply(p_secret_id uuid, p_from text, p_to text, p_wrapped bytea)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${SEARCH_PATH}
    AS $$
    DECLARE
      changed integer;
    BEGIN
      IF p_secret_id IS NULL OR p_from IS NULL OR p_to IS NULL OR p_wrapped IS NULL OR octet_length(p_wrapped) > 4096 THEN
        RAISE EXCEPTION 'kek_rewrap_apply: invalid arguments';
      END IF;
      ${rotationOn};
      UPDATE public.secrets SET kek_id = p_to, wrapped_dek = p_wrapped
        WHERE secret_id = p_secret_id AND kek_id = p_from;
      GET DIAGNOSTICS changed = ROW_COUNT;
      ${rotationOff};
      RETURN changed = 1;
    END $$;

    REVOKE ALL ON FUNCTION kek_usage() FROM PUBLIC;
    REVOKE ALL ON FUNCTION kek_rewrap_claim(text, integer) FROM PUBLIC;
    REVOKE ALL ON FUNCTION kek_rewrap_apply(uuid, text, text, bytea) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION kek_usage() TO integrations_worker;
    GRANT EXECUTE ON FUNCTION kek_rewrap_claim(text, integer) TO integrations_worker;
    GRANT EXECUTE ON FUNCTION kek_rewrap_apply(uuid, text, text, bytea) TO integrations_worker;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS kek_rewrap_apply(uuid, text, text, bytea)`);
  await knex.raw(`DROP FUNCTION IF EXISTS kek_rewrap_claim(text, integer)`);
  await knex.raw(`DROP FUNCTION IF EXISTS kek_usage()`);
  await knex.raw(`DROP TABLE IF EXISTS kek_rotation_log`);
}
