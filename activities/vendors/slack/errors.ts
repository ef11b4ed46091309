/**
 * Slack error mapping. The Web API answers HTTP 200 with `{ ok: false, error }` for every failure but
 * rate limiting (429 + Retry-After): `@slack/web-api` raises `WebAPIPlatformError` (the `error`
 * code), `WebAPIRateLimitedError` (with `rejectRateLimitedCalls`: the Retry-After seconds),
 * `WebAPIHTTPError` (other statuses) and `WebAPIRequestError` (no response). Only Slack's error
 * code reaches a message, and only when it looks like one: never a token or a body.
 */
import { ErrorCode } from '@slack/web-api';
import { classifyHttpStatus, DEFAULT_RATE_LIMIT_WAIT_MS, VendorError, VendorFailureType } from '../errors';

const VENDOR = 'slack';
/** Slack error codes are short snake_case words. */
const ERROR_CODE = /^[a-z_]{1,64}$/;

/** The grant is gone or unusable: the admin must consent again. */
const GRANT_LOST = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'app_uninstalled',
  // Token endpoint: the code or refresh token is unknown, used, expired or its PKCE verifier is wrong.
  'invalid_code',
  'invalid_refresh_token',
  'invalid_grant_type',
  'invalid_code_verifier',
]);
const MISSING_SCOPE = new Set(['missing_scope', 'no_permission', 'not_allowed_token_type']);
const UNAVAILABLE = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

interface SlackErrorLike {
  code?: unknown;
  data?: { error?: unknown };
  retryAfter?: unknown;
  statusCode?: unknown;
  statusMessage?: unknown;
  headers?: Record<string, string>;
}

/** A failure of an `ok: false` answer, by Slack's error code. */
export function slackPlatformError(code: string): VendorError {
  const label = ERROR_CODE.test(code) ? code : 'unrecognised error';
  if (GRANT_LOST.has(code)) return new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, label);
  if (MISSING_SCOPE.has(code)) return new VendorError(VendorFailureType.MissingScope, VENDOR, label);
  if (code === 'ratelimited')
    return new VendorError(VendorFailureType.RateLimited, VENDOR, label, {
      source: 'vendor',
      retryAfterMs: DEFAULT_RATE_LIMIT_WAIT_MS,
    });
  if (UNAVAILABLE.has(code)) return new VendorError(VendorFailureType.VendorUnavailable, VENDOR, label);
  return new VendorError(VendorFailureType.VendorRejected, VENDOR, label);
}

export function mapSlackError(error: unknown): unknown {
  const slack = (typeof error === 'object' && error !== null ? error : {}) as SlackErrorLike;
  switch (slack.code) {
    case ErrorCode.PlatformError:
      return slackPlatformError(String(slack.data?.error ?? ''));
    case ErrorCode.RateLimitedError: {
      const seconds = Number(slack.retryAfter);
      return new VendorError(VendorFailureType.RateLimited, VENDOR, 'rate limited (429)', {
        source: 'vendor',
        status: 429,
        retryAfterMs: Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : DEFAULT_RATE_LIMIT_WAIT_MS,
      });
    }
    case ErrorCode.HTTPError:
      return classifyHttpStatus(
        VENDOR,
        Number(slack.statusCode),
        'request failed',
        slack.headers?.['retry-after'] ?? null,
      );
    case ErrorCode.RequestError:
      return new VendorError(VendorFailureType.VendorUnavailable, VENDOR, 'no response (network)');
    default:
      return error;
  }
}
