/**
 * Webhook replay protection: a delivery id (GitHub `X-GitHub-Delivery`, Atlassian
 * `X-Atlassian-Webhook-Identifier`) is accepted once. The API wires a Postgres-backed guard; the
 * in-memory one serves single-process use and tests.
 */
export interface ReplayGuard {
  /** True the first time `key` is seen within the retention window, false on a replay. */
  firstSeen(key: string): Promise<boolean>;
}

/** Vendors redeliver for hours (Graph: 4 h; GitHub manual redelivery: days): keep ids 3 days. */
export const DEFAULT_REPLAY_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;

export function createInMemoryReplayGuard(options: { retentionMs?: number; now?: () => number } = {}): ReplayGuard {
  const retentionMs = options.retentionMs ?? DEFAULT_REPLAY_RETENTION_MS;
  const now = options.now ?? Date.now;
  const seenAt = new Map<string, number>();
  return {
    async firstSeen(key) {
      const current = now();
      for (const [seenKey, at] of seenAt) if (current - at > retentionMs) seenAt.delete(seenKey);
      if (seenAt.has(key)) return false;
      seenAt.set(key, current);
      return true;
    },
  };
}

/**
 * For the API's receiver: dedup is its job (a `webhook_deliveries` insert in Postgres, shared by
 * every API instance and recorded only after verification), so verifiers that take a guard get this
 * pass-through one.
 */
export const DEDUP_IN_RECEIVER: ReplayGuard = { firstSeen: async () => true };
