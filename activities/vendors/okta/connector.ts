/**
 * The Okta connector: federated sign-in only (T9, T19). Connect is OIDC at the customer's org
 * (`signIn`); the connection is then proven with userinfo and ended with revocation. Nothing is
 * synced, subscribed or sent: every such call is refused inside the audit (T10, T19). Event hooks
 * are created by the org's admin in Okta (we hold no management API token), pointed at our receiver.
 */
import * as oidc from 'openid-client';
import { VendorError, VendorFailureType } from '../errors';
import { createVendorCall, type VendorBudgets } from '../shared';
import type { Connector, ConnectorContext } from '../types';
import { fetchSamlMetadata, isSamlCredential, SAML_REVOCATION_NOTE } from '../shared/saml';
import { discoveredConfiguration, orgOf } from './client';
import { allowedSamlMetadataUrl, type OktaApp } from './config';
import { OKTA_MATRIX_SCOPE, oktaDescriptor } from './descriptor';
import { mapOktaError } from './errors';
import { authorizeUrl, exchangeCode, oktaRow } from './signIn';

export interface OktaConnectorOptions extends OktaApp {
  /** The worker's vendor budgets (shared by every worker); absent: this process's own. */
  budgets?: VendorBudgets;
}

function refused(reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, 'okta', reason);
}

export function createOktaConnector(options: OktaConnectorOptions): Connector {
  const app: OktaApp = { orgDomains: options.orgDomains, allowHttp: options.allowHttp };
  const vendorCall = createVendorCall({
    family: 'okta',
    // Each customer registers its own app in its own org: no app of ours to count per.
    appId: 'customer-orgs',
    rateLimit: oktaDescriptor.rateLimit,
    budgets: options.budgets,
    mapError: (error) => mapOktaError(error),
  });
  const call = <T>(ctx: ConnectorContext, action: string, scope: string, run: () => Promise<T>) =>
    // The credential's `orgUrl` (stored at sign-in) keys the org's budget.
    vendorCall(
      { audit: ctx.audit, workspaceId: ctx.workspaceId, credential: ctx.credential },
      { action, scope },
      async () => {
        oktaRow(ctx.vendor);
        return run();
      },
    );
  const refusedCall = (ctx: ConnectorContext, action: string, reason: string): Promise<never> =>
    call(ctx, action, OKTA_MATRIX_SCOPE, async () => {
      throw refused(reason);
    });

  return {
    vendors: ['okta'],
    authorizeUrl: (vendor, request) => authorizeUrl(app, vendor, request),
    exchangeCode: (vendor, input) => exchangeCode(app, vendorCall, vendor, input),
    saml: {
      fetchMetadata: (vendor, input) =>
        vendorCall({ audit: input.audit }, { action: 'saml.metadata', scope: OKTA_MATRIX_SCOPE }, async () => {
          oktaRow(vendor);
          const url = allowedSamlMetadataUrl(app, input.url);
          if (!url) throw refused('the SAML metadata URL is not at an Okta org on an allowed domain');
          return fetchSamlMetadata('okta', url);
        }),
    },
    // No refresh token is asked for: a lapsed sign-in token means signing in again.
    refresh: (ctx) =>
      call(ctx, 'oauth.refresh', OKTA_MATRIX_SCOPE, async () => {
        throw new VendorError(VendorFailureType.ReauthorizationRequired, 'okta', 'sign-in keeps no refresh token');
      }),
    testConnection: (ctx) =>
      isSamlCredential(ctx.credential)
        ? // A SAML sign-in leaves nothing at the org to call: the signed assertion was the proof.
          Promise.resolve()
        : call(ctx, 'oidc.userinfo', 'openid', async () => {
            const config = await discoveredConfiguration(app, orgOf(app, ctx.controls));
            await oidc
              .fetchUserInfo(
                config,
                ctx.credential.accessToken,
                ctx.credential.metadata?.subject ?? oidc.skipSubjectCheck,
              )
              .catch((error: unknown) => {
                throw mapOktaError(error, VendorFailureType.ReauthorizationRequired);
              });
          }),
    revoke: (ctx) =>
      isSamlCredential(ctx.credential)
        ? Promise.resolve({ revoked: false, note: SAML_REVOCATION_NOTE })
        : call(ctx, 'oauth.revoke', OKTA_MATRIX_SCOPE, async () => {
            const config = await discoveredConfiguration(app, orgOf(app, ctx.controls));
            await oidc
              .tokenRevocation(config, ctx.credential.accessToken, { token_type_hint: 'access_token' })
              .catch((error: unknown) => {
                throw mapOktaError(error);
              });
            return { revoked: true, note: oktaDescriptor.revocation.note };
          }),
    // The org's admin creates the event hook in Okta and pastes our endpoint and its Authorization value.
    registerWebhooks: async () => [],
    renewSubscription: async (_ctx, subscription) => subscription,
    deleteSubscription: async () => undefined,
    fetchPage: (ctx, input) =>
      refusedCall(ctx, 'sync.fetch-page', `resource ${input.resource} is not in the matrix row`),
    perform: (ctx, action) => refusedCall(ctx, `action.${action}`, 'identity providers receive nothing (T19)'),
  };
}
