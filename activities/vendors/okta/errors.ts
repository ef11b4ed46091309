/**
 * Okta errors as typed failures. Okta answers a spent rate limit with 429 and `X-Rate-Limit-Reset`
 * (the epoch second the window resets), which `oktaFetch` turns into RateLimited before the OIDC
 * library sees the answer. openid-client's own errors carry the OAuth error code and status
 * (`ResponseBodyError`) or a validation code (`ClientError`: an ID token that fails its checks);
 * neither message is copied, since Okta error descriptions may echo input.
 */
import {
  DEFAULT_RATE_LIMIT_WAIT_MS,
  VendorError,
  VendorFailureType,
  classifyHttpStatus,
  type RefusalFailureType,
} from '../errors';

const VENDOR = 'okta';
const OAUTH_ERROR_CODE = /^[a-z_]{1,64}$/;

/** The wait until Okta's window resets, from `X-Rate-Limit-Reset` (epoch seconds). */
export function oktaRateLimitWaitMs(reset: string | null, now = Date.now()): number {
  const resetS = Number(reset);
  if (!reset || !Number.isFinite(resetS)) return DEFAULT_RATE_LIMIT_WAIT_MS;
  return Math.max(1_000, Math.ceil(resetS * 1000 - now));
}

export function oktaRateLimited(reset: string | null, now = Date.now()): VendorError {
  return new VendorError(VendorFailureType.RateLimited, VENDOR, 'rate limited (429)', {
    source: 'vendor',
    status: 429,
    retryAfterMs: oktaRateLimitWaitMs(reset, now),
  });
}

interface OidcLibraryError {
  name?: string;
  status?: number;
  error?: string;
  code?: string;
}

/** openid-client failures by kind: the token endpoint's refusal, an ID token that failed validation, the network. */
export function mapOktaError(error: unknown, refusal: RefusalFailureType = VendorFailureType.VendorRejected): unknown {
  if (error instanceof VendorError) return error;
  // The library wraps what our fetch threw (a 429 already typed) as the cause of its own error.
  if (error instanceof Error && error.cause instanceof VendorError) return error.cause;
  const failure = (error ?? {}) as OidcLibraryError;
  if (failure.name === 'ResponseBodyError' || failure.name === 'WWWAuthenticateChallengeError') {
    const code = failure.error && OAUTH_ERROR_CODE.test(failure.error) ? failure.error : 'error';
    if (failure.error === 'invalid_grant' || failure.error === 'invalid_client')
      return new VendorError(refusal, VENDOR, `token endpoint: ${code}`, { status: failure.status });
    return classifyHttpStatus(VENDOR, failure.status ?? 400, code);
  }
  if (failure.name === 'ClientError' || failure.name === 'AuthorizationResponseError')
    return new VendorError(VendorFailureType.VendorRejected, VENDOR, 'ID token or response failed verification');
  if (error instanceof TypeError)
    return new VendorError(VendorFailureType.VendorUnavailable, VENDOR, 'no response (network)');
  return error;
}
