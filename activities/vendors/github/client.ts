/**
 * Octokit clients pointed at a base URL (api.github.com in production, the emulator in tests).
 * No retry/throttling plugins: rate limits surface as typed failures and workflows wait them out
 * with durable timers instead of an activity sleeping.
 */
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';

export interface GithubAppCredentials {
  appId: string;
  /** PEM private key of the app (signs RS256 app JWTs). */
  privateKey: string;
}

const quietLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Acts as the app itself (app JWT): installation tokens, uninstall. */
export function createAppOctokit(apiBaseUrl: string, app: GithubAppCredentials): Octokit {
  return new Octokit({
    baseUrl: apiBaseUrl,
    authStrategy: createAppAuth,
    auth: { appId: app.appId, privateKey: app.privateKey },
    log: quietLog,
  });
}

/** Acts with an installation token or a user token. */
export function createTokenOctokit(apiBaseUrl: string, token: string): Octokit {
  return new Octokit({ baseUrl: apiBaseUrl, auth: token, log: quietLog });
}
