/**
 * Activity stubs shared by the workflows (one place for timeouts, retries and step summaries).
 * Vendor failures marked non-retryable (auth, scope, cursor, rate limit) surface at once; the
 * rest retry with capped backoff.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';

/**
 * What each step does, as the Temporal UI's event list shows it (the activity's user metadata):
 * fixed words, never customer data. A new activity fails `tsc` here until it says what it does.
 */
const STEP_SUMMARIES: Record<keyof Activities, string> = {
  describeVendor: 'read the vendor descriptor',
  createPendingIntegration: 'create the pending integration',
  beginAuthorization: 'begin the OAuth authorization',
  abandonAuthorization: 'abandon the OAuth authorization',
  acceptInstallationSetup: 'accept the app installation setup',
  consumeOAuthState: 'check and consume the OAuth state',
  exchangeAuthorizationCode: 'exchange the authorization code for tokens',
  completeSamlSignIn: 'validate the SAML response and keep the identity',
  adoptServiceAccount: 'adopt the service-account credential',
  registerWebhooks: 'register webhook subscriptions',
  activateIntegration: 'activate the integration',
  markIntegrationFailed: 'mark the integration failed',
  lifecycleSchedule: 'read token and subscription expiries',
  refreshTokens: 'refresh the access token',
  renewSubscription: 'renew a webhook subscription',
  markReauthorizationRequired: 'mark reauthorization required',
  setPollInterval: 'store the poll interval',
  narrowConsent: 'narrow the consent',
  syncTotals: 'read the committed sync totals',
  startFullResync: 'reset cursors for a full resync',
  syncPage: 'fetch and commit one page',
  syncPages: 'fetch and commit a batch of pages',
  sweepSourceIds: 'list source ids and delete the cached records gone at the vendor',
  prepareRotation: 'prepare the new secret version',
  testPendingSecret: 'test the new secret version',
  promoteSecret: 'promote the new secret version',
  retireSecret: 'retire a secret version',
  beginDisconnect: 'begin the disconnect',
  revokeAtVendor: 'revoke the grant at the vendor',
  deleteSubscriptions: 'delete webhook subscriptions',
  pruneSubscriptions: 'delete the webhook subscriptions outside the controls',
  destroySecrets: 'destroy the stored secrets',
  clearCacheAndMarkDisconnected: 'clear the cache and mark disconnected',
  purgeIntegration: 'purge the integration data',
  listWorkspaceIntegrations: 'list the workspace integrations',
  deleteWorkspaceMetadata: 'delete the workspace metadata',
  performVendorAction: 'perform the data-out action at the vendor',
  listControlChoices: "list one page of the admin's picker at the vendor",
  unsignalledWebhookIntegrations: 'find integrations with unsignalled webhooks',
  markWebhooksSignalled: 'mark webhook deliveries signalled',
  sweepExpiredCache: 'sweep expired cache entries',
  ensureWorkspace: 'register the workspace',
  beginKekRotation: 'make a new key-encryption key current',
  rewrapDataKeys: 're-wrap a batch of data keys',
  verifyKekRotation: 'verify every data key is under the new key',
  retireKek: 'retire an old key-encryption key',
  completeKekRotation: 'record the completed key rotation',
};

/** `proxyActivities` whose every call carries its step summary (`STEP_SUMMARIES`). */
export function proxySteps(options: ActivityOptions): Activities {
  return new Proxy({} as Activities, {
    get(_, name) {
      if (typeof name !== 'string' || !(name in STEP_SUMMARIES)) return undefined;
      const step = name as keyof Activities;
      return proxyActivities<Activities>({ ...options, summary: STEP_SUMMARIES[step] })[step];
    },
  });
}

const RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 10,
} as const;

export const integrationActivities = proxySteps({
  // One vendor request plus one transaction: a minute is generous; a hung call is retried.
  startToCloseTimeout: '1 minute',
  retry: RETRY,
});

/**
 * Page batches (`syncPages`, up to 15 s of pages) heartbeat after every committed page: a worker
 * that dies mid-batch is noticed after the heartbeat timeout rather than the whole start-to-close
 * minute, and another worker resumes from the last committed cursor.
 */
export const pageBatchActivities: Pick<Activities, 'syncPages' | 'sweepSourceIds'> = proxySteps({
  startToCloseTimeout: '1 minute',
  // One vendor page request plus its commit stays far below this; a silent batch is a dead worker.
  heartbeatTimeout: '20 seconds',
  retry: RETRY,
});
