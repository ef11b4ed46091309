/** The Procore family, SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only. */
export {
  procoreDescriptor,
  procoreDescriptors,
  PROCORE_READ,
  PROCORE_STATUS_UPDATES,
  PROCORE_SYNC_RESOURCES,
  type ProcoreResource,
} from './descriptor';
export { procoreManifest } from './manifest';
export type { ProcoreApp } from './config';
export {
  procoreVerifier,
  verifyProcoreDelivery,
  procoreDelivery,
  procoreDestinationHeaders,
  procoreDestinationToken,
  DELIVERY_MAX_AGE_MS,
  TRIGGER_RESOURCES,
  TRIGGER_EVENTS,
} from './webhooks';
export { mapProcoreError } from './errors';
export { selectedProjects, assertProjectSelected } from './projects';
