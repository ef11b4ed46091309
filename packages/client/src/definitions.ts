/**
 * Workflow ids, signals, updates, queries and the payload types they carry: defined once, imported
 * by the workflows (to handle them), the API and backend services (to send them). Ids are business
 * ids built from opaque UUIDs and process names only: no personal data, so they are safe in the
 * Temporal UI and in logs. Workflow-safe: this module loads `@temporalio/workflow` only.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** One row of the vendor matrix (`docs/vendor-matrix.md`). */
export type VendorId =
  | 'microsoft365'
  | 'sharepoint'
  | 'onedrive'
  | 'teams'
  | 'entra'
  | 'google-drive'
  | 'google-workspace'
  | 'slack'
  | 'okta'
  | 'autodesk-acc'
  | 'autodesk-docs'
  | 'autodesk-tandem'
  | 'procore'
  | 'primavera-p6'
  | 'sap'
  | 'oracle-erp'
  | 'jira'
  | 'github';

/** Who asked for something, as the audit log records it. */
export interface AuditActor {
  type: 'user' | 'service' | 'workflow' | 'vendor' | 'system';
  /** Opaque id: JWT subject, service name, workflow id, vendor name. */
  id: string;
}

export type ProcessName =
  'connect' | 'lifecycle' | 'sync' | 'rotate' | 'disconnect' | 'purge' | 'workspace-delete' | 'action' | 'choices';

export const workflowIds = {
  connect: (workspaceId: string, integrationId: string) => `integration/${workspaceId}/${integrationId}/connect`,
  lifecycle: (workspaceId: string, integrationId: string) => `integration/${workspaceId}/${integrationId}/lifecycle`,
  sync: (workspaceId: string, integrationId: string) => `integration/${workspaceId}/${integrationId}/sync`,
  rotate: (workspaceId: string, integrationId: string) => `integration/${workspaceId}/${integrationId}/rotate`,
  disconnect: (workspaceId: string, integrationId: string) => `integration/${workspaceId}/${integrationId}/disconnect`,
  /** One data-out action; `actionId` is the caller's (a retry with the same id joins the first run). */
  action: (workspaceId: string, integrationId: string, actionId: string) =>
    `integration/${workspaceId}/${integrationId}/action/${actionId}`,
  workspaceDelete: (workspaceId: string) => `workspace/${workspaceId}/delete`,
  /** One page of the admin's picker (`requestId` unique per request: pages are read, never joined). */
  choices: (workspaceId: string, integrationId: string, requestId: string) =>
    `integration/${workspaceId}/${integrationId}/choices/${requestId}`,
};

export interface ConnectInput {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
  /** Must be a subset of the descriptor's scopes (required ∪ optional); validated in the workflow (T1). */
  requestedScopes: string[];
  /** Customer controls chosen at connect (T18), e.g. { repos: ['org/repo'] }. */
  controls: Record<string, string[]>;
  redirectUri: string;
  actor: AuditActor;
  /** Service-account vendors: the credential was stored encrypted by the API; only its id travels. */
  credentialSecretId?: string;
  /** The customer's polling cadence (T12) for the lifecycle to start with, checked against the floor by the API. */
  pollIntervalMs?: number;
  /**
   * SAML sign-in (rows with `samlSignIn`): the IdP metadata the admin supplied, stored encrypted by
   * the API (only its id travels), and where this service receives assertions.
   */
  saml?: SamlSignInInput;
  /**
   * Re-consent (or a new credential) for an integration that exists (T17): its subscriptions and
   * current credential stay until the new grant replaces them, the running lifecycle is told
   * instead of started, and a failure tears nothing down.
   */
  reconnect?: boolean;
}

/** One page of the admin's picker for the integration's customer control (T18). */
export interface ControlChoicesInput {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
  cursor: string | null;
}

/** One choice of the admin's picker for a customer control (a Slack channel), as the vendor names it. */
export interface ControlChoice {
  id: string;
  name: string;
  /** Whether our app can act there as it is (a Slack channel the app was invited to). */
  appIsMember?: boolean;
}

