/**
 * The connector contract: what every vendor folder (`activities/vendors/<vendor>/`) implements and
 * what the generic activities (`activities/integrations/*`) call. Workflows never see this module's
 * values, only the ids and counts the activities return: credentials, tokens and source records
 * stay inside activities and the database.
 */
import type { ControlChoice, ControlChoicesPage, VendorId } from '@trackproject/integrations-client/definitions';
import type { SetupBinding } from '../../lib/oauth/setupState';

/** One row of the vendor matrix (`docs/vendor-matrix.md`): defined with the workflow messages that carry it. */
export type { ControlChoice, ControlChoicesPage, VendorId };

export type AuthKind =
  /** OAuth 2.0 authorization code with PKCE S256 (T5). */
  | 'oauth2-pkce'
  /** OAuth 2.0 authorization code where the vendor documents no PKCE: state + exact redirect only. */
  | 'oauth2-state'
  /** GitHub App: per-repo installation, app JWT → 1 h installation token. */
  | 'github-app'
  /** Service account / API key in the customer's tenant, stored encrypted (T6). */
  | 'service-account'
  /** Federated sign-in only (OIDC / SAML): identity in, nothing out (T9, T19). */
  | 'federated-identity';

/** The T18 customer control of a vendor row. */
export type CustomerControlKind =
  'repos' | 'sites' | 'app-folder' | 'channels' | 'projects' | 'hubs' | 'facilities' | 'files' | 'tenant' | 'none';

export type WebhookScheme =
  | 'github-hmac-sha256'
  | 'graph-client-state'
  | 'jira-jwt'
  | 'slack-signing-secret'
  | 'okta-shared-header'
  | 'autodesk-hmac-sha1'
  | 'procore-destination-header'
  | 'google-channel-token'
  | 'none';

export interface VendorDescriptor {
  id: VendorId;
  displayName: string;
  /** Scopes exactly as the matrix lists them: requested = required (+ optional if chosen), never more (T1). */
  scopes: { required: readonly string[]; optional: readonly string[] };
  authKind: AuthKind;
  /** False where the vendor documents no PKCE (e.g. Jira 3LO): we rely on state + exact redirect. */
  pkce: boolean;
  /**
   * Identity rows whose IdP also signs in over SAML 2.0: the admin may connect with the IdP's
   * metadata instead of OAuth/OIDC (`ConnectInput.saml`; the connector's `saml` fetches metadata).
   */
  samlSignIn?: boolean;
  customerControl: {
    kind: CustomerControlKind;
    description: string;
    /** The vendor lists what the grant reaches for the admin's picker (`Connector.listControlChoices`). */
    listable?: boolean;
    /**
     * Non-secret connection settings the admin gives with the control, as further control keys (a
     * customer-run IdP: the OIDC client id registered in it). Never a secret (T9).
     */
    settings?: readonly string[];
  };
  /** What may flow in and out (T19): anything else is refused by the activities. */
  dataIn: readonly string[];
  dataOut: readonly string[];
  /** Resources an incremental sync walks, each with its own cursor. */
  syncResources: readonly string[];
  syncMode: 'webhook-and-delta' | 'webhook-and-since' | 'scheduled-poll' | 'on-demand' | 'none';
  rateLimit: {
    /**
     * Budget we allow ourselves per vendor account (see `countedPer`), below the vendor's published limit. Scheduled polling's
     * floor is derived from it and the pages a sync costs (`lib/pollFloor.ts`, T12).
     */
    requestsPerMinute: number;
    /**
     * How the vendor counts its limit for our app: the credential metadata naming the account it
     * counts per (`installationId`, `tenantId`, `cloudId`, …), shared by every worker and every
     * integration on that account (`activities/vendors/shared/vendorBudgets.ts`). Absent: per workspace.
     */
    countedPer?: readonly string[];
  };
  webhook: {
    scheme: WebhookScheme;
    /**
     * Who holds the signing secret (T8). Absent: the integration, and we set it at the vendor, so the
     * lifecycle rotates it. `app`: our vendor app's one secret for every customer (a GitHub App, a
     * Slack app), rotated by the operator (`docs/key-management.md`). `customer-admin`: the customer's
     * admin typed it into the vendor (Okta event hooks), so a rotation asks them for it.
     */
    secretHolder?: 'app' | 'customer-admin';
    /** Vendor's maximum subscription lifetime, renewed before expiry. */ maxLifetimeMs?: number;
  };
  revocation: { kind: 'revoke-endpoint' | 'uninstall' | 'none'; note: string };
  /** Cache TTL for records of this vendor (T3), never above CACHE_TTL_HARD_MAX_MS. */
  cacheTtlMs: number;
}

/** Tokens as a vendor returns them. Only ever held inside an activity, then stored as a secret. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt?: number;
  grantedScopes: string[];
  /** Vendor-specific non-secret facts worth keeping (tenant id, installation id, cloud id). */
  metadata?: Record<string, string>;
}

