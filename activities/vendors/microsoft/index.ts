/**
 * Microsoft Graph / Entra ID rows: Microsoft 365, SharePoint, OneDrive, Teams, Entra ID. SDK-free
 * (the API loads it); the connector is `./connector`, loaded by the worker only.
 */
export { microsoftDescriptors, MICROSOFT_VENDOR_IDS, type MicrosoftVendorId } from './descriptor';
export { microsoftManifest } from './manifest';
export type { MicrosoftApp } from './config';
export {
  clientStateMatches,
  graphVerifier,
  parseNotifications,
  validationReply,
  type GraphNotification,
  type ParsedNotifications,
} from './webhooks';
