/**
 * GitHub-specific error mapping before `classifyHttpStatus`: a 403 that is a rate limit (primary:
 * `x-ratelimit-remaining: 0`; secondary: `retry-after` or the documented message) is RateLimited,
 * not MissingScope. Wait: `retry-after` if given, else until `x-ratelimit-reset` for a primary limit,
 * else at least one minute (GitHub's guidance).
 */
import {
  DEFAULT_RATE_LIMIT_WAIT_MS,
  VendorError,
  VendorFailureType,
  classifyHttpStatus,
  parseRetryAfter,
} from '../errors';

const VENDOR = 'github';

/** Octokit's `RequestError` (name `HttpError`), checked structurally: it is a transitive package. */
interface OctokitHttpError {
  name: 'HttpError';
  status: number;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

function isOctokitHttpError(error: unknown): error is OctokitHttpError {
  return (
    error instanceof Error && error.name === 'HttpError' && typeof (error as { status?: unknown }).status === 'number'
  );
}

export function mapGithubError(error: unknown, now = Date.now()): unknown {
  if (!isOctokitHttpError(error)) return error;
  const headers = error.response?.headers ?? {};
  const message = (error.response?.data as { message?: string } | undefined)?.message ?? 'request failed';
  if (error.status === 403 || error.status === 429) {
    const primaryExhausted = headers['x-ratelimit-remaining'] === '0';
    const retryAfterMs = parseRetryAfter(headers['retry-after'], now);
    if (error.status === 429 || primaryExhausted || retryAfterMs !== undefined || /rate limit/i.test(message)) {
      const resetMs =
        primaryExhausted && headers['x-ratelimit-reset']
          ? Number(headers['x-ratelimit-reset']) * 1000 - now
          : undefined;
      return new VendorError(VendorFailureType.RateLimited, VENDOR, `rate limited (${error.status})`, {
        source: 'vendor',
        status: error.status,
        retryAfterMs: retryAfterMs ?? Math.max(resetMs ?? 0, DEFAULT_RATE_LIMIT_WAIT_MS),
      });
    }
  }
  return classifyHttpStatus(VENDOR, error.status, message, headers['retry-after']);
}
