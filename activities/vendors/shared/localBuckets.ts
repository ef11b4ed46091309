/**
 * In-process token buckets, one per key, each with its own policy (capacity, refill per second)
 * and an optional block until a vendor's Retry-After passes. They are a worker's whole budget when
 * no shared store is configured, and its conservative local share when the store is unreachable
 * (`vendorBudgets.ts`).
 */
import type { BudgetPolicy } from '../../../db/vendorBudgets';

export interface LocalBuckets {
  /** Takes one token: 0 when taken, else the ms until one is there. */
  take(key: string, policy: BudgetPolicy): number;
  /** No token is given for `key` for `forMs`; the bucket is emptied and refills from now on. */
  block(key: string, forMs: number): void;
}

export function createLocalBuckets(now: () => number = Date.now): LocalBuckets {
  const buckets = new Map<string, { tokens: number; at: number; blockedUntil: number }>();
  return {
    take(key, policy) {
      const current = now();
      const bucket = buckets.get(key) ?? { tokens: policy.capacity, at: current, blockedUntil: 0 };
      buckets.set(key, bucket);
      if (bucket.blockedUntil > current) return bucket.blockedUntil - current;
      const refillPerMs = policy.refillPerSecond / 1000;
      bucket.tokens = Math.min(policy.capacity, bucket.tokens + Math.max(0, current - bucket.at) * refillPerMs);
      bucket.at = current;
      if (bucket.tokens < 1) return Math.ceil((1 - bucket.tokens) / refillPerMs);
      bucket.tokens -= 1;
      return 0;
    },
    block(key, forMs) {
      const current = now();
      const blockedUntil = Math.max(buckets.get(key)?.blockedUntil ?? 0, current + forMs);
      buckets.set(key, { tokens: 0, at: current, blockedUntil });
    },
  };
}
