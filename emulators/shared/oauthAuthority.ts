/**
 * The OAuth 2.0 authorization-server core shared by vendor emulators (RFC 6749 + RFC 7636 S256):
 * registered clients with exact redirect URIs, single-use codes bound to client, redirect URI and
 * PKCE challenge, expiring access tokens, rotating refresh tokens with reuse detection, revocation.
 * It returns results, not HTTP: each vendor emulator wraps them in its own wire format (GitHub
 * answers errors with 200 + `error`, Atlassian with 4xx).
 */
import crypto from 'node:crypto';
import type { EmulatorClock } from './clock';

export interface OAuthClient {
  clientId: string;
  /** Unused for a public client. */
  clientSecret: string;
  redirectUris: string[];
  /** A public client (RFC 6749 §2.1: SPA, native, or PKCE-only web app): no secret, PKCE required. */
  public?: boolean;
}

export interface OAuthGrant {
  grantId: string;
  clientId: string;
  subject: string;
  scopes: string[];
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresInSeconds: number;
  refreshTokenExpiresInSeconds: number;
  scopes: string[];
  grant: OAuthGrant;
}

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client';
export type OAuthResult<T> = { ok: true; value: T } | { ok: false; error: OAuthErrorCode; description: string };

export interface OAuthAuthorityOptions {
  clock: EmulatorClock;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  /** Reusing an already rotated refresh token within this window is tolerated (Atlassian: 10 min); after it the whole grant is revoked. */
  refreshReuseGraceMs: number;
  /** Prefixes make tokens recognisable like the vendor's (`ghu_`, `ghr_`). */
  tokenPrefix?: { access: string; refresh: string };
  /** Codes live 10 minutes (GitHub and Atlassian both document 10). */
  codeTtlMs?: number;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  subject: string;
  codeChallenge?: string;
  expiresAt: number;
}

interface RefreshRecord {
  grant: OAuthGrant;
  expiresAt: number;
  rotatedAt?: number;
}

const CODE_TTL_MS = 10 * 60_000;

export class OAuthAuthority {
  private readonly clients = new Map<string, OAuthClient>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly accessTokens = new Map<string, { grant: OAuthGrant; expiresAt: number }>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private readonly revokedGrants = new Set<string>();

  constructor(private readonly options: OAuthAuthorityOptions) {}

  registerClient(client: OAuthClient): void {
    this.clients.set(client.clientId, client);
  }

  /** The user's consent step: returns a code for the redirect, or an error for a bad request. */
  authorize(input: {
    clientId: string;
    redirectUri: string;
    scopes: string[];
    subject: string;
    codeChallenge?: string;
    codeChallengeMethod?: string;
    requirePkce?: boolean;
  }): OAuthResult<{ code: string }> {
    const client = this.clients.get(input.clientId);
    if (!client) return fail('invalid_client', 'unknown client');
    if (!client.redirectUris.includes(input.redirectUri)) return fail('invalid_request', 'redirect_uri mismatch');
    if (input.codeChallenge !== undefined && input.codeChallengeMethod !== 'S256')
      return fail('invalid_request', 'only S256 is accepted');
    if ((input.requirePkce || client.public) && !input.codeChallenge)
      return fail('invalid_request', 'code_challenge required');
    const code = randomToken('code_');
    this.codes.set(code, {
      clientId: input.clientId,
      redirectUri: input.redirectUri,
      scopes: input.scopes,
      subject: input.subject,
      codeChallenge: input.codeChallenge,
      expiresAt: this.options.clock.now() + (this.options.codeTtlMs ?? CODE_TTL_MS),
    });
    return { ok: true, value: { code } };
  }

  exchangeCode(input: {
    clientId: string;
    clientSecret: string;
    code: string;
    redirectUri: string;
    codeVerifier?: string;
  }): OAuthResult<IssuedTokens> {
    const clientError = this.authenticateClient(input.clientId, input.clientSecret);
    if (clientError) return clientError;
    const pending = this.codes.get(input.code);
    // Single use: a code is gone after the first attempt, right or wrong.
    this.codes.delete(input.code);
    if (!pending || pending.expiresAt < this.options.clock.now())
      return fail('invalid_grant', 'code unknown, used or expired');
    if (pending.clientId !== input.clientId) return fail('invalid_grant', 'code issued to another client');
    if (pending.redirectUri !== input.redirectUri) return fail('invalid_grant', 'redirect_uri mismatch');
    if (pending.codeChallenge !== undefined) {
      if (!input.codeVerifier) return fail('invalid_grant', 'code_verifier required');
      const computed = crypto.createHash('sha256').update(input.codeVerifier).digest('base64url');
      if (computed !== pending.codeChallenge) return fail('invalid_grant', 'PKCE verification failed');
    }
    const grant: OAuthGrant = {
      grantId: crypto.randomUUID(),
      clientId: input.clientId,
      subject: pending.subject,
      scopes: pending.scopes,
    };
    return { ok: true, value: this.issue(grant) };
  }

