/**
 * An Okta org's authorization server (the "org" server, issuer = the org URL) as Okta documents it:
 * `/.well-known/openid-configuration`, `/oauth2/v1/{authorize,token,keys,userinfo,revoke}`,
 * authorization code with PKCE S256 for a public client (no secret), RS256 ID tokens whose `groups`
 * claim lists the user's group names when the `groups` scope was granted, no refresh token without
 * `offline_access`, revocation per RFC 7009 (200 whatever the token), and Okta's error shapes.
 */
import crypto, { type webcrypto } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { EmulatorClock } from '../shared/clock';
import { bearerToken, type EmulatorRequest, type EmulatorResponse, type EmulatorRouter } from '../shared/http';
import { OAuthAuthority, type OAuthGrant } from '../shared/oauthAuthority';

/** Okta's defaults for the org server: access and ID tokens live one hour. */
const TOKEN_LIFETIME_MS = 60 * 60_000;
/** Scopes the org authorization server knows (OIDC ones plus `groups`; `okta.*` management scopes). */
const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'groups'];

export interface OktaUser {
  id: string;
  login: string;
  name: string;
  groups: string[];
}

/** A departure from a genuine ID token, for tests of the relying party's checks. */
export interface OktaIdTokenForgery {
  issuer?: string;
  audience?: string;
  unpublishedKey?: boolean;
  expiredSecondsAgo?: number;
}

export class OktaAuthorizationServer {
  private readonly authority: OAuthAuthority;
  private extraGrantedScopes: string[] = [];
  private nextForgery: OktaIdTokenForgery | undefined;

  private constructor(
    private readonly orgUrl: () => string,
    private readonly user: OktaUser,
    private readonly clock: EmulatorClock,
    private readonly signingKey: webcrypto.CryptoKey,
    readonly publicJwk: JWK,
  ) {
    this.authority = new OAuthAuthority({
      clock,
      accessTokenTtlMs: TOKEN_LIFETIME_MS,
      // Okta's default refresh-token lifetime is unlimited-until-idle; 90 days bounds it here.
      refreshTokenTtlMs: 90 * 24 * 60 * 60_000,
      refreshReuseGraceMs: 30_000,
      tokenPrefix: { access: 'eyJ.okta-at.', refresh: 'okta-rt.' },
    });
  }

  static async create(options: { orgUrl: () => string; user: OktaUser; clock: EmulatorClock }) {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = crypto.randomBytes(8).toString('hex');
    const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
    return new OktaAuthorizationServer(options.orgUrl, options.user, options.clock, privateKey, publicJwk);
  }

  /** An OIDC app integration in the org: public client, PKCE required, exact redirect URIs. */
  registerPublicClient(clientId: string, redirectUris: string[]): void {
    this.authority.registerClient({ clientId, clientSecret: '', redirectUris, public: true });
  }

  grantExtraScopesOnNextConsent(scopes: string[]): void {
    this.extraGrantedScopes = scopes;
  }

  forgeNextIdToken(forgery: OktaIdTokenForgery): void {
    this.nextForgery = forgery;
  }

  openIdConfiguration(): Record<string, unknown> {
    const base = this.orgUrl();
    return {
      issuer: base,
      authorization_endpoint: `${base}/oauth2/v1/authorize`,
      token_endpoint: `${base}/oauth2/v1/token`,
      userinfo_endpoint: `${base}/oauth2/v1/userinfo`,
      registration_endpoint: `${base}/oauth2/v1/clients`,
      jwks_uri: `${base}/oauth2/v1/keys`,
      revocation_endpoint: `${base}/oauth2/v1/revoke`,
      introspection_endpoint: `${base}/oauth2/v1/introspect`,
      end_session_endpoint: `${base}/oauth2/v1/logout`,
      response_types_supported: ['code', 'id_token', 'code id_token'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: SUPPORTED_SCOPES,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      code_challenge_methods_supported: ['S256'],
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'exp', 'auth_time', 'amr', 'idp', 'name', 'email', 'groups'],
    };
  }

  register(router: EmulatorRouter): void {
    router
      .on('GET', '/.well-known/openid-configuration', () => ({ status: 200, body: this.openIdConfiguration() }))
      .on('GET', '/oauth2/v1/keys', () => ({ status: 200, body: { keys: [this.publicJwk] } }))
      .on('GET', '/oauth2/v1/authorize', (request) => this.authorize(request))
      .on('POST', '/oauth2/v1/token', (request) => this.token(request))
      .on('GET', '/oauth2/v1/userinfo', (request) => this.userInfo(request))
      .on('POST', '/oauth2/v1/revoke', (request) => this.revoke(request));
  }

  /** Validates an access token the way the org's resource endpoints do. */
  grantOf(token: string | undefined): OAuthGrant | undefined {
    return token ? this.authority.validateAccessToken(token) : undefined;
  }