/** Everything a connector needs for one call, resolved by the generic activity. */
export interface ConnectorContext {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
  /** The integration's current credential, decrypted inside the activity only. */
  credential: TokenSet;
  /**
   * The integration's consented scopes now (T17): narrower than `credential.grantedScopes` after a
   * restriction. Tokens are re-requested with these where the vendor allows it.
   */
  scopes: readonly string[];
  /** Customer controls in force (selected repos / sites / channels / projects …). */
  controls: Record<string, string[]>;
  /** The audited path every vendor call goes through (`activities/vendors/shared/audited.ts`). */
  audit: VendorCallAuditor;
  /**
   * App-installation vendors, at revocation: the installation this integration bound
   * (`app_installation_bindings`). Only that one may be uninstalled; another integration may need any other.
   */
  boundInstallationId?: string;
}

export interface AuditedCall {
  action: string;
  /** OAuth scope (or permission) the call exercises. */
  scope: string;
}

/** Wraps one vendor call: records caller, scope and outcome in the workspace audit log (T10). */
export type VendorCallAuditor = <T>(call: AuditedCall, run: () => Promise<T>) => Promise<T>;

/** A source record as it enters the TTL cache (T3). The payload never enters workflow history. */
export interface SourceRecord {
  resource: string;
  externalId: string;
  /** ETag / version / updated timestamp: lets upserts skip unchanged rows. */
  version?: string;
  payload: Record<string, unknown>;
}

export interface SyncPage {
  records: SourceRecord[];
  /** External ids the vendor reported deleted (tombstones, `deleted` facets, `@removed`). */
  deletedExternalIds: string[];
  /** Cursor to store with this page (delta link, `since` timestamp, nextPageToken…). */
  nextCursor: string | null;
  /** True when this page ends the current round (deltaLink reached, isLast, no next link). */
  roundComplete: boolean;
}

export interface Subscription {
  externalId: string;
  resource: string;
  /** Epoch ms; undefined when the vendor's subscription does not expire. */
  expiresAt?: number;
}

export interface AuthorizeRequest {
  state: string;
  redirectUri: string;
  scopes: readonly string[];
  /** S256 challenge; omitted for vendors without PKCE. */
  codeChallenge?: string;
  /** The integration's customer controls: where a customer runs the vendor (its own IdP), which one to send the browser to. */
  controls?: Readonly<Record<string, readonly string[]>>;
}

/** The installation the admin's browser brought back from the vendor's setup redirect, to be verified. */
export interface InstallationChoice {
  installationId: string;
  /** The admin's customer controls (T18): every selected resource must lie inside the installation. */
  controls: Record<string, string[]>;
}

/**
 * App-installation vendors (a GitHub App): the admin's browser first installs or configures the app
 * at the vendor, which redirects to our Setup URL with the installation id and the signed state.
 */
export interface InstallationStep {
  /** Where the browser installs or picks the installation; `binding` is signed into the state. */
  setupUrl(vendor: VendorId, binding: SetupBinding): string;
  /** The binding when the state is one we signed and it has not expired; undefined otherwise. */
  verifySetupState(state: string): SetupBinding | undefined;
}

/** SAML sign-in (rows with `samlSignIn`): the only vendor call is fetching IdP metadata by URL. */
export interface SamlMetadataSource {
  /** The metadata document at `url`, refused unless the URL is on a host this row's IdPs serve metadata from. */
  fetchMetadata(vendor: VendorId, input: { url: string; audit: VendorCallAuditor }): Promise<string>;
}

