/**
 * Connect activities (T1, T2, T5, T6). The PKCE verifier and the OAuth state are created here:
 * the verifier is stored as an encrypted secret, the state only as its SHA-256 in oauth_states,
 * and the workflow receives ids (and the authorize URL the admin's browser must visit).
 */
import crypto from 'node:crypto';
import { bindInstallation } from '../../db/installationBindings';
import { insertPendingIntegration, updateIntegration } from '../../db/integrations';
import { insertWebhookEndpoint, upsertSubscriptions } from '../../db/webhooks';
import { withWorkspace } from '../../db/workspaceScope';
import { createOAuthState, createPkcePair, hashState, parseOAuthState } from '../../lib/oauth/pkce';
import { assertGrantWithinRequested } from '../vendors/shared/scopes';
import { isFinalVendorFailure, VendorError, VendorFailureType } from '../vendors/errors';
import type { TokenSet, VendorId } from '../vendors/types';
import type { AuditActor } from '../../lib/audit';
import {
  asActivity,
  createIntegrationContext,
  currentWorkflowId,
  IntegrationFailureType,
  loadIntegration,
  parseCredential,
  nonRetryable,
  promoteIdempotent,
  putPendingTokens,
  recordConsent,
  retireIdempotent,
  workflowActor,
  type IntegrationRef,
} from './context';
import { webhookUrl, type IntegrationActivityDeps } from './deps';
import { createSamlSignIn, type SamlSignInInput } from './samlSignIn';

/** How long an authorize URL stays usable; the connect workflow waits the same time. */
export const OAUTH_STATE_TTL_MS = 15 * 60 * 1000;

export interface PendingIntegrationInput extends IntegrationRef {
  vendor: VendorId;
  requestedScopes: string[];
  controls: Record<string, string[]>;
  /** The customer's polling cadence chosen at connect (T12). */
  pollIntervalMs?: number;
}

export interface AuthorizationStarted {
  authorizeUrl: string;
  verifierSecretId?: string;
  /** App-installation vendors: where the browser installs or picks the installation, before `authorizeUrl`. */
  setupUrl?: string;
  /** SAML sign-in: the ID of the AuthnRequest in `authorizeUrl`, which the assertion must answer. */
  samlRequestId?: string;
}

