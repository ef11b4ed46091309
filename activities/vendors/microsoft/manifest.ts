import type { BuiltManifest } from '../manifest';
import { readMicrosoftApp, type MicrosoftApp } from './config';
import { microsoftDescriptors } from './descriptor';
import { graphVerifier } from './webhooks';

export const microsoftManifest: BuiltManifest<MicrosoftApp> = {
  family: 'microsoft',
  status: 'built',
  rows: Object.values(microsoftDescriptors),
  sdkPackages: ['@microsoft/microsoft-graph-client', '@azure/msal-node'],
  config: readMicrosoftApp,
  webhooks: { scheme: 'graph-client-state', verifier: () => graphVerifier },
};
