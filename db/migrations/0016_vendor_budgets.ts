import type { Knex } from 'knex';

/**
 * Vendor request budgets shared by every worker (issue #17, item 1), in the same hashed-key table as
 * the API's shared rate limits (0006). A worker leases a few tokens at a time from a key's bucket
 * (`vendor_budget_lease`): a lease is never more than the bucket holds, so the fleet together never
 * spends more than one budget, however many workers draw from it. A vendor 429 blocks the key for
 * every worker until its Retry-After passes (`vendor_budget_block`) and empties the bucket: what
 * refills meanwhile is there when the block ends. Keys are SHA-256 of
 * `vendor:<family>:app=<id>:<account>`: no ids stored.
 */
const SEARCH_PATH = 'pg_catalog, public, pg_temp';
/** NaN compares greater than Infinity in Postgres: "> 0 and < Infinity" excludes NaN, ±Infinity, 0 and negatives. */
const positiveFinite = (name: string) => `NOT (${name} > 0 AND ${name} < 'Infinity'::float8)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE rate_limit_buckets ADD COLUMN blocked_until timestamptz`);
  await knex.raw(`
    CREATE FUNCTION vendor_budget_lease(p_key text, p_want integer, p_capacity double precision, p_refill double precision)
    RETURNS TABLE (granted integer, wait_ms double precision)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${SEARCH_PATH}
    AS $$
    DECLARE
      b public.rate_limit_buckets%ROWTYPE;
      now_at timestamptz;
      available double precision;
    BEGIN
      IF p_key IS NULL OR p_key !~ '^[0-9a-f]{64}$' OR p_want IS NULL OR p_want < 1 OR p_want > 1000
         OR p_capacity IS NULL OR p_refill IS NULL OR ${positiveFinite('p_capacity')} OR ${positiveFinite('p_refill')} THEN
        RAISE EXCEPTION 'vendor_budget_lease: invalid arguments';
      END IF;
      INSERT INTO public.rate_limit_buckets (bucket_key, tokens, updated_at)
      VALUES (decode(p_key, 'hex'), p_capacity, clock_timestamp()) ON CONFLICT (bucket_key) DO NOTHING;
      SELECT * INTO b FROM public.rate_limit_buckets WHERE bucket_key = decode(p_key, 'hex') FOR UPDATE;
      -- The time is read once the row is ours: read before, a call that waited for the lock would
      -- set updated_at back and the refill of that wait would be counted twice.
      now_at := clock_timestamp();
      IF b.blocked_until > now_at THEN
        granted := 0;
        wait_ms := ceil(extract(epoch FROM b.blocked_until - now_at) * 1000);
        RETURN NEXT;
        RETURN;
      END IF;
      available := least(p_capacity, b.tokens + greatest(0, extract(epoch FROM now_at - b.updated_at)) * p_refill);
      granted := least(p_want, floor(greatest(available, 0)))::integer;
      -- Until the bucket holds a whole token again (0: it still does), so a worker that emptied it
      -- refuses its next calls without asking.
      wait_ms := CASE WHEN available - granted >= 1 THEN 0 ELSE ceil((1 - (available - granted)) / p_refill * 1000) END;
      UPDATE public.rate_limit_buckets SET tokens = available - granted, updated_at = now_at
      WHERE bucket_key = b.bucket_key;
      RETURN NEXT;
    END $$;
  `);
  // A block is capped at an hour: rows idle for an hour are dropped by rate_limit_consume.
  await knex.raw(`
    CREATE FUNCTION vendor_budget_block(p_key text, p_for_ms double precision)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${SEARCH_PATH}
    AS $$
    DECLARE
      until_at timestamptz;
    BEGIN
      IF p_key IS NULL OR p_key !~ '^[0-9a-f]{64}$' OR p_for_ms IS NULL OR ${positiveFinite('p_for_ms')} THEN
        RAISE EXCEPTION 'vendor_budget_block: invalid arguments';
      END IF;
      until_at := clock_timestamp() + least(p_for_ms, 3600000) * interval '1 millisecond';
      INSERT INTO public.rate_limit_buckets AS b (bucket_key, tokens, updated_at, blocked_until)
      VALUES (decode(p_key, 'hex'), 0, clock_timestamp(), until_at)
      ON CONFLICT (bucket_key) DO UPDATE SET
        tokens = 0,
        updated_at = clock_timestamp(),
        blocked_until = greatest(coalesce(b.blocked_until, until_at), until_at);
    END $$;
  `);
  for (const fn of [
    'vendor_budget_lease(text, integer, double precision, double precision)',
    'vendor_budget_block(text, double precision)',
  ]) {
    await knex.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
    await knex.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO integrations_worker`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS vendor_budget_block(text, double precision)`);
  await knex.raw(`DROP FUNCTION IF EXISTS vendor_budget_lease(text, integer, double precision, double precision)`);
  await knex.raw(`ALTER TABLE rate_limit_buckets DROP COLUMN IF EXISTS blocked_until`);
}
