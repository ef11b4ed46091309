import type { BuiltManifest } from '../manifest';
import { readAutodeskApp, type AutodeskApp } from './config';
import { autodeskDescriptors } from './descriptor';
import { autodeskVerifier } from './webhooks';

export const autodeskManifest: BuiltManifest<AutodeskApp> = {
  family: 'autodesk',
  status: 'built',
  rows: autodeskDescriptors,
  sdkPackages: [
    '@aps_sdk/authentication',
    '@aps_sdk/autodesk-sdkmanager',
    '@aps_sdk/construction-issues',
    '@aps_sdk/data-management',
  ],
  config: readAutodeskApp,
  // Each hook is signed with its own token, derived from the endpoint's secret: no app secret involved.
  webhooks: { scheme: 'autodesk-hmac-sha1', verifier: () => autodeskVerifier },
};
