/**
 * Deployment allow-lists of the hosts a customer-run vendor may be reached at (an Okta org, an
 * Oracle Cloud pod, a P6 server): the admin submits the URL, so without this a connect could make
 * the worker call any address. http only where the deployment allows it (the local emulators).
 */
import type { ConfigReader } from '../../../lib/config';

export interface HostAllowList {
  /** Host names (or parent domains) a customer URL may have. */
  hosts: string[];
  /** Development only: hosts served over http. */
  allowHttp: boolean;
}

const TRUE = ['1', 'true', 'yes'];

/** Reads `<hostsVar>` (comma-separated host names; unset: the row is not configured) and `<httpVar>`. */
export function readHostAllowList(
  read: ConfigReader,
  displayName: string,
  hostsVar: string,
  httpVar: string,
): HostAllowList | undefined {
  const app = read.app(displayName, { [hostsVar]: read.str(hostsVar) });
  if (!app) return undefined;
  const hosts = app[hostsVar]!.split(',')
    .map((host) => host.trim().toLowerCase())
    .filter(Boolean);
  if (hosts.some((host) => !/^[a-z0-9.-]{1,253}$/.test(host)))
    read.problem(`${hostsVar} must be a comma-separated list of host names`);
  return { hosts, allowHttp: TRUE.includes((read.str(httpVar) ?? '').toLowerCase()) };
}

/** The URL when its host and scheme are allowed and it carries no credentials or fragment; undefined otherwise. */
export function urlOnAllowedHost(allow: HostAllowList, value: string | undefined): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const schemeOk = url.protocol === 'https:' || (allow.allowHttp && url.protocol === 'http:');
  const host = url.hostname.toLowerCase();
  const hostOk = allow.hosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
  return schemeOk && hostOk && !url.username && !url.password && !url.hash ? url : undefined;
}
