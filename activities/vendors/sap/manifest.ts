import type { BuiltManifest } from '../manifest';
import { readSapApp, type SapApp } from './config';
import { sapDescriptors } from './descriptor';

export const sapManifest: BuiltManifest<SapApp> = {
  family: 'sap',
  status: 'built',
  rows: sapDescriptors,
  sdkPackages: ['@sap-cloud-sdk/odata-v2'],
  // No app of ours at SAP: the row is available wherever tenant hosts are allowed (defaults: SAP's cloud).
  config: readSapApp,
  // The OData services send no webhooks.
  webhooks: { scheme: 'none', verifier: () => undefined },
};
