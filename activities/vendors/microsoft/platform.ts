/**
 * What every Microsoft concern shares: the app registration, the endpoints with their dispatcher,
 * the clock, and the two audited call paths (T10) under one budget per tenant, since Graph throttles
 * per app and tenant whichever row calls.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { createVendorCall, type VendorBudgets, type VendorCall } from '../shared';
import type { AuditedCall, ConnectorContext } from '../types';
import { GRAPH_BASE_URL, LOGIN_BASE_URL, createDispatcher, createGraphClient, type MicrosoftEndpoints } from './client';
import { microsoftDescriptors } from './descriptor';
import { mapMicrosoftError } from './errors';

export interface MicrosoftConnectorOptions {
  clientId: string;
  clientSecret: string;
  /** Tenant id, or `organizations` for multi-tenant sign-in. */
  tenantId: string;
  graphBaseUrl?: string;
  loginBaseUrl?: string;
  caCert?: string;
  /**
   * The https origin Graph posts change notifications to, when the API's public URL is not https
   * (Graph refuses an http notificationUrl): a TLS front that forwards paths to the API unchanged.
   */
  notificationUrl?: string;
  now?: () => number;
  /** The worker's vendor budgets (shared by every worker); absent: this process's own. */
  budgets?: VendorBudgets;
}

export interface MicrosoftApp {
  clientId: string;
  clientSecret: string;
  tenantId: string;
}

/**
 * One Graph call inside the audit, with the SDK's errors mapped; `precheck` runs inside too, so a
 * refusal by our own controls is audited like a vendor answer.
 */
export type GraphCall = <T>(
  ctx: ConnectorContext,
  call: AuditedCall,
  run: (client: Client) => Promise<T>,
  precheck?: () => void,
) => Promise<T>;

export interface MicrosoftPlatform {
  app: MicrosoftApp;
  endpoints: MicrosoftEndpoints;
  dispatcher: Agent | undefined;
  now: () => number;
  /** Audited, budgeted, error-mapped call for identity-platform requests. */
  vendorCall: VendorCall;
  graphCall: GraphCall;
  /** Where Graph must deliver a subscription's notifications for the API's callback URL. */
  notificationUrlFor(callbackUrl: string): string;
}

export function createMicrosoftPlatform(options: MicrosoftConnectorOptions): MicrosoftPlatform {
  const endpoints: MicrosoftEndpoints = {
    graphBaseUrl: (options.graphBaseUrl ?? GRAPH_BASE_URL).replace(/\/$/, ''),
    loginBaseUrl: (options.loginBaseUrl ?? LOGIN_BASE_URL).replace(/\/$/, ''),
    caCert: options.caCert,
  };
  const dispatcher = createDispatcher(endpoints.caCert);
  const now = options.now ?? Date.now;
  const vendorCall = createVendorCall({
    family: 'microsoft',
    appId: options.clientId,
    rateLimit: microsoftDescriptors.microsoft365.rateLimit,
    budgets: options.budgets,
    mapError: (error) => mapMicrosoftError('microsoft', error),
  });
  const graphCall: GraphCall = (ctx, call, run, precheck) =>
    vendorCall(ctx, call, async () => {
      precheck?.();
      return run(createGraphClient(endpoints, dispatcher, ctx.credential.accessToken));
    });
  return {
    app: { clientId: options.clientId, clientSecret: options.clientSecret, tenantId: options.tenantId },
    endpoints,
    dispatcher,
    now,
    vendorCall,
    graphCall,
    notificationUrlFor: (callbackUrl) =>
      options.notificationUrl ? rebase(callbackUrl, options.notificationUrl) : callbackUrl,
  };
}

/** The callback's path and query on the notification origin. */
function rebase(callbackUrl: string, origin: string): string {
  const callback = new URL(callbackUrl);
  return new URL(`${callback.pathname}${callback.search}`, origin).toString();
}
