/**
 * Jira-specific error mapping before `classifyHttpStatus`. jira.js throws `HttpException` whose
 * `cause` is the Axios error carrying the response headers; a request that got no response at all
 * stays a plain Axios error (network) and is VendorUnavailable. For a 429 the wait is `Retry-After`,
 * else `X-RateLimit-Reset` (an ISO instant), else the default; `RateLimit-Reason` (which quota:
 * `jira-quota-global-based`, `jira-burst-based`, per-issue writes…) is kept in the message.
 * Response bodies are never copied into messages: Jira echoes input values in `errorMessages`.
 */
import {
  DEFAULT_RATE_LIMIT_WAIT_MS,
  VendorError,
  VendorFailureType,
  classifyHttpStatus,
  parseRetryAfter,
} from '../errors';

const VENDOR = 'jira';
/** RateLimit-Reason values are short tokens; anything else is not echoed. */
const REASON_TOKEN = /^[a-z0-9-]{1,64}$/;

interface AxiosLike {
  isAxiosError: true;
  response?: { status: number; statusText?: string; headers?: Record<string, unknown> };
}

function isAxiosLike(value: unknown): value is AxiosLike {
  return typeof value === 'object' && value !== null && (value as { isAxiosError?: unknown }).isAxiosError === true;
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function mapJiraError(error: unknown, now = Date.now()): unknown {
  const axios = isAxiosLike(error)
    ? error
    : error instanceof Error && isAxiosLike(error.cause)
      ? error.cause
      : undefined;
  if (!axios) return error;
  const response = axios.response;
  if (!response) return new VendorError(VendorFailureType.VendorUnavailable, VENDOR, 'no response (network)');
  const headers = response.headers;
  if (response.status === 429) {
    const reason = header(headers, 'ratelimit-reason');
    const resetAt = header(headers, 'x-ratelimit-reset');
    const retryAfterMs =
      parseRetryAfter(header(headers, 'retry-after'), now) ?? (resetAt ? parseRetryAfter(resetAt, now) : undefined);
    const label = reason && REASON_TOKEN.test(reason) ? ` (${reason})` : '';
    return new VendorError(VendorFailureType.RateLimited, VENDOR, `rate limited (429)${label}`, {
      source: 'vendor',
      status: 429,
      retryAfterMs: retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS,
    });
  }
  return classifyHttpStatus(
    VENDOR,
    response.status,
    response.statusText || 'request failed',
    header(headers, 'retry-after'),
  );
}
