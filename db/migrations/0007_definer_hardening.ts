import type { Knex } from 'knex';

/**
 * Name resolution and argument hardening (issue #18, item 7).
 *
 * A `search_path` that does not name `pg_temp` searches it FIRST for tables: a runtime role with
 * TEMP could create `pg_temp.audit_log` and have `audit_log_head` (used by the chain-link trigger
 * and by `audit_log_append`) read its forged head. Every function we pin gets `pg_temp` last, and
 * TEMP is revoked from PUBLIC so the runtime roles cannot create temporary objects at all.
 *
 * `rate_limit_consume` compared capacity and refill with `<= 0` only: NaN and Infinity passed (in
 * Postgres NaN sorts above every number). Both must now be finite and positive.
 */

/** Every function of migrations 0001–0006 with a pinned search_path (SECURITY DEFINER or trigger/helper). */
const PINNED_FUNCTIONS = [
  'ensure_workspace_row()',
  'audit_log_head(uuid)',
  'audit_log_check_link()',
  'audit_log_refuse_change()',
  'sweep_expired_cache(integer)',
  'audit_log_apply_retention(timestamptz)',
  'route_app_webhook(text, text)',
  'audit_log_append(uuid, timestamptz, text, text, text, text, uuid, text, text, text, text, text, text, text, text)',
  'unsignalled_webhook_integrations(integer, integer)',
  'rate_limit_consume(text[], integer[], double precision[], double precision[])',
];

const SAFE_SEARCH_PATH = 'pg_catalog, public, pg_temp';
const PREVIOUS_SEARCH_PATH = 'pg_catalog, public';

const RATE_LIMIT_CONSUME = (finiteCheck: boolean) => `
  CREATE OR REPLACE FUNCTION rate_limit_consume(p_keys text[], p_used integer[], p_capacity double precision[], p_refill double precision[])
  RETURNS TABLE (key_hex text, tokens_left double precision)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${finiteCheck ? SAFE_SEARCH_PATH : PREVIOUS_SEARCH_PATH}
  AS $$
  DECLARE
    n integer := coalesce(array_length(p_keys, 1), 0);
    i integer;
  BEGIN
    IF n > 10000 OR n <> coalesce(array_length(p_used, 1), 0) OR n <> coalesce(array_length(p_capacity, 1), 0)
       OR n <> coalesce(array_length(p_refill, 1), 0) THEN
      RAISE EXCEPTION 'rate_limit_consume: invalid arguments';
    END IF;
    FOR i IN 1..n LOOP
      IF p_keys[i] IS NULL OR p_keys[i] !~ '^[0-9a-f]{64}$' OR p_used[i] IS NULL OR p_used[i] < 0
         OR p_capacity[i] IS NULL OR p_refill[i] IS NULL
         ${
           finiteCheck
             ? // NaN compares greater than Infinity in Postgres, so "> 0 and < Infinity" excludes NaN, ±Infinity, 0 and negatives.
               `OR NOT (p_capacity[i] > 0 AND p_capacity[i] < 'Infinity'::float8)
         OR NOT (p_refill[i] > 0 AND p_refill[i] < 'Infinity'::float8)`
             : `OR p_capacity[i] <= 0 OR p_refill[i] <= 0`
         } THEN
        RAISE EXCEPTION 'rate_limit_consume: invalid arguments';
      END IF;
      INSERT INTO public.rate_limit_buckets AS b (bucket_key, tokens, updated_at)
      VALUES (decode(p_keys[i], 'hex'), greatest(-p_capacity[i], p_capacity[i] - p_used[i]), clock_timestamp())
      ON CONFLICT (bucket_key) DO UPDATE SET
        tokens = greatest(-p_capacity[i], least(p_capacity[i], b.tokens + extract(epoch FROM clock_timestamp() - b.updated_at) * p_refill[i]) - p_used[i]),
        updated_at = clock_timestamp()
      RETURNING b.tokens INTO tokens_left;
      key_hex := p_keys[i];
      RETURN NEXT;
    END LOOP;
    IF random() < 0.01 THEN
      DELETE FROM public.rate_limit_buckets WHERE updated_at < clock_timestamp() - interval '1 hour';
    END IF;
  END $$;
`;

/** TEMP on the current database (its name is not known to the migration). */
async function setTempForPublic(knex: Knex, grant: boolean): Promise<void> {
  const statement = grant ? 'GRANT TEMPORARY ON DATABASE %I TO PUBLIC' : 'REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC';
  await knex.raw(`DO $$ BEGIN EXECUTE format('${statement}', current_database()); END $$`);
}

export async function up(knex: Knex): Promise<void> {
  // CREATE OR REPLACE keeps the function's owner and grants.
  await knex.raw(RATE_LIMIT_CONSUME(true));
  for (const fn of PINNED_FUNCTIONS) await knex.raw(`ALTER FUNCTION ${fn} SET search_path = ${SAFE_SEARCH_PATH}`);
  await setTempForPublic(knex, false);
}

export async function down(knex: Knex): Promise<void> {
  await setTempForPublic(knex, true);
  for (const fn of PINNED_FUNCTIONS) await knex.raw(`ALTER FUNCTION ${fn} SET search_path = ${PREVIOUS_SEARCH_PATH}`);
  await knex.raw(RATE_LIMIT_CONSUME(false));
}
