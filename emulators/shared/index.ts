/**
 * Emulator kit: the shared mechanics of every vendor emulator (`emulators/<vendor>/`). Emulators are
 * real HTTP servers the vendors' real SDKs talk to in tests and in the offline sandbox
 * (`SANDBOX_VENDORS=true`).
 *
 * - `startEmulatorServer({ router, before?, tls? })` → `{ url, requests, stop() }`: node:http (or
 *   https with `{ key, cert }`) on 127.0.0.1:0. `EmulatorRouter.on(method, '/a/:id', handler)`;
 *   handlers receive `{ method, path, query, headers, rawBody, body, params }` and return
 *   `{ status, headers?, body? }`. `requests` logs every request (for assertions).
 *   `bearerToken(request)`; `postDelivery(url, rawBody, headers)` sends a webhook delivery.
 * - `createEmulatorClock()` → `{ now(), advance(ms) }`: real time plus a movable offset.
 * - `OAuthAuthority` ({ clock, accessTokenTtlMs, refreshTokenTtlMs, refreshReuseGraceMs, tokenPrefix? }):
 *   `registerClient`, `authorize` (code bound to client, exact redirect URI, S256 challenge),
 *   `exchangeCode` (verifies PKCE), `refresh` (rotation; rotated-token reuse past the grace revokes
 *   the grant), `validateAccessToken`, `revokeAccessToken`, `revokeGrant`, `revokeSubject`.
 * - `oauthEndpoints`: the HTTP side of an emulated authorization server, the vendor's contract as
 *   data: `createAppAuthority(app, options)`, `consentRedirect(authority, request, { scopes, subject,
 *   pkce, state })`, `clientCredentials`, `redeemGrant`, `tokenAnswer`, `bearerGrant`, `basicCredentials`.
 * - `createRateStorm()` → `{ start(count, response), intercept() }`; `tooManyRequests(retryAfterSeconds)`.
 * - `createServiceAccounts(realm)`: basic-auth service accounts with roles (customer-run ERP and P6).
 * - `createFaultMode()` → `{ set({ latencyMs, errorRate, retryAfterSeconds }), clear(), counts() }`, passed to
 *   `startEmulatorServer({ faults })`: latency and a share of 503s / 429s on every route (`npm run chaos`).
 *
 * Convention for a vendor emulator: `start<Vendor>Emulator(options)` → `{ url, stop(), control }`,
 * where `control` seeds data, triggers deletes, revokes tokens, starts storms and sends signed webhooks.
 */
export { createEmulatorClock, type EmulatorClock } from './clock';
export {
  EmulatorRouter,
  startEmulatorServer,
  bearerToken,
  postDelivery,
  type EmulatorHandler,
  type EmulatorRequest,
  type EmulatorResponse,
  type LoggedRequest,
  type StartedServer,
} from './http';
export {
  OAuthAuthority,
  randomToken,
  type IssuedTokens,
  type OAuthClient,
  type OAuthGrant,
  type OAuthResult,
} from './oauthAuthority';
export {
  basicCredentials,
  bearerGrant,
  bodyFields,
  clientCredentials,
  consentRedirect,
  createAppAuthority,
  redeemGrant,
  tokenAnswer,
  type ClientCredentials,
  type RegisteredApp,
} from './oauthEndpoints';
export { createRateStorm, tooManyRequests, type RateStorm } from './rateStorm';
export { createServiceAccounts, isResponse, type ServiceAccount, type ServiceAccounts } from './serviceAccounts';
export { createFaultMode, type FaultCounts, type FaultMode, type FaultSettings } from './faults';
