/**
 * The SAP row's deployment settings. There is no app of ours at SAP: each customer creates a
 * communication user in its own tenant and submits its API host with the credential. Which hosts the
 * worker may be sent to is ours to decide, so a connect cannot make it call arbitrary URLs (SSRF);
 * http only for the local emulator.
 */
import type { ConfigReader } from '../../../lib/config';

export interface SapApp {
  /** Host names (or parent domains) a tenant's API URL may have. */
  apiDomains: string[];
  /** Development only: tenants served over http (the emulator). */
  allowHttp: boolean;
}

/** SAP S/4HANA Cloud's API hosts (`my123456-api.s4hana.cloud.sap`, formerly `…s4hana.ondemand.com`). */
const DEFAULT_API_DOMAINS = ['s4hana.cloud.sap', 's4hana.ondemand.com'];

export function readSapApp(read: ConfigReader): SapApp {
  const configured = read.str('SAP_API_DOMAINS');
  const apiDomains = configured
    ? configured
        .split(',')
        .map((domain) => domain.trim().toLowerCase())
        .filter(Boolean)
    : DEFAULT_API_DOMAINS;
  if (apiDomains.some((domain) => !/^[a-z0-9.-]{1,253}$/.test(domain)))
    read.problem('SAP_API_DOMAINS must be a comma-separated list of host names');
  return { apiDomains, allowHttp: ['1', 'true', 'yes'].includes((read.str('SAP_ALLOW_HTTP') ?? '').toLowerCase()) };
}

/** The tenant's API origin when it is on an allowed domain and scheme, with no path, query or credentials. */
export function allowedTenantUrl(app: SapApp, value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const schemeOk = url.protocol === 'https:' || (app.allowHttp && url.protocol === 'http:');
  const host = url.hostname.toLowerCase();
  const domainOk = app.apiDomains.some((domain) => host === domain || host.endsWith(`.${domain}`));
  const bare = !url.username && !url.password && !url.search && !url.hash && url.pathname === '/';
  return schemeOk && domainOk && bare ? new URL(url.origin) : undefined;
}
