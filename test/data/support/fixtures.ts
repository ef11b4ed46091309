/**
 * One row in every customer table for a workspace, written as the superuser (which RLS does not
 * bind) so the isolation tests start from known data in several workspaces.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';

export interface SeededWorkspace {
  workspaceId: string;
  integrationId: string;
  secretId: string;
  endpointId: string;
}

export async function seedWorkspace(superuser: Knex): Promise<SeededWorkspace> {
  const workspaceId = crypto.randomUUID();
  const integrationId = crypto.randomUUID();
  const secretId = crypto.randomUUID();
  const endpointId = crypto.randomUUID();
  const soon = new Date(Date.now() + 60 * 60 * 1000);
  const ws = { workspace_id: workspaceId };
  const owned = { ...ws, integration_id: integrationId };
  await superuser.transaction(async (trx) => {
    await trx('workspaces').insert(ws);
    await trx('integrations').insert({ ...owned, vendor: 'github', status: 'connected', requested_scopes: ['repo'] });
    await trx('consent_events').insert({
      ...owned,
      actor_type: 'user',
      actor_id: 'user-1',
      action: 'granted',
      scopes: ['repo'],
    });
    await trx('secrets').insert({
      ...owned,
      secret_id: secretId,
      kind: 'webhook-secret',
      version: 1,
      state: 'current',
      kek_id: 'fixture',
      wrapped_dek: crypto.randomBytes(60),
      iv: crypto.randomBytes(12),
      auth_tag: crypto.randomBytes(16),
      ciphertext: crypto.randomBytes(20),
    });
    await trx('sync_state').insert({ ...owned, resource: 'issues', cursor: 'c1' });
    await trx('cached_records').insert({
      ...owned,
      resource: 'issues',
      external_id: 'x-1',
      payload: JSON.stringify({ n: 1 }),
      expires_at: soon,
    });
    await trx('webhook_endpoints').insert({
      ...owned,
      endpoint_id: endpointId,
      vendor: 'github',
      signing_secret_id: secretId,
    });
    await trx('vendor_subscriptions').insert({ ...owned, external_id: 'sub-1', resource: 'issues' });
    await trx('webhook_deliveries').insert({
      ...owned,
      endpoint_id: endpointId,
      delivery_id: 'd-1',
      vendor: 'github',
      event_type: 'push',
      expires_at: soon,
    });
    await trx('oauth_states').insert({
      ...owned,
      state_hash: crypto.randomBytes(32),
      workflow_id: 'wf-1',
      redirect_uri: 'https://example.test/cb',
      expires_at: soon,
    });
    await trx('audit_log').insert({
      ...ws,
      seq: 1,
      created_at: new Date(),
      actor_type: 'system',
      actor_id: 'fixture',
      direction: 'internal',
      action: 'fixture',
      outcome: 'success',
      prev_hash: Buffer.alloc(32),
      hash: crypto.randomBytes(32),
    });
    await trx('audit_retention_horizon').insert({ ...ws, through_seq: 0, last_hash: Buffer.alloc(32) });
    await trx('purge_receipts').insert({ ...owned, receipt_id: crypto.randomUUID(), vendor: 'github' });
    await trx('app_installation_bindings').insert({
      ...owned,
      vendor: 'github',
      installation_id: String(crypto.randomInt(1, 2 ** 47)),
    });
    await trx('saml_assertion_ids').insert({ ...ws, assertion_hash: crypto.randomBytes(32), expires_at: soon });
  });
  return { workspaceId, integrationId, secretId, endpointId };
}

/**
 * A copy of `row` with fresh unique keys: valid in every respect (foreign keys included) except
 * its workspace, so an INSERT of it can only fail on isolation.
 */
export function withFreshKeys(table: string, row: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...row };
  delete copy.id;
  const fresh: Record<string, () => void> = {
    workspaces: () => (copy.workspace_id = crypto.randomUUID()),
    integrations: () => (copy.integration_id = crypto.randomUUID()),
    secrets: () =>
      Object.assign(copy, {
        secret_id: crypto.randomUUID(),
        version: 1000 + crypto.randomInt(1_000_000),
        state: 'pending',
      }),
    sync_state: () => (copy.resource = `r-${crypto.randomUUID()}`),
    cached_records: () => (copy.external_id = `x-${crypto.randomUUID()}`),
    webhook_endpoints: () => Object.assign(copy, { endpoint_id: crypto.randomUUID() }),
    vendor_subscriptions: () => (copy.external_id = `s-${crypto.randomUUID()}`),
    webhook_deliveries: () => (copy.delivery_id = `d-${crypto.randomUUID()}`),
    oauth_states: () => (copy.state_hash = crypto.randomBytes(32)),
    // A valid first link of a chain, so only the workspace can make it fail.
    audit_log: () => Object.assign(copy, { seq: 1, prev_hash: Buffer.alloc(32) }),
    purge_receipts: () => (copy.receipt_id = crypto.randomUUID()),
    app_installation_bindings: () => (copy.installation_id = String(crypto.randomInt(1, 2 ** 47))),
    saml_assertion_ids: () => (copy.assertion_hash = crypto.randomBytes(32)),
  };
  fresh[table]?.();
  for (const [key, value] of Object.entries(copy)) {
    // jsonb columns come back parsed; write them back as JSON text.
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      !(value instanceof Date) &&
      !Buffer.isBuffer(value)
    )
      copy[key] = JSON.stringify(value);
  }
  return copy;
}