export interface ControlChoicesPage {
  choices: ControlChoice[];
  /** Opaque vendor cursor of the next page; null on the last. */
  nextCursor: string | null;
}

/** A SAML sign-in's inputs: ids and our own URLs only, never the IdP's metadata or an assertion. */
export interface SamlSignInInput {
  metadataSecretId: string;
  entityId: string;
  acsUrl: string;
}

export interface ConnectState {
  status: 'validating' | 'awaiting-consent' | 'exchanging' | 'registering' | 'connected' | 'failed' | 'expired';
  /**
   * Present while awaiting consent: the vendor's authorize URL. The API never passes it on as is:
   * only the initiator receives it, with the consent session cookie (T2).
   */
  authorizeUrl?: string;
  /**
   * The OAuth authorize URL, whose state the callback carries: the same as `authorizeUrl`, except
   * for app-installation vendors (GitHub), whose browser visits the installation page first.
   */
  consentUrl?: string;
  failure?: string;
  /** A submitted service-account credential failed its connection test for lack of this vendor permission (T6). */
  missingPermission?: string;
}

/** OAuth callback, delivered by the API as an Update so validation errors reach the caller. */
export interface OAuthCallbackInput {
  state: string;
  code?: string;
  /** SAML sign-in: the posted SAMLResponse, stored encrypted by the ACS route (its secret id only). */
  samlResponseSecretId?: string;
  /** Vendor-side denial (`error=access_denied`). */
  error?: string;
  /** T2: whose browser session completed the consent (the API checked it against the state's initiator). */
  consentedBy?: AuditActor;
}

export const connectStateQuery = defineQuery<ConnectState>('connectState');
export const oauthCallbackUpdate = defineUpdate<{ accepted: true }, [OAuthCallbackInput]>('oauthCallback');

/** An app's setup redirect (GitHub App "Setup URL"), delivered by the API as an Update. */
export interface InstallationSetupInput {
  /** The signed setup state the connect run issued. */
  state: string;
  installationId: string;
}

/** Answers where the browser goes next: the user authorization (OAuth with PKCE). */
export const installationSetupUpdate = defineUpdate<{ authorizeUrl: string }, [InstallationSetupInput]>(
  'installationSetup',
);

export type SyncReason = 'webhook' | 'admin' | 'schedule' | 'connect' | 'resync';

export interface SyncRequest {
  reason: SyncReason;
  /** Limit to one resource; default: every resource of the vendor. */
  resource?: string;
  /** Forget cursors and reconcile deletions (expired delta, consent change). */
  full?: boolean;
}

/** One request that does what both ask: different resources (or any for all) collapse into one for every resource. */
export function mergeSyncRequests(a: SyncRequest, b: SyncRequest): SyncRequest {
  const resource = a.resource === b.resource ? a.resource : undefined;
  return { reason: a.reason, resource, full: Boolean(a.full || b.full) };
}

export interface SyncProgress {
  state: 'idle' | 'running' | 'waiting-rate-limit' | 'completed' | 'failed';
  resource?: string;
  pages: number;
  recordsUpserted: number;
  recordsDeleted: number;
  rateLimitWaits: number;
  startedAt?: string;
  finishedAt?: string;
}

export interface ConsentChange {
  actor: AuditActor;
  /** The new (narrower or equal) scope set. */
  scopes?: string[];
  controls?: Record<string, string[]>;
}

export interface IntegrationState {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
  status: 'connected' | 'reauthorization-required' | 'disconnecting';
  /** The customer's polling cadence (T12), absent when the integration is not polled. */
  pollIntervalMs?: number;
  /** The polling floor derived from the vendor budget and the last sync's pages: polling never runs more often. */
  pollFloorMs?: number;
  lastSync?: SyncProgress;
  pendingSync: boolean;
  nextTokenRefreshAt?: string;
  nextRotationAt?: string;
  /** Outcome of the last rotation the lifecycle drove (T8); a failed test shows here and in the audit log. */
  lastRotation?: { kind: RotationKind; status: RotateResult['status']; failure?: string; at: string };
  /**
   * T8: the admin was asked for a new secret of this kind (the vendor has no API for us to set it):
   * since when. Cleared when their upload is adopted (the integration is reconnected with it).
   */
  renewalRequested?: { kind: RotationKind; since: string };
  subscriptions: Array<{ resource: string; expiresAt?: string }>;
}

