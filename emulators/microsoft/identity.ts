/**
 * The Microsoft identity platform (v2.0 endpoints) as far as our connectors use it: discovery, JWKS,
 * authorization code + PKCE S256, code and refresh-token grants. Refresh tokens rotate (each use
 * returns a new one) and the old one is NOT revoked, as Entra documents. There is no revocation
 * endpoint, as in the real platform. Access tokens are opaque here (apps must not parse them anyway).
 */
import crypto, { type webcrypto } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { EmulatorClock } from '../shared/clock';
import { bearerToken, type EmulatorRequest, type EmulatorResponse, type EmulatorRouter } from '../shared/http';

/** Entra's access-token lifetime averages 75 min (60–90 min). */
const ACCESS_TOKEN_LIFETIME_S = 75 * 60;
/** Refresh tokens: 90 days for web apps. */
const REFRESH_TOKEN_LIFETIME_MS = 90 * 24 * 60 * 60 * 1000;
/** Authorization codes are single-use and short-lived (10 min). */
const CODE_LIFETIME_MS = 10 * 60 * 1000;

export interface EmulatedUser {
  id: string;
  displayName: string;
  mail: string;
  groups: string[];
}

export interface EmulatedClient {
  clientId: string;
  clientSecret: string;
}

interface Grant {
  clientId: string;
  userId: string;
  scopes: string[];
}

interface PendingCode extends Grant {
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  expiresAt: number;
  used: boolean;
}

/**
 * The tenant segments of multi-tenant authorities: their discovery documents name the issuer as the
 * template `…/{tenantid}/v2.0`, and the tokens they issue carry the user's home tenant in `iss` and `tid`.
 */
const MULTI_TENANT_SEGMENTS = new Set(['organizations', 'common', 'consumers']);

/**
 * A departure from a genuine ID token: another tenant's issuer, another app's audience, or an unpublished key;
 * `issuerTenantId` alone makes `iss` name another tenant than the token's own `tid`.
 */
export interface IdTokenForgery {
  tenantId?: string;
  issuerTenantId?: string;
  audience?: string;
  unpublishedKey?: boolean;
}

export interface AccessGrant extends Grant {
  expiresAt: number;
}

export class IdentityPlatform {
  private readonly codes = new Map<string, PendingCode>();
  private readonly accessTokens = new Map<string, AccessGrant>();
  private readonly refreshTokens = new Map<string, Grant & { expiresAt: number }>();
  /** Scopes the next consent grants beyond what was asked (a misconfigured tenant, for T1 tests). */
  private extraGrantedScopes: string[] = [];
  /** How the next ID token departs from a genuine one of this tenant (a foreign or forged token, for T18 tests). */
  private nextIdTokenForgery: IdTokenForgery | undefined;

  private constructor(
    private readonly baseUrl: () => string,
    readonly tenantId: string,
    private readonly client: EmulatedClient,
    private readonly user: EmulatedUser,
    private readonly clock: EmulatorClock,
    private readonly signingKey: webcrypto.CryptoKey,
    private readonly publicJwk: JWK,
  ) {}

  static async create(options: {
    baseUrl: () => string;
    tenantId: string;
    client: EmulatedClient;
    user: EmulatedUser;
    clock: EmulatorClock;
  }) {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const publicJwk = { ...(await exportJWK(publicKey)), kid: 'emulator-key-1', use: 'sig', alg: 'RS256' };
    return new IdentityPlatform(
      options.baseUrl,
      options.tenantId,
      options.client,
      options.user,
      options.clock,
      privateKey,
      publicJwk,
    );
  }

  issuer(tenantId = this.tenantId): string {
    return `${this.baseUrl()}/${tenantId}/v2.0`;
  }

