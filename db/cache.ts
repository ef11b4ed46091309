/**
 * The only copy of source-system data we keep: a cache in which every record expires (T3).
 *
 * TTLs are set per vendor/resource and never exceed `CACHE_TTL_HARD_MAX_MS`; reads never return an
 * expired row (whether or not the sweeper has run yet), and `sweepExpired` deletes expired rows in
 * every workspace through the owner's `sweep_expired_cache` function. Functions that touch a
 * workspace's rows take the transaction of `withWorkspace`, so RLS binds them to that workspace.
 */
import type { Knex } from 'knex';

/**
 * Hard ceiling for any cache TTL: 7 days. Syncs are incremental and webhook-driven (T11), so a
 * record still in use is refreshed long before a week; anything older is a stale copy of data that
 * belongs to the source system (T15), and bounding it keeps the "no persistent copy" promise true
 * even for a resource whose sync stopped.
 */
export const CACHE_TTL_HARD_MAX_MS = 7 * 24 * 60 * 60 * 1000;
/** Default when no vendor/resource TTL is configured: one day covers daily-cadence polling (T12). */
export const CACHE_TTL_DEFAULT_MS = 24 * 60 * 60 * 1000;
/**
 * Rows per INSERT statement. A chunk travels as one JSON parameter (jsonb_to_recordset), so the
 * 65,535-parameter limit does not apply; 2,000 rows keeps a statement at a few MB for typical
 * payloads while amortising the round trip.
 */
export const UPSERT_CHUNK_ROWS = 2000;
/** Rows deleted per sweeper call: bounded lock time on a large backlog. */
export const SWEEP_BATCH = 10_000;

export class CacheTtlError extends Error {
  constructor(ttlMs: number) {
    super(`cache TTL ${ttlMs} ms is outside 1..${CACHE_TTL_HARD_MAX_MS} ms`);
    this.name = 'CacheTtlError';
  }
}

/** Refuses (rather than silently clamps) a TTL above the hard maximum: a misconfiguration must be seen. */
export function assertCacheTtl(ttlMs: number): number {
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > CACHE_TTL_HARD_MAX_MS) throw new CacheTtlError(ttlMs);
  return ttlMs;
}

/** TTL of one vendor resource: `ttls["<vendor>/<resource>"]`, else `ttls["<vendor>"]`, else the default; validated. */
export function cacheTtlFor(ttls: Readonly<Record<string, number>>, vendor: string, resource: string): number {
  return assertCacheTtl(ttls[`${vendor}/${resource}`] ?? ttls[vendor] ?? CACHE_TTL_DEFAULT_MS);
}

export interface CachedRecordInput {
  externalId: string;
  payload: unknown;
  version?: string | null;
}

export interface CacheScope {
  workspaceId: string;
  integrationId: string;
  resource: string;
}

export interface CachedRecord {
  externalId: string;
  payload: unknown;
  version: string | null;
  fetchedAt: Date;
  expiresAt: Date;
}

/** Insert-or-refresh by external id (idempotent: a replayed page changes nothing but the timestamps). */
export async function upsertRecords(
  trx: Knex.Transaction,
  input: CacheScope & { records: CachedRecordInput[]; ttlMs: number },
): Promise<number> {
  const expiresAt = new Date(Date.now() + assertCacheTtl(input.ttlMs));
  // One row per external id (last wins): Postgres refuses to update the same row twice in one statement.
  const unique = [...new Map(input.records.map((r) => [r.externalId, r])).values()];
  for (let start = 0; start < unique.length; start += UPSERT_CHUNK_ROWS) {
    const chunk = unique.slice(start, start + UPSERT_CHUNK_ROWS);
    await trx.raw(
      `
      INSERT INTO cached_records (workspace_id, integration_id, resource, external_id, payload, version, fetched_at, expires_at)
      SELECT ?, ?, ?, r.external_id, r.payload, r.version, now(), ?
      FROM jsonb_to_recordset(?::jsonb) AS r (external_id text, payload jsonb, version text)
      ON CONFLICT (workspace_id, integration_id, resource, external_id) DO UPDATE
        SET payload = excluded.payload, version = excluded.version, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
      `,
      [
        input.workspaceId,
        input.integrationId,
        input.resource,
        expiresAt,
        JSON.stringify(
          chunk.map((r) => ({ external_id: r.externalId, payload: r.payload ?? null, version: r.version ?? null })),
        ),
      ],
    );
  }
  return unique.length;
}

export async function deleteRecords(
  trx: Knex.Transaction,
  input: CacheScope & { externalIds: string[] },
): Promise<number> {
  return trx('cached_records')
    .where({ workspace_id: input.workspaceId, integration_id: input.integrationId, resource: input.resource })
    .whereIn('external_id', input.externalIds)
    .del();
}

/** Unexpired records of one resource, by external id order (keyset `after`), or exactly `externalIds`. */
export async function readRecords(
  trx: Knex.Transaction,
  input: CacheScope & { externalIds?: string[]; after?: string; limit?: number },
): Promise<CachedRecord[]> {
  const query = trx('cached_records')
    .select('external_id', 'payload', 'version', 'fetched_at', 'expires_at')
    .where({ workspace_id: input.workspaceId, integration_id: input.integrationId, resource: input.resource })
    .where('expires_at', '>', trx.fn.now())
    .orderBy('external_id', 'asc');
  if (input.externalIds !== undefined) query.whereIn('external_id', input.externalIds);
  if (input.after !== undefined) query.where('external_id', '>', input.after);
  if (input.limit !== undefined) query.limit(input.limit);
  const rows: { external_id: string; payload: unknown; version: string | null; fetched_at: Date; expires_at: Date }[] =
    await query;
  return rows.map((r) => ({
    externalId: r.external_id,
    payload: r.payload,
    version: r.version,
    fetchedAt: r.fetched_at,
    expiresAt: r.expires_at,
  }));
}

export interface ClearedCounts {
  cachedRecords: number;
  webhookDeliveries: number;
  syncState: number;
}

/** Disconnect (T4, T15): every cached record, delivery record and sync cursor of the integration. */
export async function clearIntegration(
  trx: Knex.Transaction,
  workspaceId: string,
  integrationId: string,
): Promise<ClearedCounts> {
  const scope = { workspace_id: workspaceId, integration_id: integrationId };
  return {
    cachedRecords: await trx('cached_records').where(scope).del(),
    webhookDeliveries: await trx('webhook_deliveries').where(scope).del(),
    syncState: await trx('sync_state').where(scope).del(),
  };
}

/** Deletes expired cached records and webhook deliveries in every workspace, batch by batch. */
export async function sweepExpired(
  db: Knex,
  batch = SWEEP_BATCH,
): Promise<{ cachedRecords: number; webhookDeliveries: number }> {
  const total = { cachedRecords: 0, webhookDeliveries: 0 };
  for (;;) {
    const { rows } = await db.raw<{ rows: { cached_records: string; webhook_deliveries: string }[] }>(
      'select * from sweep_expired_cache(?)',
      [batch],
    );
    const records = Number(rows[0]!.cached_records);
    const deliveries = Number(rows[0]!.webhook_deliveries);
    total.cachedRecords += records;
    total.webhookDeliveries += deliveries;
    if (records < batch && deliveries < batch) return total;
  }
}
