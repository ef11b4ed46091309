/**
 * On-demand throttling: `start(count, response)` makes the next `count` requests answer `response`
 * (a 429 with Retry-After, GitHub's 403 with `x-ratelimit-remaining: 0`, …) instead of the route.
 */
import type { EmulatorResponse } from './http';

export interface RateStorm {
  start(count: number, response: EmulatorResponse): void;
  /** The storm response while one is under way (consumes one), else undefined. */
  intercept(): EmulatorResponse | undefined;
}

export function createRateStorm(): RateStorm {
  let remaining = 0;
  let stormResponse: EmulatorResponse | undefined;
  return {
    start(count, response) {
      remaining = count;
      stormResponse = response;
    },
    intercept() {
      if (remaining <= 0 || !stormResponse) return undefined;
      remaining -= 1;
      return stormResponse;
    },
  };
}

/** The plain 429 most vendors send. */
export function tooManyRequests(
  retryAfterSeconds: number,
  headers: Record<string, string> = {},
  body: unknown = { message: 'Too Many Requests' },
): EmulatorResponse {
  return { status: 429, headers: { 'retry-after': String(retryAfterSeconds), ...headers }, body };
}