  /**
   * The discovery document of an authority (`tenant`: a tenant id, or a multi-tenant segment whose
   * issuer is the `{tenantid}` template, as Entra publishes it).
   */
  openIdConfiguration(tenant = this.tenantId): Record<string, unknown> {
    const authority = `${this.baseUrl()}/${tenant}`;
    return {
      issuer: MULTI_TENANT_SEGMENTS.has(tenant) ? this.issuer('{tenantid}') : this.issuer(tenant),
      authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
      token_endpoint: `${authority}/oauth2/v2.0/token`,
      end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
      jwks_uri: `${authority}/discovery/v2.0/keys`,
      userinfo_endpoint: `${this.baseUrl()}/oidc/userinfo`,
      response_types_supported: ['code', 'id_token', 'code id_token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    };
  }

  register(router: EmulatorRouter): void {
    router
      .on('GET', '/:tenant/v2.0/.well-known/openid-configuration', (request) => ({
        status: 200,
        body: this.openIdConfiguration(request.params.tenant),
      }))
      .on('GET', '/:tenant/discovery/v2.0/keys', () => ({ status: 200, body: { keys: [this.publicJwk] } }))
      .on('GET', '/:tenant/oauth2/v2.0/authorize', (request) => this.authorize(request))
      .on('POST', '/:tenant/oauth2/v2.0/token', (request) => this.token(request))
      .on('GET', '/oidc/userinfo', (request) => this.userInfo(request));
  }

  /** The next ID token issued is forged as described; later ones are genuine again. */
  forgeNextIdToken(forgery: IdTokenForgery): void {
    this.nextIdTokenForgery = forgery;
  }

  grantExtraScopesOnNextConsent(scopes: string[]): void {
    this.extraGrantedScopes = scopes;
  }

  /** The grant behind a bearer token, or why it is refused (Graph answers 401 either way). */
  authenticate(token: string | undefined): AccessGrant | 'missing' | 'invalid' | 'expired' {
    if (!token) return 'missing';
    const grant = this.accessTokens.get(token);
    if (!grant) return 'invalid';
    return grant.expiresAt <= this.clock.now() ? 'expired' : grant;
  }

  /** A token issued out of band, e.g. the tenant admin's for `POST /sites/{id}/permissions`. */
  issueAccessToken(scopes: string[]): string {
    return this.mintAccessToken({ clientId: 'tenant-admin-tool', userId: 'admin', scopes });
  }

  private authorize(request: EmulatorRequest): EmulatorResponse {
    const q = request.query;
    const redirectUri = q.get('redirect_uri');
    if (q.get('client_id') !== this.client.clientId || !redirectUri)
      return oauthError(400, 'invalid_client', 'AADSTS700016: unknown application');
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state) back.searchParams.set('state', state);
    const challenge = q.get('code_challenge');
    // Stricter than Entra (which lets confidential clients skip PKCE): every client here must use S256.
    if (q.get('response_type') !== 'code' || !challenge || q.get('code_challenge_method') !== 'S256') {
      back.searchParams.set('error', 'invalid_request');
      back.searchParams.set('error_description', 'AADSTS9002325: Proof Key for Code Exchange (S256) is required');
      return { status: 302, headers: { location: back.toString() } };
    }
    const scopes = [...new Set([...(q.get('scope') ?? '').split(' ').filter(Boolean), ...this.extraGrantedScopes])];
    this.extraGrantedScopes = [];
    const code = randomToken('code');
    this.codes.set(code, {
      clientId: this.client.clientId,
      userId: this.user.id,
      scopes,
      redirectUri,
      codeChallenge: challenge,
      nonce: q.get('nonce') ?? undefined,
      expiresAt: this.clock.now() + CODE_LIFETIME_MS,
      used: false,
    });
    back.searchParams.set('code', code);
    return { status: 302, headers: { location: back.toString() } };
  }

  private async token(request: EmulatorRequest): Promise<EmulatorResponse> {
    const form = (request.body ?? {}) as Record<string, string>;
    if (form.client_id !== this.client.clientId || !safeEqual(form.client_secret ?? '', this.client.clientSecret)) {
      return oauthError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    if (form.grant_type === 'authorization_code') {
      const pending = this.codes.get(form.code ?? '');
      if (!pending || pending.used || pending.expiresAt <= this.clock.now())
        return oauthError(
          400,
          'invalid_grant',
          'AADSTS70008: The provided authorization code or refresh token has expired or was already used.',
        );
      pending.used = true;
      if (pending.redirectUri !== form.redirect_uri)
        return oauthError(
          400,
          'invalid_grant',
          'AADSTS50148: The redirect_uri does not match the one in the authorization request.',
        );
      if (!form.code_verifier || s256(form.code_verifier) !== pending.codeChallenge) {
        return oauthError(
          400,
          'invalid_grant',
          'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        );
      }
      return { status: 200, body: await this.tokenResponse(pending, pending.nonce) };
    }
    if (form.grant_type === 'refresh_token') {
      const grant = this.refreshTokens.get(form.refresh_token ?? '');
      if (!grant || grant.expiresAt <= this.clock.now())
        return oauthError(400, 'invalid_grant', 'AADSTS700082: The refresh token has expired due to inactivity.');
      const scopes = refreshedScopes(grant.scopes, (form.scope ?? '').split(' ').filter(Boolean));
      if ('unconsented' in scopes)
        return oauthError(
          400,
          'invalid_grant',
          `AADSTS65001: The user or administrator has not consented to use the application for ${scopes.unconsented.join(' ')}.`,
        );
      return { status: 200, body: await this.tokenResponse(grant, undefined, scopes.granted) };
    }
    return oauthError(400, 'unsupported_grant_type', 'AADSTS70003: unsupported grant type');
  }

  /** The access token carries `accessScopes` (a refresh may narrow them); the refresh token keeps the whole consent. */
  private async tokenResponse(
    grant: Grant,
    nonce?: string,
    accessScopes: string[] = grant.scopes,
  ): Promise<Record<string, unknown>> {
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: accessScopes.join(' '),
      expires_in: ACCESS_TOKEN_LIFETIME_S,
      ext_expires_in: ACCESS_TOKEN_LIFETIME_S,
      access_token: this.mintAccessToken({ ...grant, scopes: accessScopes }),
      client_info: Buffer.from(JSON.stringify({ uid: grant.userId, utid: this.tenantId })).toString('base64url'),
    };
    if (grant.scopes.includes('offline_access')) {
      const refreshToken = randomToken('rt');
      this.refreshTokens.set(refreshToken, { ...grant, expiresAt: this.clock.now() + REFRESH_TOKEN_LIFETIME_MS });
      body.refresh_token = refreshToken;
    }
    if (grant.scopes.includes('openid')) body.id_token = await this.idToken(grant, nonce);
    return body;
  }

  private async idToken(grant: Grant, nonce: string | undefined): Promise<string> {
    const nowS = Math.floor(this.clock.now() / 1000);
    const claims: Record<string, unknown> = {
      oid: this.user.id,
      tid: this.tenantId,
      ver: '2.0',
      groups: this.user.groups,
    };
    if (nonce) claims.nonce = nonce;
    if (grant.scopes.includes('profile'))
      Object.assign(claims, { name: this.user.displayName, preferred_username: this.user.mail });
    if (grant.scopes.includes('email')) claims.email = this.user.mail;
    const forgery = this.nextIdTokenForgery ?? {};
    this.nextIdTokenForgery = undefined;
    if (forgery.tenantId) claims.tid = forgery.tenantId;
    // A key this tenant never published, under the same kid: only a real signature check catches it.
    const signingKey = forgery.unpublishedKey ? (await generateKeyPair('RS256')).privateKey : this.signingKey;
    return (
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: this.publicJwk.kid!, typ: 'JWT' })
        // The user's home tenant, whichever authority (tenant id or multi-tenant segment) signed in.
        .setIssuer(this.issuer(forgery.issuerTenantId ?? forgery.tenantId ?? this.tenantId))
        .setAudience(forgery.audience ?? grant.clientId)
        .setSubject(`pairwise-${this.user.id}`)
        .setIssuedAt(nowS)
        .setNotBefore(nowS)
        .setExpirationTime(nowS + ACCESS_TOKEN_LIFETIME_S)
        .sign(signingKey)
    );
  }

