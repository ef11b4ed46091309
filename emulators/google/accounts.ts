/**
 * Google's authorization server as an emulator: `GET /o/oauth2/v2/auth` (consent by the signed-in
 * user, exact redirect URI, PKCE), `POST /token` (authorization_code with `code_verifier`,
 * refresh_token; errors as 400 `invalid_grant` / 401 `invalid_client`), `POST /revoke` (access or
 * refresh token: the whole grant ends; unknown → 400 `invalid_token`), the JWKS at
 * `/oauth2/v3/certs` and `/oauth2/v3/userinfo`. ID tokens are RS256 with `iss`, `aud`, `azp`,
 * `sub`, `hd` (Workspace users only), `email`, `nonce`. Google keeps refresh tokens across refreshes
 * and issues one only for `access_type=offline`.
 */
import crypto from 'node:crypto';
import { exportJWK, SignJWT, type JWK } from 'jose';
import type { EmulatorClock } from '../shared/clock';
import { bearerToken, type EmulatorRequest, type EmulatorResponse, type EmulatorRouter } from '../shared/http';
import { OAuthAuthority, type OAuthGrant } from '../shared/oauthAuthority';

export interface GoogleUser {
  subject: string;
  email: string;
  name: string;
  /** The Workspace domain; absent for a consumer (gmail.com) account. */
  hd?: string;
}

/** What the next ID token gets wrong, for the tests of our verification. */
export type IdTokenForgery = 'audience' | 'signature' | 'issuer' | 'nonce' | 'expired';

export const SCOPE_URIS = {
  driveFile: 'https://www.googleapis.com/auth/drive.file',
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
} as const;
const KNOWN_SCOPES = new Set<string>(['openid', 'email', 'profile', ...Object.values(SCOPE_URIS)]);
/** Google writes `email` and `profile` back as their userinfo URIs. */
const canonical = (scope: string) =>
  scope === 'email' ? SCOPE_URIS.email : scope === 'profile' ? SCOPE_URIS.profile : scope;

const ACCESS_TOKEN_TTL_MS = 3_599_000;
/** Google refresh tokens do not expire on a clock (6 months unused at most): long enough for any test. */
const REFRESH_TOKEN_TTL_MS = 180 * 24 * 60 * 60_000;

interface CodeExtras {
  nonce?: string;
  offline: boolean;
}

export class GoogleAccounts {
  readonly authority: OAuthAuthority;
  private readonly users = new Map<string, GoogleUser>();
  private signedIn: string;
  private readonly codeExtras = new Map<string, CodeExtras>();
  private readonly grantExtras = new Map<string, CodeExtras>();
  private readonly keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly foreignKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  private readonly kid = crypto.randomBytes(8).toString('hex');
  private forgery: IdTokenForgery | undefined;

  constructor(
    private readonly options: {
      clock: EmulatorClock;
      issuer: () => string;
      client: { clientId: string; clientSecret: string; redirectUris: string[] };
      user: GoogleUser;
    },
  ) {
    this.authority = new OAuthAuthority({
      clock: options.clock,
      accessTokenTtlMs: ACCESS_TOKEN_TTL_MS,
      refreshTokenTtlMs: REFRESH_TOKEN_TTL_MS,
      // Google does not rotate refresh tokens: the same one keeps working.
      refreshReuseGraceMs: Number.POSITIVE_INFINITY,
      tokenPrefix: { access: 'ya29.', refresh: '1//' },
    });
    this.authority.registerClient(options.client);
    this.users.set(options.user.subject, options.user);
    this.signedIn = options.user.subject;
  }

  addUser(user: GoogleUser): void {
    this.users.set(user.subject, user);
  }

  /** The browser's Google session: who consents at the next authorize. */
  signIn(subject: string): void {
    if (!this.users.has(subject)) throw new Error(`no emulated user ${subject}`);
    this.signedIn = subject;
  }

  forgeNextIdToken(forgery: IdTokenForgery): void {
    this.forgery = forgery;
  }

