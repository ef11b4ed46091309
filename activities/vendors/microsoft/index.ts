/** Microsoft Graph / Entra ID rows: Microsoft 365, SharePoint, OneDrive, Teams, Entra ID. */
export { microsoftDescriptors, MICROSOFT_VENDOR_IDS, type MicrosoftVendorId } from './descriptor';
export { createMicrosoftConnector, type MicrosoftConnectorOptions } from './connector';
export {
  clientStateMatches,
  parseNotifications,
  validationReply,
  type GraphNotification,
  type ParsedNotifications,
} from './webhooks';
