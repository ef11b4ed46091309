/**
 * Procore error mapping before `classifyHttpStatus`. `@procore/js-sdk` rejects with
 * `{ body, request, response }` (the fetch Response); a request that got no response at all is a
 * fetch TypeError (network) and is VendorUnavailable. For a 429 the wait is `Retry-After` (the
 * 10-second spike window), else `X-Rate-Limit-Reset` (epoch seconds of the hourly window's reset).
 * Response bodies are never copied into messages: Procore echoes input values in its errors.
 */
import {
  DEFAULT_RATE_LIMIT_WAIT_MS,
  VendorError,
  VendorFailureType,
  classifyHttpStatus,
  parseRetryAfter,
  type RefusalSource,
} from '../errors';

const VENDOR = 'procore';

/** What the SDK rejects with when the answer is not 2xx. */
export interface ProcoreSdkRejection {
  body: unknown;
  response: { status: number; statusText: string; headers: { get(name: string): string | null } };
}

export function isSdkRejection(value: unknown): value is ProcoreSdkRejection {
  const response = (value as { response?: { status?: unknown; headers?: unknown } } | null)?.response;
  return typeof response?.status === 'number' && typeof response.headers === 'object' && response.headers !== null;
}

/** Milliseconds until `X-Rate-Limit-Reset` (epoch seconds), when present. */
export function resetInMs(reset: string | null, now: number): number | undefined {
  const seconds = reset === null ? NaN : Number(reset);
  return Number.isFinite(seconds) ? Math.max(0, seconds * 1000 - now) : undefined;
}

/** Procore's 429 (`vendor`), or our gate refusing while the window Procore announced is spent (`budget`). */
export function rateLimited(retryAfterMs: number | undefined, label: string, source: RefusalSource): VendorError {
  return new VendorError(VendorFailureType.RateLimited, VENDOR, `rate limited (${label})`, {
    source,
    ...(source === 'vendor' ? { status: 429 } : {}),
    retryAfterMs: retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS,
  });
}

export function mapProcoreError(error: unknown, now = Date.now()): unknown {
  if (error instanceof TypeError)
    return new VendorError(VendorFailureType.VendorUnavailable, VENDOR, 'no response (network)');
  if (!isSdkRejection(error)) return error;
  const { status, statusText, headers } = error.response;
  if (status === 429)
    return rateLimited(
      parseRetryAfter(headers.get('retry-after'), now) ?? resetInMs(headers.get('x-rate-limit-reset'), now),
      '429',
      'vendor',
    );
  return classifyHttpStatus(VENDOR, status, statusText || 'request failed', headers.get('retry-after'));
}

/** Token endpoint answers (the SDK returns the JSON whatever the status): an `error` becomes a typed failure. */
export function tokenEndpointError(body: { error?: unknown; access_token?: unknown }): VendorError | undefined {
  if (body.error === 'invalid_grant')
    return new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, 'token endpoint: invalid_grant');
  if (typeof body.error === 'string' || typeof body.access_token !== 'string')
    return new VendorError(
      VendorFailureType.VendorRejected,
      VENDOR,
      `token endpoint: ${typeof body.error === 'string' && /^[a-z_]{1,40}$/.test(body.error) ? body.error : 'no access_token'}`,
    );
  return undefined;
}
