/**
 * Our own per-workspace request budget, kept below each vendor's published limit (the descriptor's
 * `rateLimit.requestsPerMinute`): a token bucket per key. An exhausted bucket throws the same typed
 * RateLimited failure a vendor 429 would, so workflows wait it out with a durable timer.
 * In-process: each worker holds its own buckets, so a fleet of N workers allows up to N× the budget.
 */
import { VendorError, VendorFailureType } from '../errors';

export interface RateBudget {
  take(key: string): void;
}

export function createRateBudget(options: {
  vendor: string;
  requestsPerMinute: number;
  /**
   * Bucket size (default: a minute's worth). A smaller burst keeps any sliding minute at or below
   * `burst + requestsPerMinute`, for vendors that count per window rather than per bucket (Slack).
   */
  burst?: number;
  now?: () => number;
}): RateBudget {
  const now = options.now ?? Date.now;
  const capacity = options.burst ?? options.requestsPerMinute;
  const refillPerMs = options.requestsPerMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const current = now();
      const bucket = buckets.get(key) ?? { tokens: capacity, at: current };
      bucket.tokens = Math.min(capacity, bucket.tokens + (current - bucket.at) * refillPerMs);
      bucket.at = current;
      buckets.set(key, bucket);
      if (bucket.tokens < 1) {
        throw new VendorError(VendorFailureType.RateLimited, options.vendor, 'workspace request budget exhausted', {
          retryAfterMs: Math.ceil((1 - bucket.tokens) / refillPerMs),
        });
      }
      bucket.tokens -= 1;
    },
  };
}
