/**
 * The Postgres side of the vendor budgets every worker shares (`vendor_budget_lease` /
 * `vendor_budget_block`, migration 0016), in the API's rate-limit table. Keys are hashed here,
 * before they leave the process: the table holds no installation, tenant or site id.
 */
import type { Knex } from 'knex';
import { hashBucketKey } from './rateLimits';

/** A vendor budget: `capacity` tokens, refilled at `refillPerSecond`. */
export interface BudgetPolicy {
  capacity: number;
  refillPerSecond: number;
}

export interface VendorBudgetStore {
  /**
   * Takes up to `want` tokens from the key's shared bucket. `waitMs`: 0 while the bucket still holds
   * a token, else when it will again (the refill, or the end of a vendor's Retry-After block).
   */
  lease(key: string, want: number, policy: BudgetPolicy): Promise<{ granted: number; waitMs: number }>;
  /** Blocks the key for every worker for `forMs` (capped at an hour) and empties its bucket. */
  block(key: string, forMs: number): Promise<void>;
}

export function createPostgresVendorBudgetStore(db: Knex): VendorBudgetStore {
  return {
    async lease(key, want, policy) {
      const { rows } = await db.raw<{ rows: Array<{ granted: number; wait_ms: number }> }>(
        'select granted, wait_ms from vendor_budget_lease(?, ?::integer, ?::double precision, ?::double precision)',
        [hashBucketKey(key), want, policy.capacity, policy.refillPerSecond],
      );
      return { granted: Number(rows[0]!.granted), waitMs: Number(rows[0]!.wait_ms) };
    },
    async block(key, forMs) {
      await db.raw('select vendor_budget_block(?, ?::double precision)', [hashBucketKey(key), forMs]);
    },
  };
}