  private userInfo(request: EmulatorRequest): EmulatorResponse {
    const grant = this.authenticate(bearerToken(request));
    if (typeof grant === 'string' || !grant.scopes.includes('openid'))
      return {
        status: 401,
        body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty or invalid.' } },
      };
    return {
      status: 200,
      body: { sub: `pairwise-${grant.userId}`, ...(grant.scopes.includes('email') ? { email: this.user.mail } : {}) },
    };
  }

  private mintAccessToken(grant: Grant): string {
    const token = randomToken('at');
    this.accessTokens.set(token, { ...grant, expiresAt: this.clock.now() + ACCESS_TOKEN_LIFETIME_S * 1000 });
    return token;
  }
}

function oauthError(status: number, error: string, description: string): EmulatorResponse {
  const code = Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0);
  return {
    status,
    body: {
      error,
      error_description: description,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: crypto.randomUUID(),
      correlation_id: crypto.randomUUID(),
    },
  };
}

function randomToken(prefix: string): string {
  return `${prefix}.${crypto.randomBytes(24).toString('base64url')}`;
}

function s256(verifier: string): string {
  return crypto.createHash('sha256').update(verifier).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

/** OpenID Connect scopes MSAL adds to every token request; consented implicitly. */
const OIDC_SCOPES: readonly string[] = ['openid', 'profile', 'offline_access'];

/**
 * A refresh token grant issues an access token for the scopes it asks (Entra: any subset of the
 * consent; none asked means all of it); asking beyond the consent is AADSTS65001.
 */
function refreshedScopes(consented: string[], asked: string[]): { granted: string[] } | { unconsented: string[] } {
  const unconsented = asked.filter((scope) => !OIDC_SCOPES.includes(scope) && !consented.includes(scope));
  if (unconsented.length > 0) return { unconsented };
  if (asked.length === 0) return { granted: consented };
  return { granted: consented.filter((scope) => asked.includes(scope) || OIDC_SCOPES.includes(scope)) };
}
