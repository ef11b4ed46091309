/** The Autodesk (APS) family, SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only. */
export {
  accDescriptor,
  docsDescriptor,
  tandemDescriptor,
  autodeskDescriptors,
  APS_READ,
  APS_WRITE,
  APS_ACCOUNT_READ,
  ACC_SYNC_RESOURCES,
  DOCS_SYNC_RESOURCES,
  ACC_ACTIONS,
  TANDEM_SYNC_RESOURCES,
  TANDEM_ACTIONS,
  type AutodeskResource,
} from './descriptor';
export { autodeskManifest } from './manifest';
export type { AutodeskApp } from './config';
export {
  autodeskVerifier,
  verifyAutodeskDelivery,
  autodeskDelivery,
  autodeskHookToken,
  adskSignature,
  DELIVERY_MAX_AGE_MS,
  HOOK_EVENTS,
} from './webhooks';
export { mapApsError } from './errors';
export { selectedProjects, assertProjectSelected, selectedFacilities } from './projects';
