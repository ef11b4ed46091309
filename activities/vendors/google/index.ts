/**
 * Google rows: Google Drive (`drive.file`, per-file consent through the Picker) and Google Workspace
 * sign-in (OIDC). SDK-free (the API loads it); the connector is `./connector`, loaded by the worker only.
 */
export {
  googleDescriptors,
  GOOGLE_VENDOR_IDS,
  GOOGLE_SCOPE_URIS,
  MAX_CHANNEL_LIFETIME_MS,
  matrixScopeOf,
  type GoogleVendorId,
} from './descriptor';
export { googleManifest } from './manifest';
export type { GoogleApp } from './config';
export { authenticChannelMessage, driveChannelVerifier, type ChannelMessage } from './webhooks';
