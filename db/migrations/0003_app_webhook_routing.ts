import type { Knex } from 'knex';

/**
 * App-level webhooks. Some vendors deliver every event of an app to ONE URL (a GitHub App has a
 * single webhook URL for all its installations), so the workspace cannot come from the path. The
 * receiver verifies the delivery with the app's secret first, then asks `route_app_webhook` which
 * workspaces' integrations subscribed to that routing key (e.g. `installation:42`, stored as an
 * `app-webhook` row in vendor_subscriptions when the integration connected). The lookup crosses
 * workspaces, which RLS forbids the api role, so it runs as the owner, returns ids only, and sees
 * the two tables only while its transaction-local flag is on.
 */
export async function up(knex: Knex): Promise<void> {
  const routingOn = `current_setting('app.webhook_routing', true) = 'on'`;
  await knex.raw(
    `CREATE POLICY app_webhook_routing ON vendor_subscriptions FOR SELECT TO CURRENT_USER USING (${routingOn} AND resource = 'app-webhook')`,
  );
  await knex.raw(
    `CREATE POLICY app_webhook_routing ON webhook_endpoints FOR SELECT TO CURRENT_USER USING (${routingOn} AND disabled_at IS NULL)`,
  );
  await knex.raw(`
    CREATE FUNCTION route_app_webhook(p_vendor text, p_routing_key text)
    RETURNS TABLE (workspace_id uuid, integration_id uuid, endpoint_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
    BEGIN
      IF p_vendor IS NULL OR p_vendor !~ '^[a-z0-9-]{1,40}$' OR p_routing_key IS NULL OR length(p_routing_key) > 200 THEN
        RAISE EXCEPTION 'route_app_webhook: invalid vendor or routing key';
      END IF;
      PERFORM set_config('app.webhook_routing', 'on', true);
      RETURN QUERY
        SELECT s.workspace_id, s.integration_id, e.endpoint_id
        FROM public.vendor_subscriptions s
        JOIN public.webhook_endpoints e
          ON e.workspace_id = s.workspace_id AND e.integration_id = s.integration_id AND e.vendor = p_vendor
        WHERE s.resource = 'app-webhook' AND s.external_id = p_routing_key;
      PERFORM set_config('app.webhook_routing', 'off', true);
    END $$;
    REVOKE ALL ON FUNCTION route_app_webhook(text, text) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION route_app_webhook(text, text) TO integrations_api;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS route_app_webhook(text, text)`);
  await knex.raw(`DROP POLICY IF EXISTS app_webhook_routing ON webhook_endpoints`);
  await knex.raw(`DROP POLICY IF EXISTS app_webhook_routing ON vendor_subscriptions`);
}
