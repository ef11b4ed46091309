/**
 * Secret rotation steps (T8): create a pending version, hand it to the vendor and test it, promote
 * it, retire the previous one after a grace period. Each step is idempotent; a failed test retires
 * the pending version and leaves the current one untouched (audited).
 *
 * Per kind:
 * - `oauth-tokens`: a refresh mints the pending pair; the test is an authenticated call with it.
 * - `webhook-secret` held by the integration: a random secret; the test hands it to the vendor (in
 *   place where the connector can, else by re-registering the subscriptions) and fails if the vendor
 *   refuses it. The API's receiver verifies with the current, pending and previous versions, so no
 *   delivery is lost while the vendor switches over and retries signed with the old one drain.
 * - `service-account`: we cannot set a new one at the vendor, so the admin is asked for it
 *   (`renewal-requested`, audited); their upload (`POST …/credentials`) completes the rotation through
 *   the connect run, which tests the uploaded version before promoting it.
 * - A webhook secret the customer's admin typed into the vendor (Okta): the value they submit
 *   (`PUT …/webhook-secret`, pending) is promoted by this run; none submitted, they are asked for it.
 * - Our app's secrets (a GitHub App key or webhook secret, a Slack signing secret) are rotated by the
 *   operator (`docs/key-management.md`); a lifecycle scheduled before that was known is told so.
 */
import crypto from 'node:crypto';
import { withWorkspace } from '../../db/workspaceScope';
import {
  activeSubscriptions,
  enabledWebhookEndpoint,
  replaceSubscriptions,
  setEndpointSigningSecret,
  upsertSubscriptions,
} from '../../db/webhooks';
import type { AuditActor } from '../../lib/audit';
import type { RotationKind, RotationWithoutNewVersion } from '@trackproject/integrations-client/definitions';
import type { Subscription } from '../vendors/types';
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
  pendingVersion,
  workflowActor,
  IntegrationFailureType,
  withRefreshLock,
  type IntegrationRef,
  type ResolvedIntegration,
} from './context';
import { webhookUrl, type IntegrationActivityDeps, type SecretKind } from './deps';
import { countActivityMetric, logActivity } from '../telemetry';
import { VendorError, VendorFailureType } from '../vendors/errors';

export interface PreparedRotation {
  pendingSecretId?: string;
  previousSecretId?: string;
  version?: number;
  /** Set when no version was minted: why (the rotation workflow reports it). */
  outcome?: Exclude<RotationWithoutNewVersion, 'not-supported'>;
}

