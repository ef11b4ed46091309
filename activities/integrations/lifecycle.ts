/**
 * Lifecycle activities: the vendor descriptor, what is due when (token expiry, subscription
 * expiries), token refresh, subscription renewal, consent narrowing (T17), polling cadence (T12).
 * Workflows receive dates and counts, never credentials.
 */
import { scopesOutside } from '../../lib/scopes';
import { deleteWorkspaceIntegrations, listIntegrationStates, updateIntegration } from '../../db/integrations';
import { readPollFloorMs } from '../../db/syncState';
import { withWorkspace } from '../../db/workspaceScope';
import { budgetSharingRows } from '../vendors/catalog';
import type { VendorDescriptor, VendorId } from '../vendors/types';
import type { AuditActor } from '../../lib/audit';
import {
  asActivity,
  createIntegrationContext,
  IntegrationFailureType,
  loadIntegration,
  nonRetryable,
  parseCredential,
  pendingVersion,
  promoteIdempotent,
  putPendingTokens,
  recordConsent,
  refreshedTokens,
  retireIdempotent,
  withRefreshLock,
  type IntegrationRef,
} from './context';
import { webhookUrl, type IntegrationActivityDeps } from './deps';
import { activeSubscriptions, enabledWebhookEndpoint } from '../../db/webhooks';

/** A pair minted by a rotation with at least this long to live is fresh enough to stand for a refresh (the lifecycle refreshes 5 minutes before expiry). */
const FRESH_PAIR_MARGIN_MS = 5 * 60 * 1000;

export interface LifecycleSchedule {
  status: string;
  pollIntervalMs?: number;
  /** The polling floor derived from the vendor budget and the last sync's pages (T12). */
  pollFloorMs: number;
  /** Epoch ms of the access token's expiry, when it expires. */
  tokenExpiresAt?: number;
  subscriptions: Array<{ externalId: string; resource: string; expiresAt?: number }>;
}

/** The cadence applied and the floor it was held to (T12). */
export interface PollCadence {
  pollIntervalMs: number;
  pollFloorMs: number;
}

