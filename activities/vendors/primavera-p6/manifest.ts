import type { BuiltManifest } from '../manifest';
import { readPrimaveraApp, type PrimaveraApp } from './config';
import { primaveraDescriptors } from './descriptor';

export const primaveraManifest: BuiltManifest<PrimaveraApp> = {
  family: 'primavera-p6',
  status: 'built',
  rows: primaveraDescriptors,
  // No npm SDK: the shared REST client on Node's fetch (`../shared/restClient`).
  sdkPackages: [],
  config: readPrimaveraApp,
  // P6 EPPM sends no webhooks.
  webhooks: { scheme: 'none', verifier: () => undefined },
};
