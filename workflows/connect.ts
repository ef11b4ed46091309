/**
 * Connect (T1, T2, T5, T6): validate the requested scopes against the matrix, create the pending
 * integration, send the admin to the vendor (PKCE + state made and stored by an activity), wait for
 * the callback, exchange the code, refuse broader grants, record consent, register webhooks and
 * start the lifecycle. Any failure compensates: delete subscriptions, revoke, destroy secrets.
 */
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { requestedScopeViolations, type ScopeMatrix } from '../lib/scopes';
import { integrationActivities as act } from './activityProxies';
import { failureType, missingPermissionOf } from './failures';
import {
  connectStateQuery,
  installationSetupUpdate,
  oauthCallbackUpdate,
  RECONNECTED_EVENT,
  vendorLifecycleSignal,
  workflowIds,
  type ConnectInput,
  type ConnectResult,
  type ConnectState,
  type OAuthCallbackInput,
} from './definitions';
import type { SamlSignInOutcome } from '../activities/integrations/samlSignIn';
import { integrationLifecycleWorkflow } from './lifecycle';
import { childSearchAttributes, tagRun } from './tagRun';
import { runPriority } from '@trackproject/integrations-client/priority';

/** The failure type of a refused SAML response (the API answers it as problem+json). */
export const SAML_REFUSED = 'SamlResponseRefused';

/**
 * Patch id: the compensation ends the subscriptions before it revokes the grant, while the vendor
 * still accepts the grant's token for it (as disconnect's `disconnect-unsubscribe-before-revoke`).
 * Runs that compensated before it revoke first.
 */
export const CONNECT_UNSUBSCRIBE_BEFORE_REVOKE_PATCH = 'connect-compensation-unsubscribe-before-revoke';

/** How long the admin has to consent; the oauth_states row expires at the same time. */
export const CONSENT_TIMEOUT_MS = 15 * 60 * 1000;

/** T1: the connect run's own check (a backend service may start it directly); the failure it reports, if any. */
function scopeProblem(requested: readonly string[], matrix: ScopeMatrix): string | undefined {
  const violations = requestedScopeViolations(requested, matrix);
  if (!violations) return undefined;
  if (violations.outsideMatrix.length > 0)
    return `scopes outside the vendor matrix: ${violations.outsideMatrix.map(({ scope }) => scope).join(', ')}`;
  return `required scopes missing: ${violations.missingRequired.join(', ')}`;
}

