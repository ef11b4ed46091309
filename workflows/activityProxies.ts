/**
 * Activity stubs shared by the integration workflows (one place for timeouts and retries).
 * Vendor failures marked non-retryable (auth, scope, cursor, rate limit) surface at once; the
 * rest retry with capped backoff.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

export const integrationActivities = proxyActivities<Activities>({
  // One vendor request plus one transaction: a minute is generous; a hung call is retried.
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Failure type of an activity / child failure (the `ApplicationFailure.type` from `toApplicationFailure`). */
export function failureType(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as { type?: unknown; cause?: unknown };
    if (typeof candidate.type === 'string') return candidate.type;
    current = candidate.cause;
  }
  return undefined;
}

/** `details[0].retryAfterMs` of a RateLimited failure. */
export function retryAfterMs(error: unknown, fallbackMs: number): number {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const details = (current as { details?: unknown[] }).details;
    const value = (details?.[0] as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    if (typeof value === 'number' && value >= 0) return value;
    current = (current as { cause?: unknown }).cause;
  }
  return fallbackMs;
}