  refresh(input: { clientId: string; clientSecret: string; refreshToken: string }): OAuthResult<IssuedTokens> {
    const clientError = this.authenticateClient(input.clientId, input.clientSecret);
    if (clientError) return clientError;
    const record = this.refreshTokens.get(input.refreshToken);
    const now = this.options.clock.now();
    if (!record || record.grant.clientId !== input.clientId) return fail('invalid_grant', 'unknown refresh token');
    if (this.revokedGrants.has(record.grant.grantId)) return fail('invalid_grant', 'grant revoked');
    if (record.expiresAt < now) return fail('invalid_grant', 'refresh token expired');
    if (record.rotatedAt !== undefined && now - record.rotatedAt > this.options.refreshReuseGraceMs) {
      // Reuse of a rotated token outside the grace window looks like theft: kill the whole grant.
      this.revokeGrant(record.grant.grantId);
      return fail('invalid_grant', 'refresh token reused');
    }
    record.rotatedAt ??= now;
    return { ok: true, value: this.issue(record.grant) };
  }

  /** The grant behind a live access token, or undefined (unknown, expired or revoked → 401). */
  validateAccessToken(token: string): OAuthGrant | undefined {
    const record = this.accessTokens.get(token);
    if (!record || record.expiresAt < this.options.clock.now() || this.revokedGrants.has(record.grant.grantId))
      return undefined;
    return record.grant;
  }

  /** The grant an access or refresh token belongs to, live or not (a revocation endpoint takes either). */
  grantOf(token: string): OAuthGrant | undefined {
    return (this.accessTokens.get(token) ?? this.refreshTokens.get(token))?.grant;
  }

  isRevoked(grantId: string): boolean {
    return this.revokedGrants.has(grantId);
  }

  revokeAccessToken(token: string): boolean {
    return this.accessTokens.delete(token);
  }

  revokeGrant(grantId: string): void {
    this.revokedGrants.add(grantId);
  }

  /** Revokes every grant of a client for a subject (user removes the app under "Connected apps"). */
  revokeSubject(clientId: string, subject: string): void {
    for (const { grant } of [...this.accessTokens.values(), ...this.refreshTokens.values()]) {
      if (grant.clientId === clientId && grant.subject === subject) this.revokedGrants.add(grant.grantId);
    }
  }

  private authenticateClient(clientId: string, clientSecret: string): OAuthResult<never> | undefined {
    const client = this.clients.get(clientId);
    if (!client) return fail('invalid_client', 'client authentication failed');
    // A public client proves itself with the PKCE verifier, not a secret; one sent anyway is refused.
    if (client.public) return clientSecret ? fail('invalid_client', 'public clients have no secret') : undefined;
    if (!safeEqual(client.clientSecret, clientSecret)) return fail('invalid_client', 'client authentication failed');
    return undefined;
  }

  private issue(grant: OAuthGrant): IssuedTokens {
    const now = this.options.clock.now();
    const prefix = this.options.tokenPrefix ?? { access: 'at_', refresh: 'rt_' };
    const accessToken = randomToken(prefix.access);
    const refreshToken = randomToken(prefix.refresh);
    this.accessTokens.set(accessToken, { grant, expiresAt: now + this.options.accessTokenTtlMs });
    this.refreshTokens.set(refreshToken, { grant, expiresAt: now + this.options.refreshTokenTtlMs });
    return {
      accessToken,
      refreshToken,
      expiresInSeconds: Math.floor(this.options.accessTokenTtlMs / 1000),
      refreshTokenExpiresInSeconds: Math.floor(this.options.refreshTokenTtlMs / 1000),
      scopes: grant.scopes,
      grant,
    };
  }
}

function fail(error: OAuthErrorCode, description: string): { ok: false; error: OAuthErrorCode; description: string } {
  return { ok: false, error, description };
}

export function randomToken(prefix: string): string {
  return `${prefix}${crypto.randomBytes(24).toString('base64url')}`;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}