export interface Connector {
  readonly vendors: readonly VendorId[];
  authorizeUrl(vendor: VendorId, request: AuthorizeRequest): string;
  installation?: InstallationStep;
  saml?: SamlMetadataSource;
  /** With an installation step, `installation` is required: the connector verifies the user may bind it. */
  exchangeCode(
    vendor: VendorId,
    input: {
      code: string;
      redirectUri: string;
      codeVerifier?: string;
      audit: VendorCallAuditor;
      installation?: InstallationChoice;
      /** The integration's requested scopes: what the grant is, for vendors whose token answer names none (Procore). */
      requestedScopes?: readonly string[];
      /**
       * The integration's customer controls, as at authorize (T18): what a sign-in must be bound to (a
       * Workspace domain), the customer's IdP to redeem the code at (an Okta org).
       */
      controls?: Readonly<Record<string, readonly string[]>>;
    },
  ): Promise<TokenSet>;
  /** Rotating refresh tokens: the caller stores the new set before dropping the old one. */
  refresh(ctx: ConnectorContext): Promise<TokenSet>;
  /** Cheap authenticated call proving the credential works. */
  testConnection(ctx: ConnectorContext): Promise<void>;
  /** Revoke at the vendor where it allows it; says what it could and could not do (T4). */
  revoke(ctx: ConnectorContext): Promise<{ revoked: boolean; note: string }>;
  registerWebhooks(ctx: ConnectorContext, input: { callbackUrl: string; clientState: string }): Promise<Subscription[]>;
  /**
   * Extends a subscription before it expires. `endpoint` is where it delivers and with which secret:
   * vendors that cannot extend in place (Drive channels) open a new one there and stop the old, so
   * the answer may carry a new `externalId`.
   */
  renewSubscription(
    ctx: ConnectorContext,
    subscription: Subscription,
    endpoint?: { callbackUrl: string; clientState: string },
  ): Promise<Subscription>;
  deleteSubscription(ctx: ConnectorContext, subscription: Subscription): Promise<void>;
  /**
   * T8: hands the vendor a new webhook secret for the integration's subscriptions in place, where the
   * vendor can change it (Procore: a hook's destination headers), and answers the subscriptions now
   * delivering with it. Vendors without it are re-registered by the rotation instead: new
   * subscriptions with the new secret, then the old ones deleted (Graph `clientState`, Jira's URL
   * token and Drive channel tokens cannot be changed on a live subscription).
   */
  rotateWebhookSecret?(
    ctx: ConnectorContext,
    input: { callbackUrl: string; newSecret: string; subscriptions: readonly Subscription[] },
  ): Promise<Subscription[]>;
  /**
   * Subscriptions bound to one customer-control value (Procore: one hook per selected project):
   * true once that value is no longer in `controls`, so narrowing the controls deletes it at the
   * vendor (T18). Absent: a vendor's subscriptions follow the controls by themselves.
   */
  subscriptionOutsideControls?(subscription: Subscription, controls: Readonly<Record<string, string[]>>): boolean;
  fetchPage(ctx: ConnectorContext, input: { resource: string; cursor: string | null }): Promise<SyncPage>;
  /**
   * The admin's picker for the row's customer control, one page at a time, where the vendor can list
   * what the grant reaches (Slack: public channels). Read for the picker only: nothing is stored.
   */
  listControlChoices?(ctx: ConnectorContext, input: { cursor: string | null }): Promise<ControlChoicesPage>;
  /**
   * Every id the vendor holds for a resource now, a page at a time (`nextCursor` null after the last),
   * for vendors that keep no tombstones: the sync's id sweep deletes cached records whose ids it did
   * not see (`activities/integrations/sync.ts`).
   */
  listSourceIds?(
    ctx: ConnectorContext,
    input: { resource: string; cursor: string | null },
  ): Promise<{ ids: string[]; nextCursor: string | null }>;
  /** Data out (T19): each action must be listed in the descriptor's dataOut. */
  perform(ctx: ConnectorContext, action: string, input: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** A webhook delivery as the API received it: raw bytes exactly as sent (signatures cover them). */
export interface WebhookRequest {
  method: string;
  /** Path and query as the vendor addressed them (the public URL's path prefix included): what a Jira `qsh` covers. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  query: Record<string, string | undefined>;
}

export interface VerifiedDelivery {
  /**
   * The dedup key, derived from what the vendor signed (a hash of the signed body or token, or an
   * id inside it): a captured delivery re-posted under a new unsigned id is still a repeat.
   */
  deliveryId: string;
  /** Event name, e.g. `issues.opened`; stored with the delivery, never the payload. */
  eventType: string;
  /** Set for events about the connection itself (uninstall, reauthorization required…). */
  lifecycle?: { event: string; subscriptionId?: string };
  /** Narrows the sync the delivery asks for (default: an incremental round of every resource). */
  sync?: { resource: string; full: boolean };
  /**
   * The customer-control value the delivery is about (Procore: `projects` and the project id): the
   * receiver refuses it (403) unless the value is in the integration's current controls (T18), e.g.
   * a retry of a hook deleted when the admin narrowed the selection.
   */
  control?: { key: string; value: string };
}

/** Always a 200 (every vendor's handshake expects one). */
export interface ChallengeAnswer {
  contentType: string;
  body: string;
}

/**
 * How the API's receiver authenticates a delivery of one webhook scheme (T21); each vendor folder
 * implements its own in `webhooks.ts`. A verifier sees the raw bytes and the endpoint's signing
 * secret; it answers the deliveries it proved authentic, or undefined (forged, stale, malformed:
 * the receiver answers 401 without saying which). Verifiers load no vendor SDK: the API runs them.
 */
export interface WebhookVerifier {
  /**
   * Subscription handshakes that precede signed deliveries (Graph `validationToken`, Slack
   * `url_verification`, Okta `X-Okta-Verification-Challenge`). Only asked for a known endpoint.
   */
  challenge?(request: WebhookRequest, secret: string): Promise<ChallengeAnswer | 'unauthenticated' | undefined>;
  verify(request: WebhookRequest, secret: string): Promise<VerifiedDelivery[] | undefined>;
  /**
   * Schemes whose proof is a static value (no signature over the body, no signed timestamp): a
   * repeat is more likely a captured delivery than the vendor's retry, so it is refused (401) like
   * a forgery instead of acknowledged. It changes nothing either way: the first one was recorded.
   */
  refuseRepeats?: boolean;
  /**
   * App-level deliveries (one URL for the whole vendor app): the key that binds an already
   * verified delivery to the integrations that subscribed to it (`route_app_webhook`).
   */
  appRoutingKey?(request: WebhookRequest): string | undefined;
}
