/**
 * Every query of the webhook tables (`webhook_endpoints`, `webhook_deliveries`), each bound to one
 * workspace by Row Level Security (T20): `db` + workspace functions open their own
 * `withWorkspace` transaction, `trx` functions run inside the caller's. The two cross-workspace
 * reads go through allow-listed database functions that return ids only.
 */
import type { Knex } from 'knex';
import { withWorkspace } from './workspaceScope';

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

export async function insertWebhookEndpoint(
  trx: Knex.Transaction,
  endpoint: { endpointId: string; workspaceId: string; integrationId: string; vendor: string; signingSecretId: string },
): Promise<void> {
  await trx('webhook_endpoints').insert({
    endpoint_id: endpoint.endpointId,
    workspace_id: endpoint.workspaceId,
    integration_id: endpoint.integrationId,
    vendor: endpoint.vendor,
    signing_secret_id: endpoint.signingSecretId,
  });
}

/** The integration's enabled endpoint (one per integration), or undefined once disabled. */
export async function enabledWebhookEndpoint(
  trx: Knex.Transaction,
  integrationId: string,
): Promise<WebhookEndpointRow | undefined> {
  return trx('webhook_endpoints')
    .select('endpoint_id', 'integration_id', 'vendor', 'signing_secret_id')
    .where({ integration_id: integrationId })
    .whereNull('disabled_at')
    .orderBy('created_at', 'desc')
    .first();
}

/** Deliveries to the integration's endpoints stop being accepted from now on. */
export async function disableWebhookEndpoints(trx: Knex.Transaction, integrationId: string): Promise<void> {
  await trx('webhook_endpoints')
    .where({ integration_id: integrationId })
    .whereNull('disabled_at')
    .update({ disabled_at: trx.fn.now() });
}

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

/** Delivery ids are kept this long for dedup (vendors redeliver for hours; GitHub manual redelivery for days). */
export const DELIVERY_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;

/** Records a delivery once; false when this delivery id was already recorded (a replay or a vendor retry). */
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

export interface UnsignalledWebhooks {
  workspaceId: string;
  integrationId: string;
  /** The newest unprocessed delivery's receive time (ISO): marking stops there, later ones wait for their own run. */
  receivedThrough: string;
}

/**
 * Integrations with deliveries older than `afterSeconds` whose signal never went out, at most
 * `limit`: a cross-workspace read through an allow-listed function that returns ids and a time only.
 */
export async function unsignalledWebhookIntegrations(
  db: Knex,
  afterSeconds: number,
  limit: number,
): Promise<UnsignalledWebhooks[]> {
  const { rows } = await db.raw<{
    rows: Array<{ workspace_id: string; integration_id: string; received_through: Date }>;
  }>('select * from unsignalled_webhook_integrations(?, ?)', [afterSeconds, limit]);
  return rows.map((row) => ({
    workspaceId: row.workspace_id,
    integrationId: row.integration_id,
    receivedThrough: row.received_through.toISOString(),
  }));
}

/** The integration's lifecycle was signalled (or is gone): its deliveries up to `receivedThrough` are handled. */
export async function markIntegrationDeliveriesSignalled(db: Knex, deliveries: UnsignalledWebhooks): Promise<number> {
  return withWorkspace(db, deliveries.workspaceId, (trx) =>
    trx('webhook_deliveries')
      .where({ integration_id: deliveries.integrationId })
      .whereNull('processed_at')
      .where('received_at', '<=', deliveries.receivedThrough)
      .update({ processed_at: trx.fn.now() }),
  );
}

/** An integration's vendor subscriptions as the connector contract names them (external id, resource, expiry). */
export async function activeSubscriptions(
  trx: Knex.Transaction,
  integrationId: string,
): Promise<Array<{ externalId: string; resource: string; expiresAt?: number }>> {
  const rows = await trx('vendor_subscriptions')
    .where({ integration_id: integrationId, status: 'active' })
    .select('external_id', 'resource', 'expires_at');
  return rows.map((row: { external_id: string; resource: string; expires_at: Date | null }) => ({
    externalId: row.external_id,
    resource: row.resource,
    expiresAt: row.expires_at ? new Date(row.expires_at).getTime() : undefined,
  }));
}

/** Records subscriptions the vendor answered (a retry of the same registration updates their expiry). */
export async function upsertSubscriptions(
  trx: Knex.Transaction,
  ref: { workspaceId: string; integrationId: string },
  subscriptions: ReadonlyArray<{ externalId: string; resource: string; expiresAt?: number }>,
): Promise<void> {
  if (subscriptions.length === 0) return;
  await trx('vendor_subscriptions')
    .insert(
      subscriptions.map((s) => ({
        workspace_id: ref.workspaceId,
        integration_id: ref.integrationId,
        external_id: s.externalId,
        resource: s.resource,
        expires_at: s.expiresAt ? new Date(s.expiresAt) : null,
      })),
    )
    .onConflict(['workspace_id', 'integration_id', 'external_id'])
    .merge(['expires_at']);
}

/** The integration's subscriptions are now `after` (a webhook-secret rotation re-registered or updated them). */
export async function replaceSubscriptions(
  trx: Knex.Transaction,
  ref: { workspaceId: string; integrationId: string },
  before: ReadonlyArray<{ externalId: string }>,
  after: ReadonlyArray<{ externalId: string; resource: string; expiresAt?: number }>,
): Promise<void> {
  const kept = new Set(after.map((s) => s.externalId));
  const gone = before.map((s) => s.externalId).filter((id) => !kept.has(id));
  if (gone.length > 0)
    await trx('vendor_subscriptions')
      .where({ integration_id: ref.integrationId })
      .whereIn('external_id', gone)
      .delete();
  await upsertSubscriptions(trx, ref, after);
}

/** The integration's enabled endpoint verifies with this secret version from now on (a promoted rotation, T8). */
export async function setEndpointSigningSecret(
  trx: Knex.Transaction,
  integrationId: string,
  signingSecretId: string,
): Promise<void> {
  await trx('webhook_endpoints')
    .where({ integration_id: integrationId })
    .whereNull('disabled_at')
    .update({ signing_secret_id: signingSecretId });
}
