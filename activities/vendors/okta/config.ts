/**
 * The Okta row's deployment settings (there is no app of ours at Okta: each customer registers our
 * OIDC app in its own org). Which org hosts we may be sent to, so a connect cannot make the worker
 * fetch arbitrary URLs; http only for the local emulator.
 */
import type { ConfigReader } from '../../../lib/config';
import { readHostAllowList, urlOnAllowedHost } from '../shared/hostAllowList';

export interface OktaApp {
  /** Host names (or parent domains) an org URL may have: `okta.com`, `oktapreview.com`, a customer's custom domain. */
  orgDomains: string[];
  /** Development only: orgs served over http (the emulator). */
  allowHttp: boolean;
}

export function readOktaApp(read: ConfigReader): OktaApp | undefined {
  const allow = readHostAllowList(read, 'Okta', 'OKTA_ORG_DOMAINS', 'OKTA_ALLOW_HTTP');
  return allow && { orgDomains: allow.hosts, allowHttp: allow.allowHttp };
}

/** A URL at one of the allowed orgs (allowed domain and scheme, no credentials); undefined otherwise. */
function urlAtAllowedOrg(app: OktaApp, value: string | undefined): URL | undefined {
  return urlOnAllowedHost({ hosts: app.orgDomains, allowHttp: app.allowHttp }, value);
}

/** The org URL (origin only) when it is on an allowed domain and scheme; undefined otherwise. */
export function allowedOrgUrl(app: OktaApp, value: string | undefined): URL | undefined {
  const url = urlAtAllowedOrg(app, value);
  return url && url.pathname === '/' && !url.search ? new URL(url.origin) : undefined;
}

/** A SAML app's metadata URL (`https://<org>/app/<app id>/sso/saml/metadata`) at an allowed org. */
export const allowedSamlMetadataUrl = urlAtAllowedOrg;
