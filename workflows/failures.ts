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

/** `details[0][key]` of the first failure in the chain that carries it. */
function detailOf(error: unknown, key: string): unknown {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const details = (current as { details?: unknown[] }).details;
    const value = (details?.[0] as Record<string, unknown> | undefined)?.[key];
    if (value !== undefined && value !== null) return value;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `details[0].retryAfterMs` of a RateLimited failure. */
export function retryAfterMs(error: unknown, fallbackMs: number): number {
  const value = detailOf(error, 'retryAfterMs');
  return typeof value === 'number' && value >= 0 ? value : fallbackMs;
}

/** The vendor permission a credential's connection test found missing (`missingPermission`), if any. */
export function missingPermissionOf(error: unknown): string | undefined {
  const value = detailOf(error, 'permission');
  return typeof value === 'string' ? value : undefined;
}
