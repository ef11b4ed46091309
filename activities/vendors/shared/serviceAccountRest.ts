/**
 * The shared part of connectors for customer-run vendors reached with a service account over REST
 * (Oracle ERP Cloud, Primavera P6): the submitted `baseUrl`, `username` and `password`, the URL
 * held to the deployment's allowed hosts before any request, and the Connector steps such a row
 * does not have (no OAuth, no webhooks, nothing of ours to revoke at the vendor).
 */
import { VendorError, VendorFailureType } from '../errors';
import type { AuditedCall, Connector, ConnectorContext, VendorDescriptor } from '../types';
import { urlOnAllowedHost, type HostAllowList } from './hostAllowList';
import { readServiceAccount } from './serviceAccount';

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
