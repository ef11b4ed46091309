/** The SAP family, SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only. */
export { sapDescriptor, sapDescriptors, SAP_MATRIX_SCOPE, SAP_RESOURCES, type SapResource } from './descriptor';
export { sapManifest } from './manifest';
export { allowedTenantUrl, type SapApp } from './config';
