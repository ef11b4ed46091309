/**
 * The admins' reads of the records kept for them (T2, T15): the consent ledger (`consent_events`:
 * who consented to, narrowed or revoked what, and when) and the purge receipts. Both are written by
 * the worker's activities; here they are only read, newest first, keyset-paginated, each in a
 * workspace-bound transaction so Row Level Security binds every page to one workspace (T20).
 * Actors are stored and returned as opaque ids, never names or e-mail addresses.
 */
import type { Knex } from 'knex';
import { withWorkspace } from './workspaceScope';

export interface ConsentEventRow {
  id: string;
  actor_type: string;
  actor_id: string;
  action: string;
  scopes: string[];
  controls: Record<string, string[]>;
  created_at: Date;
}

/**
 * Cursor of a bigint-keyed ledger (consent events, the audit log): the id of the last entry of the
 * previous page. 18 digits at most, so every value fits a bigint (19 digits can pass 2^63 - 1, which
 * Postgres refuses as out of range: found by the API fuzz run).
 */
export const BIGINT_CURSOR = /^[1-9][0-9]{0,17}$/;

/** One page of an integration's consent ledger, newest first; `nextCursor` is null on the last page. */
export async function listConsentEvents(
  db: Knex,
  workspaceId: string,
  integrationId: string,
  page: { cursor?: string; limit: number },
): Promise<{ rows: ConsentEventRow[]; nextCursor: string | null }> {
  const rows = await withWorkspace(db, workspaceId, (trx) => {
    const query = trx('consent_events')
      .select<ConsentEventRow[]>('id', 'actor_type', 'actor_id', 'action', 'scopes', 'controls', 'created_at')
      .where({ integration_id: integrationId })
      .orderBy('id', 'desc')
      .limit(page.limit + 1);
    if (page.cursor !== undefined) query.where('id', '<', page.cursor);
    return query;
  });
  const shown = rows.slice(0, page.limit);
  return { rows: shown, nextCursor: rows.length > page.limit ? String(shown[shown.length - 1]!.id) : null };
}

export interface PurgeReceiptRow {
  receipt_id: string;
  integration_id: string;
  vendor: string;
  disconnected_at: Date | null;
  purged_at: Date;
  counts: Record<string, number>;
}

/** Cursor of the receipts: `<purged_at as epoch microseconds>.<receipt_id>` of the previous page's last receipt. */
export const PURGE_RECEIPT_CURSOR = /^([0-9]{1,17})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** One page of the workspace's purge receipts (optionally of one integration), newest first. */
export async function listPurgeReceipts(
  db: Knex,
  workspaceId: string,
  page: { cursor?: string; limit: number; integrationId?: string },
): Promise<{ rows: PurgeReceiptRow[]; nextCursor: string | null }> {
  const after = page.cursor === undefined ? undefined : PURGE_RECEIPT_CURSOR.exec(page.cursor);
  if (after === null) throw new Error('malformed purge receipt cursor'); // the route's schema admits only the pattern
  const rows = await withWorkspace(db, workspaceId, (trx) => {
    const query = trx('purge_receipts')
      .select<Array<PurgeReceiptRow & { purged_us: string }>>(
        'receipt_id',
        'integration_id',
        'vendor',
        'disconnected_at',
        'purged_at',
        'counts',
        // Microseconds, as stored: a millisecond Date would drop the precision the keyset compares on.
        trx.raw(`(extract(epoch from purged_at) * 1000000)::bigint::text as purged_us`),
      )
      .orderBy([
        { column: 'purged_at', order: 'desc' },
        { column: 'receipt_id', order: 'desc' },
      ])
      .limit(page.limit + 1);
    if (page.integrationId !== undefined) query.where({ integration_id: page.integrationId });
    if (after)
      query.whereRaw(`(purged_at, receipt_id) < (to_timestamp(0) + ?::bigint * interval '1 microsecond', ?::uuid)`, [
        after[1],
        after[2],
      ]);
    return query;
  });
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return {
    rows: shown.map(({ purged_us: _, ...row }) => row),
    nextCursor: rows.length > page.limit && last ? `${last.purged_us}.${last.receipt_id}` : null,
  };
}
