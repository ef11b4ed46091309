/**
 * Teardown activities, shared by disconnect (T4, T15) and by connect's compensation: revoke at the
 * vendor, delete subscriptions, destroy secrets, clear the cache, and the final purge with its
 * receipt. Each step is idempotent (safe to retry, safe to run on a half-connected integration).
 */
import crypto from 'node:crypto';
import { boundInstallation, releaseInstallation } from '../../db/installationBindings';
import { updateIntegration } from '../../db/integrations';
import { disableWebhookEndpoints } from '../../db/webhooks';
import { withWorkspace } from '../../db/workspaceScope';
import type { AuditActor } from '../../lib/audit';
import {
  asActivity,
  createIntegrationContext,
  loadIntegration,
  recordConsent,
  workflowActor,
  type IntegrationRef,
  type ResolvedIntegration,
} from './context';
import type { ConnectorContext, Subscription } from '../vendors/types';
import type { IntegrationActivityDeps } from './deps';
import { countActivityMetric, logActivity } from '../telemetry';

/** Source data of an integration: what the cache clear and the final purge delete. */
const SOURCE_DATA_TABLES = ['cached_records', 'webhook_deliveries', 'sync_state'] as const;

export function createTeardownActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);

  async function deleteSourceData(ref: IntegrationRef): Promise<Record<string, number>> {
    return withWorkspace(deps.db, ref.workspaceId, async (trx) => {
      const counts: Record<string, number> = {};
      for (const table of SOURCE_DATA_TABLES)
        counts[table] = await trx(table).where({ integration_id: ref.integrationId }).delete();
      return counts;
    });
  }

  async function storedSubscriptions(ref: IntegrationRef): Promise<Subscription[]> {
    const rows = await withWorkspace(deps.db, ref.workspaceId, (trx) =>
      trx('vendor_subscriptions').where({ integration_id: ref.integrationId }).select('external_id', 'resource'),
    );
    return rows.map((row: { external_id: string; resource: string }) => ({
      externalId: row.external_id,
      resource: row.resource,
    }));
  }

  /** Deletes each subscription at the vendor (when there is a context to do it with), then its row. */
  async function deleteEach(
    resolved: ResolvedIntegration,
    ctx: ConnectorContext | undefined,
    subscriptions: Subscription[],
  ): Promise<void> {
    const ref = { workspaceId: resolved.row.workspace_id, integrationId: resolved.row.integration_id };
    for (const subscription of subscriptions) {
      if (ctx) await resolved.connector.deleteSubscription(ctx, subscription);
      await withWorkspace(deps.db, ref.workspaceId, (trx) =>
        trx('vendor_subscriptions')
          .where({ integration_id: ref.integrationId, external_id: subscription.externalId })
          .delete(),
      );
    }
  }

  return {
    /** Status → disconnecting (under the row lock sync pages take): no page commits after this. */
    async beginDisconnect(input: IntegrationRef): Promise<{ vendor: string; previousStatus: string }> {
      return withWorkspace(deps.db, input.workspaceId, async (trx) => {
        const row = await loadIntegration(trx, input, 'update');
        if (row.status !== 'disconnected') {
          await updateIntegration(trx, input.integrationId, { status: 'disconnecting' });
        }
        return { vendor: row.vendor, previousStatus: row.status };
      });
    },

    /** Revokes at the vendor where it allows it, and says what it could do (T4). */
    async revokeAtVendor(input: IntegrationRef): Promise<{ revoked: boolean; note: string }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const kind = resolved.descriptor.authKind === 'service-account' ? 'service-account' : 'oauth-tokens';
        const current = await deps.secrets.current(input.workspaceId, input.integrationId, kind);
        if (!current) return { revoked: false, note: 'no credential was stored: nothing to revoke' };
        if (resolved.descriptor.revocation.kind === 'none')
          return { revoked: false, note: resolved.descriptor.revocation.note };
        const ctx = await context.withdrawalContext(resolved);
        const bound = await withWorkspace(deps.db, input.workspaceId, (trx) =>
          boundInstallation(trx, input.integrationId),
        );
        return resolved.connector.revoke({ ...ctx, ...(bound ? { boundInstallationId: bound } : {}) });
      });
    },

    /**
     * Deletes the vendor subscriptions and disables the webhook endpoints. Disconnect runs it while
     * the grant still works (a vendor refuses to end a revoked grant's subscription).
     */
    async deleteSubscriptions(input: IntegrationRef): Promise<{ deleted: number }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const subscriptions = await storedSubscriptions(input);
        if (subscriptions.length > 0) {
          // Without a credential the vendor-side subscription cannot be deleted; it expires on its own.
          const ctx = await context.withdrawalContext(resolved).catch(() => undefined);
          await deleteEach(resolved, ctx, subscriptions);
        }
        await withWorkspace(deps.db, input.workspaceId, (trx) => disableWebhookEndpoints(trx, input.integrationId));
        return { deleted: subscriptions.length };
      });
    },

    /**
     * After the admin narrowed the controls (T18): deletes, at the vendor and here, the
     * subscriptions of values no longer selected (Procore: the hooks of deselected projects), while
     * the grant works. The endpoint stays enabled for the rest.
     */
    async pruneSubscriptions(input: IntegrationRef): Promise<{ deleted: number }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const outside = resolved.connector.subscriptionOutsideControls?.bind(resolved.connector);
        if (!outside) return { deleted: 0 };
        const controls = resolved.row.controls ?? {};
        const pruned = (await storedSubscriptions(input)).filter((s) => outside(s, controls));
        if (pruned.length > 0) await deleteEach(resolved, await context.withdrawalContext(resolved), pruned);
        return { deleted: pruned.length };
      });
    },

    /**
     * Destroys the secrets and releases the app installation binding. Both run after the revocation
     * in every teardown order: the uninstall (GitHub) is allowed only through the binding.
     */
    async destroySecrets(input: IntegrationRef): Promise<{ destroyed: number }> {
      const destroyed = await deps.secrets.destroyForIntegration(input.workspaceId, input.integrationId);
      await withWorkspace(deps.db, input.workspaceId, async (trx) => {
        await trx('oauth_states').where({ integration_id: input.integrationId }).delete();
        await releaseInstallation(trx, input.integrationId);
      });
      return { destroyed };
    },

    /** Clears the cache now (T4) and records the disconnect; the purge deadline is set by the workflow. */
    async clearCacheAndMarkDisconnected(
      input: IntegrationRef & { actor: AuditActor; purgeAfter: string; revokedAtVendor: boolean },
    ): Promise<Record<string, number>> {
      const counts = await deleteSourceData(input);
      await withWorkspace(deps.db, input.workspaceId, async (trx) => {
        const row = await loadIntegration(trx, input, 'update');
        if (row.status === 'disconnected') return;
        await updateIntegration(trx, input.integrationId, {
          status: 'disconnected',
          disconnected_at: 'now',
          purge_after: new Date(input.purgeAfter),
        });
        await recordConsent(trx, input, {
          actor: input.actor,
          action: 'revoked',
          scopes: row.granted_scopes,
          controls: row.controls,
        });
      });
      await deps.audit.record({
        workspaceId: input.workspaceId,
        integrationId: input.integrationId,
        actor: input.actor,
        direction: 'internal',
        action: input.revokedAtVendor ? 'integration.disconnected.revoked' : 'integration.disconnected.not-revocable',
        outcome: 'success',
        workflowId: workflowActor().id,
      });
      return counts;
    },

    /** Final purge of whatever source data is left (T15) with a receipt and an audit entry. */
    async purgeIntegration(input: IntegrationRef): Promise<{ receiptId: string; counts: Record<string, number> }> {
      const counts = await deleteSourceData(input);
      const receiptId = await withWorkspace(deps.db, input.workspaceId, async (trx) => {
        const existing = await trx('purge_receipts').where({ integration_id: input.integrationId }).first('receipt_id');
        if (existing) return existing.receipt_id as string; // a retry after commit
        const row = await loadIntegration(trx, input);
        const id = crypto.randomUUID();
        await trx('purge_receipts').insert({
          receipt_id: id,
          workspace_id: input.workspaceId,
          integration_id: input.integrationId,
          vendor: row.vendor,
          disconnected_at: row.disconnected_at,
          counts: JSON.stringify(counts),
        });
        await updateIntegration(trx, input.integrationId, { purge_after: null });
        return id;
      });
      await deps.audit.record({
        workspaceId: input.workspaceId,
        integrationId: input.integrationId,
        actor: workflowActor(),
        direction: 'internal',
        action: 'integration.purged',
        outcome: 'success',
        workflowId: workflowActor().id,
      });
      countActivityMetric('purges', 1, {});
      logActivity('info', 'integration purged', input, { receiptId, counts });
      return { receiptId, counts };
    },
  };
}
