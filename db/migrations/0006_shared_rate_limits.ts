import type { Knex } from 'knex';

/**
 * Rate-limit budgets shared by every API instance (api/rateLimit.ts). Each instance admits
 * requests from its own token buckets and, every few hundred milliseconds, adds what it admitted
 * to the shared bucket here and takes back what is left. Rows are keyed by the SHA-256 of
 * `caller:<subject>` or `workspace:<id>`: no id is stored, and no customer data. Only
 * `rate_limit_consume` reaches the table (as the owner); the API role may only call it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE rate_limit_buckets (
      bucket_key bytea PRIMARY KEY CHECK (octet_length(bucket_key) = 32),
      tokens double precision NOT NULL,
      updated_at timestamptz NOT NULL
    );
    ALTER TABLE rate_limit_buckets ENABLE ROW LEVEL SECURITY;
    ALTER TABLE rate_limit_buckets FORCE ROW LEVEL SECURITY;
    REVOKE ALL ON rate_limit_buckets FROM PUBLIC;
    CREATE POLICY rate_limit_owner ON rate_limit_buckets FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);
  `);
  // Callers pass keys sorted, so two instances lock shared rows in the same order (no deadlock).
  await knex.raw(`
    CREATE FUNCTION rate_limit_consume(p_keys text[], p_used integer[], p_capacity double precision[], p_refill double precision[])
    RETURNS TABLE (key_hex text, tokens_left double precision)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
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
           OR p_capacity[i] IS NULL OR p_capacity[i] <= 0 OR p_refill[i] IS NULL OR p_refill[i] <= 0 THEN
          RAISE EXCEPTION 'rate_limit_consume: invalid arguments';
        END IF;
        -- Refilled at its rate since the last update, capped at capacity; a debt (instances that
        -- admitted at once) is kept down to minus one capacity.
        INSERT INTO public.rate_limit_buckets AS b (bucket_key, tokens, updated_at)
        VALUES (decode(p_keys[i], 'hex'), greatest(-p_capacity[i], p_capacity[i] - p_used[i]), clock_timestamp())
        ON CONFLICT (bucket_key) DO UPDATE SET
          tokens = greatest(-p_capacity[i], least(p_capacity[i], b.tokens + extract(epoch FROM clock_timestamp() - b.updated_at) * p_refill[i]) - p_used[i]),
          updated_at = clock_timestamp()
        RETURNING b.tokens INTO tokens_left;
        key_hex := p_keys[i];
        RETURN NEXT;
      END LOOP;
      -- A bucket idle for an hour is full again: drop such rows now and then, so the table stays small.
      IF random() < 0.01 THEN
        DELETE FROM public.rate_limit_buckets WHERE updated_at < clock_timestamp() - interval '1 hour';
      END IF;
    END $$;
    REVOKE ALL ON FUNCTION rate_limit_consume(text[], integer[], double precision[], double precision[]) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION rate_limit_consume(text[], integer[], double precision[], double precision[]) TO integrations_api;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    `DROP FUNCTION IF EXISTS rate_limit_consume(text[], integer[], double precision[], double precision[])`,
  );
  await knex.raw(`DROP TABLE IF EXISTS rate_limit_buckets`);
}
