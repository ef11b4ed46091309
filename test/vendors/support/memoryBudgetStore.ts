/**
 * Contract double of the shared vendor budget store (`db/vendorBudgets.ts`): the same answers as
 * `vendor_budget_lease` / `vendor_budget_block`, in memory, on an injectable clock. The contract
 * tests in `test/vendors/budgets.test.ts` run against both, so the double cannot drift.
 * `failing` makes every call throw as an unreachable database would.
 */
import type { BudgetPolicy, VendorBudgetStore } from '../../../db/vendorBudgets';

export interface MemoryBudgetStore extends VendorBudgetStore {
  failing: boolean;
  calls: number;
}

export function createMemoryBudgetStore(now: () => number = Date.now): MemoryBudgetStore {
  const buckets = new Map<string, { tokens: number; updatedAt: number; blockedUntil: number }>();
  const unreachable = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const store: MemoryBudgetStore = {
    failing: false,
    calls: 0,
    async lease(key: string, want: number, policy: BudgetPolicy) {
      store.calls += 1;
      if (store.failing) throw unreachable();
      const at = now();
      const bucket = buckets.get(key) ?? { tokens: policy.capacity, updatedAt: at, blockedUntil: 0 };
      buckets.set(key, bucket);
      if (bucket.blockedUntil > at) return { granted: 0, waitMs: Math.ceil(bucket.blockedUntil - at) };
      const available = Math.min(
        policy.capacity,
        bucket.tokens + (Math.max(0, at - bucket.updatedAt) / 1000) * policy.refillPerSecond,
      );
      const granted = Math.min(want, Math.floor(Math.max(available, 0)));
      Object.assign(bucket, { tokens: available - granted, updatedAt: at });
      const left = available - granted;
      return { granted, waitMs: left >= 1 ? 0 : Math.ceil(((1 - left) / policy.refillPerSecond) * 1000) };
    },
    async block(key: string, forMs: number) {
      store.calls += 1;
      if (store.failing) throw unreachable();
      const until = now() + Math.min(forMs, 3_600_000);
      const bucket = buckets.get(key);
      buckets.set(key, { tokens: 0, updatedAt: now(), blockedUntil: Math.max(bucket?.blockedUntil ?? 0, until) });
    },
  };
  return store;
}
