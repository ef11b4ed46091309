/**
 * Google errors (gaxios, the SDKs' HTTP layer) mapped to the shared failure types. Drive answers
 * quota exhaustion as 403 `rateLimitExceeded` / `userRateLimitExceeded` as well as 429: both are
 * RateLimited, waited out with Retry-After when given. Messages carry reasons, never payloads.
 */
import {
  VendorError,
  VendorFailureType,
  classifyHttpStatus,
  DEFAULT_RATE_LIMIT_WAIT_MS,
  parseRetryAfter,
  type RefusalFailureType,
} from '../errors';

const RATE_LIMIT_REASONS: ReadonlySet<string> = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

interface GoogleErrorBody {
  error?: string | { errors?: Array<{ reason?: string }>; status?: string };
}

interface HttpishError {
  status?: number;
  response?: { status?: number; data?: unknown; headers?: unknown };
}

function retryAfterOf(headers: unknown): string | null | undefined {
  if (headers && typeof (headers as Headers).get === 'function') return (headers as Headers).get('retry-after');
  return (headers as Record<string, string> | undefined)?.['retry-after'];
}

/** `oauthFailure`: what `invalid_grant` means here (a bad code at exchange, a dead refresh token at refresh). */
export function mapGoogleError(
  vendor: string,
  error: unknown,
  oauthFailure: RefusalFailureType = VendorFailureType.ReauthorizationRequired,
): unknown {
  if (error instanceof VendorError) return error;
  const failed = error as HttpishError;
  const status = failed?.response?.status ?? failed?.status;
  // gaxios without a status: the request never got an answer (DNS, refused connection, reset, timeout).
  if (typeof status !== 'number')
    return error instanceof Error && error.name === 'GaxiosError'
      ? new VendorError(VendorFailureType.VendorUnavailable, vendor, 'network failure')
      : error;
  const body = (failed.response?.data ?? {}) as GoogleErrorBody;
  if (typeof body.error === 'string') {
    // OAuth endpoints: RFC 6749 error codes.
    if (body.error === 'invalid_grant')
      return new VendorError(oauthFailure, vendor, 'token endpoint: invalid_grant', { status });
    if (status < 500 && status !== 429)
      return new VendorError(VendorFailureType.VendorRejected, vendor, `token endpoint: ${body.error}`, { status });
  }
  const reason = typeof body.error === 'object' ? body.error?.errors?.[0]?.reason : undefined;
  const retryAfter = retryAfterOf(failed.response?.headers);
  if (status === 403 && reason && RATE_LIMIT_REASONS.has(reason)) {
    return new VendorError(VendorFailureType.RateLimited, vendor, `rate limited (403 ${reason})`, {
      source: 'vendor',
      status,
      retryAfterMs: parseRetryAfter(retryAfter) ?? DEFAULT_RATE_LIMIT_WAIT_MS,
    });
  }
  return classifyHttpStatus(vendor, status, reason ?? 'google error', retryAfter);
}
