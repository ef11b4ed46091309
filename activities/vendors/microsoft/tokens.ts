/**
 * The identity platform (MSAL: auth code + PKCE S256, rotating refresh tokens): the authorize URL,
 * code exchange, refresh, Entra sign-in's ID token check, and revocation, which Microsoft lacks.
 */
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { fetch as undiciFetch } from 'undici';
import { VendorError, VendorFailureType, classifyHttpStatus } from '../errors';
import { assertGrantWithinRequested } from '../shared';
import { fetchSamlMetadata, isSamlCredential, SAML_REVOCATION_NOTE } from '../shared/saml';
import type { AuthorizeRequest, ConnectorContext, TokenSet, VendorCallAuditor, VendorId } from '../types';
import { cachedRefreshToken, createMsalClient } from './client';
import { microsoftDescriptors, type MicrosoftVendorId } from './descriptor';
import { mapMicrosoftError } from './errors';
import { microsoftRow, refused } from './guards';
import type { MicrosoftPlatform } from './platform';
import { requestedScopeViolations } from '../../../lib/scopes';

/**
 * Protocol scope for refresh tokens: grants no data, only lets us refresh instead of re-prompting.
 * Entra sign-in needs none (identity is read once at sign-in).
 */
export const REFRESH_PROTOCOL_SCOPE = 'offline_access';

interface MsalTokenResult {
  accessToken: string;
  expiresOn: Date | null;
  scopes: string[];
  idToken?: string;
  tenantId?: string;
}

