/**
 * Reading typed failures (the `ApplicationFailure.type` and details set by `toApplicationFailure`)
 * out of Temporal's failure chains. Pure functions: used by workflows and by the API alike.
 */

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
