import type { BuiltManifest } from '../manifest';
import { readGoogleApp, type GoogleApp } from './config';
import { googleDescriptors } from './descriptor';
import { driveChannelVerifier } from './webhooks';

export const googleManifest: BuiltManifest<GoogleApp> = {
  family: 'google',
  status: 'built',
  rows: Object.values(googleDescriptors),
  sdkPackages: ['@googleapis/drive', 'google-auth-library'],
  config: readGoogleApp,
  webhooks: { scheme: 'google-channel-token', verifier: () => driveChannelVerifier },
};