  /** The grant behind a live bearer token with one of `scopes`, or the 401/403 Google answers. */
  authorize(request: EmulatorRequest, scopes: string[]): OAuthGrant | EmulatorResponse {
    const token = bearerToken(request);
    const grant = token ? this.authority.validateAccessToken(token) : undefined;
    if (!grant) return apiError(401, 'Request had invalid authentication credentials.', 'authError', 'UNAUTHENTICATED');
    if (!scopes.some((scope) => grant.scopes.includes(scope)))
      return apiError(
        403,
        'Request had insufficient authentication scopes.',
        'insufficientPermissions',
        'PERMISSION_DENIED',
      );
    return grant;
  }

  isLive(grantId: string): boolean {
    return !this.authority.isRevoked(grantId);
  }

  register(router: EmulatorRouter): void {
    router.on('GET', '/o/oauth2/v2/auth', (request) => this.consent(request));
    router.on('POST', '/token', (request) => this.token(request));
    router.on('POST', '/revoke', (request) => this.revoke(request));
    router.on('GET', '/oauth2/v3/certs', async () => ({ status: 200, body: { keys: [await this.publicJwk()] } }));
    router.on('GET', '/oauth2/v3/userinfo', (request) => this.userinfo(request));
  }

  private consent(request: EmulatorRequest): EmulatorResponse {
    const q = request.query;
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (q.get('response_type') !== 'code') return { status: 400, body: 'Error 400: unsupported_response_type' };
    if (scopes.length === 0 || scopes.some((scope) => !KNOWN_SCOPES.has(scope)))
      return { status: 400, body: 'Error 400: invalid_scope' };
    // Google's default method is `plain`; the emulator's authority accepts S256 only, like our policy.
    const result = this.authority.authorize({
      clientId: q.get('client_id') ?? '',
      redirectUri: q.get('redirect_uri') ?? '',
      scopes: scopes.map(canonical),
      subject: this.signedIn,
      codeChallenge: q.get('code_challenge') ?? undefined,
      codeChallengeMethod: q.get('code_challenge') ? (q.get('code_challenge_method') ?? 'plain') : undefined,
    });
    // A bad client or redirect URI stays on Google's error page: nothing is sent to an unverified URI.
    if (!result.ok)
      return {
        status: 400,
        body: `Error 400: ${result.error === 'invalid_request' ? 'redirect_uri_mismatch' : result.error}`,
      };
    this.codeExtras.set(result.value.code, {
      nonce: q.get('nonce') ?? undefined,
      offline: q.get('access_type') === 'offline',
    });
    const location = new URL(q.get('redirect_uri')!);
    location.searchParams.set('code', result.value.code);
    if (q.get('state') !== null) location.searchParams.set('state', q.get('state')!);
    location.searchParams.set('scope', scopes.map(canonical).join(' '));
    return { status: 302, headers: { location: location.toString() } };
  }

  private async token(request: EmulatorRequest): Promise<EmulatorResponse> {
    const body = (request.body ?? {}) as Record<string, string>;
    const client = { clientId: body.client_id ?? '', clientSecret: body.client_secret ?? '' };
    if (body.grant_type === 'authorization_code') {
      const extras = this.codeExtras.get(body.code ?? '');
      this.codeExtras.delete(body.code ?? '');
      const result = this.authority.exchangeCode({
        ...client,
        code: body.code ?? '',
        redirectUri: body.redirect_uri ?? '',
        codeVerifier: body.code_verifier,
      });
      if (!result.ok) return oauthError(result.error, result.description);
      this.grantExtras.set(result.value.grant.grantId, extras ?? { offline: false });
      return { status: 200, body: await this.tokenBody(result.value, true) };
    }
    if (body.grant_type === 'refresh_token') {
      const result = this.authority.refresh({ ...client, refreshToken: body.refresh_token ?? '' });
      if (!result.ok) return oauthError(result.error, result.description);
      return { status: 200, body: await this.tokenBody(result.value, false) };
    }
    return oauthError('unsupported_grant_type', 'Invalid grant_type');
  }

