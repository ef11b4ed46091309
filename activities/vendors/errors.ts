/**
 * Vendor errors translated to typed Temporal failures in one spot. Connectors throw `VendorError`
 * subclasses (each vendor folder maps its SDK's errors with `classifyHttpStatus`); the generic
 * activities convert them with `toApplicationFailure`, and workflows branch on the failure `type`.
 *
 * Messages carry no tokens, payloads or personal data: status, vendor and a short reason only.
 */
import { ApplicationFailure } from '@temporalio/common';

export const VendorFailureType = {
  /** 401 / revoked or expired grant: the integration needs re-authorization (surfaced on it). */
  ReauthorizationRequired: 'ReauthorizationRequired',
  /** 403 for a missing scope or permission: retrying cannot help. */
  MissingScope: 'MissingScope',
  /** 429 / secondary limit: wait `retryAfterMs`, then continue. */
  RateLimited: 'RateLimited',
  /** 410 on a delta / cursor: start a full resync that reconciles deletions. */
  CursorExpired: 'CursorExpired',
  /** 5xx / network: retried with backoff by the activity retry policy. */
  VendorUnavailable: 'VendorUnavailable',
  /** The vendor refused the request as invalid (4xx other than the above): not retryable. */
  VendorRejected: 'VendorRejected',
  /** The request would leave the customer's controls or the matrix's data flows (T18, T19). */
  OutsideCustomerControls: 'OutsideCustomerControls',
  /** An app installation this user may not bind here (not theirs to administer, or bound to another workspace). */
  InstallationRefused: 'InstallationRefused',
} as const;

export type VendorFailureType = (typeof VendorFailureType)[keyof typeof VendorFailureType];

const NON_RETRYABLE: ReadonlySet<VendorFailureType> = new Set([
  VendorFailureType.ReauthorizationRequired,
  VendorFailureType.MissingScope,
  VendorFailureType.CursorExpired,
  VendorFailureType.VendorRejected,
  VendorFailureType.OutsideCustomerControls,
  VendorFailureType.InstallationRefused,
  // Rate limits are waited out by the workflow (durable timer), not by hot activity retries.
  VendorFailureType.RateLimited,
]);

/**
 * Who refused a call: the vendor's own answer (a 429, a quota error), or our pacing before the call
 * left (a spent vendor budget, a vendor window we track, a per-method or per-channel pace). Set where
 * a RateLimited refusal is created: only the vendor's own blocks the account for every worker.
 */
export type RefusalSource = 'vendor' | 'budget';

/** Every failure but RateLimited, which must say who refused (`RefusalSource`). */
export type RefusalFailureType = Exclude<VendorFailureType, typeof VendorFailureType.RateLimited>;

export interface VendorErrorDetails {
  status?: number;
  retryAfterMs?: number;
  source?: RefusalSource;
  /** MissingScope: the vendor permission or role the credential lacks (named to the admin, T6). */
  permission?: string;
}

export class VendorError extends Error {
  readonly details: VendorErrorDetails;
  /** A RateLimited refusal must say who refused (`source`): `createVendorCall` branches on it. */
  constructor(
    type: typeof VendorFailureType.RateLimited,
    vendor: string,
    message: string,
    details: VendorErrorDetails & { source: RefusalSource },
  );
  constructor(type: RefusalFailureType, vendor: string, message: string, details?: VendorErrorDetails);
  constructor(
    readonly type: VendorFailureType,
    readonly vendor: string,
    message: string,
    details: VendorErrorDetails = {},
  ) {
    super(`${vendor}: ${message}`);
    this.name = 'VendorError';
    this.details = details;
  }
}

/**
 * A credential's connection test found it lacks a vendor permission (a service account's role): the
 * failure names the permission (`details.permission`, the connect state's `missingPermission`), never
 * the credential, so the admin knows what to grant. `message` says it in the vendor's own words.
 */
export function missingPermission(
  vendor: string,
  permission: string,
  { status = 403, message = `the credential lacks the permission ${permission}` } = {},
): VendorError {
  return new VendorError(VendorFailureType.MissingScope, vendor, message, { status, permission });
}

/** A vendor failure no retry can change (the activity's retry policy gives up on it too). */
export function isFinalVendorFailure(error: unknown): boolean {
  return error instanceof VendorError && NON_RETRYABLE.has(error.type);
}

/** A bounded name for how a call failed: the typed failure, else the error's class (never its message). */
export function vendorFailureType(error: unknown): string {
  return error instanceof VendorError ? error.type : error instanceof Error ? error.name : 'Error';
}

/** Default wait when a vendor rate-limits without Retry-After (GitHub documents "at least 1 min"). */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/** Parses Retry-After (seconds or HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Maps an HTTP status (and Retry-After, a date read against `now`) to the typed failure every vendor shares. */
export function classifyHttpStatus(
  vendor: string,
  status: number,
  reason: string,
  retryAfter?: string | null,
  now = Date.now(),
): VendorError {
  if (status === 401)
    return new VendorError(VendorFailureType.ReauthorizationRequired, vendor, `grant rejected (401): ${reason}`, {
      status,
    });
  if (status === 429) {
    return new VendorError(VendorFailureType.RateLimited, vendor, `rate limited (429)`, {
      source: 'vendor',
      status,
      retryAfterMs: parseRetryAfter(retryAfter, now) ?? DEFAULT_RATE_LIMIT_WAIT_MS,
    });
  }
  if (status === 403)
    return new VendorError(VendorFailureType.MissingScope, vendor, `forbidden (403): ${reason}`, { status });
  if (status === 410)
    return new VendorError(VendorFailureType.CursorExpired, vendor, `cursor expired (410)`, { status });
  if (status >= 500 || status === 408)
    return new VendorError(VendorFailureType.VendorUnavailable, vendor, `unavailable (${status})`, { status });
  return new VendorError(VendorFailureType.VendorRejected, vendor, `rejected (${status}): ${reason}`, { status });
}

/** The one conversion from vendor errors to Temporal failures. */
export function toApplicationFailure(error: unknown): unknown {
  if (!(error instanceof VendorError)) return error;
  return ApplicationFailure.create({
    type: error.type,
    message: error.message,
    nonRetryable: NON_RETRYABLE.has(error.type),
    details: [
      {
        vendor: error.vendor,
        status: error.details.status,
        retryAfterMs: error.details.retryAfterMs,
        permission: error.details.permission,
      },
    ],
  });
}
