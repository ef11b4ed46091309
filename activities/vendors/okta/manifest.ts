import type { BuiltManifest } from '../manifest';
import { readOktaApp, type OktaApp } from './config';
import { oktaDescriptor } from './descriptor';
import { oktaVerifier } from './webhooks';

export const oktaManifest: BuiltManifest<OktaApp> = {
  family: 'okta',
  status: 'built',
  rows: [oktaDescriptor],
  // OIDC, and the SAML stack of `../shared/saml` (protocol libraries, kept out of the API like SDKs).
  sdkPackages: ['openid-client', '@node-saml/node-saml', '@xmldom/xmldom'],
  config: readOktaApp,
  // Event hooks carry the per-endpoint Authorization value set when the hook is created: no app secret.
  webhooks: { scheme: 'okta-shared-header', verifier: () => oktaVerifier },
};
