/**
 * One Connector for the five Microsoft rows, assembled from one module per concern. The rows share
 * the identity platform (`tokens`) and Graph (`sync`, `subscriptions`); they differ in scopes,
 * resources and the T18 control each one enforces before any request leaves (`guards`):
 * SharePoint → admin-selected sites, Teams → admin-selected channels, OneDrive → the app folder.
 * Every vendor call runs inside `ctx.audit` (T10), including the ones refused by a control.
 */
import type { Connector } from '../types';
import { testConnection } from './connection';
import { perform } from './dataOut';
import { MICROSOFT_VENDOR_IDS } from './descriptor';
import { createMicrosoftPlatform, type MicrosoftConnectorOptions } from './platform';
import { deleteSubscription, registerWebhooks, renewSubscription } from './subscriptions';
import { fetchPage } from './sync';
import { authorizeUrl, exchangeCode, fetchFederationMetadata, refresh, revoke } from './tokens';

export type { MicrosoftConnectorOptions } from './platform';

export function createMicrosoftConnector(options: MicrosoftConnectorOptions): Connector {
  const platform = createMicrosoftPlatform(options);
  return {
    vendors: MICROSOFT_VENDOR_IDS,
    authorizeUrl: (vendor, request) => authorizeUrl(platform, vendor, request),
    exchangeCode: (vendor, input) => exchangeCode(platform, vendor, input),
    saml: { fetchMetadata: (vendor, input) => fetchFederationMetadata(platform, vendor, input) },
    refresh: (ctx) => refresh(platform, ctx),
    testConnection: (ctx) => testConnection(platform, ctx),
    revoke,
    registerWebhooks: (ctx, input) => registerWebhooks(platform, ctx, input),
    renewSubscription: (ctx, subscription) => renewSubscription(platform, ctx, subscription),
    deleteSubscription: (ctx, subscription) => deleteSubscription(platform, ctx, subscription),
    fetchPage: (ctx, input) => fetchPage(platform, ctx, input),
    perform: (ctx, action, input) => perform(platform, ctx, action, input),
  };
}
