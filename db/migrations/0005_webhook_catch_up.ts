import type { Knex } from 'knex';

/**
 * Webhook catch-up. The receiver records a verified delivery, then signals the integration's
 * lifecycle and sets `processed_at`. When the signal fails (Temporal briefly unreachable) the row
 * stays unprocessed and, without this, the change would wait for the next delivery. A scheduled
 * workflow asks `unsignalled_webhook_integrations` which integrations have such rows (ids only,
 * across workspaces, hence as the owner behind a transaction-local flag), signals each lifecycle
 * once, then marks the rows in the worker role under RLS.
 */
export async function up(knex: Knex): Promise<void> {
  // The API marks what it signalled; it may change nothing else of a delivery.
  await knex.raw(`GRANT UPDATE (processed_at) ON webhook_deliveries TO integrations_api`);
  await knex.raw(
    `CREATE INDEX webhook_deliveries_unsignalled ON webhook_deliveries (received_at) WHERE processed_at IS NULL`,
  );
  const catchUpOn = `current_setting('app.webhook_catch_up', true) = 'on'`;
  await knex.raw(
    `CREATE POLICY webhook_catch_up ON webhook_deliveries FOR SELECT TO CURRENT_USER USING (${catchUpOn} AND processed_at IS NULL)`,
  );
  await knex.raw(`
    CREATE FUNCTION unsignalled_webhook_integrations(p_older_than_seconds integer, p_limit integer)
    RETURNS TABLE (workspace_id uuid, integration_id uuid, received_through timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
    BEGIN
      IF p_older_than_seconds IS NULL OR p_older_than_seconds < 0 OR p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
        RAISE EXCEPTION 'unsignalled_webhook_integrations: invalid arguments';
      END IF;
      PERFORM set_config('app.webhook_catch_up', 'on', true);
      RETURN QUERY
        SELECT d.workspace_id, d.integration_id, max(d.received_at)
        FROM public.webhook_deliveries d
        WHERE d.processed_at IS NULL AND d.received_at <= now() - make_interval(secs => p_older_than_seconds)
        GROUP BY d.workspace_id, d.integration_id
        ORDER BY min(d.received_at)
        LIMIT p_limit;
      PERFORM set_config('app.webhook_catch_up', 'off', true);
    END $$;
    REVOKE ALL ON FUNCTION unsignalled_webhook_integrations(integer, integer) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION unsignalled_webhook_integrations(integer, integer) TO integrations_worker;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS unsignalled_webhook_integrations(integer, integer)`);
  await knex.raw(`DROP POLICY IF EXISTS webhook_catch_up ON webhook_deliveries`);
  await knex.raw(`DROP INDEX IF EXISTS webhook_deliveries_unsignalled`);
  await knex.raw(`REVOKE UPDATE (processed_at) ON webhook_deliveries FROM integrations_api`);
}
