/**
 * Google Workspace sign-in (OIDC): the ID token is verified against the issuer's JWKS (RS256
 * signature, `iss`, `aud` = our client id, expiry), its `nonce` must be the one our authorize URL
 * carried, and its `hd` (hosted domain) must be one of the customer's Workspace domains: a personal
 * Google account or another company's Workspace is refused. Only the opaque `sub` is kept.
 */
import crypto from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { VendorError, VendorFailureType } from '../errors';
import type { GoogleEndpoints } from './client';

/**
 * The nonce bound to one authorization request, derived from its PKCE challenge: the exchange
 * recomputes it from the verifier, so an ID token minted for another sign-in fails the check.
 */
export function nonceFor(codeChallenge: string): string {
  return crypto.createHash('sha256').update(`nonce:${codeChallenge}`).digest('base64url');
}

export function challengeOf(codeVerifier: string): string {
  return crypto.createHash('sha256').update(codeVerifier).digest('base64url');
}

/** Google writes `iss` with or without the scheme (OpenID Connect guide): both forms of the configured issuer. */
function acceptedIssuers(issuer: string): string[] {
  return issuer.startsWith('https://') ? [issuer, issuer.slice('https://'.length)] : [issuer];
}

export function createIdTokenVerifier(endpoints: GoogleEndpoints, clientId: string) {
  const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(endpoints.jwksUrl));
  const rejected = (reason: string) =>
    new VendorError(VendorFailureType.VendorRejected, 'google-workspace', `ID token refused: ${reason}`);
  return async (
    idToken: string | null | undefined,
    expected: { nonce: string; hostedDomains: string[] },
  ): Promise<{ subject: string }> => {
    if (!idToken) throw rejected('none in the sign-in response');
    const { payload } = await jwtVerify(idToken, jwks, {
      issuer: acceptedIssuers(endpoints.issuer),
      audience: clientId,
      algorithms: ['RS256'],
      requiredClaims: ['sub', 'exp', 'iat'],
    }).catch(() => {
      throw rejected('signature, issuer, audience or expiry');
    });
    if (payload.nonce !== expected.nonce) throw rejected('nonce');
    const hd = typeof payload.hd === 'string' ? payload.hd.toLowerCase() : undefined;
    if (!hd || !expected.hostedDomains.includes(hd))
      throw rejected('hosted domain (hd) outside the customer’s domains');
    return { subject: String(payload.sub) };
  };
}
