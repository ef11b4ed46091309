import type { Knex } from 'knex';

/**
 * The data tier: every customer table, isolated per workspace by Row Level Security (T20), with
 * explicit per-role GRANTs and nothing granted to PUBLIC.
 *
 * Foreign keys are composite `(workspace_id, …)` so a row can only refer to a row of its own
 * workspace (a webhook endpoint cannot point at another workspace's signing secret). Deleting a
 * workspace cascades to integrations and from there to every child table (T16); `audit_log` has no
 * foreign key so the audit trail outlives what it describes (T10, T24).
 *
 * Cross-workspace maintenance (TTL sweep, audit retention) goes through SECURITY DEFINER functions
 * owned by the owner, each with a pinned `search_path`; the catalog test allow-lists them.
 */

type Privilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
interface TableGrants {
  api: Privilege[];
  worker: Privilege[];
}

const GRANTS: Record<string, TableGrants> = {
  integrations: { api: ['SELECT', 'INSERT', 'UPDATE'], worker: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
  consent_events: { api: ['SELECT', 'INSERT'], worker: ['SELECT', 'INSERT'] },
  secrets: { api: ['SELECT', 'INSERT'], worker: ['SELECT', 'INSERT', 'UPDATE'] },
  sync_state: { api: ['SELECT'], worker: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
  cached_records: { api: ['SELECT'], worker: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
  webhook_endpoints: { api: ['SELECT'], worker: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
  vendor_subscriptions: { api: ['SELECT'], worker: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
  webhook_deliveries: { api: ['SELECT', 'INSERT'], worker: ['SELECT', 'UPDATE', 'DELETE'] },
  oauth_states: { api: ['SELECT', 'INSERT', 'UPDATE'], worker: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
  audit_log: { api: ['SELECT', 'INSERT'], worker: ['SELECT', 'INSERT'] },
  audit_retention_horizon: { api: ['SELECT'], worker: ['SELECT'] },
  purge_receipts: { api: ['SELECT'], worker: ['SELECT', 'INSERT'] },
};

/** Sequences behind bigserial ids: INSERT needs USAGE on them. */
const SEQUENCES: Record<string, (keyof TableGrants)[]> = {
  consent_events_id_seq: ['api', 'worker'],
  audit_log_id_seq: ['api', 'worker'],
};

const ROLE_NAMES: Record<keyof TableGrants, string> = { api: 'integrations_api', worker: 'integrations_worker' };

/** RLS enabled and forced (the owner is subject to it too), one policy, explicit grants. */
async function isolate(knex: Knex, table: string, grants: TableGrants): Promise<void> {
  await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
  await knex.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
  await knex.raw(`
    CREATE POLICY workspace_isolation ON ${table}
      USING (workspace_id = app_current_workspace())
      WITH CHECK (workspace_id = app_current_workspace())
  `);
  await knex.raw(`REVOKE ALL ON ${table} FROM PUBLIC`);
  for (const role of ['api', 'worker'] as const) {
    if (grants[role].length > 0) await knex.raw(`GRANT ${grants[role].join(', ')} ON ${table} TO ${ROLE_NAMES[role]}`);
  }
}

export async function up(knex: Knex): Promise<void> {
  // Functions are executable by PUBLIC by default; not ours.
  await knex.raw(`ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`);
  // T16: the worker deletes a workspace row; everything but the audit trail cascades.
  await knex.raw(`GRANT DELETE ON workspaces TO integrations_worker`);

  await knex.raw(`
    CREATE TABLE integrations (
      integration_id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces (workspace_id) ON DELETE CASCADE,
      vendor text NOT NULL,
      status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'connected', 'reauthorization_required', 'disconnecting', 'disconnected', 'failed')),
      requested_scopes text[] NOT NULL DEFAULT '{}',
      granted_scopes text[] NOT NULL DEFAULT '{}',
      controls jsonb NOT NULL DEFAULT '{}',
      poll_interval_ms integer CHECK (poll_interval_ms > 0),
      connected_by text,
      connected_at timestamptz,
      disconnected_at timestamptz,
      purge_after timestamptz,
      metadata jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (workspace_id, integration_id)
    );
    CREATE INDEX integrations_purge_after ON integrations (purge_after) WHERE purge_after IS NOT NULL;
  `);

  // A workspace exists as soon as something is connected in it: the row the cascade hangs on is
  // created with the first integration (in the caller's workspace, under its RLS policy).
  await knex.raw(`
    CREATE FUNCTION ensure_workspace_row() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
    BEGIN
      INSERT INTO workspaces (workspace_id) VALUES (NEW.workspace_id) ON CONFLICT (workspace_id) DO NOTHING;
      RETURN NEW;
    END $$;
    CREATE TRIGGER integrations_ensure_workspace BEFORE INSERT ON integrations
      FOR EACH ROW EXECUTE FUNCTION ensure_workspace_row();
  `);

  await knex.raw(`
    CREATE TABLE consent_events (
      id bigserial PRIMARY KEY,
      workspace_id uuid NOT NULL,
      integration_id uuid NOT NULL,
      actor_type text NOT NULL,
      actor_id text NOT NULL,
      action text NOT NULL CHECK (action IN ('granted', 'narrowed', 'revoked', 'reauthorized', 'controls_changed')),
      scopes text[] NOT NULL DEFAULT '{}',
      controls jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE
    );
    CREATE INDEX consent_events_integration ON consent_events (workspace_id, integration_id, id);
  `);

  await knex.raw(`
    CREATE TABLE secrets (
      secret_id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces (workspace_id) ON DELETE CASCADE,
      integration_id uuid,
      kind text NOT NULL CHECK (kind IN ('oauth-tokens', 'pkce-verifier', 'service-account', 'webhook-secret', 'app-private-key')),
      version integer NOT NULL CHECK (version > 0),
      state text NOT NULL CHECK (state IN ('pending', 'current', 'previous', 'retired', 'destroyed')),
      kek_id text,
      wrapped_dek bytea,
      iv bytea,
      auth_tag bytea,
      ciphertext bytea,
      expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      promoted_at timestamptz,
      retired_at timestamptz,
      destroyed_at timestamptz,
      UNIQUE (integration_id, kind, version),
      UNIQUE (workspace_id, secret_id),
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE,
      -- Key material is all there or (destroyed) all gone; IV and tag sizes are pinned (AES-256-GCM).
      CHECK (CASE WHEN state = 'destroyed'
        THEN kek_id IS NULL AND wrapped_dek IS NULL AND iv IS NULL AND auth_tag IS NULL AND ciphertext IS NULL AND destroyed_at IS NOT NULL
        ELSE kek_id IS NOT NULL AND wrapped_dek IS NOT NULL AND ciphertext IS NOT NULL
          AND octet_length(iv) = 12 AND octet_length(auth_tag) = 16 END)
    );
    -- At most one current secret per (workspace, integration, kind); workspace-level secrets
    -- (no integration) are keyed on a fixed placeholder so NULLs do not escape the rule.
    CREATE UNIQUE INDEX secrets_one_current ON secrets
      (workspace_id, coalesce(integration_id, '00000000-0000-0000-0000-000000000000'::uuid), kind)
      WHERE state = 'current';
    CREATE INDEX secrets_expiring ON secrets (expires_at) WHERE state = 'current' AND expires_at IS NOT NULL;
    CREATE INDEX secrets_kek ON secrets (kek_id) WHERE kek_id IS NOT NULL;
  `);

  await knex.raw(`
    CREATE TABLE sync_state (
      workspace_id uuid NOT NULL,
      integration_id uuid NOT NULL,
      resource text NOT NULL,
      cursor text,
      round_started_at timestamptz,
      last_run_at timestamptz,
      last_success_at timestamptz,
      pages bigint NOT NULL DEFAULT 0,
      records_upserted bigint NOT NULL DEFAULT 0,
      records_deleted bigint NOT NULL DEFAULT 0,
      status text NOT NULL DEFAULT 'idle',
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, integration_id, resource),
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE
    );
  `);

  await knex.raw(`
    CREATE TABLE cached_records (
      workspace_id uuid NOT NULL,
      integration_id uuid NOT NULL,
      resource text NOT NULL,
      external_id text NOT NULL,
      payload jsonb NOT NULL,
      version text,
      fetched_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, integration_id, resource, external_id),
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE
    );
    CREATE INDEX cached_records_expires_at ON cached_records (expires_at);
  `);

  await knex.raw(`
    CREATE TABLE webhook_endpoints (
      endpoint_id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL,
      integration_id uuid NOT NULL,
      vendor text NOT NULL,
      signing_secret_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      disabled_at timestamptz,
      UNIQUE (workspace_id, endpoint_id),
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE,
      FOREIGN KEY (workspace_id, signing_secret_id) REFERENCES secrets (workspace_id, secret_id)
    );
    CREATE INDEX webhook_endpoints_integration ON webhook_endpoints (workspace_id, integration_id);
  `);

  await knex.raw(`
    CREATE TABLE vendor_subscriptions (
      workspace_id uuid NOT NULL,
      integration_id uuid NOT NULL,
      external_id text NOT NULL,
      resource text NOT NULL,
      expires_at timestamptz,
      status text NOT NULL DEFAULT 'active',
      created_at timestamptz NOT NULL DEFAULT now(),
      renewed_at timestamptz,
      PRIMARY KEY (workspace_id, integration_id, external_id),
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE
    );
    CREATE INDEX vendor_subscriptions_expires_at ON vendor_subscriptions (expires_at) WHERE expires_at IS NOT NULL;
  `);

  await knex.raw(`
    CREATE TABLE webhook_deliveries (
      workspace_id uuid NOT NULL,
      endpoint_id uuid NOT NULL,
      delivery_id text NOT NULL,
      integration_id uuid NOT NULL,
      vendor text NOT NULL,
      event_type text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, endpoint_id, delivery_id),
      FOREIGN KEY (workspace_id, endpoint_id) REFERENCES webhook_endpoints (workspace_id, endpoint_id) ON DELETE CASCADE,
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE
    );
    CREATE INDEX webhook_deliveries_expires_at ON webhook_deliveries (expires_at);
  `);

  await knex.raw(`
    CREATE TABLE oauth_states (
      state_hash bytea PRIMARY KEY CHECK (octet_length(state_hash) = 32),
      workspace_id uuid NOT NULL,
      integration_id uuid NOT NULL,
      workflow_id text NOT NULL,
      verifier_secret_id uuid,
      redirect_uri text NOT NULL,
      expires_at timestamptz NOT NULL,
      consumed_at timestamptz,
      FOREIGN KEY (workspace_id, integration_id) REFERENCES integrations (workspace_id, integration_id) ON DELETE CASCADE,
      FOREIGN KEY (workspace_id, verifier_secret_id) REFERENCES secrets (workspace_id, secret_id)
    );
    CREATE INDEX oauth_states_expires_at ON oauth_states (expires_at);
  `);

  await knex.raw(`
    CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      workspace_id uuid NOT NULL,
      seq bigint NOT NULL CHECK (seq > 0),
      created_at timestamptz NOT NULL,
      actor_type text NOT NULL CHECK (actor_type IN ('user', 'service', 'workflow', 'vendor', 'system')),
      actor_id text NOT NULL,
      direction text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
      vendor text,
      integration_id uuid,
      action text NOT NULL,
      scope text,
      outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
      error_class text,
      request_id text,
      workflow_id text,
      prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
      hash bytea NOT NULL CHECK (octet_length(hash) = 32),
      UNIQUE (workspace_id, seq)
    );
    CREATE INDEX audit_log_created_at ON audit_log (created_at);

    -- Where retention cut a workspace's chain: the next kept row links to this hash.
    CREATE TABLE audit_retention_horizon (
      workspace_id uuid PRIMARY KEY,
      through_seq bigint NOT NULL,
      last_hash bytea NOT NULL CHECK (octet_length(last_hash) = 32),
      applied_at timestamptz NOT NULL DEFAULT now()
    );
  `);

  // The chain's head: the last row, else the retention horizon, else (0, 32 zero bytes).
  await knex.raw(`
    CREATE FUNCTION audit_log_head(ws uuid, OUT head_seq bigint, OUT head_hash bytea)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public
    AS $$
    BEGIN
      SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_log a WHERE a.workspace_id = ws ORDER BY a.seq DESC LIMIT 1;
      IF NOT FOUND THEN
        SELECT h.through_seq, h.last_hash INTO head_seq, head_hash FROM audit_retention_horizon h WHERE h.workspace_id = ws;
        IF NOT FOUND THEN
          head_seq := 0;
          head_hash := decode(repeat('00', 32), 'hex');
        END IF;
      END IF;
    END $$;
    GRANT EXECUTE ON FUNCTION audit_log_head(uuid) TO integrations_api, integrations_worker;
  `);

  // Whoever writes, the chain stays gapless and linked: a row must extend the head it sees. Writers
  // serialise per workspace with pg_advisory_xact_lock (db/audit.ts); this is the backstop.
  await knex.raw(`
    CREATE FUNCTION audit_log_check_link() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
    DECLARE
      head record;
    BEGIN
      SELECT * INTO head FROM audit_log_head(NEW.workspace_id);
      IF NEW.seq <> head.head_seq + 1 OR NEW.prev_hash <> head.head_hash THEN
        RAISE EXCEPTION 'audit_log: entry does not extend the chain head of its workspace' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_check_link();
  `);

  // Append-only (T24): UPDATE, DELETE and TRUNCATE are refused for every role, except row changes by
  // the table's owner inside audit_log_apply_retention (which sets the transaction-local flag; the
  // flag alone is not enough, since any role can set a custom setting).
  await knex.raw(`
    CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
    BEGIN
      IF TG_OP <> 'TRUNCATE'
         AND current_setting('app.audit_retention', true) = 'on'
         AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
    CREATE TRIGGER audit_retention_horizon_append_only BEFORE UPDATE OR DELETE ON audit_retention_horizon FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
  `);

  await knex.raw(`
    CREATE TABLE purge_receipts (
      receipt_id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces (workspace_id) ON DELETE CASCADE,
      integration_id uuid NOT NULL,
      vendor text NOT NULL,
      disconnected_at timestamptz,
      purged_at timestamptz NOT NULL DEFAULT now(),
      counts jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX purge_receipts_integration ON purge_receipts (workspace_id, integration_id);
  `);

  for (const [table, grants] of Object.entries(GRANTS)) await isolate(knex, table, grants);
  for (const [sequence, roles] of Object.entries(SEQUENCES)) {
    await knex.raw(`REVOKE ALL ON SEQUENCE ${sequence} FROM PUBLIC`);
    await knex.raw(`GRANT USAGE ON SEQUENCE ${sequence} TO ${roles.map((r) => ROLE_NAMES[r]).join(', ')}`);
  }

  // TTL sweep across workspaces (T3): RLS would hide other workspaces' rows from the worker, so the
  // sweep runs as the owner, deletes only expired rows, in bounded batches, and returns counts.
  await knex.raw(`
    CREATE FUNCTION sweep_expired_cache(batch integer)
    RETURNS TABLE (cached_records bigint, webhook_deliveries bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
    DECLARE
      records_deleted bigint;
      deliveries_deleted bigint;
    BEGIN
      IF batch IS NULL OR batch < 1 OR batch > 100000 THEN
        RAISE EXCEPTION 'sweep_expired_cache: batch must be 1..100000';
      END IF;
      DELETE FROM public.cached_records c
        WHERE c.ctid = ANY (ARRAY(SELECT x.ctid FROM public.cached_records x WHERE x.expires_at <= now() LIMIT batch));
      GET DIAGNOSTICS records_deleted = ROW_COUNT;
      DELETE FROM public.webhook_deliveries d
        WHERE d.ctid = ANY (ARRAY(SELECT x.ctid FROM public.webhook_deliveries x WHERE x.expires_at <= now() LIMIT batch));
      GET DIAGNOSTICS deliveries_deleted = ROW_COUNT;
      RETURN QUERY SELECT records_deleted, deliveries_deleted;
    END $$;
    REVOKE ALL ON FUNCTION sweep_expired_cache(integer) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION sweep_expired_cache(integer) TO integrations_worker;
  `);

  // Audit retention: removes, in every workspace, the prefix of the chain older than `before`, and
  // records the last removed link as the workspace's horizon so the kept chain still verifies from
  // a known hash. Cutting by seq (not by time) keeps each chain a contiguous suffix.
  await knex.raw(`
    CREATE FUNCTION audit_log_apply_retention(before timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
    DECLARE
      removed bigint;
    BEGIN
      IF before IS NULL OR before > now() THEN
        RAISE EXCEPTION 'audit_log_apply_retention: cutoff must be in the past';
      END IF;
      PERFORM set_config('app.audit_retention', 'on', true);
      WITH cut AS (
        SELECT DISTINCT ON (a.workspace_id) a.workspace_id, a.seq, a.hash
        FROM public.audit_log a
        WHERE a.created_at < before
        ORDER BY a.workspace_id, a.seq DESC
      ), moved AS (
        INSERT INTO public.audit_retention_horizon AS h (workspace_id, through_seq, last_hash)
        SELECT workspace_id, seq, hash FROM cut
        ON CONFLICT (workspace_id) DO UPDATE
          SET through_seq = excluded.through_seq, last_hash = excluded.last_hash, applied_at = now()
          WHERE h.through_seq < excluded.through_seq
        RETURNING h.workspace_id, h.through_seq
      )
      DELETE FROM public.audit_log a USING moved m WHERE a.workspace_id = m.workspace_id AND a.seq <= m.through_seq;
      GET DIAGNOSTICS removed = ROW_COUNT;
      PERFORM set_config('app.audit_retention', 'off', true);
      RETURN removed;
    END $$;
    REVOKE ALL ON FUNCTION audit_log_apply_retention(timestamptz) FROM PUBLIC;
  `);

  // FORCE RLS binds the owner too, so owner-run maintenance gets its own narrow policies, granted to
  // the owner role only (a runtime role setting the flags gains nothing): the sweeper sees and
  // deletes expired rows; retention and KEK rotation see their tables only while their
  // transaction-local flag is on.
  for (const table of ['cached_records', 'webhook_deliveries']) {
    await knex.raw(`CREATE POLICY ttl_sweep_read ON ${table} FOR SELECT TO CURRENT_USER USING (expires_at <= now())`);
    await knex.raw(`CREATE POLICY ttl_sweep_delete ON ${table} FOR DELETE TO CURRENT_USER USING (expires_at <= now())`);
  }
  const retentionOn = `current_setting('app.audit_retention', true) = 'on'`;
  await knex.raw(`CREATE POLICY retention_read ON audit_log FOR SELECT TO CURRENT_USER USING (${retentionOn})`);
  await knex.raw(`CREATE POLICY retention_delete ON audit_log FOR DELETE TO CURRENT_USER USING (${retentionOn})`);
  await knex.raw(
    `CREATE POLICY retention_horizon ON audit_retention_horizon FOR ALL TO CURRENT_USER USING (${retentionOn}) WITH CHECK (${retentionOn})`,
  );
  // KEK rotation (db/secrets/rotation.ts) re-wraps every workspace's data keys as the owner.
  const rotationOn = `current_setting('app.kek_rotation', true) = 'on'`;
  await knex.raw(
    `CREATE POLICY kek_rotation ON secrets FOR ALL TO CURRENT_USER USING (${rotationOn}) WITH CHECK (${rotationOn})`,
  );

  for (const fn of ['ensure_workspace_row()', 'audit_log_check_link()', 'audit_log_refuse_change()']) {
    await knex.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS audit_log_apply_retention(timestamptz)`);
  await knex.raw(`DROP FUNCTION IF EXISTS sweep_expired_cache(integer)`);
  for (const table of [
    'purge_receipts',
    'audit_retention_horizon',
    'audit_log',
    'oauth_states',
    'webhook_deliveries',
    'vendor_subscriptions',
    'webhook_endpoints',
    'cached_records',
    'sync_state',
    'secrets',
    'consent_events',
    'integrations',
  ]) {
    await knex.raw(`DROP TABLE IF EXISTS ${table}`);
  }
  await knex.raw(`DROP FUNCTION IF EXISTS audit_log_check_link()`);
  await knex.raw(`DROP FUNCTION IF EXISTS audit_log_refuse_change()`);
  await knex.raw(`DROP FUNCTION IF EXISTS audit_log_head(uuid)`);
  await knex.raw(`DROP FUNCTION IF EXISTS ensure_workspace_row()`);
  await knex.raw(`ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC`);
  await knex.raw(`REVOKE DELETE ON workspaces FROM integrations_worker`);
}
