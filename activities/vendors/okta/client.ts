/**
 * The customer's Okta org through `openid-client` (the certified OIDC relying party): the org
 * authorization server's discovery (`/.well-known/openid-configuration`, issuer = the org URL),
 * authorization code + PKCE S256 as a public client (no secret: T9), ID token validation against
 * the org's JWKS, userinfo and revocation. Every HTTP call goes through `oktaFetch`, which turns
 * Okta's 429 into RateLimited with the wait `X-Rate-Limit-Reset` announces.
 */
import * as oidc from 'openid-client';
import { VendorError, VendorFailureType } from '../errors';
import { allowedOrgUrl, type OktaApp } from './config';
import { OKTA_CONTROL } from './descriptor';
import { oktaRateLimited } from './errors';

/** One customer's org and the OIDC app it registered for us. */
export interface OktaOrg {
  url: URL;
  clientId: string;
}

const CLIENT_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** The org and client id of an integration's controls; refused (T18) when absent or off the allowed domains. */
export function orgOf(app: OktaApp, controls: Readonly<Record<string, readonly string[]>> | undefined): OktaOrg {
  const orgs = controls?.[OKTA_CONTROL.org] ?? [];
  const clientIds = controls?.[OKTA_CONTROL.clientId] ?? [];
  const url = orgs.length === 1 ? allowedOrgUrl(app, orgs[0]) : undefined;
  const clientId = clientIds.length === 1 && CLIENT_ID.test(clientIds[0]!) ? clientIds[0]! : undefined;
  if (!url || !clientId)
    throw new VendorError(
      VendorFailureType.OutsideCustomerControls,
      'okta',
      `the integration must name one Okta org URL on an allowed domain ("${OKTA_CONTROL.org}") and one OIDC client id ("${OKTA_CONTROL.clientId}")`,
    );
  return { url, clientId };
}

/** Node's fetch, with Okta's 429 surfaced as RateLimited (the library would read it as a protocol error). */
const oktaFetch: oidc.CustomFetch = async (url, options) => {
  const response = await fetch(url, options as RequestInit);
  if (response.status === 429) throw oktaRateLimited(response.headers.get('x-rate-limit-reset'));
  return response;
};

function configure(app: OktaApp, config: oidc.Configuration): oidc.Configuration {
  config[oidc.customFetch] = oktaFetch;
  // The ID token's signature is checked against the org's published keys, not only trusted for arriving over TLS.
  oidc.enableNonRepudiationChecks(config);
  if (app.allowHttp && config.serverMetadata().issuer.startsWith('http:')) oidc.allowInsecureRequests(config);
  return config;
}

/**
 * The org authorization server as Okta documents it (issuer = org URL, endpoints under `/oauth2/v1`):
 * enough to build the authorize URL without a network call. Tokens are only redeemed after discovery.
 */
export function documentedConfiguration(app: OktaApp, org: OktaOrg): oidc.Configuration {
  const base = org.url.origin;
  return configure(
    app,
    new oidc.Configuration(
      {
        issuer: base,
        authorization_endpoint: `${base}/oauth2/v1/authorize`,
        token_endpoint: `${base}/oauth2/v1/token`,
        revocation_endpoint: `${base}/oauth2/v1/revoke`,
        userinfo_endpoint: `${base}/oauth2/v1/userinfo`,
        jwks_uri: `${base}/oauth2/v1/keys`,
      },
      org.clientId,
      { token_endpoint_auth_method: 'none' },
      oidc.None(),
    ),
  );
}

/** The org's published metadata and keys; the library checks its issuer is exactly the org URL. */
export async function discoveredConfiguration(app: OktaApp, org: OktaOrg): Promise<oidc.Configuration> {
  const config = await oidc.discovery(org.url, org.clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), {
    [oidc.customFetch]: oktaFetch,
    execute: app.allowHttp && org.url.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
  });
  return configure(app, config);
}
