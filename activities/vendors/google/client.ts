/**
 * The official SDK clients pointed at our app's endpoints: `google-auth-library`'s OAuth2Client
 * (authorize URL, code exchange with PKCE, refresh, revocation; its `endpoints` option moves them
 * off Google's hosts for the emulator) and `@googleapis/drive` v3 (its `rootUrl` option). SDK
 * retries are off: a 429 or a quota 403 surfaces as RateLimited and the workflow waits on a
 * durable timer instead of an activity sleeping. Both send with Node's own fetch:
 * gaxios would otherwise load node-fetch by a dynamic import, which CommonJS test runners cannot follow.
 */
import { drive, type drive_v3 } from '@googleapis/drive';
import { OAuth2Client } from 'google-auth-library';
import type { GoogleApp } from './config';

export type DriveClient = drive_v3.Drive;

export interface GoogleEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  jwksUrl: string;
  userinfoUrl: string;
  /** The ID token's `iss`: Google's accounts origin. */
  issuer: string;
  apiRootUrl: string;
}

export function googleEndpoints(app: GoogleApp): GoogleEndpoints {
  const trim = (url: string) => url.replace(/\/+$/, '');
  const accounts = trim(app.accountsUrl);
  const oauth2 = trim(app.oauth2Url);
  const api = trim(app.apiUrl);
  return {
    authorizeUrl: `${accounts}/o/oauth2/v2/auth`,
    tokenUrl: `${oauth2}/token`,
    revokeUrl: `${oauth2}/revoke`,
    jwksUrl: `${api}/oauth2/v3/certs`,
    userinfoUrl: `${api}/oauth2/v3/userinfo`,
    issuer: accounts,
    apiRootUrl: `${api}/`,
  };
}

/** A fresh client per operation, so its credentials are exactly this grant's. */
export function createOAuthClient(app: GoogleApp, endpoints: GoogleEndpoints, redirectUri?: string): OAuth2Client {
  return new OAuth2Client({
    transporterOptions: { fetchImplementation: fetch },
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri,
    endpoints: {
      oauth2AuthBaseUrl: endpoints.authorizeUrl,
      oauth2TokenUrl: endpoints.tokenUrl,
      oauth2RevokeUrl: endpoints.revokeUrl,
      oauth2FederatedSignonJwkCertsUrl: endpoints.jwksUrl,
    },
  });
}

/**
 * Drive with the stored access token only: no refresh token in this client, so a 401 reaches us
 * (ReauthorizationRequired) instead of a silent refresh outside the lifecycle's rotation.
 */
export function createDriveClient(app: GoogleApp, endpoints: GoogleEndpoints, accessToken: string): DriveClient {
  const auth = createOAuthClient(app, endpoints);
  auth.setCredentials({ access_token: accessToken });
  return drive({ version: 'v3', auth, rootUrl: endpoints.apiRootUrl, retry: false, fetchImplementation: fetch });
}
