/**
 * Vendor request budgets, keyed the way each vendor counts (the descriptor's `rateLimit.countedPer`)
 * and, with a store, shared by every worker and every activity (issue #17):
 *
 * - A worker leases a few tokens at a time from the shared bucket (`db/vendorBudgets.ts`), so most
 *   calls cost no database round trip; a lease is never more than the bucket holds, so the fleet
 *   never spends more than one budget. Leased tokens unused after `LEASE_TTL_MS` are dropped.
 * - A vendor 429 (Retry-After) blocks the key for every worker until it passes.
 * - A key the store found spent, or left empty, or blocked, is refused locally until the store's
 *   wait has passed; concurrent takes of one process share one lease request.
 * - Store unreachable: the worker falls back to a local share (budget / expected workers), never to
 *   unlimited, with a metric and a log line, and tries the store again after `STORE_RETRY_MS`.
 *
 * A spent budget throws the same typed RateLimited failure a vendor 429 would, with the wait, so the
 * sync waits it out on a durable timer.
 */
import type { BudgetPolicy, VendorBudgetStore } from '../../../db/vendorBudgets';
import { countActivityMetric } from '../../telemetry';
import { VendorError, VendorFailureType } from '../errors';
import type { VendorDescriptor } from '../types';
import { createLocalBuckets } from './localBuckets';

export interface VendorBudgets {
  /** Takes one request from the key's budget; throws RateLimited with the wait when it is spent. */
  take(vendor: string, key: string, policy: BudgetPolicy): Promise<void>;
  /** The vendor answered 429: no worker calls on `key` until `forMs` has passed. */
  block(vendor: string, key: string, forMs: number): Promise<void>;
}

/** Where the degraded mode is reported: a process logger (ids of vendors only, never of accounts). */
export interface BudgetLog {
  warn(meta: Record<string, unknown>, message: string): void;
  info(meta: Record<string, unknown>, message: string): void;
}

/** Unused leased tokens are dropped after this long, so a lease never outlives its moment. */
export const LEASE_TTL_MS = 1_000;
/** After a store failure, the local share is used this long before the store is tried again. */
export const STORE_RETRY_MS = 5_000;
/** Largest lease: at most 1/20 of a budget, so a worker never holds back much of what others could use. */
const MAX_LEASE = 10;

/** The descriptor's per-minute budget as a token bucket: a minute's worth at most, refilled evenly. */
export function budgetPolicy(rateLimit: Pick<VendorDescriptor['rateLimit'], 'requestsPerMinute'>): BudgetPolicy {
  return { capacity: rateLimit.requestsPerMinute, refillPerSecond: rateLimit.requestsPerMinute / 60 };
}

/**
 * The budget key of a call: our app (vendors count per app) and the account the vendor counts per,
 * from the credential's metadata; the workspace when the descriptor names none or the credential lacks it.
 */
export function budgetKey(
  app: { family: string; id: string },
  rateLimit: Pick<VendorDescriptor['rateLimit'], 'requestsPerMinute' | 'countedPer'>,
  context: { workspaceId: string; credential?: { metadata?: Record<string, string> } },
): string {
  const prefix = `vendor:${app.family}:app=${app.id}`;
  const fields = rateLimit.countedPer ?? [];
  const values = fields.map((field) => context.credential?.metadata?.[field]);
  if (fields.length === 0 || values.some((value) => !value)) return `${prefix}:workspace=${context.workspaceId}`;
  return `${prefix}:${fields.map((field, i) => `${field}=${values[i]!}`).join(':')}`;
}

/**
 * The key of a budget the vendor keeps inside an account's (Slack's tier of one method, its pace of
 * one channel): the account's key (`budgetKey`) and what is counted, so every worker shares it too.
 */
export function subBudgetKey(accountKey: string, counted: string, id: string): string {
  return `${accountKey}:${counted}=${id}`;
}

const spent = (vendor: string, waitMs: number) =>
  new VendorError(VendorFailureType.RateLimited, vendor, 'vendor request budget spent', {
    source: 'budget',
    retryAfterMs: waitMs,
  });

/** Scales a policy down to one worker's share. */
const shareOf = (policy: BudgetPolicy, share: number): BudgetPolicy => ({
  capacity: Math.max(1, policy.capacity * share),
  refillPerSecond: policy.refillPerSecond * share,
});

