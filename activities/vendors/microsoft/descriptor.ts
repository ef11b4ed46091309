/**
 * The five Microsoft rows of the vendor matrix (`docs/vendor-matrix.md`), scopes exactly as listed
 * (T1). Graph permissions are requested in their short form, which Entra resolves to Graph.
 */
import type { VendorDescriptor, VendorId } from '../types';

export type MicrosoftVendorId = Extract<VendorId, 'microsoft365' | 'sharepoint' | 'onedrive' | 'teams' | 'entra'>;

const MINUTE_MS = 60_000;
/** Graph's maximum subscription lifetimes (change-notification resource docs). */
export const MAX_SUBSCRIPTION_MINUTES = { driveItem: 42_300, outlook: 4_230 } as const;

/** Graph has no single published quota: we stay far below the per-app Outlook/OneDrive limits (10,000 / 10 min). */
const GRAPH_REQUESTS_PER_MINUTE = 300;
/** Cached Graph records live one day at most (T3). */
const CACHE_TTL_MS = 24 * 60 * MINUTE_MS;

const REVOCATION_NOTE =
  'Microsoft has no token revocation endpoint and access tokens stay valid until they expire (60–90 min). ' +
  'Disconnect deletes the stored tokens and the Graph subscriptions; the tenant admin removes the consent in Entra ID (Enterprise applications).';

const shared = {
  authKind: 'oauth2-pkce',
  pkce: true,
  // Graph throttles per app and tenant, whichever row calls: the rows share one budget per tenant.
  rateLimit: {
    requestsPerMinute: GRAPH_REQUESTS_PER_MINUTE,
    countedPer: ['tenantId'],
  },
  revocation: { kind: 'none', note: REVOCATION_NOTE },
  cacheTtlMs: CACHE_TTL_MS,
} as const;

export const microsoftDescriptors: Record<MicrosoftVendorId, VendorDescriptor> = {
  microsoft365: {
    ...shared,
    id: 'microsoft365',
    displayName: 'Microsoft 365',
    scopes: { required: ['Files.Read', 'Calendars.Read'], optional: ['Mail.Send'] },
    customerControl: { kind: 'none', description: 'Per-workspace OAuth consent; admin can disconnect.' },
    dataIn: ['documents', 'calendar-events'],
    dataOut: ['notification', 'document-link'],
    syncResources: ['drive-items', 'calendar-events'],
    syncMode: 'webhook-and-delta',
    // The shortest of its subscriptions (Outlook events) bounds the renewal cadence.
    webhook: { scheme: 'graph-client-state', maxLifetimeMs: MAX_SUBSCRIPTION_MINUTES.outlook * MINUTE_MS },
  },
  sharepoint: {
    ...shared,
    id: 'sharepoint',
    displayName: 'SharePoint',
    // Sites.Selected grants nothing until the admin grants the app a site; never add Files.Read.All.
    scopes: { required: ['Sites.Selected', 'Files.ReadWrite.Selected'], optional: [] },
    customerControl: {
      kind: 'sites',
      description: 'Site-scoped via Graph (Sites.Selected); the admin picks the sites.',
    },
    dataIn: ['drawings', 'documents'],
    dataOut: ['report-export'],
    syncResources: ['site-drive-items'],
    syncMode: 'webhook-and-delta',
    webhook: { scheme: 'graph-client-state', maxLifetimeMs: MAX_SUBSCRIPTION_MINUTES.driveItem * MINUTE_MS },
  },
  onedrive: {
    ...shared,
    id: 'onedrive',
    displayName: 'OneDrive',
    scopes: { required: ['Files.ReadWrite.AppFolder'], optional: [] },
    customerControl: {
      kind: 'app-folder',
      description: 'User-controlled file picker; app folder isolation (Apps/{app}).',
    },
    dataIn: ['user-selected-files'],
    dataOut: ['app-folder-export'],
    syncResources: ['app-folder-items'],
    // "On demand" (the matrix): at connect and on "sync now", by delta. Graph subscribes to a OneDrive
    // for Business drive only at its root, which the app-folder permission cannot read.
    syncMode: 'on-demand',
    webhook: { scheme: 'none' },
  },
  teams: {
    ...shared,
    id: 'teams',
    displayName: 'Microsoft Teams',
    // ChannelMessage.Send is delegated-only: a signed-in user consents, the app posts as them.
    scopes: { required: ['ChannelMessage.Send', 'Chat.ReadWrite'], optional: [] },
    customerControl: { kind: 'channels', description: 'Channel-scoped; the admin selects channels.' },
    // Channel metadata comes in with the admin's selection (`channels: ['{teamId}/{channelId}']`), never
    // fetched: reading or subscribing to channels needs Channel.ReadBasic.All, which the matrix does not
    // list (Chat.ReadWrite covers chats only). Syncing channels takes a matrix change first (T1).
    dataIn: ['channel-metadata'],
    dataOut: ['channel-notification', 'approval-request'],
    syncResources: [],
    syncMode: 'none',
    webhook: { scheme: 'none' },
  },
  entra: {
    ...shared,
    id: 'entra',
    displayName: 'Microsoft Entra ID',
    scopes: { required: ['openid', 'profile', 'email'], optional: [] },
    authKind: 'federated-identity',
    samlSignIn: true,
    customerControl: { kind: 'tenant', description: 'Customer-managed IdP; SAML/OIDC metadata exchange.' },
    dataIn: ['authenticated-identity', 'group-claims'],
    // Identity providers receive nothing (T19).
    dataOut: [],
    syncResources: [],
    syncMode: 'none',
    webhook: { scheme: 'none' },
  },
};

export const MICROSOFT_VENDOR_IDS = Object.keys(microsoftDescriptors) as MicrosoftVendorId[];

export function isMicrosoftVendor(vendor: VendorId): vendor is MicrosoftVendorId {
  return vendor in microsoftDescriptors;
}
