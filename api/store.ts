/**
 * The API's OAuth state check, inside `withWorkspace` so Row Level Security binds it to one
 * workspace (T20). Integrations and webhooks are queried through `db/integrations.ts` and
 * `db/webhooks.ts`, bound the same way.
 */
import type { Knex } from 'knex';
import { withWorkspace } from '../db/workspaceScope';
import type { AuditActor } from '../lib/audit';

export type OAuthStateCheck =
  | { ok: true; integrationId: string; workflowId: string; initiator: AuditActor | undefined }
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
      .select(
        'integration_id',
        'workflow_id',
        'redirect_uri',
        'consumed_at',
        'initiator_type',
        'initiator_id',
        trx.raw('expires_at <= now() as expired'),
      )
      .where({ state_hash: input.stateHash, integration_id: input.integrationId })
      .first(),
  );
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.consumed_at) return { ok: false, reason: 'consumed' };
  if (row.expired) return { ok: false, reason: 'expired' };
  if (row.redirect_uri !== input.redirectUri) return { ok: false, reason: 'redirect-mismatch' };
  return {
    ok: true,
    integrationId: row.integration_id as string,
    workflowId: row.workflow_id as string,
    initiator: initiatorOf(row),
  };
}

/** States issued before initiators were recorded (migration 0010) have none: no one can complete them. */
function initiatorOf(row: { initiator_type: string | null; initiator_id: string | null }): AuditActor | undefined {
  return row.initiator_type && row.initiator_id
    ? { type: row.initiator_type as AuditActor['type'], id: row.initiator_id }
    : undefined;
}

/** An unconsumed, unexpired state of the integration: who started it and how long it stays usable. */
export async function findAwaitedState(
  db: Knex,
  input: { workspaceId: string; integrationId: string; stateHash: Buffer },
): Promise<{ initiator: AuditActor | undefined; expiresAt: Date } | undefined> {
  const row = await withWorkspace(db, input.workspaceId, (trx) =>
    trx('oauth_states')
      .select('initiator_type', 'initiator_id', 'expires_at')
      .where({ state_hash: input.stateHash, integration_id: input.integrationId })
      .whereNull('consumed_at')
      .where('expires_at', '>', trx.fn.now())
      .first(),
  );
  return row ? { initiator: initiatorOf(row), expiresAt: new Date(row.expires_at) } : undefined;
}
