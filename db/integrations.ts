/**
 * Every query of the `integrations` table. Functions taking `db` and a workspace open their own
 * workspace-bound transaction (the API's reads); functions taking `trx` run inside the caller's
 * `withWorkspace` transaction, so Row Level Security binds them to one workspace either way (T20).
 */
import type { Knex } from 'knex';
import { withWorkspace } from './workspaceScope';

export type IntegrationStatus =
  'pending' | 'connected' | 'reauthorization_required' | 'disconnecting' | 'disconnected' | 'failed';

export interface IntegrationRow {
  integration_id: string;
  workspace_id: string;
  vendor: string;
  status: IntegrationStatus;
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
  return withWorkspace(db, workspaceId, (trx) => findIntegration(trx, integrationId));
}

/** The row, optionally locked for the rest of the transaction (`share`: against status changes; `update`: to change it). */
export async function findIntegration(
  trx: Knex.Transaction,
  integrationId: string,
  lock?: 'share' | 'update',
): Promise<IntegrationRow | undefined> {
  const query = trx('integrations').select(INTEGRATION_COLUMNS).where({ integration_id: integrationId }).first();
  if (lock === 'share') return query.forShare();
  if (lock === 'update') return query.forUpdate();
  return query;
}

export interface PendingIntegration {
  workspaceId: string;
  integrationId: string;
  vendor: string;
  requestedScopes: string[];
  controls: Record<string, string[]>;
  connectedBy?: string;
  pollIntervalMs?: number;
}

/** The integration row in `pending`; an existing row (a retry, or a row reserved earlier) is left as it is. */
export async function insertPendingIntegration(trx: Knex.Transaction, row: PendingIntegration): Promise<void> {
  await trx('integrations')
    .insert({
      integration_id: row.integrationId,
      workspace_id: row.workspaceId,
      vendor: row.vendor,
      status: 'pending',
      requested_scopes: row.requestedScopes,
      controls: JSON.stringify(row.controls),
      ...(row.connectedBy ? { connected_by: row.connectedBy } : {}),
      ...(row.pollIntervalMs !== undefined ? { poll_interval_ms: row.pollIntervalMs } : {}),
    })
    .onConflict('integration_id')
    .ignore();
}

/**
 * Service-account vendors: the integration row must exist before its credential is stored (the
 * secret's foreign key binds it to this workspace and integration, T7). The connect workflow then
 * takes the row over; a retried request finds it and changes nothing.
 */
export async function reservePendingIntegration(
  db: Knex,
  row: PendingIntegration & { connectedBy: string },
): Promise<void> {
  await withWorkspace(db, row.workspaceId, (trx) => insertPendingIntegration(trx, row));
}

/** Columns a workflow step changes; `now` stamps the database's clock. */
export interface IntegrationChanges {
  status?: IntegrationStatus;
  granted_scopes?: string[];
  controls?: Record<string, string[]>;
  poll_interval_ms?: number;
  connected_by?: string;
  connected_at?: 'now';
  disconnected_at?: 'now';
  purge_after?: Date | null;
}

/**
 * Applies `changes` (and `updated_at`) to the integration, only while it is in `whenStatus` if
 * given. Answers how many rows changed (0: absent, or not in that status).
 */
export async function updateIntegration(
  trx: Knex.Transaction,
  integrationId: string,
  changes: IntegrationChanges,
  whenStatus?: IntegrationStatus,
): Promise<number> {
  const { controls, connected_at, disconnected_at, ...plain } = changes;
  return trx('integrations')
    .where({ integration_id: integrationId, ...(whenStatus ? { status: whenStatus } : {}) })
    .update({
      ...plain,
      ...(controls ? { controls: JSON.stringify(controls) } : {}),
      ...(connected_at ? { connected_at: trx.fn.now() } : {}),
      ...(disconnected_at ? { disconnected_at: trx.fn.now() } : {}),
      updated_at: trx.fn.now(),
    });
}

/** The workspace's integrations, ids and states only. */
export async function listIntegrationStates(
  trx: Knex.Transaction,
): Promise<Array<Pick<IntegrationRow, 'integration_id' | 'vendor' | 'status'>>> {
  return trx('integrations').select('integration_id', 'vendor', 'status');
}

/** Deletes every integration of the transaction's workspace; answers how many. */
export async function deleteWorkspaceIntegrations(trx: Knex.Transaction): Promise<number> {
  return trx('integrations').delete();
}