export function createRotationActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);

  const audit = (ref: IntegrationRef, actor: AuditActor, kind: string, action: string, errorClass?: string) =>
    deps.audit.record({
      workspaceId: ref.workspaceId,
      integrationId: ref.integrationId,
      actor,
      direction: 'internal',
      action,
      scope: kind,
      outcome: errorClass ? 'failure' : 'success',
      errorClass,
      workflowId: currentWorkflowId(),
    });

  /** A pending version of `kind` left by an earlier attempt of this step: reused, never minted twice. */
  const leftoverPending = (ref: IntegrationRef, kind: SecretKind) => pendingVersion(deps.db, ref, kind);

  const secretKindOf = async (ref: IntegrationRef, secretId: string): Promise<SecretKind> => {
    const row = (await withWorkspace(deps.db, ref.workspaceId, (trx) =>
      trx('secrets').where({ secret_id: secretId, integration_id: ref.integrationId }).first('kind'),
    )) as { kind: SecretKind } | undefined;
    if (!row)
      throw nonRetryable(IntegrationFailureType.CredentialMissing, 'no such secret version for the integration');
    return row.kind;
  };

  /** The admin must supply the new secret (the vendor has no API for us to set it): audited, shown in the status. */
  async function requestRenewal(input: IntegrationRef & { kind: RotationKind; actor: AuditActor }) {
    await audit(input, input.actor, input.kind, 'secret.renewal-requested');
    countActivityMetric('secret_rotations', 1, { outcome: 'renewal-requested' });
    logActivity('info', 'secret renewal requested from the admin', input, { kind: input.kind });
    return { outcome: 'renewal-requested' as const };
  }

  /**
   * A webhook secret the customer's admin typed into the vendor (Okta event hooks): the value they set
   * (`PUT …/webhook-secret`, stored pending) is the new version; none submitted yet, they are asked for it.
   */
  async function adminsWebhookSecret(input: IntegrationRef & { kind: RotationKind; actor: AuditActor }) {
    const submitted = await leftoverPending(input, 'webhook-secret');
    const current = await deps.secrets.current(input.workspaceId, input.integrationId, 'webhook-secret');
    if (!submitted) return requestRenewal(input);
    return { pendingSecretId: submitted.secretId, previousSecretId: current?.secretId, version: submitted.version };
  }

  async function prepareTokens(input: IntegrationRef, resolved: ResolvedIntegration): Promise<PreparedRotation> {
    // Under the refresh lock, like every refresh: single-use refresh tokens must not be presented twice.
    return withRefreshLock(deps.db, input, async () => {
      const current = await deps.secrets.current(input.workspaceId, input.integrationId, 'oauth-tokens');
      if (!current) throw nonRetryable(IntegrationFailureType.CredentialMissing, 'no current oauth tokens to rotate');
      const leftover = await leftoverPending(input, 'oauth-tokens');
      if (leftover)
        return { pendingSecretId: leftover.secretId, previousSecretId: current.secretId, version: leftover.version };
      const pending = await putPendingTokens(
        deps.secrets,
        input,
        await refreshedTokens(resolved.connector, await context.connectorContext(resolved)),
      );
      return { pendingSecretId: pending.secretId, previousSecretId: current.secretId, version: pending.version };
    });
  }

  async function prepareWebhookSecret(input: IntegrationRef): Promise<PreparedRotation> {
    const current = await deps.secrets.current(input.workspaceId, input.integrationId, 'webhook-secret');
    if (!current) throw nonRetryable(IntegrationFailureType.CredentialMissing, 'no current webhook secret to rotate');
    const leftover = await leftoverPending(input, 'webhook-secret');
    if (leftover)
      return { pendingSecretId: leftover.secretId, previousSecretId: current.secretId, version: leftover.version };
    const pending = await deps.secrets.put({
      workspaceId: input.workspaceId,
      integrationId: input.integrationId,
      kind: 'webhook-secret',
      state: 'pending',
      plaintext: crypto.randomBytes(32).toString('base64url'),
    });
    return { pendingSecretId: pending.secretId, previousSecretId: current.secretId, version: pending.version };
  }

  /**
   * The test of a new webhook secret: the vendor takes it for every subscription. In place where the
   * connector can (refused, the vendor is put back on the current secret); else by re-registering:
   * the new subscriptions are opened and recorded before the old ones are deleted, so the vendor
   * always has one to deliver to, and a retry of this step deletes whatever it finds recorded.
   * Deliveries already sent on an old one verify with the previous secret during the grace window.
   */
  async function testWebhookSecret(input: IntegrationRef, resolved: ResolvedIntegration, newSecret: string) {
    const { connector } = resolved;
    const { endpoint, subscriptions } = await withWorkspace(deps.db, input.workspaceId, async (trx) => ({
      endpoint: await enabledWebhookEndpoint(trx, input.integrationId),
      subscriptions: await activeSubscriptions(trx, input.integrationId),
    }));
    if (!endpoint?.signing_secret_id)
      throw nonRetryable(IntegrationFailureType.CredentialMissing, 'the integration has no webhook endpoint');
    const ctx = await context.connectorContext(resolved);
    const callbackUrl = webhookUrl(deps.webhookBaseUrl, resolved.row.vendor, input.workspaceId, endpoint.endpoint_id);
    const refused = () =>
      new VendorError(VendorFailureType.VendorRejected, resolved.row.vendor, 'no subscription took the new secret');
    const record = (before: readonly Subscription[], after: readonly Subscription[]) =>
      withWorkspace(deps.db, input.workspaceId, (trx) => replaceSubscriptions(trx, input, before, after));

    if (connector.rotateWebhookSecret) {
      try {
        const updated = await connector.rotateWebhookSecret(ctx, { callbackUrl, newSecret, subscriptions });
        if (subscriptions.length > 0 && updated.length === 0) throw refused();
        return record(subscriptions, updated);
      } catch (error) {
        const currentSecret = (await deps.secrets.read(input.workspaceId, endpoint.signing_secret_id)).toString('utf8');
        await connector
          .rotateWebhookSecret(ctx, { callbackUrl, newSecret: currentSecret, subscriptions })
          .catch(() => undefined); // best effort: the hooks it reached are put back
        throw error;
      }
    }
    const fresh = await connector.registerWebhooks(ctx, { callbackUrl, clientState: newSecret });
    if (subscriptions.length > 0 && fresh.length === 0) throw refused();
    await withWorkspace(deps.db, input.workspaceId, (trx) => upsertSubscriptions(trx, input, fresh));
    try {
      for (const subscription of subscriptions) await connector.deleteSubscription(ctx, subscription);
    } catch (error) {
      // The old subscriptions still deliver with the current secret: the new ones go.
      for (const subscription of fresh) await connector.deleteSubscription(ctx, subscription).catch(() => undefined);
      await record(fresh, []);
      throw error;
    }
    await record(subscriptions, fresh);
  }

  return {
    /**
     * Mints the pending version. Idempotent: a pending version left by an earlier attempt of this
     * step is reused rather than minted again (a second refresh with the same refresh token fails at
     * vendors that rotate refresh tokens). Kinds we cannot mint answer an `outcome` instead.
     */
    async prepareRotation(
      input: IntegrationRef & { kind: RotationKind; actor: AuditActor },
    ): Promise<PreparedRotation> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const holder = resolved.descriptor.webhook.secretHolder;
        if (input.kind === 'oauth-tokens') return prepareTokens(input, resolved);
        if (input.kind === 'webhook-secret' && holder === undefined) return prepareWebhookSecret(input);
        if (input.kind === 'webhook-secret' && holder === 'customer-admin') return adminsWebhookSecret(input);
        if (input.kind === 'service-account') return requestRenewal(input);
        // Our app's key or webhook secret: one for every customer, never an integration's to rotate.
        await audit(input, input.actor, input.kind, 'secret.operator-rotation');
        return { outcome: 'operator-rotation' as const };
      });
    },

    /** Proves the pending version works against the vendor before anyone depends on it. */
    async testPendingSecret(input: IntegrationRef & { secretId: string }): Promise<void> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const plaintext = (await deps.secrets.read(input.workspaceId, input.secretId)).toString('utf8');
        if ((await secretKindOf(input, input.secretId)) === 'webhook-secret')
          return testWebhookSecret(input, resolved, plaintext);
        await resolved.connector.testConnection(await context.connectorContext(resolved, parseCredential(plaintext)));
      });
    },

    async promoteSecret(input: IntegrationRef & { secretId: string }): Promise<void> {
      await promoteIdempotent(deps.secrets, input.workspaceId, input.secretId);
      if ((await secretKindOf(input, input.secretId)) === 'webhook-secret')
        await withWorkspace(deps.db, input.workspaceId, (trx) =>
          setEndpointSigningSecret(trx, input.integrationId, input.secretId),
        );
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
