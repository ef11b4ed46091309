/**
 * Service accounts of customer-run vendors (Oracle ERP Cloud, Primavera P6) as their emulators hold
 * them: HTTP basic auth against the accounts the customer's admin created, each with the roles it
 * was granted. A missing or wrong credential is a 401 with a Basic challenge, a disabled account too.
 */
import type { EmulatorRequest, EmulatorResponse } from './http';

export interface ServiceAccount {
  username: string;
  password: string;
  roles: Set<string>;
  disabled: boolean;
}

export interface ServiceAccounts {
  add(username: string, password: string, roles: readonly string[]): ServiceAccount;
  get(username: string): ServiceAccount | undefined;
  /** The account the request signs in as, or the 401 to answer. */
  authenticate(request: EmulatorRequest): ServiceAccount | EmulatorResponse;
}

export function createServiceAccounts(realm: string): ServiceAccounts {
  const accounts = new Map<string, ServiceAccount>();
  const unauthorized: EmulatorResponse = {
    status: 401,
    headers: { 'www-authenticate': `Basic realm="${realm}"` },
    body: { title: 'Unauthorized', status: 401 },
  };
  return {
    add(username, password, roles) {
      const account = { username, password, roles: new Set(roles), disabled: false };
      accounts.set(username, account);
      return account;
    },
    get: (username) => accounts.get(username),
    authenticate(request) {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '');
      if (!match) return unauthorized;
      const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const account = colon > 0 ? accounts.get(decoded.slice(0, colon)) : undefined;
      return account && !account.disabled && account.password === decoded.slice(colon + 1) ? account : unauthorized;
    },
  };
}

export function isResponse(value: ServiceAccount | EmulatorResponse): value is EmulatorResponse {
  return 'status' in value;
}
