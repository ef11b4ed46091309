/**
 * Per-caller and per-workspace rate limits (T23): token buckets.
 *
 * With a `RateLimitStore` (Postgres, `db/rateLimits.ts`) the caller and workspace budgets are
 * shared by every API instance. Each admits from its own buckets and, every SETTLE_INTERVAL_MS,
 * adds what it admitted to the shared buckets and takes back what is left, for every key it used
 * in the last FRESH_FOR_MS. A key whose shared state it has not read within FRESH_FOR_MS (new, or
 * idle here) is read before the request is judged. Admissions across N instances can therefore
 * pass a budget by what the other N − 1 admit before the next settlement, and no more: a busy key
 * costs no database call on the request path. Without a store, each instance has its own budget.
 * Anonymous buckets (per client address) stay per instance: they stop floods, they are no
 * customer's budget, and addresses are not stored. Behind a load balancer the client address is
 * the one its `X-Forwarded-For` names only if API_TRUST_PROXY trusts the balancer; otherwise every
 * caller would share the balancer's bucket.
 */
import type { RateLimitStore } from '../db/rateLimits';

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
/** How often an instance settles its use with the shared buckets: the window in which instances can overshoot together. */
const SETTLE_INTERVAL_MS = 250;
/** A key used within this long is settled every interval; one whose shared state is older is read before it is judged. */
const FRESH_FOR_MS = 2_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** Tokens taken since the last settlement with the shared bucket. */
  unsettled: number;
  touchedAt: number;
  settledAt?: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly policy: BucketPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the key's shared state was read within `ms`. */
  settledWithin(key: string, ms: number): boolean {
    const settledAt = this.buckets.get(key)?.settledAt;
    return settledAt !== undefined && this.now() - settledAt <= ms;
  }

  /** Takes one token; returns 0 when allowed, else the seconds until a token is available. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? {
      tokens: this.policy.capacity,
      updatedAt: now,
      unsettled: 0,
      touchedAt: now,
    };
    bucket.tokens = Math.min(
      this.policy.capacity,
      bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.policy.refillPerSecond,
    );
    bucket.updatedAt = now;
    bucket.touchedAt = now;
    // Re-insert so the Map's order is least-recently-used first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    this.evict(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.unsettled += 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.policy.refillPerSecond));
  }

  /** Every key with use to settle or used within `activeForMs`, with the tokens taken since the last call (now counted as settled). */
  toSettle(activeForMs: number): Array<{ key: string; used: number }> {
    const now = this.now();
    const uses: Array<{ key: string; used: number }> = [];
    for (const [key, bucket] of this.buckets) {
      if (bucket.unsettled === 0 && now - bucket.touchedAt > activeForMs) continue;
      uses.push({ key, used: bucket.unsettled });
      bucket.unsettled = 0;
    }
    return uses;
  }

  /** A settlement failed: its use counts as unsettled again. */
  unsettle(key: string, used: number): void {
    const bucket = this.buckets.get(key);
    if (bucket) bucket.unsettled += used;
  }

  /** The shared bucket holds `tokens` now, counting the use settled; what was taken since is still to come off. */
  settle(key: string, tokens: number): void {
    const now = this.now();
    const bucket = this.buckets.get(key);
    const unsettled = bucket?.unsettled ?? 0;
    this.buckets.set(key, {
      tokens: tokens - unsettled,
      updatedAt: now,
      unsettled,
      touchedAt: bucket?.touchedAt ?? now,
      settledAt: now,
    });
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
  checkCaller(subject: string, workspaceId: string): Promise<number>;
  /** A call without a valid token, keyed by client address. */
  checkAnonymous(address: string): number;
  /** Settles every unsettled use with the shared buckets now (it also happens every `settleIntervalMs`). */
  settle(): Promise<void>;
  /** Stops settling, after one last settlement. */
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  store?: RateLimitStore;
  /** A settlement failed (the limits are per instance until one succeeds); called once per outage. */
  onStoreError?: (error: unknown) => void;
  /** Default SETTLE_INTERVAL_MS. */
  settleIntervalMs?: number;
  now?: () => number;
}

export function createRateLimiter(
  policy: RateLimitPolicy = DEFAULT_RATE_LIMITS,
  options: RateLimiterOptions = {},
): RateLimiter {
  const now = options.now ?? Date.now;
  const shared = { caller: new TokenBuckets(policy.caller, now), workspace: new TokenBuckets(policy.workspace, now) };
  const anonymous = new TokenBuckets(policy.anonymous ?? DEFAULT_RATE_LIMITS.anonymous, now);
  const store = options.store;
  let failing = false;

  /** Adds every unsettled use to the shared buckets and takes back what is left, for the keys in use and `reads`. */
  const settleOnce = async (reads: Array<{ budget: keyof typeof shared; key: string }>): Promise<void> => {
    if (!store) return;
    const uses = (Object.keys(shared) as Array<keyof typeof shared>).flatMap((budget) =>
      shared[budget].toSettle(FRESH_FOR_MS).map((use) => ({ budget, ...use })),
    );
    for (const read of reads)
      if (!uses.some((use) => use.budget === read.budget && use.key === read.key)) uses.push({ ...read, used: 0 });
    if (uses.length === 0) return;
    try {
      const left = await store.consume(
        uses.map(({ budget, key, used }) => ({ key: `${budget}:${key}`, used, ...shared[budget].policy })),
      );
      for (const { budget, key } of uses) shared[budget].settle(key, left.get(`${budget}:${key}`)!);
      failing = false;
    } catch (error) {
      for (const { budget, key, used } of uses) shared[budget].unsettle(key, used);
      if (!failing) options.onStoreError?.(error);
      failing = true;
    }
  };
  // One settlement at a time: answers applied out of order would leave a bucket too full, and a
  // slow database must not collect a queue of them in the pool the audit appends need.
  let inFlight: Promise<void> | undefined;
  const settle = (reads: Array<{ budget: keyof typeof shared; key: string }> = []): Promise<void> => {
    const run = (inFlight ?? Promise.resolve()).then(() => settleOnce(reads));
    const tracked: Promise<void> = run.finally(() => {
      if (inFlight === tracked) inFlight = undefined;
    });
    inFlight = tracked;
    return tracked;
  };
  const timer = store
    ? setInterval(() => void (inFlight ?? settle()), options.settleIntervalMs ?? SETTLE_INTERVAL_MS)
    : undefined;
  timer?.unref();

  /** The read to wait for before judging the key, if its shared state is stale; concurrent requests share one. */
  const firstReads = new Map<string, Promise<void>>();
  const staleRead = (budget: keyof typeof shared, key: string): Promise<void> | undefined => {
    // During a store outage keys are judged on what this instance knows; the settlements notice the recovery.
    if (!store || failing || shared[budget].settledWithin(key, FRESH_FOR_MS)) return undefined;
    const id = `${budget}:${key}`;
    let read = firstReads.get(id);
    if (!read) {
      read = settle([{ budget, key }]).finally(() => firstReads.delete(id));
      firstReads.set(id, read);
    }
    return read;
  };

  return {
    async checkCaller(subject, workspaceId) {
      const reads = [staleRead('caller', subject), staleRead('workspace', workspaceId)].filter(
        (read) => read !== undefined,
      );
      if (reads.length > 0) await Promise.all(reads);
      const callerWait = shared.caller.take(subject);
      return callerWait > 0 ? callerWait : shared.workspace.take(workspaceId);
    },
    checkAnonymous: (address) => anonymous.take(address),
    settle: () => settle(),
    async close() {
      if (timer) clearInterval(timer);
      await settle();
    },
  };
}
