/** The Oracle ERP Cloud family, SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only. */
export {
  oracleErpDescriptor,
  oracleErpDescriptors,
  ORACLE_ERP_READ,
  ORACLE_ERP_SYNC_RESOURCES,
  type OracleErpResource,
} from './descriptor';
export { oracleErpManifest } from './manifest';
export type { OracleErpApp } from './config';