export function createLifecycleActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);

  return {
    /** The matrix row, as plain data (workflows cannot import connectors). */
    async describeVendor(vendor: VendorId): Promise<VendorDescriptor> {
      return asActivity(async () => deps.vendors.descriptor(vendor));
    },

    async lifecycleSchedule(input: IntegrationRef): Promise<LifecycleSchedule> {
      const resolved = await context.resolve(input);
      // Service accounts carry no OAuth expiry; sign-in-only rows read their ID token once at connect
      // and call nothing afterwards, so their tokens are left to expire rather than refreshed.
      const refreshed =
        resolved.descriptor.authKind !== 'service-account' && resolved.descriptor.authKind !== 'federated-identity';
      const tokens = refreshed
        ? await deps.secrets.current(input.workspaceId, input.integrationId, 'oauth-tokens')
        : undefined;
      const { subscriptions, pollFloorMs } = await withWorkspace(deps.db, input.workspaceId, async (trx) => ({
        subscriptions: await trx('vendor_subscriptions')
          .where({ integration_id: input.integrationId, status: 'active' })
          .select('external_id', 'resource', 'expires_at'),
        pollFloorMs: await readPollFloorMs(
          trx,
          input.integrationId,
          resolved.descriptor,
          budgetSharingRows(resolved.descriptor),
        ),
      }));
      return {
        status: resolved.row.status,
        pollIntervalMs: resolved.row.poll_interval_ms ?? undefined,
        pollFloorMs,
        tokenExpiresAt: tokens?.expiresAt ? new Date(tokens.expiresAt).getTime() : undefined,
        subscriptions: subscriptions.map((s) => ({
          externalId: s.external_id,
          resource: s.resource,
          expiresAt: s.expires_at ? new Date(s.expires_at).getTime() : undefined,
        })),
      };
    },

    /**
     * Refreshes the tokens. The new set (with a rotated refresh token) is stored and promoted
     * before the old version is retired, so a crash in between leaves a working credential.
     *
     * A rotation's refresh may have run first (T8): its pending pair then holds the only live
     * refresh token (single-use at Procore; the current one was spent). A pair still fresh is simply
     * promoted, which is all a refresh would achieve, and the rotation's own steps find their work
     * done; an expired one is refreshed with its own refresh token. Either way no refresh token is
     * ever presented twice.
     */
    async refreshTokens(input: IntegrationRef): Promise<{ expiresAt?: number }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        // The pairs are read under the lock: a refresh that ran meanwhile has stored the live one.
        return withRefreshLock(deps.db, input, async () => {
          const before = await deps.secrets.current(input.workspaceId, input.integrationId, 'oauth-tokens');
          if (!before) throw nonRetryable(IntegrationFailureType.CredentialMissing, 'no oauth tokens to refresh');
          const minted = await pendingVersion(deps.db, input, 'oauth-tokens');
          if (minted && (minted.expiresAt === null || minted.expiresAt.getTime() > Date.now() + FRESH_PAIR_MARGIN_MS)) {
            await promoteIdempotent(deps.secrets, input.workspaceId, minted.secretId);
            await retireIdempotent(deps.secrets, input.workspaceId, before.secretId);
            return { expiresAt: minted.expiresAt?.getTime() };
          }
          const live = minted
            ? parseCredential((await deps.secrets.read(input.workspaceId, minted.secretId)).toString('utf8'))
            : undefined;
          const merged = await refreshedTokens(resolved.connector, await context.connectorContext(resolved, live));
          const stored = await putPendingTokens(deps.secrets, input, merged);
          await promoteIdempotent(deps.secrets, input.workspaceId, stored.secretId);
          await retireIdempotent(deps.secrets, input.workspaceId, before.secretId);
          if (minted) await retireIdempotent(deps.secrets, input.workspaceId, minted.secretId);
          return { expiresAt: merged.expiresAt };
        });
      });
    },

    async renewSubscription(
      input: IntegrationRef & { externalId: string; resource: string },
    ): Promise<{ expiresAt?: number }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const { endpoint, held } = await withWorkspace(deps.db, input.workspaceId, async (trx) => ({
          endpoint: await enabledWebhookEndpoint(trx, input.integrationId),
          held: await activeSubscriptions(trx, input.integrationId),
        }));
        // Replaced meanwhile (a webhook-secret rotation re-registered it, T8): the lifecycle re-reads its schedule.
        if (!held.some((s) => s.externalId === input.externalId)) return {};
        const ctx = await context.connectorContext(resolved);
        const renewed = await resolved.connector.renewSubscription(
          ctx,
          { externalId: input.externalId, resource: input.resource },
          endpoint?.signing_secret_id
            ? {
                callbackUrl: webhookUrl(deps.webhookBaseUrl, endpoint.vendor, input.workspaceId, endpoint.endpoint_id),
                clientState: (await deps.secrets.read(input.workspaceId, endpoint.signing_secret_id)).toString('utf8'),
              }
            : undefined,
        );
        // A vendor that re-opens instead of extending (Drive channels) answers a new external id.
        await withWorkspace(deps.db, input.workspaceId, (trx) =>
          trx('vendor_subscriptions')
            .where({ integration_id: input.integrationId, external_id: input.externalId })
            .update({
              external_id: renewed.externalId,
              expires_at: renewed.expiresAt ? new Date(renewed.expiresAt) : null,
              renewed_at: trx.fn.now(),
            }),
        );
        return { expiresAt: renewed.expiresAt };
      });
    },

    /**
     * Narrowing only (T17): new scopes ⊆ granted, new controls ⊆ current per key. Records the
     * consent event and drops cached records outside the new controls (their `resource` is no
     * longer allowed) — callers then run a full resync, whose sweep removes the rest.
     */
    async narrowConsent(
      input: IntegrationRef & { actor: AuditActor; scopes?: string[]; controls?: Record<string, string[]> },
    ): Promise<{ droppedRecords: number }> {
      return withWorkspace(deps.db, input.workspaceId, async (trx) => {
        const row = await loadIntegration(trx, input, 'update');
        const scopes = input.scopes ?? row.granted_scopes;
        const extraScopes = scopesOutside(scopes, row.granted_scopes);
        const controls = input.controls ?? row.controls;
        // A key absent before means nothing of that kind was allowed: adding values to it widens.
        const widened = Object.entries(controls).some(([key, values]) =>
          values.some((v) => !(row.controls[key] ?? []).includes(v)),
        );
        if (extraScopes.length > 0 || widened) {
          throw nonRetryable(
            IntegrationFailureType.ConsentNotNarrowing,
            'consent changes may only narrow scopes and controls; widening needs a reconnect',
          );
        }
        await updateIntegration(trx, input.integrationId, { granted_scopes: scopes, controls });
        await recordConsent(trx, input, {
          actor: input.actor,
          action: input.scopes ? 'narrowed' : 'controls_changed',
          scopes,
          controls,
        });
        // Cached records carry the control value they came from in `resource` ("repo:org/name" …)
        // only for some vendors; the follow-up full resync sweeps everything else outside scope.
        const allowedValues = new Set(Object.values(controls).flat());
        const removedValues = Object.values(row.controls)
          .flat()
          .filter((v) => !allowedValues.has(v));
        let droppedRecords = 0;
        if (removedValues.length > 0) {
          droppedRecords = await trx('cached_records')
            .where({ integration_id: input.integrationId })
            .where((q) => {
              for (const value of removedValues) q.orWhere('resource', 'like', `%${value.replace(/[\\%_]/g, '\\$&')}%`);
            })
            .delete();
        }
        return { droppedRecords };
      });
    },

    /**
     * Stores the customer's cadence (T12), raised to the floor as it is now: the API refused a cadence
     * below the floor it read, but a sync that grew meanwhile may have raised it.
     */
    async setPollInterval(input: IntegrationRef & { pollIntervalMs: number }): Promise<PollCadence> {
      const { descriptor } = await context.resolve(input);
      return withWorkspace(deps.db, input.workspaceId, async (trx) => {
        const pollFloorMs = await readPollFloorMs(trx, input.integrationId, descriptor, budgetSharingRows(descriptor));
        const pollIntervalMs = Math.max(input.pollIntervalMs, pollFloorMs);
        await updateIntegration(trx, input.integrationId, { poll_interval_ms: pollIntervalMs });
        return { pollIntervalMs, pollFloorMs };
      });
    },

    async markReauthorizationRequired(input: IntegrationRef): Promise<void> {
      await withWorkspace(deps.db, input.workspaceId, (trx) =>
        updateIntegration(trx, input.integrationId, { status: 'reauthorization_required' }, 'connected'),
      );
    },

    /** Integrations of a workspace still holding anything (for workspace deletion). */
    async listWorkspaceIntegrations(input: {
      workspaceId: string;
    }): Promise<Array<{ integrationId: string; vendor: VendorId; status: string }>> {
      const rows = await withWorkspace(deps.db, input.workspaceId, listIntegrationStates);
      return rows.map((r) => ({ integrationId: r.integration_id, vendor: r.vendor as VendorId, status: r.status }));
    },

    /** T16: removes integration metadata (cascades from the workspace row); the audit trail stays. */
    async deleteWorkspaceMetadata(input: {
      workspaceId: string;
      actor: AuditActor;
    }): Promise<{ integrationsRemoved: number }> {
      const integrationsRemoved = await withWorkspace(deps.db, input.workspaceId, async (trx) => {
        const count = await deleteWorkspaceIntegrations(trx);
        await trx('workspaces').where({ workspace_id: input.workspaceId }).delete();
        return count;
      });
      await deps.audit.record({
        workspaceId: input.workspaceId,
        actor: input.actor,
        direction: 'internal',
        action: 'workspace.deleted',
        outcome: 'success',
      });
      return { integrationsRemoved };
    },
  };
}
