/**
 * OIDC sign-in at the customer's Okta org: the authorize URL (PKCE S256, exactly the row's protocol
 * scopes), the code exchange with ID token validation, and what is kept of the identity: the
 * subject and opaque group ids, never a name, e-mail address or group name.
 */
import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import { requestedScopeViolations } from '../../../lib/scopes';
import { VendorError, VendorFailureType } from '../errors';
import { assertGrantWithinRequested, type VendorCall } from '../shared';
import type { AuthorizeRequest, TokenSet, VendorCallAuditor, VendorId } from '../types';
import { discoveredConfiguration, documentedConfiguration, orgOf, type OktaOrg } from './client';
import type { OktaApp } from './config';
import { OKTA_MATRIX_SCOPE, OKTA_OIDC_SCOPES, oktaDescriptor } from './descriptor';
import { mapOktaError } from './errors';

export function oktaRow(vendor: VendorId): 'okta' {
  if (vendor !== 'okta') throw new VendorError(VendorFailureType.VendorRejected, vendor, 'not an Okta integration');
  return vendor;
}

export function authorizeUrl(app: OktaApp, vendor: VendorId, request: AuthorizeRequest): string {
  oktaRow(vendor);
  if (requestedScopeViolations(request.scopes, oktaDescriptor.scopes))
    throw new VendorError(
      VendorFailureType.OutsideCustomerControls,
      'okta',
      'requested scopes differ from the matrix row',
    );
  if (!request.codeChallenge)
    throw new VendorError(VendorFailureType.VendorRejected, 'okta', 'PKCE S256 challenge required');
  const org = orgOf(app, request.controls);
  return oidc
    .buildAuthorizationUrl(documentedConfiguration(app, org), {
      response_type: 'code',
      redirect_uri: request.redirectUri,
      scope: OKTA_OIDC_SCOPES.join(' '),
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
    })
    .toString();
}

/**
 * Group names are the org's own vocabulary (often personal: "Payroll – J. Smith's team"): kept as
 * ids opaque to us, stable per org, so the workspace can map them without us storing the names.
 */
export function opaqueGroupId(org: OktaOrg, name: string): string {
  return crypto.createHash('sha256').update(`${org.url.origin}\n${name}`).digest('base64url').slice(0, 22);
}

export async function exchangeCode(
  app: OktaApp,
  vendorCall: VendorCall,
  vendor: VendorId,
  input: {
    code: string;
    redirectUri: string;
    codeVerifier?: string;
    audit: VendorCallAuditor;
    controls?: Readonly<Record<string, readonly string[]>>;
  },
): Promise<TokenSet> {
  oktaRow(vendor);
  return vendorCall({ audit: input.audit }, { action: 'oidc.exchange-code', scope: OKTA_MATRIX_SCOPE }, async () => {
    const org = orgOf(app, input.controls);
    if (!input.codeVerifier) throw new VendorError(VendorFailureType.VendorRejected, 'okta', 'PKCE verifier required');
    const config = await discoveredConfiguration(app, org);
    // The state was checked and consumed by the connect workflow; the library sees the code alone.
    const callback = new URL(input.redirectUri);
    callback.search = new URLSearchParams({ code: input.code }).toString();
    const tokens = await oidc
      .authorizationCodeGrant(config, callback, { pkceCodeVerifier: input.codeVerifier, idTokenExpected: true })
      .catch((error: unknown) => {
        throw mapOktaError(error);
      });
    const granted = (tokens.scope ?? OKTA_OIDC_SCOPES.join(' ')).split(' ').filter(Boolean);
    try {
      assertGrantWithinRequested('okta', OKTA_OIDC_SCOPES, granted);
    } catch (error) {
      // A broader grant is refused and its token revoked at once, not stored (T1).
      await oidc
        .tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' })
        .catch(() => undefined);
      throw error;
    }
    const claims = tokens.claims();
    if (!claims) throw new VendorError(VendorFailureType.VendorRejected, 'okta', 'no ID token in the sign-in response');
    const groups = Array.isArray(claims.groups)
      ? claims.groups.filter((group): group is string => typeof group === 'string')
      : [];
    return {
      accessToken: tokens.access_token,
      expiresAt: tokens.expires_in ? Date.now() + tokens.expires_in * 1000 : undefined,
      grantedScopes: [OKTA_MATRIX_SCOPE],
      metadata: {
        orgUrl: org.url.origin,
        subject: claims.sub,
        groups: groups.map((name) => opaqueGroupId(org, name)).join(','),
      },
    };
  });
}
