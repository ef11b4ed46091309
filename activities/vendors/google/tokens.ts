/**
 * Google's OAuth 2.0 (google-auth-library): authorize URL with PKCE S256, code exchange, refresh
 * (Google keeps the refresh token: no rotation), Workspace sign-in's ID token check at exchange,
 * and revocation at `oauth2.googleapis.com/revoke`, which Google offers for every grant.
 */
import { CodeChallengeMethod, type Credentials } from 'google-auth-library';
import { requestedScopeViolations } from '../../../lib/scopes';
import { VendorError, VendorFailureType } from '../errors';
import { assertGrantWithinRequested } from '../shared';
import type { AuthorizeRequest, ConnectorContext, TokenSet, VendorCallAuditor, VendorId } from '../types';
import { createOAuthClient } from './client';
import { GOOGLE_SCOPE_URIS, googleDescriptors, matrixScopeOf, type GoogleVendorId } from './descriptor';
import { mapGoogleError } from './errors';
import { googleRow, hostedDomains, refused } from './guards';
import { challengeOf, createIdTokenVerifier, nonceFor } from './identity';
import type { GooglePlatform } from './platform';

const toGoogleScopes = (scopes: readonly string[]) => scopes.map((scope) => GOOGLE_SCOPE_URIS[scope] ?? scope);

export function createTokens(platform: GooglePlatform) {
  const verifyIdToken = createIdTokenVerifier(platform.endpoints, platform.app.clientId);

  function authorizeUrl(vendor: VendorId, request: AuthorizeRequest): string {
    const id = googleRow(vendor);
    if (requestedScopeViolations(request.scopes, googleDescriptors[id].scopes))
      throw refused(id, 'requested scopes differ from the matrix row');
    if (!request.codeChallenge)
      throw new VendorError(VendorFailureType.VendorRejected, id, 'PKCE S256 challenge required');
    const client = createOAuthClient(platform.app, platform.endpoints, request.redirectUri);
    return client.generateAuthUrl({
      scope: toGoogleScopes(request.scopes),
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: CodeChallengeMethod.S256,
      // Never `include_granted_scopes`: incremental authorization would hand back older, broader grants (T1).
      ...(id === 'google-drive'
        ? { access_type: 'offline', prompt: 'consent' }
        : { access_type: 'online', nonce: nonceFor(request.codeChallenge) }),
    });
  }

  async function exchangeCode(
    vendor: VendorId,
    input: {
      code: string;
      redirectUri: string;
      codeVerifier?: string;
      audit: VendorCallAuditor;
      controls?: Record<string, string[]>;
    },
  ): Promise<TokenSet> {
    const id = googleRow(vendor);
    const scopes = googleDescriptors[id].scopes.required;
    return platform.vendorCall(
      { audit: input.audit },
      { action: 'oauth.exchange-code', scope: scopes.join(' ') },
      async () => {
        // Workspace sign-in: refused before the exchange when there is no domain to enforce.
        const domains = id === 'google-workspace' ? hostedDomains(id, input.controls) : [];
        const client = createOAuthClient(platform.app, platform.endpoints, input.redirectUri);
        const { tokens } = await client
          .getToken({ code: input.code, codeVerifier: input.codeVerifier, redirect_uri: input.redirectUri })
          .catch((error: unknown) => {
            throw mapGoogleError(id, error, VendorFailureType.VendorRejected);
          });
        const tokenSet = tokenSetFrom(id, tokens, undefined);
        if (id !== 'google-workspace') return tokenSet;
        try {
          const nonce = nonceFor(challengeOf(input.codeVerifier ?? ''));
          const identity = await verifyIdToken(tokens.id_token, { nonce, hostedDomains: domains });
          return { ...tokenSet, metadata: { subject: identity.subject } };
        } catch (error) {
          // A refused sign-in leaves no live grant behind.
          await client.revokeToken(tokenSet.accessToken).catch(() => undefined);
          throw error;
        }
      },
    );
  }

  async function refresh(ctx: ConnectorContext): Promise<TokenSet> {
    const id = googleRow(ctx.vendor);
    const refreshToken = ctx.credential.refreshToken;
    return platform.vendorCall(
      { audit: ctx.audit, workspaceId: ctx.workspaceId },
      { action: 'oauth.refresh', scope: googleDescriptors[id].scopes.required.join(' ') },
      async () => {
        // Workspace sign-in asks no offline access: once its token lapses, the user signs in again.
        if (!refreshToken)
          throw new VendorError(VendorFailureType.ReauthorizationRequired, id, 'no refresh token stored');
        const client = createOAuthClient(platform.app, platform.endpoints);
        client.setCredentials({ refresh_token: refreshToken });
        await client.getAccessToken().catch((error: unknown) => {
          throw mapGoogleError(id, error, VendorFailureType.ReauthorizationRequired);
        });
        // Google keeps the refresh token across refreshes; a new one (rare) replaces it.
        const tokens = { ...tokenSetFrom(id, client.credentials, refreshToken), metadata: ctx.credential.metadata };
        // T1: a refreshed grant may not have grown (the exchange's grant is judged by the connect activity).
        assertGrantWithinRequested(id, googleDescriptors[id].scopes.required, tokens.grantedScopes);
        return tokens;
      },
    );
  }

  /** Revokes the grant (the refresh token when there is one: Google then ends every token of the grant). */
  async function revoke(ctx: ConnectorContext): Promise<{ revoked: boolean; note: string }> {
    const id = googleRow(ctx.vendor);
    const token = ctx.credential.refreshToken ?? ctx.credential.accessToken;
    return platform.vendorCall(
      { audit: ctx.audit, workspaceId: ctx.workspaceId },
      { action: 'oauth.revoke', scope: googleDescriptors[id].scopes.required.join(' ') },
      async () => {
        const client = createOAuthClient(platform.app, platform.endpoints);
        try {
          await client.revokeToken(token);
          return { revoked: true, note: googleDescriptors[id].revocation.note };
        } catch (error) {
          const mapped = mapGoogleError(id, error, VendorFailureType.VendorRejected);
          // `invalid_token`: Google no longer knows it (already revoked or expired): no grant is left.
          if (mapped instanceof VendorError && mapped.details.status === 400)
            return { revoked: false, note: 'Google no longer knew the token: the grant had already ended.' };
          throw mapped;
        }
      },
    );
  }

  return { authorizeUrl, exchangeCode, refresh, revoke };
}

function tokenSetFrom(vendor: GoogleVendorId, tokens: Credentials, previousRefreshToken: string | undefined): TokenSet {
  if (!tokens.access_token)
    throw new VendorError(VendorFailureType.VendorRejected, vendor, 'token endpoint: no access_token');
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? previousRefreshToken,
    expiresAt: tokens.expiry_date ?? undefined,
    grantedScopes: (tokens.scope ?? '').split(' ').filter(Boolean).map(matrixScopeOf),
  };
}