export function createConnectActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);
  const saml = createSamlSignIn(deps);

  async function storeTokens(ref: IntegrationRef, tokens: TokenSet): Promise<string> {
    const stored = await putPendingTokens(deps.secrets, ref, tokens);
    await promoteIdempotent(deps.secrets, ref.workspaceId, stored.secretId);
    return stored.secretId;
  }

  return {
    /** Creates the integration row in `pending` (idempotent on the integration id). */
    async createPendingIntegration(input: PendingIntegrationInput): Promise<void> {
      await withWorkspace(deps.db, input.workspaceId, (trx) => insertPendingIntegration(trx, input));
    },

    /** A reconnect that did not complete: its verifier and unused states go, nothing else. */
    async abandonAuthorization(input: IntegrationRef & { verifierSecretId?: string }): Promise<void> {
      if (input.verifierSecretId) await retireIdempotent(deps.secrets, input.workspaceId, input.verifierSecretId);
      await withWorkspace(deps.db, input.workspaceId, (trx) =>
        trx('oauth_states').where({ integration_id: input.integrationId }).whereNull('consumed_at').delete(),
      );
    },

    /**
     * PKCE pair (S256, T5) + state; stores the verifier encrypted and the state hashed, bound to
     * the initiator (T2: only their browser session can complete it, see lib/oauth/consentSession.ts).
     */
    async beginAuthorization(
      input: IntegrationRef & {
        redirectUri: string;
        workflowId: string;
        runId?: string;
        initiator: AuditActor;
        saml?: SamlSignInInput;
      },
    ): Promise<AuthorizationStarted> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const state = createOAuthState(input.workspaceId, input.integrationId);
        // SAML: the IdP's metadata is read (and checked) before any state exists; the state is the RelayState.
        const samlSignIn = input.saml ? await saml.samlAuthorization(resolved, input, input.saml, state) : undefined;
        const pkce = resolved.descriptor.pkce && !samlSignIn ? createPkcePair() : undefined;
        const verifier = pkce
          ? await deps.secrets.put({
              workspaceId: input.workspaceId,
              integrationId: input.integrationId,
              kind: 'pkce-verifier',
              state: 'pending',
              plaintext: pkce.verifier,
              expiresAt: new Date(Date.now() + OAUTH_STATE_TTL_MS),
            })
          : undefined;
        await withWorkspace(deps.db, input.workspaceId, (trx) =>
          trx('oauth_states').insert({
            state_hash: hashState(state),
            workspace_id: input.workspaceId,
            integration_id: input.integrationId,
            workflow_id: input.workflowId,
            verifier_secret_id: verifier?.secretId ?? null,
            redirect_uri: input.redirectUri,
            initiator_type: input.initiator.type,
            initiator_id: input.initiator.id,
            expires_at: new Date(Date.now() + OAUTH_STATE_TTL_MS),
          }),
        );
        const authorizeUrl =
          samlSignIn?.url ??
          resolved.connector.authorizeUrl(resolved.row.vendor, {
            state,
            redirectUri: input.redirectUri,
            scopes: resolved.row.requested_scopes,
            codeChallenge: pkce?.challenge,
            controls: resolved.row.controls ?? {},
          });
        const setupUrl =
          resolved.connector.installation && input.runId
            ? resolved.connector.installation.setupUrl(resolved.row.vendor, {
                workspaceId: input.workspaceId,
                integrationId: input.integrationId,
                runId: input.runId,
                expiresAt: Date.now() + OAUTH_STATE_TTL_MS,
              })
            : undefined;
        return {
          authorizeUrl,
          verifierSecretId: verifier?.secretId,
          ...(setupUrl ? { setupUrl } : {}),
          ...(samlSignIn ? { samlRequestId: samlSignIn.requestId } : {}),
        };
      });
    },

    completeSamlSignIn: saml.completeSamlSignIn,

    /** True when the setup state is one we signed for this integration's connect run and it has not expired. */
    async acceptInstallationSetup(
      input: IntegrationRef & { state: string; runId: string },
    ): Promise<{ valid: boolean }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const binding = resolved.connector.installation?.verifySetupState(input.state);
        return {
          valid:
            binding !== undefined &&
            binding.workspaceId === input.workspaceId &&
            binding.integrationId === input.integrationId &&
            binding.runId === input.runId,
        };
      });
    },

    /** Marks the state used if it is this integration's, unexpired and unused; false otherwise. */
    async consumeOAuthState(input: IntegrationRef & { state: string }): Promise<{ valid: boolean }> {
      const bound = parseOAuthState(input.state);
      if (!bound || bound.workspaceId !== input.workspaceId || bound.integrationId !== input.integrationId)
        return { valid: false };
      const consumed = await withWorkspace(deps.db, input.workspaceId, (trx) =>
        trx('oauth_states')
          .where({ state_hash: hashState(input.state), integration_id: input.integrationId })
          .whereNull('consumed_at')
          .where('expires_at', '>', trx.fn.now())
          .update({ consumed_at: trx.fn.now() }),
      );
      return { valid: consumed === 1 };
    },

    /**
     * Exchanges the code (with the stored verifier), refuses AND revokes a grant broader than
     * requested (T1), stores the tokens as the current secret version. Returns the granted scopes.
     */
    async exchangeAuthorizationCode(
      input: IntegrationRef & { code: string; redirectUri: string; verifierSecretId?: string; installationId?: string },
    ): Promise<{ grantedScopes: string[] }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const codeVerifier = input.verifierSecretId
          ? (await deps.secrets.read(input.workspaceId, input.verifierSecretId)).toString('utf8')
          : undefined;
        const tokens = await resolved.connector.exchangeCode(resolved.row.vendor, {
          code: input.code,
          redirectUri: input.redirectUri,
          codeVerifier,
          requestedScopes: resolved.row.requested_scopes,
          // Receiving a consent exercises none of it: audited without the T17 check; T1 judges the grant below.
          audit: context.auditorFor(input, resolved.row.vendor),
          controls: resolved.row.controls ?? {},
          ...(input.installationId
            ? { installation: { installationId: input.installationId, controls: resolved.row.controls ?? {} } }
            : {}),
        });
        if (input.verifierSecretId) await retireIdempotent(deps.secrets, input.workspaceId, input.verifierSecretId);
        try {
          assertGrantWithinRequested(resolved.row.vendor, resolved.row.requested_scopes, tokens.grantedScopes);
        } catch (error) {
          const ctx = await context.connectorContext(resolved, tokens);
          await resolved.connector.revoke(ctx).catch(() => undefined); // best effort; the grant is refused either way
          const message = error instanceof VendorError ? error.message : 'grant broader than requested';
          throw nonRetryable(IntegrationFailureType.GrantBroaderThanRequested, message);
        }
        const installationId = tokens.metadata?.installationId;
        if (input.installationId && installationId) {
          const bound = await withWorkspace(deps.db, input.workspaceId, (trx) =>
            bindInstallation(trx, { vendor: resolved.row.vendor, installationId, ...input }),
          );
          if (!bound) {
            // Not ours: only the token minted here goes, the installation stays for whoever holds it.
            const ctx = await context.connectorContext(resolved, tokens);
            await resolved.connector.revoke(ctx).catch(() => undefined);
            throw nonRetryable(
              VendorFailureType.InstallationRefused,
              'the installation is already bound to another integration',
            );
          }
        }
        await storeTokens(input, tokens);
        return { grantedScopes: tokens.grantedScopes };
      });
    },

    /**
     * Service-account vendors (T6, T8): the API stored the admin's credential as a pending version.
     * It is tested against the vendor first and promoted only if the test passes, so a credential
     * that lacks a permission never replaces a working one: it is retired, and the failure names
     * the permission. A retry after the promotion tests the (now current) same version again.
     */
    async adoptServiceAccount(
      input: IntegrationRef & { credentialSecretId: string },
    ): Promise<{ grantedScopes: string[] }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const submitted = await deps.secrets.read(input.workspaceId, input.credentialSecretId, {
          integrationId: input.integrationId,
          kind: 'service-account',
        });
        try {
          await resolved.connector.testConnection(
            await context.connectorContext(resolved, parseCredential(submitted.toString('utf8'))),
          );
        } catch (error) {
          if (isFinalVendorFailure(error)) {
            await retireIdempotent(deps.secrets, input.workspaceId, input.credentialSecretId);
            await deps.audit.record({
              workspaceId: input.workspaceId,
              integrationId: input.integrationId,
              actor: workflowActor(),
              direction: 'internal',
              action: 'secret.rotation',
              scope: 'service-account',
              outcome: 'failure',
              errorClass: 'RotationTestFailed',
              workflowId: currentWorkflowId(),
            });
          }
          throw error;
        }
        await promoteIdempotent(deps.secrets, input.workspaceId, input.credentialSecretId);
        return { grantedScopes: resolved.row.requested_scopes };
      });
    },

    /** Creates the webhook endpoint + signing secret and registers the vendor subscriptions. */
    async registerWebhooks(
      input: IntegrationRef,
    ): Promise<{ subscriptions: Array<{ resource: string; expiresAt?: number }> }> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        if (resolved.descriptor.webhook.scheme === 'none') return { subscriptions: [] };
        const endpointId = crypto.randomUUID();
        const clientState = crypto.randomBytes(32).toString('base64url');
        const signing = await deps.secrets.put({
          workspaceId: input.workspaceId,
          integrationId: input.integrationId,
          kind: 'webhook-secret',
          state: 'pending',
          plaintext: clientState,
        });
        await promoteIdempotent(deps.secrets, input.workspaceId, signing.secretId);
        await withWorkspace(deps.db, input.workspaceId, (trx) =>
          insertWebhookEndpoint(trx, {
            endpointId,
            workspaceId: input.workspaceId,
            integrationId: input.integrationId,
            vendor: resolved.row.vendor,
            signingSecretId: signing.secretId,
          }),
        );
        const ctx = await context.connectorContext(resolved);
        const callbackUrl = webhookUrl(deps.webhookBaseUrl, resolved.row.vendor, input.workspaceId, endpointId);
        const subscriptions = await resolved.connector.registerWebhooks(ctx, { callbackUrl, clientState });
        await withWorkspace(deps.db, input.workspaceId, (trx) => upsertSubscriptions(trx, input, subscriptions));
        return { subscriptions: subscriptions.map((s) => ({ resource: s.resource, expiresAt: s.expiresAt })) };
      });
    },

    /**
     * Connected + consent recorded (who, when, which scopes: T2) + audited, in one transaction:
     * `granted` for a first connect, `reauthorized` for a reconnect (T17).
     */
    async activateIntegration(
      input: IntegrationRef & {
        grantedScopes: string[];
        actor: AuditActor;
        consent: 'granted' | 'reauthorized';
        /** The customer controls this consent covers (T18); absent in histories from before re-consent could change them. */
        controls?: Record<string, string[]>;
      },
    ): Promise<void> {
      await withWorkspace(deps.db, input.workspaceId, async (trx) => {
        const row = await loadIntegration(trx, input, 'update');
        // Retry after commit of a first connect. (A reconnect may start from `connected`: it records
        // its re-consent even then; a retry after its commit records it twice, which says no more.)
        if (row.status === 'connected' && input.consent === 'granted') return;
        const controls = input.controls ?? row.controls;
        await updateIntegration(trx, input.integrationId, {
          status: 'connected',
          granted_scopes: input.grantedScopes,
          controls,
          connected_by: input.actor.id,
          connected_at: 'now',
        });
        await recordConsent(trx, input, {
          actor: input.actor,
          action: input.consent,
          scopes: input.grantedScopes,
          controls,
        });
      });
      await deps.audit.record({
        workspaceId: input.workspaceId,
        integrationId: input.integrationId,
        actor: input.actor,
        direction: 'internal',
        action: input.consent === 'granted' ? 'integration.connected' : 'integration.reconnected',
        scope: input.grantedScopes.join(' '),
        outcome: 'success',
        workflowId: workflowActor().id,
      });
    },

    /** Terminal failure of a connect attempt (after compensation). */
    async markIntegrationFailed(input: IntegrationRef & { reason: string }): Promise<void> {
      await withWorkspace(deps.db, input.workspaceId, (trx) =>
        updateIntegration(trx, input.integrationId, { status: 'failed' }),
      );
      await deps.audit.record({
        workspaceId: input.workspaceId,
        integrationId: input.integrationId,
        actor: workflowActor(),
        direction: 'internal',
        action: 'integration.connect',
        outcome: 'failure',
        errorClass: input.reason,
      });
    },
  };
}
