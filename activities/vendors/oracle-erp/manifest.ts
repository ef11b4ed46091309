import type { BuiltManifest } from '../manifest';
import { readOracleErpApp, type OracleErpApp } from './config';
import { oracleErpDescriptors } from './descriptor';

export const oracleErpManifest: BuiltManifest<OracleErpApp> = {
  family: 'oracle-erp',
  status: 'built',
  rows: oracleErpDescriptors,
  // No npm SDK: the shared REST client on Node's fetch (`../shared/restClient`).
  sdkPackages: [],
  config: readOracleErpApp,
  // Oracle ERP Cloud sends no webhooks.
  webhooks: { scheme: 'none', verifier: () => undefined },
};
