/**
 * Shared connector mechanics (used by every `activities/vendors/<vendor>/`):
 * - `OAuth2Client`: authorize URL (PKCE S256 when given a challenge), code exchange, refresh, typed errors.
 * - `assertGrantWithinRequested`: T1 refusal of broader grants.
 * - `createVendorCall({ family, rateLimit, budgets, mapError })`: audited + budgeted + error-mapped vendor call.
 * - `ConnectorRuntimeOptions` / `OAuthAppConnectorOptions`: what every connector factory takes beside its hosts.
 * - `createSharedVendorBudgets` / `createLocalVendorBudgets`: budgets per vendor account (the
 *   descriptor's `rateLimit.countedPer`), shared by every worker through a store, or per process.
 * - `hmacSha256Hex`, `constantTimeEqual`, `verifyHs256Jwt`: webhook signature primitives.
 * - `ReplayGuard` / `createInMemoryReplayGuard`: delivery-id dedup.
 * - `APP_WEBHOOK_RESOURCE`: the subscription resource that routes app-level webhooks to an integration.
 * - `UpdatedWatermark` helpers: "updated since" cursors with an overlap window and id+updated dedupe.
 * Not exported here: `./saml` (SAML sign-in), which loads the SAML libraries; this index is loaded
 * by the API through the webhook verifiers, so connectors import `./saml` directly. Imported
 * directly too: `./restClient` (the typed REST client of endpoints no npm SDK covers), `./hostAllowList`
 * (hosts a customer-run vendor may be reached at), `./serviceAccount` and `./serviceAccountRest`
 * (service-account credentials, the audited service-account call and the steps such rows do not
 * have) and `./serviceAccountRow` (what those rows' descriptors say alike).
 */
export { OAuth2Client, type OAuth2ClientOptions } from './oauth2Client';
export { assertGrantWithinRequested } from './scopes';
export { createVendorCall, type VendorCall, type VendorErrorMapper } from './vendorCall';
export type { ConnectorRuntimeOptions, OAuthAppConnectorOptions } from './connectorOptions';
export {
  createLocalVendorBudgets,
  createSharedVendorBudgets,
  type BudgetLog,
  type VendorBudgets,
} from './vendorBudgets';
export { hmacSha256Hex, constantTimeEqual, verifyHs256Jwt } from './signatures';
export {
  createInMemoryReplayGuard,
  DEDUP_IN_RECEIVER,
  DEFAULT_REPLAY_RETENTION_MS,
  type ReplayGuard,
} from './replayGuard';
export {
  EMPTY_WATERMARK,
  advanceWatermark,
  freshRecords,
  isFresh,
  queryStartMs,
  type UpdatedWatermark,
} from './updatedWatermark';
export { APP_WEBHOOK_RESOURCE } from './appWebhooks';
