/**
 * Per-caller and per-workspace rate limits (T23): token buckets held in this process's memory.
 *
 * Limitation: each API instance keeps its own buckets, so N instances admit up to N× the budget.
 * A multi-instance deployment needs a shared store (e.g. Redis with an atomic bucket script, or a
 * Postgres row per key) behind the same `RateLimiter` interface.
 */
export interface BucketPolicy {
  /** Burst size. */
  capacity: number;
  /** Sustained rate. */
  refillPerSecond: number;
}

export interface RateLimitPolicy {
  /** Per authenticated subject. */
  caller: BucketPolicy;
  /** Shared by every caller of one workspace: one noisy integration cannot starve the others. */
  workspace: BucketPolicy;
  /**
   * Per client address, for calls without a valid token: vendor webhooks, OAuth redirects, bad
   * tokens. Never charged to a workspace, so strangers cannot exhaust a workspace's budget.
   */
  anonymous?: BucketPolicy;
}

/** Generous for people and scripts, tight enough that a runaway loop is stopped within seconds. */
export const DEFAULT_RATE_LIMITS: Required<RateLimitPolicy> = {
  caller: { capacity: 60, refillPerSecond: 10 },
  workspace: { capacity: 200, refillPerSecond: 40 },
  // Vendors deliver bursts from a few addresses and some (GitHub) do not retry a 429: stay well above their rates.
  anonymous: { capacity: 600, refillPerSecond: 100 },
};

/** Buckets untouched for this long are full again and are dropped, bounding memory. */
const IDLE_EVICT_MS = 10 * 60_000;
/** Upper bound on tracked keys; the idlest are evicted first (Map keeps insertion order). */
const MAX_KEYS = 100_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly policy: BucketPolicy, private readonly now: () => number = Date.now) {}

  /** Takes one token; returns 0 when allowed, else the seconds until a token is available. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.policy.capacity, updatedAt: now };
    bucket.tokens = Math.min(this.policy.capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.policy.refillPerSecond);
    bucket.updatedAt = now;
    // Re-insert so the Map's order is least-recently-used first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    this.evict(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.policy.refillPerSecond));
  }

  private evict(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.buckets.size <= MAX_KEYS && now - bucket.updatedAt < IDLE_EVICT_MS) break;
      this.buckets.delete(key);
    }
  }
}

export interface RateLimiter {
  /** An authenticated call: 0 when allowed, else Retry-After seconds. Over its own budget, a caller does not drain its workspace's. */
  checkCaller(subject: string, workspaceId: string): number;
  /** A call without a valid token, keyed by client address. */
  checkAnonymous(address: string): number;
}

export function createRateLimiter(policy: RateLimitPolicy = DEFAULT_RATE_LIMITS, now: () => number = Date.now): RateLimiter {
  const callers = new TokenBuckets(policy.caller, now);
  const workspaces = new TokenBuckets(policy.workspace, now);
  const anonymous = new TokenBuckets(policy.anonymous ?? DEFAULT_RATE_LIMITS.anonymous, now);
  return {
    checkCaller(subject, workspaceId) {
      const callerWait = callers.take(subject);
      return callerWait > 0 ? callerWait : workspaces.take(workspaceId);
    },
    checkAnonymous: (address) => anonymous.take(address),
  };
}
