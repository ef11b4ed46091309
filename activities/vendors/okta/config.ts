/**
 * The Okta row's deployment settings (there is no app of ours at Okta: each customer registers our
 * OIDC app in its own org). Which org hosts we may be sent to, so a connect cannot make the worker
 * fetch arbitrary URLs; http only for the local emulator.
 */
import type { ConfigReader } from '../../../lib/config';

export interface OktaApp {
  /** Host names (or parent domains) an org URL may have: `okta.com`, `oktapreview.com`, a customer's custom domain. */
  orgDomains: string[];
  /** Development only: orgs served over http (the emulator). */
  allowHttp: boolean;
}

export function readOktaApp(read: ConfigReader): OktaApp | undefined {
  const app = read.app('Okta', { OKTA_ORG_DOMAINS: read.str('OKTA_ORG_DOMAINS') });
  if (!app) return undefined;
  const orgDomains = app.OKTA_ORG_DOMAINS.split(',')
    .map((domain) => domain.trim().toLowerCase())
    .filter(Boolean);
  if (orgDomains.some((domain) => !/^[a-z0-9.-]{1,253}$/.test(domain)))
    read.problem('OKTA_ORG_DOMAINS must be a comma-separated list of host names');
  return { orgDomains, allowHttp: ['1', 'true', 'yes'].includes((read.str('OKTA_ALLOW_HTTP') ?? '').toLowerCase()) };
}

/** A URL at one of the allowed orgs (allowed domain and scheme, no credentials); undefined otherwise. */
function urlAtAllowedOrg(app: OktaApp, value: string | undefined): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const schemeOk = url.protocol === 'https:' || (app.allowHttp && url.protocol === 'http:');
  const host = url.hostname.toLowerCase();
  const domainOk = app.orgDomains.some((domain) => host === domain || host.endsWith(`.${domain}`));
  return schemeOk && domainOk && !url.username && !url.password && !url.hash ? url : undefined;
}

/** The org URL (origin only) when it is on an allowed domain and scheme; undefined otherwise. */
export function allowedOrgUrl(app: OktaApp, value: string | undefined): URL | undefined {
  const url = urlAtAllowedOrg(app, value);
  return url && url.pathname === '/' && !url.search ? new URL(url.origin) : undefined;
}

/** A SAML app's metadata URL (`https://<org>/app/<app id>/sso/saml/metadata`) at an allowed org. */
export const allowedSamlMetadataUrl = urlAtAllowedOrg;
