/**
 * The shared part of connectors for customer-run vendors reached with a service account over REST
 * (Oracle ERP Cloud, Primavera P6): the submitted `baseUrl`, `username` and `password`, the URL
 * held to the deployment's allowed hosts before any request, the REST client signed in as the
 * account, the one audited and budgeted call (a 403 named as the permission the vendor's answer
 * leaves out), and the Connector steps such a row does not have (no OAuth, no webhooks, nothing of
 * ours to revoke at the vendor). What each vendor's 403 means stays in its connector.
 */
import { VendorError, VendorFailureType } from '../errors';
import type { AuditedCall, Connector, ConnectorContext, VendorDescriptor } from '../types';
import type { ConnectorRuntimeOptions } from './connectorOptions';
import { urlOnAllowedHost, type HostAllowList } from './hostAllowList';
import { RestError, basicAuthorization, createRestClient, type RestClient } from './restClient';
import { readServiceAccount } from './serviceAccount';
import { createLocalVendorBudgets } from './vendorBudgets';
import { createVendorCall } from './vendorCall';

/** The credential fields these rows take (documented per row in docs/vendors/). */
export const BASIC_SERVICE_ACCOUNT_FIELDS = ['baseUrl', 'username', 'password'] as const;

export interface BasicServiceAccount {
  baseUrl: URL;
  username: string;
  password: string;
  /** What the vendor counts its limit per (the descriptor's `countedPer: ['host']`). */
  metadata: { host: string };
}

/** The admin's service account, its URL on an allowed host and scheme; refused by name otherwise. */
export function basicServiceAccount(ctx: ConnectorContext, hosts: HostAllowList): BasicServiceAccount {
  const account = readServiceAccount(ctx, BASIC_SERVICE_ACCOUNT_FIELDS);
  const baseUrl = urlOnAllowedHost(hosts, account.baseUrl);
  if (!baseUrl) throw new VendorError(VendorFailureType.VendorRejected, ctx.vendor, 'baseUrl is not an allowed host');
  return { baseUrl, username: account.username, password: account.password, metadata: { host: baseUrl.host } };
}

/**
 * Runs `use` with the admin's service account; a credential refused before any request (a missing
 * field, a URL off the allowed hosts) is recorded on the audited path like any other refusal.
 */
export function withBasicServiceAccount<T>(
  ctx: ConnectorContext,
  hosts: HostAllowList,
  call: AuditedCall,
  use: (account: BasicServiceAccount) => Promise<T>,
): Promise<T> {
  let account: BasicServiceAccount;
  try {
    account = basicServiceAccount(ctx, hosts);
  } catch (error) {
    return ctx.audit(call, () => Promise.reject(error));
  }
  return use(account);
}

/** The vendor's REST API as the service account (basic auth). */
export function serviceAccountRestClient(account: { baseUrl: URL; username: string; password: string }): RestClient {
  return createRestClient({
    baseUrl: account.baseUrl,
    authorization: basicAuthorization(account.username, account.password),
  });
}

export interface ServiceAccountConnectorOptions extends ConnectorRuntimeOptions {
  /** Where a submitted URL may point (the row's `*_HOSTS` setting). */
  hosts: HostAllowList;
}

/**
 * One audited, budgeted call as the admin's service account: `run` gets the account's REST client;
 * a 403 becomes `forbidden()`, the permission the vendor's answer does not name.
 */
export type ServiceAccountCall = <T>(
  ctx: ConnectorContext,
  audited: AuditedCall,
  run: (rest: RestClient) => Promise<T>,
  forbidden: () => VendorError,
) => Promise<T>;

export function createServiceAccountCall(
  options: ServiceAccountConnectorOptions & {
    family: string;
    rateLimit: VendorDescriptor['rateLimit'];
    /** The vendor's error mapping, at the connector's clock. */
    mapError: (error: unknown, now: number) => unknown;
  },
): ServiceAccountCall {
  const now = options.now ?? Date.now;
  const call = createVendorCall({
    family: options.family,
    // No app of ours at the vendor: the budget is the customer's host's (countedPer host).
    appId: 'service-account',
    rateLimit: options.rateLimit,
    budgets: options.budgets ?? createLocalVendorBudgets({ now }),
    mapError: (error) => options.mapError(error, now()),
  });
  // The customer's API as the service account; a URL off the allowed hosts is refused before any call.
  return (ctx, audited, run, forbidden) =>
    withBasicServiceAccount(ctx, options.hosts, audited, (account) =>
      call({ audit: ctx.audit, workspaceId: ctx.workspaceId, credential: account }, audited, async () => {
        try {
          return await run(serviceAccountRestClient(account));
        } catch (error) {
          throw error instanceof RestError && error.status === 403 ? forbidden() : error;
        }
      }),
    );
}

type PollingOnlySteps = Pick<
  Connector,
  | 'authorizeUrl'
  | 'exchangeCode'
  | 'refresh'
  | 'revoke'
  | 'registerWebhooks'
  | 'renewSubscription'
  | 'deleteSubscription'
>;

/** What a service-account row without webhooks answers for the OAuth, revocation and subscription steps. */
export function serviceAccountPollingSteps(descriptor: VendorDescriptor): PollingOnlySteps {
  const noOAuth = () => {
    throw new VendorError(
      VendorFailureType.OutsideCustomerControls,
      descriptor.id,
      `${descriptor.displayName} connects with a service account, not OAuth`,
    );
  };
  return {
    authorizeUrl: noOAuth,
    exchangeCode: async () => noOAuth(),
    refresh: async () => noOAuth(),
    // The account is the customer's: disconnect destroys our copy; the customer disables the account.
    revoke: async () => ({ revoked: false, note: descriptor.revocation.note }),
    // No webhooks: scheduled sync only.
    registerWebhooks: async () => [],
    renewSubscription: async (_ctx, subscription) => subscription,
    deleteSubscription: async () => undefined,
  };
}
