/**
 * Secret rotation steps (T8): create a pending version, test it, promote it, retire the previous
 * one after a grace period. Each step is idempotent; a failed test retires the pending version
 * and leaves the current one untouched (audited).
 *
 * The connector contract can mint new material only for OAuth tokens (a refresh issues a new
 * token set); service-account keys and app private keys come from the customer's tenant, so their
 * rotation reports `not-supported` here and is driven by the admin uploading a new version.
 */
import { withWorkspace } from '../../db/workspaceScope';
import type { AuditActor } from '../../lib/audit';
import {
  parseCredential,
  promoteIdempotent,
  putPendingTokens,
  refreshedTokens,
  retireIdempotent,
  asActivity,
  createIntegrationContext,
  currentWorkflowId,
  nonRetryable,
  workflowActor,
  IntegrationFailureType,
  withRefreshLock,
  type IntegrationRef,
} from './context';
import type { IntegrationActivityDeps, SecretKind } from './deps';
import { countActivityMetric, logActivity } from '../telemetry';

export function createRotationActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);

  return {
    /**
     * Mints the pending version. Idempotent: a pending version left by an earlier attempt of this
     * step is reused rather than refreshing again (a second refresh with the same refresh token
     * fails at vendors that rotate refresh tokens).
     */
    async prepareRotation(
      input: IntegrationRef & { kind: SecretKind; actor: AuditActor },
    ): Promise<{ pendingSecretId?: string; previousSecretId?: string; version?: number }> {
      return asActivity(async () => {
        if (input.kind !== 'oauth-tokens') {
          // Due but not rotatable here: the admin must upload a new version; the audit log says so.
          await deps.audit.record({
            workspaceId: input.workspaceId,
            integrationId: input.integrationId,
            actor: input.actor,
            direction: 'internal',
            action: 'secret.rotation',
            scope: input.kind,
            outcome: 'failure',
            errorClass: 'RotationNotSupported',
            workflowId: currentWorkflowId(),
          });
          countActivityMetric('secret_rotations', 1, { outcome: 'not-supported' });
          return {};
        }
        const resolved = await context.resolve(input);
        // Under the refresh lock, like every refresh: single-use refresh tokens must not be presented twice.
        return withRefreshLock(deps.db, input, async () => {
          const current = await deps.secrets.current(input.workspaceId, input.integrationId, 'oauth-tokens');
          if (!current)
            throw nonRetryable(IntegrationFailureType.CredentialMissing, 'no current oauth tokens to rotate');
          const leftover = await withWorkspace(deps.db, input.workspaceId, (trx) =>
            trx('secrets')
              .where({ integration_id: input.integrationId, kind: 'oauth-tokens', state: 'pending' })
              .orderBy('version', 'desc')
              .first('secret_id', 'version'),
          );
          if (leftover)
            return {
              pendingSecretId: leftover.secret_id as string,
              previousSecretId: current.secretId,
              version: leftover.version as number,
            };
          const pending = await putPendingTokens(
            deps.secrets,
            input,
            await refreshedTokens(resolved.connector, await context.connectorContext(resolved)),
          );
          return { pendingSecretId: pending.secretId, previousSecretId: current.secretId, version: pending.version };
        });
      });
    },

    /** Proves the pending version works against the vendor before anyone depends on it. */
    async testPendingSecret(input: IntegrationRef & { secretId: string }): Promise<void> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const credential = parseCredential(
          (await deps.secrets.read(input.workspaceId, input.secretId)).toString('utf8'),
        );
        await resolved.connector.testConnection(await context.connectorContext(resolved, credential));
      });
    },

    async promoteSecret(input: IntegrationRef & { secretId: string }): Promise<void> {
      await promoteIdempotent(deps.secrets, input.workspaceId, input.secretId);
      await deps.audit.record({
        workspaceId: input.workspaceId,
        integrationId: input.integrationId,
        actor: workflowActor(),
        direction: 'internal',
        action: 'secret.promoted',
        outcome: 'success',
        workflowId: workflowActor().id,
      });
      countActivityMetric('secret_rotations', 1, { outcome: 'promoted' });
      logActivity('info', 'rotated secret promoted', input);
    },

    async retireSecret(
      input: IntegrationRef & { secretId: string; reason: 'grace-period-over' | 'test-failed' },
    ): Promise<void> {
      await retireIdempotent(deps.secrets, input.workspaceId, input.secretId);
      await deps.audit.record({
        workspaceId: input.workspaceId,
        integrationId: input.integrationId,
        actor: workflowActor(),
        direction: 'internal',
        action: input.reason === 'test-failed' ? 'secret.rotation' : 'secret.retired',
        outcome: input.reason === 'test-failed' ? 'failure' : 'success',
        errorClass: input.reason === 'test-failed' ? 'RotationTestFailed' : undefined,
        workflowId: workflowActor().id,
      });
      if (input.reason === 'test-failed') {
        countActivityMetric('secret_rotations', 1, { outcome: 'test-failed' });
        logActivity('warn', 'rotated secret failed its test and was retired', input);
      }
    },
  };
}
