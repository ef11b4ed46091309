/**
 * The HTTP side of an emulated authorization server, shared by the vendor emulators that sign our
 * app in with OAuth 2.0 (Autodesk, Procore, Jira, Slack): the app's registration, the consent
 * redirect, the token endpoint's two grants, client credentials and bearer tokens. What differs per
 * vendor's published contract is data passed in (PKCE required or ignored, `state` echoed when sent
 * or always, the status of a refused grant, extra token fields), never a copy of the flow.
 */
import { bearerToken, type EmulatorRequest, type EmulatorResponse } from './http';
import {
  OAuthAuthority,
  type IssuedTokens,
  type OAuthAuthorityOptions,
  type OAuthGrant,
  type OAuthResult,
} from './oauthAuthority';

/** Our app as the vendor's admin console registered it. */
export interface RegisteredApp {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** An authority with our app registered as a confidential client. */
export function createAppAuthority(app: RegisteredApp, options: OAuthAuthorityOptions): OAuthAuthority {
  const authority = new OAuthAuthority(options);
  authority.registerClient({ clientId: app.clientId, clientSecret: app.clientSecret, redirectUris: app.redirectUris });
  return authority;
}

export interface ConsentOptions {
  scopes: string[];
  subject: string;
  /**
   * `required`: an S256 challenge is required and checked (Autodesk, Slack); `optional`: checked
   * when sent (GitHub); `ignored`: not read (Procore, Jira).
   */
  pkce: 'required' | 'optional' | 'ignored';
  /** `when-sent`: `state` only when the request had one (Autodesk, Procore); `always`: `state=` even if empty (Atlassian, Slack). */
  state: 'when-sent' | 'always';
}

/** The signed-in user consents at once: a 302 to the redirect URI with the code, or a 400 naming the refusal. */
export function consentRedirect(
  authority: OAuthAuthority,
  request: EmulatorRequest,
  options: ConsentOptions,
): EmulatorResponse {
  const pkce =
    options.pkce === 'ignored'
      ? {}
      : {
          codeChallenge: request.query.get('code_challenge') ?? undefined,
          codeChallengeMethod: request.query.get('code_challenge_method') ?? undefined,
          requirePkce: options.pkce === 'required',
        };
  const result = authority.authorize({
    clientId: request.query.get('client_id') ?? '',
    redirectUri: request.query.get('redirect_uri') ?? '',
    scopes: options.scopes,
    subject: options.subject,
    ...pkce,
  });
  if (!result.ok) return { status: 400, body: `${result.error}: ${result.description}` };
  const target = new URL(request.query.get('redirect_uri')!);
  target.searchParams.set('code', result.value.code);
  if (options.state === 'always' || request.query.has('state'))
    target.searchParams.set('state', request.query.get('state') ?? '');
  return { status: 302, headers: { location: target.toString() } };
}

/** The string fields of a form or JSON body (anything else reads as absent). */
export function bodyFields(request: EmulatorRequest): Record<string, string | undefined> {
  const body =
    typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {};
  return Object.fromEntries(
    Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** `Authorization: Basic` user and password (RFC 7617: the user ends at the first colon), if sent. */
export function basicCredentials(request: EmulatorRequest): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0
    ? { username: decoded, password: '' }
    : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The client of a token or revocation request: from a Basic header where the vendor takes one,
 * else from the body (`client_secret` only where the vendor reads it there).
 */
export function clientCredentials(
  request: EmulatorRequest,
  accepts: { basic: boolean; secretInBody: boolean },
): ClientCredentials {
  const basic = accepts.basic ? basicCredentials(request) : undefined;
  if (basic) return { clientId: basic.username, clientSecret: basic.password };
  const fields = bodyFields(request);
  return { clientId: fields.client_id ?? '', clientSecret: accepts.secretInBody ? (fields.client_secret ?? '') : '' };
}

/** The token endpoint's grants (RFC 6749 §4.1.3 and §6); undefined for any other `grant_type`. */
export function redeemGrant(
  authority: OAuthAuthority,
  client: ClientCredentials,
  fields: Record<string, string | undefined>,
): OAuthResult<IssuedTokens> | undefined {
  if (fields.grant_type === 'authorization_code')
    return authority.exchangeCode({
      ...client,
      code: fields.code ?? '',
      redirectUri: fields.redirect_uri ?? '',
      codeVerifier: fields.code_verifier,
    });
  if (fields.grant_type === 'refresh_token')
    return authority.refresh({ ...client, refreshToken: fields.refresh_token ?? '' });
  return undefined;
}

export interface TokenAnswerOptions {
  /** The status of a refused code or refresh token (RFC 6749 says 400; Atlassian answers 403). */
  grantErrorStatus: number;
  /** The vendor's fields beyond the RFC's (`created_at`, `scope`). */
  extra?: (tokens: IssuedTokens) => Record<string, unknown>;
}

/** RFC 6749 §5: the issued pair as JSON, or `{ error, error_description }` (401 for client authentication). */
export function tokenAnswer(result: OAuthResult<IssuedTokens>, options: TokenAnswerOptions): EmulatorResponse {
  if (!result.ok)
    return {
      status: result.error === 'invalid_client' ? 401 : options.grantErrorStatus,
      body: { error: result.error, error_description: result.description },
    };
  const tokens = result.value;
  return {
    status: 200,
    body: {
      access_token: tokens.accessToken,
      token_type: 'Bearer',
      expires_in: tokens.expiresInSeconds,
      refresh_token: tokens.refreshToken,
      ...options.extra?.(tokens),
    },
  };
}

/** The live grant behind the request's bearer token, if any. */
export function bearerGrant(authority: OAuthAuthority, request: EmulatorRequest): OAuthGrant | undefined {
  const token = bearerToken(request);
  return token ? authority.validateAccessToken(token) : undefined;
}