  private async tokenBody(
    issued: { accessToken: string; refreshToken: string; expiresInSeconds: number; grant: OAuthGrant },
    firstExchange: boolean,
  ): Promise<Record<string, unknown>> {
    const extras = this.grantExtras.get(issued.grant.grantId) ?? { offline: false };
    return {
      access_token: issued.accessToken,
      expires_in: issued.expiresInSeconds,
      token_type: 'Bearer',
      scope: issued.grant.scopes.join(' '),
      // Offline access only, and only at the exchange: a refresh answers no new refresh token.
      ...(firstExchange && extras.offline ? { refresh_token: issued.refreshToken } : {}),
      ...(issued.grant.scopes.includes('openid') ? { id_token: await this.idToken(issued.grant, extras.nonce) } : {}),
    };
  }

  private async idToken(grant: OAuthGrant, nonce: string | undefined): Promise<string> {
    const user = this.users.get(grant.subject)!;
    const forgery = this.forgery;
    this.forgery = undefined;
    const nowS = Math.floor(this.options.clock.now() / 1000);
    const claims: Record<string, unknown> = {
      azp: grant.clientId,
      email: grant.scopes.includes(SCOPE_URIS.email) ? user.email : undefined,
      email_verified: grant.scopes.includes(SCOPE_URIS.email) ? true : undefined,
      name: grant.scopes.includes(SCOPE_URIS.profile) ? user.name : undefined,
      ...(user.hd ? { hd: user.hd } : {}),
      ...(nonce !== undefined ? { nonce: forgery === 'nonce' ? `${nonce}-other` : nonce } : {}),
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(forgery === 'issuer' ? 'https://accounts.example.invalid' : this.options.issuer())
      .setAudience(forgery === 'audience' ? 'another-client.apps.googleusercontent.com' : grant.clientId)
      .setSubject(grant.subject)
      .setIssuedAt(forgery === 'expired' ? nowS - 7200 : nowS)
      .setExpirationTime(forgery === 'expired' ? nowS - 3600 : nowS + 3600)
      .sign(forgery === 'signature' ? this.foreignKey : this.keys.privateKey);
  }

  private revoke(request: EmulatorRequest): EmulatorResponse {
    const token = request.query.get('token') ?? ((request.body ?? {}) as Record<string, string>).token ?? '';
    const grant = this.authority.grantOf(token);
    if (!grant || this.authority.isRevoked(grant.grantId))
      return { status: 400, body: { error: 'invalid_token', error_description: 'Token expired or revoked' } };
    this.authority.revokeGrant(grant.grantId);
    return { status: 200, body: {} };
  }

  private userinfo(request: EmulatorRequest): EmulatorResponse {
    const grant = this.authorize(request, ['openid']);
    if (!('grantId' in grant)) return grant;
    const user = this.users.get(grant.subject)!;
    return {
      status: 200,
      body: {
        sub: user.subject,
        ...(grant.scopes.includes(SCOPE_URIS.email) ? { email: user.email, email_verified: true } : {}),
        ...(grant.scopes.includes(SCOPE_URIS.profile) ? { name: user.name } : {}),
        ...(user.hd ? { hd: user.hd } : {}),
      },
    };
  }

  private async publicJwk(): Promise<JWK> {
    return { ...(await exportJWK(this.keys.publicKey)), kid: this.kid, alg: 'RS256', use: 'sig' };
  }
}

function oauthError(error: string, description: string): EmulatorResponse {
  return { status: error === 'invalid_client' ? 401 : 400, body: { error, error_description: description } };
}

/** Google's JSON error envelope of its REST APIs. */
export function apiError(
  code: number,
  message: string,
  reason: string,
  status: string,
  headers?: Record<string, string>,
): EmulatorResponse {
  return {
    status: code,
    headers,
    body: {
      error: {
        code,
        message,
        errors: [
          { message, domain: code === 403 && reason.endsWith('RateLimitExceeded') ? 'usageLimits' : 'global', reason },
        ],
        status,
      },
    },
  };
}
