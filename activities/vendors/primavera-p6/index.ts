/** The Oracle Primavera P6 family, SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only. */
export {
  primaveraDescriptor,
  primaveraDescriptors,
  P6_PROJECTS_CONTROL,
  P6_READ,
  P6_STATUS_UPDATES_CONTROL,
  P6_SYNC_RESOURCES,
  type P6Resource,
} from './descriptor';
export { primaveraManifest } from './manifest';
export type { PrimaveraApp } from './config';
