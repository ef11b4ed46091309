import type { BuiltManifest } from '../manifest';
import { readProcoreApp, type ProcoreApp } from './config';
import { procoreDescriptors } from './descriptor';
import { procoreVerifier } from './webhooks';

export const procoreManifest: BuiltManifest<ProcoreApp> = {
  family: 'procore',
  status: 'built',
  rows: procoreDescriptors,
  sdkPackages: ['@procore/js-sdk'],
  config: readProcoreApp,
  // Deliveries carry the per-endpoint destination header: no app secret involved.
  webhooks: { scheme: 'procore-destination-header', verifier: () => procoreVerifier },
};