export async function connectWorkflow(input: ConnectInput): Promise<ConnectResult> {
  const ref = { workspaceId: input.workspaceId, integrationId: input.integrationId };
  tagRun({ ...ref, vendor: input.vendor, process: 'connect' });
  const state: ConnectState = { status: 'validating' };
  setHandler(connectStateQuery, () => state);

  let callback: OAuthCallbackInput | undefined;
  let callbackInFlight = false;
  // SAML sign-in: the AuthnRequest's ID, and the outcome of validating the posted response.
  let samlRequestId: string | undefined;
  let samlSignIn: SamlSignInOutcome | undefined;
  // App-installation vendors: the setup redirect brings the installation, then the user authorizes.
  let setup: { authorizeUrl: string; installationId?: string; inFlight: boolean } | undefined;
  setHandler(
    installationSetupUpdate,
    async (received) => {
      const awaited = setup!;
      awaited.inFlight = true;
      try {
        const { valid } = await act.acceptInstallationSetup({
          ...ref,
          state: received.state,
          runId: workflowInfo().runId,
        });
        if (!valid)
          throw ApplicationFailure.nonRetryable(
            'The setup state is invalid, expired or not this connect run’s',
            'InvalidSetupState',
          );
        awaited.installationId = received.installationId;
        state.authorizeUrl = awaited.authorizeUrl;
        return { authorizeUrl: awaited.authorizeUrl };
      } finally {
        awaited.inFlight = false;
      }
    },
    {
      validator: (_received) => {
        if (state.status !== 'awaiting-consent' || !setup || setup.installationId || setup.inFlight)
          throw new Error('no installation setup is awaited by this connect run');
      },
    },
  );
  setHandler(
    oauthCallbackUpdate,
    async (received) => {
      callbackInFlight = true;
      try {
        const { valid } = await act.consumeOAuthState({ ...ref, state: received.state });
        if (!valid)
          throw ApplicationFailure.nonRetryable('OAuth state is invalid, expired or already used', 'InvalidOAuthState');
        if (input.saml && samlRequestId) {
          // The response is validated here, so the browser learns whether it signed in.
          samlSignIn = received.samlResponseSecretId
            ? await act.completeSamlSignIn({
                ...ref,
                saml: input.saml,
                samlResponseSecretId: received.samlResponseSecretId,
                requestId: samlRequestId,
              })
            : { signedIn: false, reason: 'the callback carries no SAML response' };
          callback = received;
          if (!samlSignIn.signedIn) throw ApplicationFailure.nonRetryable(samlSignIn.reason, SAML_REFUSED);
        } else callback = received;
        return { accepted: true as const };
      } finally {
        callbackInFlight = false;
      }
    },
    {
      validator: (_received: OAuthCallbackInput) => {
        if (state.status !== 'awaiting-consent' || callback || callbackInFlight || (setup && !setup.installationId))
          throw new Error('no consent is awaited by this connect run');
      },
    },
  );

  const descriptor = await act.describeVendor(input.vendor);
  const problem = scopeProblem(input.requestedScopes, descriptor.scopes);
  if (problem) {
    state.status = 'failed';
    state.failure = problem;
    return { status: 'failed', failure: problem };
  }
  if (!input.reconnect)
    await act.createPendingIntegration({
      ...ref,
      vendor: input.vendor,
      requestedScopes: input.requestedScopes,
      controls: input.controls,
      ...(input.pollIntervalMs !== undefined ? { pollIntervalMs: input.pollIntervalMs } : {}),
    });

  let verifierSecretId: string | undefined;
  try {
    let grantedScopes: string[];
    if (input.credentialSecretId) {
      ({ grantedScopes } = await act.adoptServiceAccount({ ...ref, credentialSecretId: input.credentialSecretId }));
    } else {
      const started = await act.beginAuthorization({
        ...ref,
        redirectUri: input.redirectUri,
        workflowId: workflowInfo().workflowId,
        runId: workflowInfo().runId,
        initiator: input.actor,
        ...(input.saml ? { saml: input.saml } : {}),
      });
      verifierSecretId = started.verifierSecretId;
      samlRequestId = started.samlRequestId;
      if (started.setupUrl) setup = { authorizeUrl: started.authorizeUrl, inFlight: false };
      state.status = 'awaiting-consent';
      state.authorizeUrl = started.setupUrl ?? started.authorizeUrl;
      state.consentUrl = started.authorizeUrl;
      if (!(await condition(() => callback !== undefined, CONSENT_TIMEOUT_MS))) {
        state.status = 'expired';
        state.authorizeUrl = undefined;
        state.consentUrl = undefined;
        await compensate(ref, 'ConsentExpired', input.reconnect, verifierSecretId);
        return { status: 'expired' };
      }
      state.authorizeUrl = undefined;
      state.consentUrl = undefined;
      if (samlSignIn) {
        // Refused: the connect fails and compensates (nothing of the sign-in is kept).
        if (!samlSignIn.signedIn) throw ApplicationFailure.nonRetryable(samlSignIn.reason, SAML_REFUSED);
        ({ grantedScopes } = samlSignIn);
      } else {
        if (callback!.error || !callback!.code)
          throw ApplicationFailure.nonRetryable('the admin declined consent at the vendor', 'ConsentDeclined');
        state.status = 'exchanging';
        ({ grantedScopes } = await act.exchangeAuthorizationCode({
          ...ref,
          code: callback!.code,
          redirectUri: input.redirectUri,
          verifierSecretId: started.verifierSecretId,
          ...(setup?.installationId ? { installationId: setup.installationId } : {}),
        }));
      }
    }
    // A reconnect keeps the integration's endpoint and subscriptions (the lifecycle renews them).
    if (!input.reconnect) {
      state.status = 'registering';
      await act.registerWebhooks(ref);
    }
    await act.activateIntegration({
      ...ref,
      grantedScopes,
      // T2: the ledger names who completed the consent in their browser session, as the API verified it.
      actor: callback?.consentedBy ?? input.actor,
      consent: input.reconnect ? 'reauthorized' : 'granted',
      // A re-consent may bring a new selection (Slack channels picked after the first connect).
      controls: input.controls,
    });
    const lifecycleWorkflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
    try {
      await startChild(integrationLifecycleWorkflow, {
        workflowId: lifecycleWorkflowId,
        args: [
          {
            ...ref,
            vendor: input.vendor,
            ...(input.pollIntervalMs !== undefined ? { pollIntervalMs: input.pollIntervalMs } : {}),
            carried: { pendingSync: { reason: 'connect' } },
          },
        ],
        // The lifecycle outlives this run.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // Not the connect's interactive priority: the lifecycle's own work (refresh, renewals) is timed.
        priority: runPriority(ref.workspaceId, 'lifecycle'),
        ...childSearchAttributes({ ...ref, vendor: input.vendor, process: 'lifecycle' }),
      });
    } catch (error) {
      if (!input.reconnect || !(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      // The integration's lifecycle still runs: it resumes with the new grant.
      await getExternalWorkflowHandle(lifecycleWorkflowId).signal(vendorLifecycleSignal, { event: RECONNECTED_EVENT });
    }
    state.status = 'connected';
    log.info('integration connected', { ...ref, vendor: input.vendor, grantedScopes });
    return { status: 'connected', lifecycleWorkflowId, grantedScopes };
  } catch (error) {
    const reason = failureType(error) ?? 'ConnectFailed';
    state.status = 'failed';
    state.failure = reason;
    state.missingPermission = missingPermissionOf(error);
    log.warn('connect failed; compensating', { ...ref, vendor: input.vendor, failureType: reason });
    await compensate(ref, reason, input.reconnect, verifierSecretId);
    return { status: 'failed', failure: reason };
  }
}

/**
 * Leaves no orphans. A first connect deletes its subscriptions, revokes what was granted and
 * destroys every secret. A reconnect discards only its own authorization attempt: the integration keeps
 * working on its current credential (T17: a failed re-consent must not disconnect).
 */
async function compensate(
  ref: { workspaceId: string; integrationId: string },
  reason: string,
  reconnect = false,
  verifierSecretId?: string,
): Promise<void> {
  if (reconnect) {
    await act.abandonAuthorization({ ...ref, verifierSecretId });
    return;
  }
  // Best effort: the secrets are destroyed next either way.
  const unsubscribeFirst = patched(CONNECT_UNSUBSCRIBE_BEFORE_REVOKE_PATCH);
  if (unsubscribeFirst) await act.deleteSubscriptions(ref).catch(() => undefined);
  await act.revokeAtVendor(ref).catch(() => undefined);
  if (!unsubscribeFirst) await act.deleteSubscriptions(ref).catch(() => undefined);
  await act.destroySecrets(ref);
  await act.markIntegrationFailed({ ...ref, reason });
}