/** Budgets held in this process only (no store): each worker has the whole budget, or `share` of it. */
export function createLocalVendorBudgets(options: { share?: number; now?: () => number } = {}): VendorBudgets {
  const buckets = createLocalBuckets(options.now);
  const share = options.share ?? 1;
  return {
    take(vendor, key, policy) {
      const waitMs = buckets.take(key, shareOf(policy, share));
      return waitMs > 0 ? Promise.reject(spent(vendor, waitMs)) : Promise.resolve();
    },
    block(_vendor, key, forMs) {
      buckets.block(key, forMs);
      return Promise.resolve();
    },
  };
}

/** Tokens asked per lease: a twentieth of the budget, between 1 and MAX_LEASE. */
export const leaseSize = (policy: BudgetPolicy): number =>
  Math.max(1, Math.min(MAX_LEASE, Math.floor(policy.capacity / 20)));

export function createSharedVendorBudgets(options: {
  store: VendorBudgetStore;
  /** Workers expected to share a budget: the local share when the store is unreachable is 1/expectedWorkers. */
  expectedWorkers: number;
  log?: BudgetLog;
  now?: () => number;
}): VendorBudgets {
  const now = options.now ?? Date.now;
  const share = 1 / Math.max(1, options.expectedWorkers);
  const fallback = createLocalVendorBudgets({ share, now });
  const leases = new Map<string, { tokens: number; expiresAt: number }>();
  /** Keys refused until then (the store's wait, a vendor's Retry-After): refused here, with no round trip. */
  const spentUntil = new Map<string, number>();
  let degradedUntil = 0;

  function degrade(vendor: string, error: unknown): void {
    if (degradedUntil === 0)
      options.log?.warn(
        { vendor, reason: (error as { code?: string }).code ?? (error as Error).name, share },
        'vendor budget store unreachable: using the local share of each budget',
      );
    degradedUntil = now() + STORE_RETRY_MS;
    countActivityMetric('vendor_budget_degraded', 1, { vendor });
  }

  function recovered(vendor: string): void {
    if (degradedUntil === 0) return;
    degradedUntil = 0;
    options.log?.info({ vendor }, 'vendor budget store reachable again: budgets are shared');
  }

  function takeLeased(key: string): boolean {
    const lease = leases.get(key);
    if (!lease || lease.tokens < 1 || lease.expiresAt <= now()) return false;
    lease.tokens -= 1;
    return true;
  }

  /** One store lease per key at a time in this process: concurrent takes wait for it, then look again. */
  const inFlight = new Map<string, Promise<void>>();

  async function leaseFromStore(vendor: string, key: string, policy: BudgetPolicy): Promise<void> {
    let answer: { granted: number; waitMs: number };
    try {
      answer = await options.store.lease(key, leaseSize(policy), policy);
    } catch (error) {
      degrade(vendor, error);
      return;
    }
    recovered(vendor);
    if (answer.granted > 0) {
      const lease = leases.get(key);
      const kept = lease && lease.expiresAt > now() ? lease.tokens : 0;
      leases.set(key, { tokens: kept + answer.granted, expiresAt: now() + LEASE_TTL_MS });
    }
    if (answer.granted < 1 || answer.waitMs > 0) spentUntil.set(key, now() + Math.max(1, answer.waitMs));
  }

  return {
    async take(vendor, key, policy) {
      for (;;) {
        if (takeLeased(key)) return;
        const spentFor = (spentUntil.get(key) ?? 0) - now();
        if (spentFor > 0) throw spent(vendor, spentFor);
        spentUntil.delete(key);
        if (now() < degradedUntil) return fallback.take(vendor, key, policy);
        const pending = inFlight.get(key);
        if (pending) {
          await pending;
          continue;
        }
        const request = leaseFromStore(vendor, key, policy).finally(() => inFlight.delete(key));
        inFlight.set(key, request);
        await request;
      }
    },
    async block(vendor, key, forMs) {
      spentUntil.set(key, Math.max(spentUntil.get(key) ?? 0, now() + forMs));
      leases.delete(key);
      await fallback.block(vendor, key, forMs);
      try {
        await options.store.block(key, forMs);
      } catch (error) {
        degrade(vendor, error);
      }
    },
  };
}
