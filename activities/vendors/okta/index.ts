/**
 * The Okta row of the vendor matrix: planned (no connector yet); its event-hook receiver is written
 * (`./webhooks`) and served, but answers only endpoints that exist, so none until connect is built.
 */
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';
import { oktaVerifier } from './webhooks';

export const oktaManifest: PlannedManifest = {
  family: 'okta',
  status: 'planned',
  rows: [
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'okta',
      displayName: 'Okta',
      // The matrix lists protocols, not OAuth scopes, for this row.
      scopes: { required: ['SAML 2.0 / OIDC'], optional: [] },
      authKind: 'federated-identity',
      pkce: true,
      customerControl: { kind: 'tenant', description: 'Customer-managed IdP.' },
      dataIn: ['authenticated-identity', 'group-claims'],
      // Identity providers receive nothing (T19).
      dataOut: [],
      syncResources: [],
      syncMode: 'none',
      webhook: { scheme: 'okta-shared-header' },
      revocation: { kind: 'none', note: 'Federated sign-in keeps no vendor credential: nothing to revoke.' },
    },
  ],
  webhooks: { scheme: 'okta-shared-header', verifier: () => oktaVerifier },
};

export { oktaAuthorized, oktaDelivery, oktaVerificationChallenge, oktaVerifier } from './webhooks';