/**
 * Data out (T19): one action of the row's data-out list (create an issue, post to a channel…). The
 * input is customer content: it travels only in encrypted payloads (the data converter's codec)
 * and is never logged or audited; results carry ids and URLs only.
 */
export interface VendorActionInput {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
  action: string;
  input: Record<string, unknown>;
  actor: AuditActor;
}

export const syncRequestedSignal = defineSignal<[SyncRequest]>('syncRequested');
/** The sync workflow id a "sync now" joined or started, and the integration's vendor (for the caller's audit entry). */
export interface SyncAnswer {
  syncWorkflowId: string;
  joined: boolean;
  vendor: VendorId;
}
/**
 * Starts a sync, or queues one (`full`, or none running yet). A request that would only join the
 * sync in flight is rejected by the Update's validator with SYNC_IN_FLIGHT_FAILURE and its
 * SyncAnswer as details: a rejected Update writes no history and uses none of the run's 2,000
 * Update slots, so a long sync can be joined any number of times. Clients call it through
 * `requestSync` (`./client.ts`), which turns that rejection into the answer.
 */
export const requestSyncUpdate = defineUpdate<SyncAnswer, [SyncRequest]>('requestSync');
export const SYNC_IN_FLIGHT_FAILURE = 'SyncInFlight';
export const consentChangeUpdate = defineUpdate<{ accepted: true }, [ConsentChange]>('changeConsent');
/** Answers the cadence applied and the floor it was held to (absent in runs recorded before the derived floor). */
export const setPollIntervalUpdate = defineUpdate<
  { pollIntervalMs: number; pollFloorMs?: number },
  [{ pollIntervalMs: number; actor: AuditActor }]
>('setPollInterval');
export const rotateNowSignal = defineSignal<[{ actor: AuditActor }]>('rotateNow');
/** Vendor lifecycle events (Graph `reauthorizationRequired` / `subscriptionRemoved` / `missed`, GitHub uninstall…). */
export const vendorLifecycleSignal = defineSignal<[{ event: string; subscriptionId?: string }]>('vendorLifecycle');
/** `vendorLifecycleSignal` event a reconnect sends to the running lifecycle: the grant is fresh again. */
export const RECONNECTED_EVENT = 'reconnected';
export const integrationStateQuery = defineQuery<IntegrationState>('integrationState');
export const syncProgressQuery = defineQuery<SyncProgress>('syncProgress');

export interface DisconnectInput {
  workspaceId: string;
  integrationId: string;
  actor: AuditActor;
  /** Purge delay; the workflow clamps it to at most 30 days (T15). */
  purgeDelayMs: number;
}

export interface DisconnectState {
  status: 'stopping' | 'revoking' | 'clearing' | 'waiting-purge' | 'purged';
  revokedAtVendor?: boolean;
  vendorNote?: string;
  purgeDeadline?: string;
  receiptId?: string;
}

export const disconnectStateQuery = defineQuery<DisconnectState>('disconnectState');

/** What the connect workflow returns. Only ids and non-secret facts. */
export interface ConnectResult {
  status: 'connected' | 'failed' | 'expired';
  lifecycleWorkflowId?: string;
  grantedScopes?: string[];
  failure?: string;
}

/** Lifecycle input; `carried` is the state handed over through continue-as-new. */
export interface LifecycleInput {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
  /** Customer's polling cadence (T12), checked against the derived floor by the API. */
  pollIntervalMs?: number;
  carried?: {
    pendingSync?: SyncRequest;
    lastSync?: SyncProgress;
    status?: IntegrationState['status'];
    /** Epoch ms (workflow clock) at which each kind is next rotated. */
    rotationDueAt?: Partial<Record<RotationKind, number>>;
  };
  /** Per-kind override of `ROTATION_CADENCE_MS` (from config, set by the starter). */
  rotationCadenceMs?: Partial<Record<RotationKind, number>>;
  /** Continue as new past this many history events (default `HISTORY_EVENTS_BEFORE_CONTINUE`); tests cross the boundary with a low one. */
  continueAfterEvents?: number;
}

