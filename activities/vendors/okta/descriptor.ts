/**
 * The Okta row of the vendor matrix: federated sign-in at the customer's own Okta org (OIDC with
 * PKCE, or SAML 2.0), the signed-in identity and its groups in, nothing out (T19).
 */
import type { VendorDescriptor } from '../types';

const MINUTE_MS = 60_000;

/**
 * The matrix lists protocols, not OAuth scopes, for this row: its one "scope" is this label. The
 * OIDC request asks Okta for exactly the protocol scopes the row's data in needs: `openid` (who
 * signed in) and `groups` (the group claims). No `profile`, `email` or `offline_access`.
 */
export const OKTA_MATRIX_SCOPE = 'SAML 2.0 / OIDC';
export const OKTA_OIDC_SCOPES = ['openid', 'groups'] as const;

/** The customer control keys: the org (`tenant`), and the OIDC app's public client id in it. */
export const OKTA_CONTROL = { org: 'tenant', clientId: 'client-id' } as const;

export const oktaDescriptor: VendorDescriptor = {
  id: 'okta',
  displayName: 'Okta',
  scopes: { required: [OKTA_MATRIX_SCOPE], optional: [] },
  authKind: 'federated-identity',
  pkce: true,
  samlSignIn: true,
  customerControl: {
    kind: 'tenant',
    description:
      'Customer-managed IdP: the admin names the Okta org (its URL) and the client id of the OIDC app registered in it; the app is a public client with PKCE, so no secret changes hands.',
    settings: [OKTA_CONTROL.clientId],
  },
  dataIn: ['authenticated-identity', 'group-claims'],
  // Identity providers receive nothing (T19).
  dataOut: [],
  syncResources: [],
  syncMode: 'none',
  // Okta's org authorization server allows hundreds of /authorize and /token calls a minute per org; sign-in needs a few.
  // Okta counts its rate limits per org: every integration signed in at one org shares its budget.
  rateLimit: { requestsPerMinute: 60, countedPer: ['orgUrl'] },
  webhook: { scheme: 'okta-shared-header', secretHolder: 'customer-admin' },
  revocation: {
    kind: 'revoke-endpoint',
    note: "Disconnect revokes the sign-in's access token at the org's /oauth2/v1/revoke and deletes it; Okta issued no refresh token (none is asked for).",
  },
  // Nothing is cached for an identity row; the TTL bounds what never arrives.
  cacheTtlMs: 24 * 60 * MINUTE_MS,
};
