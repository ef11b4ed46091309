/**
 * One Connector for the two Google rows, assembled from one module per concern: OAuth and sign-in
 * (`tokens`, `identity`), Drive sync (`drive`), push channels (`channels`), data out (`dataOut`).
 * Every vendor call runs inside `ctx.audit` (T10), including the ones refused by a control.
 */
import type { Connector } from '../types';
import { deleteSubscription, registerWebhooks, renewSubscription } from './channels';
import { testConnection } from './connection';
import { perform } from './dataOut';
import { GOOGLE_VENDOR_IDS } from './descriptor';
import { fetchPage } from './drive';
import { createGooglePlatform, type GoogleConnectorOptions } from './platform';
import { createTokens } from './tokens';

export type { GoogleConnectorOptions } from './platform';

export function createGoogleConnector(options: GoogleConnectorOptions): Connector {
  const platform = createGooglePlatform(options);
  const tokens = createTokens(platform);
  return {
    vendors: GOOGLE_VENDOR_IDS,
    authorizeUrl: tokens.authorizeUrl,
    exchangeCode: tokens.exchangeCode,
    refresh: tokens.refresh,
    testConnection: (ctx) => testConnection(platform, ctx),
    revoke: tokens.revoke,
    registerWebhooks: (ctx, input) => registerWebhooks(platform, ctx, input),
    renewSubscription: (ctx, subscription, channel) => renewSubscription(platform, ctx, subscription, channel),
    deleteSubscription: (ctx, subscription) => deleteSubscription(platform, ctx, subscription),
    fetchPage: (ctx, input) => fetchPage(platform, ctx, input),
    perform: (ctx, action, input) => perform(platform, ctx, action, input),
  };
}
