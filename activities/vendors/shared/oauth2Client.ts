/**
 * Generic OAuth 2.0 authorization-code + refresh client (RFC 6749, PKCE per RFC 7636) for vendors
 * whose SDK has none with configurable endpoints (Atlassian 3LO; GitHub App user authorization).
 * Errors become typed `VendorError`s: `invalid_grant` (revoked, reused or expired refresh token,
 * bad code or PKCE verifier) → ReauthorizationRequired. Tokens never appear in messages.
 */
import { VendorError, VendorFailureType, classifyHttpStatus } from '../errors';
import type { AuthorizeRequest, TokenSet } from '../types';

export interface OAuth2ClientOptions {
  vendor: string;
  authorizeUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** How the token endpoint wants its body: Atlassian takes JSON, most others a form. */
  tokenRequestEncoding: 'json' | 'form';
  /** Fixed extra authorize parameters (Atlassian: `audience`, `prompt`). */
  extraAuthorizeParams?: Record<string, string>;
  /** Whether to send `scope` on the authorize URL (GitHub Apps have fixed permissions instead). */
  sendScope?: boolean;
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

export class OAuth2Client {
  constructor(private readonly options: OAuth2ClientOptions) {}

  authorizeUrl(request: AuthorizeRequest): string {
    const url = new URL(this.options.authorizeUrl);
    for (const [key, value] of Object.entries(this.options.extraAuthorizeParams ?? {}))
      url.searchParams.set(key, value);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('state', request.state);
    url.searchParams.set('response_type', 'code');
    if (this.options.sendScope !== false) url.searchParams.set('scope', request.scopes.join(' '));
    if (request.codeChallenge) {
      url.searchParams.set('code_challenge', request.codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return url.toString();
  }

  /** `requestedScopes` fill `grantedScopes` when the vendor omits `scope` (RFC 6749 §5.1: same as requested). */
  exchangeCode(input: {
    code: string;
    redirectUri: string;
    codeVerifier?: string;
    requestedScopes: readonly string[];
  }): Promise<TokenSet> {
    return this.tokenRequest(
      {
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: input.redirectUri,
        ...(input.codeVerifier ? { code_verifier: input.codeVerifier } : {}),
      },
      input.requestedScopes,
    );
  }

  refresh(refreshToken: string, previousScopes: readonly string[]): Promise<TokenSet> {
    return this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }, previousScopes);
  }

  private async tokenRequest(params: Record<string, string>, fallbackScopes: readonly string[]): Promise<TokenSet> {
    const fields = { ...params, client_id: this.options.clientId, client_secret: this.options.clientSecret };
    const json = this.options.tokenRequestEncoding === 'json';
    const response = await fetch(this.options.tokenUrl, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
      },
      body: json ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
    });
    const body = (await response.json().catch(() => ({}))) as TokenResponse;
    // GitHub answers token errors with 200 + `error`; others with 400/401.
    if (
      body.error === 'invalid_grant' ||
      body.error === 'bad_verification_code' ||
      body.error === 'bad_refresh_token'
    ) {
      throw new VendorError(
        VendorFailureType.ReauthorizationRequired,
        this.options.vendor,
        `token endpoint: ${body.error}`,
        { status: response.status },
      );
    }
    if (!response.ok)
      throw classifyHttpStatus(
        this.options.vendor,
        response.status,
        body.error ?? 'token endpoint',
        response.headers.get('retry-after'),
      );
    if (body.error || !body.access_token) {
      throw new VendorError(
        VendorFailureType.VendorRejected,
        this.options.vendor,
        `token endpoint: ${body.error ?? 'no access_token'}`,
        { status: response.status },
      );
    }
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      expiresAt: body.expires_in ? Date.now() + body.expires_in * 1000 : undefined,
      grantedScopes: body.scope ? body.scope.split(/[ ,]+/).filter(Boolean) : [...fallbackScopes],
    };
  }
}
