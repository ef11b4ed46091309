/**
 * Audit-log retention: the one way entries ever leave the append-only log. Runs as the owner and
 * goes through `audit_log_apply_retention`, which removes each workspace's chain prefix older than
 * the cutoff and records the last removed hash so the kept chain still verifies.
 */
import type { Knex } from 'knex';

/**
 * Audit entries are kept at least this long: 400 days covers a yearly audit cycle plus its
 * preparation window; a deployment may keep them longer, never shorter.
 */
export const AUDIT_RETENTION_MIN_MS = 400 * 24 * 60 * 60 * 1000;

/** Deletes entries created before `before` (owner connection); returns how many were removed. */
export async function applyAuditRetention(ownerDb: Knex, before: Date): Promise<number> {
  const { rows } = await ownerDb.raw<{ rows: { removed: string }[] }>(
    'select audit_log_apply_retention(?) as removed',
    [before],
  );
  return Number(rows[0]!.removed);
}

/** The cutoff for a retention period, refusing periods shorter than the minimum. */
export function retentionCutoff(retentionMs: number, now: Date = new Date()): Date {
  if (!Number.isFinite(retentionMs) || retentionMs < AUDIT_RETENTION_MIN_MS) {
    throw new Error(`audit retention must be at least ${AUDIT_RETENTION_MIN_MS} ms`);
  }
  return new Date(now.getTime() - retentionMs);
}
