/** Shared set-up of the workflow tests: real Postgres (worker role), real secret store and audit log. */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createActivities } from '../../../activities';
import { createConnectorRegistry } from '../../../activities/vendors/registry';
import { createAuditLog } from '../../../db/audit';
import { LocalKeyProvider, SecretStore } from '../../../db/secrets';
import { createLogger } from '../../../lib/logger';
import { runtimeDb, superuserDb } from '../../support/db';
import type { Connector, TokenSet, VendorDescriptor, VendorId } from '../../../activities/vendors/types';
import type { IntegrationActivityDeps } from '../../../activities/integrations/deps';
import { MEMORY_VENDOR, memoryDescriptor, MemoryConnector } from '../../../dev/memoryConnector';

export interface VendorHarness {
  db: Knex;
  admin: Knex;
  secrets: SecretStore;
  /** What the integration activities are built from (for tests that resolve an integration themselves). */
  integrations: IntegrationActivityDeps;
  activities: ReturnType<typeof createActivities>;
  close(): Promise<void>;
}

export interface Harness extends VendorHarness {
  connector: MemoryConnector;
}

/**
 * The real generic activities over the given vendors. `key`: the secret store's KEK (processes
 * sharing secrets pass the same one); `webhookBaseUrl`: where vendors deliver (a local receiver
 * when the vendor handshakes with it, as Graph does); `workerShutdown`: the worker process's shutdown signal;
 * `syncCommitGroup`: when `syncPages` commits its fetched pages (default the production groups).
 */
export function createVendorHarness(
  vendors: Array<{ descriptor: VendorDescriptor; connector: Connector }>,
  options: {
    key?: Buffer;
    webhookBaseUrl?: string;
    workerShutdown?: AbortSignal;
    syncCommitGroup?: IntegrationActivityDeps['syncCommitGroup'];
  } = {},
): VendorHarness {
  const db = runtimeDb('worker');
  const admin = superuserDb();
  const secrets = new SecretStore(db, new LocalKeyProvider([options.key ?? crypto.randomBytes(32)]));
  const logger = createLogger({ level: 'silent', name: 'test' });
  const integrations: IntegrationActivityDeps = {
    db,
    logger,
    secrets,
    audit: createAuditLog(db),
    vendors: createConnectorRegistry(vendors),
    webhookBaseUrl: options.webhookBaseUrl ?? 'https://integrations.test',
    ...(options.workerShutdown ? { workerShutdown: options.workerShutdown } : {}),
    ...(options.syncCommitGroup ? { syncCommitGroup: options.syncCommitGroup } : {}),
  };
  const activities = createActivities({ db, logger, integrations });
  return {
    db,
    admin,
    secrets,
    integrations,
    activities,
    async close() {
      await db.destroy();
      await admin.destroy();
    },
  };
}

/** The memory vendor harness most workflow tests use. */
export function createHarness(connector = new MemoryConnector(), key?: Buffer, workerShutdown?: AbortSignal): Harness {
  return { ...createVendorHarness([{ descriptor: memoryDescriptor, connector }], { key, workerShutdown }), connector };
}

/** A connected integration with stored tokens, as a finished connect leaves it (default: of the memory row). */
export async function seedConnectedIntegration(
  h: VendorHarness,
  tokens: TokenSet = { accessToken: 'seed-access', refreshToken: 'seed-refresh', grantedScopes: ['repo:read'] },
  row: { vendor: VendorId; scopes: string[]; controls?: Record<string, string[]> } = {
    vendor: MEMORY_VENDOR,
    scopes: ['repo:read'],
  },
  /** A service-account row's activities read its credential as that kind. */
  kind: 'oauth-tokens' | 'service-account' = 'oauth-tokens',
) {
  const ref = { workspaceId: crypto.randomUUID(), integrationId: crypto.randomUUID() };
  await h.admin('workspaces').insert({ workspace_id: ref.workspaceId });
  await h.admin('integrations').insert({
    integration_id: ref.integrationId,
    workspace_id: ref.workspaceId,
    vendor: row.vendor,
    status: 'connected',
    requested_scopes: row.scopes,
    granted_scopes: row.scopes,
    ...(row.controls ? { controls: JSON.stringify(row.controls) } : {}),
    connected_by: 'user-1',
    connected_at: new Date(),
  });
  await h.secrets.put({
    workspaceId: ref.workspaceId,
    integrationId: ref.integrationId,
    kind,
    state: 'current',
    plaintext: JSON.stringify(tokens),
    expiresAt: tokens.expiresAt !== undefined ? new Date(tokens.expiresAt) : undefined,
  });
  return ref;
}

export async function cachedIds(h: Pick<VendorHarness, 'admin'>, integrationId: string): Promise<string[]> {
  const rows = await h
    .admin('cached_records')
    .where({ integration_id: integrationId })
    .orderBy('external_id')
    .select('external_id');
  return rows.map((r) => r.external_id as string);
}