  private authorize(request: EmulatorRequest): EmulatorResponse {
    const q = request.query;
    const redirectUri = q.get('redirect_uri') ?? '';
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    const back = (params: Record<string, string>): EmulatorResponse => {
      const url = new URL(redirectUri);
      for (const [key, value] of Object.entries({ ...params, state: q.get('state') ?? '' }))
        url.searchParams.set(key, value);
      return { status: 302, headers: { location: url.toString() } };
    };
    if (q.get('response_type') !== 'code')
      return back({ error: 'unsupported_response_type', error_description: 'The response type is not supported.' });
    if (!scopes.includes('openid') || scopes.some((scope) => !SUPPORTED_SCOPES.includes(scope)))
      return back({ error: 'invalid_scope', error_description: 'One or more scopes are not configured.' });
    const granted = [...new Set([...scopes, ...this.extraGrantedScopes])];
    this.extraGrantedScopes = [];
    const result = this.authority.authorize({
      clientId: q.get('client_id') ?? '',
      redirectUri,
      scopes: granted,
      subject: this.user.id,
      codeChallenge: q.get('code_challenge') ?? undefined,
      codeChallengeMethod: q.get('code_challenge_method') ?? undefined,
    });
    if (!result.ok) {
      // Okta never redirects to an unregistered redirect URI or for an unknown client: it shows an error page.
      if (result.error === 'invalid_client' || result.description.includes('redirect_uri'))
        return oktaError(400, 'E0000021', 'Bad request: the client or redirect_uri is not registered.');
      return back({ error: result.error, error_description: result.description });
    }
    return back({ code: result.value.code });
  }

  private async token(request: EmulatorRequest): Promise<EmulatorResponse> {
    const form = (request.body ?? {}) as Record<string, string>;
    if (form.grant_type !== 'authorization_code')
      return oauthError(400, 'unsupported_grant_type', 'The grant type is not supported.');
    const result = this.authority.exchangeCode({
      clientId: form.client_id ?? '',
      clientSecret: form.client_secret ?? basicSecret(request) ?? '',
      code: form.code ?? '',
      redirectUri: form.redirect_uri ?? '',
      codeVerifier: form.code_verifier,
    });
    if (!result.ok) return oauthError(result.error === 'invalid_client' ? 401 : 400, result.error, result.description);
    const { grant } = result.value;
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      expires_in: result.value.expiresInSeconds,
      access_token: result.value.accessToken,
      scope: grant.scopes.join(' '),
    };
    if (grant.scopes.includes('offline_access')) body.refresh_token = result.value.refreshToken;
    if (grant.scopes.includes('openid')) body.id_token = await this.idToken(grant);
    return { status: 200, headers: { 'cache-control': 'no-store', pragma: 'no-cache' }, body };
  }

  private async idToken(grant: OAuthGrant): Promise<string> {
    const forgery = this.nextForgery ?? {};
    this.nextForgery = undefined;
    const lifetimeS = TOKEN_LIFETIME_MS / 1000;
    // An expired token was issued a lifetime (plus the given seconds) ago.
    const nowS =
      Math.floor(this.clock.now() / 1000) -
      (forgery.expiredSecondsAgo !== undefined ? lifetimeS + forgery.expiredSecondsAgo : 0);
    const claims: Record<string, unknown> = { ver: 1, idp: '00o-okta-idp', amr: ['pwd'], auth_time: nowS };
    if (grant.scopes.includes('groups')) claims.groups = this.user.groups;
    if (grant.scopes.includes('profile'))
      Object.assign(claims, { name: this.user.name, preferred_username: this.user.login });
    if (grant.scopes.includes('email')) claims.email = this.user.login;
    const key = forgery.unpublishedKey ? (await generateKeyPair('RS256')).privateKey : this.signingKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.publicJwk.kid! })
      .setIssuer(forgery.issuer ?? this.orgUrl())
      .setAudience(forgery.audience ?? grant.clientId)
      .setSubject(grant.subject)
      .setJti(`ID.${crypto.randomBytes(16).toString('base64url')}`)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + lifetimeS)
      .sign(key);
  }

  private userInfo(request: EmulatorRequest): EmulatorResponse {
    const grant = this.grantOf(bearerToken(request));
    if (!grant || !grant.scopes.includes('openid'))
      return {
        status: 401,
        headers: {
          'www-authenticate': 'Bearer error="invalid_token", error_description="The access token is invalid."',
        },
      };
    return {
      status: 200,
      body: { sub: grant.subject, ...(grant.scopes.includes('groups') ? { groups: this.user.groups } : {}) },
    };
  }

  /** RFC 7009: 200 for any token, known or not; only client authentication can fail. */
  private revoke(request: EmulatorRequest): EmulatorResponse {
    const form = (request.body ?? {}) as Record<string, string>;
    if (!form.client_id) return oauthError(401, 'invalid_client', 'No client credentials found.');
    const grant = this.grantOf(form.token);
    if (grant && grant.clientId === form.client_id) this.authority.revokeGrant(grant.grantId);
    return { status: 200 };
  }
}

function basicSecret(request: EmulatorRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  return Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[1];
}

function oauthError(status: number, error: string, description: string): EmulatorResponse {
  return { status, body: { error, error_description: description } };
}

/** Okta's management-style error body (`errorCode`, `errorSummary`, `errorId`). */
export function oktaError(status: number, errorCode: string, errorSummary: string): EmulatorResponse {
  return {
    status,
    body: {
      errorCode,
      errorSummary,
      errorLink: errorCode,
      errorId: `oae${crypto.randomBytes(10).toString('hex')}`,
      errorCauses: [],
    },
  };
}
