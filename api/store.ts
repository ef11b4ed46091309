/**
 * Every query the API runs, each inside `withWorkspace` so Row Level Security binds it to one
 * workspace (T20): the API never looks a row up across workspaces, it binds the workspace named in
 * the path (or in the OAuth state) first and then finds the row or nothing.
 */
import type { Knex } from 'knex';
import { withWorkspace } from '../db/workspaceScope';

export interface IntegrationRow {
  integration_id: string;
  workspace_id: string;
  vendor: string;
  status: string;
  requested_scopes: string[];
  granted_scopes: string[];
  controls: Record<string, string[]>;
  poll_interval_ms: number | null;
  connected_by: string | null;
  connected_at: Date | null;
  disconnected_at: Date | null;
  purge_after: Date | null;
  created_at: Date;
  updated_at: Date;
}

const INTEGRATION_COLUMNS = [
  'integration_id',
  'workspace_id',
  'vendor',
  'status',
  'requested_scopes',
  'granted_scopes',
  'controls',
  'poll_interval_ms',
  'connected_by',
  'connected_at',
  'disconnected_at',
  'purge_after',
  'created_at',
  'updated_at',
] as const;

/** Page size bound for integration listings: a workspace has tens of integrations, not thousands. */
export const MAX_INTEGRATIONS_PAGE = 200;

export async function listIntegrations(db: Knex, workspaceId: string): Promise<IntegrationRow[]> {
  return withWorkspace(db, workspaceId, (trx) =>
    trx('integrations').select(INTEGRATION_COLUMNS).orderBy('created_at', 'asc').limit(MAX_INTEGRATIONS_PAGE),
  );
}

export async function getIntegration(
  db: Knex,
  workspaceId: string,
  integrationId: string,
): Promise<IntegrationRow | undefined> {
  return withWorkspace(db, workspaceId, (trx) =>
    trx('integrations').select(INTEGRATION_COLUMNS).where({ integration_id: integrationId }).first(),
  );
}

/**
 * Service-account vendors: the integration row must exist before its credential is stored (the
 * secret's foreign key binds it to this workspace and integration, T7). The connect workflow then
 * takes the row over; a retried request finds it and changes nothing.
 */
export async function reservePendingIntegration(
  db: Knex,
  row: {
    workspaceId: string;
    integrationId: string;
    vendor: string;
    requestedScopes: string[];
    controls: Record<string, string[]>;
    connectedBy: string;
  },
): Promise<void> {
  await withWorkspace(db, row.workspaceId, (trx) =>
    trx('integrations')
      .insert({
        integration_id: row.integrationId,
        workspace_id: row.workspaceId,
        vendor: row.vendor,
        status: 'pending',
        requested_scopes: row.requestedScopes,
        controls: JSON.stringify(row.controls),
        connected_by: row.connectedBy,
      })
      .onConflict('integration_id')
      .ignore(),
  );
}

export interface WebhookEndpointRow {
  endpoint_id: string;
  integration_id: string;
  vendor: string;
  signing_secret_id: string | null;
}

/** An enabled endpoint of this workspace for this vendor, or undefined (wrong workspace, unknown, disabled). */
export async function findWebhookEndpoint(
  db: Knex,
  workspaceId: string,
  endpointId: string,
  vendor: string,
): Promise<WebhookEndpointRow | undefined> {
  return withWorkspace(db, workspaceId, (trx) =>
    trx('webhook_endpoints')
      .select('endpoint_id', 'integration_id', 'vendor', 'signing_secret_id')
      .where({ endpoint_id: endpointId, vendor })
      .whereNull('disabled_at')
      .first(),
  );
}

/** Delivery ids are kept this long for dedup (vendors redeliver for hours; GitHub manual redelivery for days). */
export const DELIVERY_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;

/** Records a delivery once; false when this delivery id was already recorded (a replay or a vendor retry). */
/**
 * App-level webhook routing (db/migrations/0003_app_webhook_routing.ts): the only cross-workspace
 * read of the API, through an allow-listed function that returns ids only.
 */
export async function routeAppWebhook(
  db: Knex,
  vendor: string,
  routingKey: string,
): Promise<Array<{ workspaceId: string; integrationId: string; endpointId: string }>> {
  const { rows } = await db.raw<{ rows: Array<{ workspace_id: string; integration_id: string; endpoint_id: string }> }>(
    'select * from route_app_webhook(?, ?)',
    [vendor, routingKey],
  );
  return rows.map((row) => ({
    workspaceId: row.workspace_id,
    integrationId: row.integration_id,
    endpointId: row.endpoint_id,
  }));
}

export async function recordDelivery(
  db: Knex,
  delivery: {
    workspaceId: string;
    endpointId: string;
    integrationId: string;
    vendor: string;
    deliveryId: string;
    eventType: string;
  },
): Promise<boolean> {
  const inserted = await withWorkspace(db, delivery.workspaceId, (trx) =>
    trx('webhook_deliveries')
      .insert({
        workspace_id: delivery.workspaceId,
        endpoint_id: delivery.endpointId,
        delivery_id: delivery.deliveryId,
        integration_id: delivery.integrationId,
        vendor: delivery.vendor,
        event_type: delivery.eventType,
        expires_at: new Date(Date.now() + DELIVERY_RETENTION_MS),
      })
      .onConflict(['workspace_id', 'endpoint_id', 'delivery_id'])
      .ignore()
      .returning('delivery_id'),
  );
  return inserted.length === 1;
}

/** The lifecycle heard about the delivery; unmarked ones are signalled again by the webhook catch-up schedule. */
export async function markDeliverySignalled(
  db: Knex,
  delivery: { workspaceId: string; endpointId: string; deliveryId: string },
): Promise<void> {
  await withWorkspace(db, delivery.workspaceId, (trx) =>
    trx('webhook_deliveries')
      .where({ endpoint_id: delivery.endpointId, delivery_id: delivery.deliveryId })
      .update({ processed_at: trx.fn.now() }),
  );
}

export type OAuthStateCheck =
  | { ok: true; integrationId: string; workflowId: string }
  | { ok: false; reason: 'unknown' | 'consumed' | 'expired' | 'redirect-mismatch' };

/**
 * Pre-checks an OAuth `state` (looked up by its SHA-256, never stored in clear): it must exist in
 * this workspace for this integration, be unexpired and unconsumed, and have been issued for
 * exactly this redirect URI. Forged, replayed and stale callbacks stop here with a 4xx. Consumption
 * itself (the one-time guarantee, atomic) is the connect workflow's `consumeOAuthState` activity:
 * of two concurrent callbacks that both pass this check, only one is accepted there.
 */
export async function checkOAuthState(
  db: Knex,
  input: { workspaceId: string; integrationId: string; stateHash: Buffer; redirectUri: string },
): Promise<OAuthStateCheck> {
  const row = await withWorkspace(db, input.workspaceId, (trx) =>
    trx('oauth_states')
      .select('integration_id', 'workflow_id', 'redirect_uri', 'consumed_at', trx.raw('expires_at <= now() as expired'))
      .where({ state_hash: input.stateHash, integration_id: input.integrationId })
      .first(),
  );
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.consumed_at) return { ok: false, reason: 'consumed' };
  if (row.expired) return { ok: false, reason: 'expired' };
  if (row.redirect_uri !== input.redirectUri) return { ok: false, reason: 'redirect-mismatch' };
  return { ok: true, integrationId: row.integration_id as string, workflowId: row.workflow_id as string };
}
