import type { BuiltManifest } from '../manifest';
import { readOktaApp, type OktaApp } from './config';
import { oktaDescriptor } from './descriptor';
import { oktaVerifier } from './webhooks';

export const oktaManifest: BuiltManifest<OktaApp> = {
  family: 'okta',
  status: 'built',
  rows: [oktaDescriptor],
  sdkPackages: ['openid-client'],
  config: readOktaApp,
  // Event hooks carry the per-endpoint Authorization value set when the hook is created: no app secret.
  webhooks: { scheme: 'okta-shared-header', verifier: () => oktaVerifier },
};
