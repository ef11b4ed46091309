/**
 * The Okta row: federated sign-in (OIDC with PKCE) at the customer's own org, and its event-hook
 * receiver. SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only.
 */
export { oktaManifest } from './manifest';
export { oktaDescriptor, OKTA_CONTROL, OKTA_MATRIX_SCOPE, OKTA_OIDC_SCOPES } from './descriptor';
export type { OktaApp } from './config';
export { oktaAuthorized, oktaDelivery, oktaVerificationChallenge, oktaVerifier } from './webhooks';