/** Sync input; `progress` and `budget` are carried through continue-as-new. */
export interface SyncInput {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
  request: SyncRequest;
  /** Resources still to walk, in order; default: every resource of the vendor. */
  resources?: string[];
  progress?: SyncProgress;
  /** Start times (epoch ms) of the pages within the last minute: the per-minute budget window. */
  recentPageStarts?: number[];
  /** The resource being walked at continue-as-new: its counters' baseline and the progress before it. */
  resourceStart?: {
    baseline: { pages: number; recordsUpserted: number; recordsDeleted: number };
    progressBefore: { pages: number; recordsUpserted: number; recordsDeleted: number };
  };
}

export interface RotateInput {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
  kind: 'oauth-tokens' | 'service-account' | 'webhook-secret' | 'app-private-key';
  actor: AuditActor;
  /** How long the previous version keeps working after promotion; default per kind. */
  gracePeriodMs?: number;
}

export type RotationKind = RotateInput['kind'];

/**
 * How a rotation that minted nothing ended (T8): `renewal-requested`, the vendor has no API for us to
 * set the secret, so the admin was asked for a new one (their upload completes the rotation);
 * `operator-rotation`, the secret is our app's, not the integration's (runs scheduled before that
 * was known); `not-supported`, only in histories from before both existed.
 */
export type RotationWithoutNewVersion = 'renewal-requested' | 'operator-rotation' | 'not-supported';

export interface RotationState {
  status:
    'preparing' | 'testing' | 'promoting' | 'grace-period' | 'rotated' | 'test-failed' | RotationWithoutNewVersion;
  kind: RotationKind;
  newVersion?: number;
  /** When the previous version is retired (end of the grace period). */
  retireAt?: string;
  failure?: string;
}

export const rotationStateQuery = defineQuery<RotationState>('rotationState');

export interface RotateResult {
  /** `failed`: a step other than the test failed (only the lifecycle reports it; the run itself failed). */
  status: 'rotated' | 'test-failed' | 'failed' | RotationWithoutNewVersion;
  newVersion?: number;
  failure?: string;
}

export interface DisconnectResult {
  revokedAtVendor: boolean;
  vendorNote: string;
  receiptId: string;
  counts: Record<string, number>;
}

export interface DeleteWorkspaceInput {
  workspaceId: string;
  actor: AuditActor;
  /** Passed to each integration's disconnect; clamped to ≤ 30 days there (T15). */
  purgeDelayMs: number;
}

export interface DeleteWorkspaceState {
  status: 'disconnecting' | 'removing-metadata' | 'deleted';
  integrations: number;
  purged: number;
}

export interface DeleteWorkspaceResult {
  integrationsRemoved: number;
  purgeReceiptIds: string[];
}

export const deleteWorkspaceStateQuery = defineQuery<DeleteWorkspaceState>('deleteWorkspaceState');

/** A key-encryption key stopped by a rotation: disabled at the KMS, or simply no longer used (local keys). */
export type KeyRetirement = 'disabled' | 'unused';

/** What a KEK rotation works towards: the KEK every data key ends up under, and the KEKs it replaces. */
export interface KekRotationPlan {
  provider: string;
  /** The KEK every DEK ends up under. */
  targetKeyId: string;
  /** KEKs that wrapped DEKs when the rotation started, and the one it replaced: retired once nothing uses them. */
  previousKeyIds: string[];
}

/** Result of the `maintenance/kek-rotation` Schedule's workflow: key ids and counts, never key material. */
export interface KekRotationResult {
  rotationId: string;
  provider: string;
  targetKeyId: string;
  rewrapped: number;
  /** DEKs under the target KEK when verification passed. */
  verified: number;
  retired: { keyId: string; outcome: KeyRetirement }[];
}

/** Carried over continue-as-new on a very large rotation: ids and counts only. */
export interface KekRotationResume {
  rotationId: string;
  plan: KekRotationPlan;
  rewrapped: number;
}