export function authorizeUrl(platform: MicrosoftPlatform, vendor: VendorId, request: AuthorizeRequest): string {
  const id = microsoftRow(vendor);
  const descriptor = microsoftDescriptors[id];
  if (requestedScopeViolations(request.scopes, descriptor.scopes))
    throw refused(id, 'requested scopes differ from the matrix row');
  if (!request.codeChallenge)
    throw new VendorError(VendorFailureType.VendorRejected, id, 'PKCE S256 challenge required');
  const url = new URL(`${platform.endpoints.loginBaseUrl}/${platform.app.tenantId}/oauth2/v2.0/authorize`);
  url.search = new URLSearchParams({
    client_id: platform.app.clientId,
    response_type: 'code',
    response_mode: 'query',
    redirect_uri: request.redirectUri,
    scope: requestableScopes(id, request.scopes).join(' '),
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

export async function exchangeCode(
  platform: MicrosoftPlatform,
  vendor: VendorId,
  input: { code: string; redirectUri: string; codeVerifier?: string; audit: VendorCallAuditor },
): Promise<TokenSet> {
  const id = microsoftRow(vendor);
  const scopes = microsoftDescriptors[id].scopes.required;
  return platform.vendorCall(
    { audit: input.audit },
    { action: 'oauth.exchange-code', scope: scopes.join(' ') },
    async () => {
      const msal = createMsalClient(platform.endpoints, platform.dispatcher, platform.app);
      const result = await msal
        .acquireTokenByCode({
          code: input.code,
          redirectUri: input.redirectUri,
          scopes: [...scopes],
          codeVerifier: input.codeVerifier,
        })
        .catch((error: unknown) => {
          throw mapMicrosoftError(id, error, VendorFailureType.VendorRejected);
        });
      return tokenSetFrom(platform, id, result, cachedRefreshToken(msal));
    },
  );
}

export async function refresh(platform: MicrosoftPlatform, ctx: ConnectorContext): Promise<TokenSet> {
  const id = microsoftRow(ctx.vendor);
  const refreshToken = ctx.credential.refreshToken;
  return platform.vendorCall(ctx, { action: 'oauth.refresh', scope: REFRESH_PROTOCOL_SCOPE }, async () => {
    if (!refreshToken) throw new VendorError(VendorFailureType.ReauthorizationRequired, id, 'no refresh token stored');
    const msal = createMsalClient(platform.endpoints, platform.dispatcher, platform.app);
    const result = await msal
      // T17: the consented scopes, narrower than the stored token's after a restriction.
      .acquireTokenByRefreshToken({ refreshToken, scopes: [...ctx.scopes] })
      .catch((error: unknown) => {
        throw mapMicrosoftError(id, error, VendorFailureType.ReauthorizationRequired);
      });
    if (!result) throw new VendorError(VendorFailureType.ReauthorizationRequired, id, 'refresh returned no token');
    // Rotation: the new refresh token replaces the old; Entra does not revoke the old one.
    return tokenSetFrom(platform, id, result, cachedRefreshToken(msal) ?? refreshToken);
  });
}

/** Nothing to call: Microsoft has no revocation endpoint. The caller deletes tokens and subscriptions. */
export async function revoke(ctx: ConnectorContext): Promise<{ revoked: boolean; note: string }> {
  const note = isSamlCredential(ctx.credential)
    ? SAML_REVOCATION_NOTE
    : microsoftDescriptors[microsoftRow(ctx.vendor)].revocation.note;
  return { revoked: false, note };
}

/**
 * Entra ID's SAML sign-in: the enterprise application's federation metadata, only from the identity
 * platform this deployment signs in at (`…/{tenant}/federationmetadata/2007-06/federationmetadata.xml`).
 */
export function fetchFederationMetadata(
  platform: MicrosoftPlatform,
  vendor: VendorId,
  input: { url: string; audit: VendorCallAuditor },
): Promise<string> {
  return platform.vendorCall({ audit: input.audit }, { action: 'saml.metadata', scope: 'openid' }, async () => {
    if (microsoftRow(vendor) !== 'entra') throw refused(vendor, 'only Entra ID signs in over SAML');
    let url: URL | undefined;
    try {
      url = new URL(input.url);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== new URL(platform.endpoints.loginBaseUrl).origin || url.username || url.password)
      throw refused(vendor, 'the SAML metadata URL is not on the Microsoft identity platform');
    return fetchSamlMetadata('entra', url, (target, init) =>
      undiciFetch(target, { ...init, dispatcher: platform.dispatcher }),
    );
  });
}

/** What the authorize URL asks for: the row's scopes, plus the refresh protocol scope for Graph rows. */
function requestableScopes(vendor: MicrosoftVendorId, chosen: readonly string[]): string[] {
  return vendor === 'entra' ? [...chosen] : [...chosen, REFRESH_PROTOCOL_SCOPE];
}

async function tokenSetFrom(
  platform: MicrosoftPlatform,
  vendor: MicrosoftVendorId,
  result: MsalTokenResult,
  refreshToken: string | undefined,
): Promise<TokenSet> {
  // T1: never more than the row allows (the optional Mail.Send included only if it was chosen).
  const { required, optional } = microsoftDescriptors[vendor].scopes;
  assertGrantWithinRequested(vendor, requestableScopes(vendor, [...required, ...optional]), result.scopes);
  const metadata: Record<string, string> = { tenantId: result.tenantId || platform.app.tenantId };
  if (vendor === 'entra') Object.assign(metadata, await verifiedIdentity(platform, result.idToken));
  // Recorded as the row's data scopes: offline_access is a protocol scope, not a permission to compare (T1).
  const grantedScopes = result.scopes.filter((scope) => scope !== REFRESH_PROTOCOL_SCOPE);
  return {
    accessToken: result.accessToken,
    refreshToken,
    expiresAt: result.expiresOn?.getTime(),
    grantedScopes,
    metadata,
  };
}

/** Authority segments of multi-tenant apps: any work (or personal) tenant may sign in, each under its own issuer. */
const MULTI_TENANT_SEGMENTS = new Set(['organizations', 'common', 'consumers']);
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The issuer an ID token must carry: the configured tenant's; for a multi-tenant setting, the tenant
 * the token itself names in `tid` (Entra's multi-tenant discovery publishes the `{tenantid}` template,
 * never the literal `organizations`). The signature check that follows covers `tid` too.
 */
function expectedIssuer(platform: MicrosoftPlatform, idToken: string): string | undefined {
  const configured = platform.app.tenantId;
  if (!MULTI_TENANT_SEGMENTS.has(configured)) return `${platform.endpoints.loginBaseUrl}/${configured}/v2.0`;
  let tid: unknown;
  try {
    tid = decodeJwt(idToken).tid;
  } catch {
    return undefined;
  }
  return typeof tid === 'string' && TENANT_ID.test(tid) ? `${platform.endpoints.loginBaseUrl}/${tid}/v2.0` : undefined;
}

/** Entra sign-in: the ID token's signature, issuer and audience checked against the tenant's JWKS. */
async function verifiedIdentity(
  platform: MicrosoftPlatform,
  idToken: string | undefined,
): Promise<Record<string, string>> {
  if (!idToken) throw new VendorError(VendorFailureType.VendorRejected, 'entra', 'no ID token in the sign-in response');
  const rejected = () => new VendorError(VendorFailureType.VendorRejected, 'entra', 'ID token failed verification');
  const issuer = expectedIssuer(platform, idToken);
  if (!issuer) throw rejected();
  const authority = `${platform.endpoints.loginBaseUrl}/${platform.app.tenantId}`;
  const response = await undiciFetch(`${authority}/discovery/v2.0/keys`, { dispatcher: platform.dispatcher });
  if (!response.ok) throw classifyHttpStatus('entra', response.status, 'JWKS unavailable');
  const jwks = createLocalJWKSet((await response.json()) as Parameters<typeof createLocalJWKSet>[0]);
  const { payload } = await jwtVerify(idToken, jwks, { issuer, audience: platform.app.clientId }).catch(() => {
    throw rejected();
  });
  const groups = Array.isArray(payload.groups)
    ? payload.groups.filter((group): group is string => typeof group === 'string')
    : [];
  // Opaque ids only: name and e-mail stay in the ID token the sign-in flow reads, never in metadata.
  return {
    tenantId: String(payload.tid ?? platform.app.tenantId),
    objectId: String(payload.oid ?? ''),
    subject: String(payload.sub ?? ''),
    groups: groups.join(','),
  };
}
