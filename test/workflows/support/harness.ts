/** Shared set-up of the workflow tests: real Postgres (worker role), real secret store and audit log. */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createActivities } from '../../../activities';
import { createConnectorRegistry } from '../../../activities/vendors/registry';
import { createAuditLog } from '../../../db/audit';
import { LocalKeyProvider, SecretStore } from '../../../db/secrets';
import { createLogger } from '../../../lib/logger';
import { runtimeDb, superuserDb } from '../../support/db';
import { MEMORY_VENDOR, memoryDescriptor, MemoryConnector } from './memoryConnector';

export interface Harness {
  db: Knex;
  admin: Knex;
  secrets: SecretStore;
  connector: MemoryConnector;
  activities: ReturnType<typeof createActivities>;
  close(): Promise<void>;
}

export function createHarness(connector = new MemoryConnector()): Harness {
  const db = runtimeDb('worker');
  const admin = superuserDb();
  const secrets = new SecretStore(db, new LocalKeyProvider([crypto.randomBytes(32)]));
  const activities = createActivities({
    db,
    logger: createLogger({ level: 'silent', name: 'test' }),
    integrations: {
      secrets,
      audit: createAuditLog(db),
      vendors: createConnectorRegistry([{ descriptor: memoryDescriptor, connector }]),
      webhookBaseUrl: 'https://integrations.test',
    },
  });
  return {
    db,
    admin,
    secrets,
    connector,
    activities,
    async close() {
      await db.destroy();
      await admin.destroy();
    },
  };
}

/** A connected integration with stored tokens, as a finished connect leaves it. */
export async function seedConnectedIntegration(h: Harness, tokens = { accessToken: 'seed-access', refreshToken: 'seed-refresh', grantedScopes: ['repo:read'] }) {
  const ref = { workspaceId: crypto.randomUUID(), integrationId: crypto.randomUUID() };
  await h.admin('workspaces').insert({ workspace_id: ref.workspaceId });
  await h.admin('integrations').insert({
    integration_id: ref.integrationId,
    workspace_id: ref.workspaceId,
    vendor: MEMORY_VENDOR,
    status: 'connected',
    requested_scopes: ['repo:read'],
    granted_scopes: ['repo:read'],
    connected_by: 'user-1',
    connected_at: new Date(),
  });
  await h.secrets.put({ workspaceId: ref.workspaceId, integrationId: ref.integrationId, kind: 'oauth-tokens', state: 'current', plaintext: JSON.stringify(tokens) });
  return ref;
}

export async function cachedIds(h: Harness, integrationId: string): Promise<string[]> {
  const rows = await h.admin('cached_records').where({ integration_id: integrationId }).orderBy('external_id').select('external_id');
  return rows.map((r) => r.external_id as string);
}
