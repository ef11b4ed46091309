/**
 * Every query of `sync_state`: one row per integration and resource holding the cursor, the round
 * state and the committed counters. All run inside the caller's `withWorkspace` transaction, so
 * Row Level Security binds them to one workspace (T20) and a page commits with its cursor (T11).
 */
import type { Knex } from 'knex';
import { rowPollFloorMs, type PolledRow } from '../lib/pollFloor';

export interface SyncStateKey {
  workspaceId: string;
  integrationId: string;
  resource: string;
}

export const SyncStatus = {
  Idle: 'idle',
  Running: 'running',
  /** A full listing is under way: its round ends with a sweep of what it did not see. */
  FullRound: 'full-round',
} as const;

export interface SyncStateRow {
  cursor: string | null;
  status: string;
  round_started_at: Date | null;
  rounds_since_id_sweep: number;
  id_sweep_cursor: string | null;
  id_sweep_started_at: Date | null;
  /** The activity whose commit completed the resource's last round (see `recordSyncPages`). */
  round_completed_by: string | null;
}

/** The committed counters of one resource: the truth a crash cannot skew. */
export interface SyncTotals {
  pages: number;
  recordsUpserted: number;
  recordsDeleted: number;
}

const whereKey = (key: SyncStateKey) => ({ integration_id: key.integrationId, resource: key.resource });

/** The resource's cursor and round; `lock` holds the row until the transaction ends (one committer per page). */
export async function readSyncState(
  trx: Knex.Transaction,
  key: SyncStateKey,
  lock: boolean,
): Promise<SyncStateRow | undefined> {
  const query = trx('sync_state')
    .where(whereKey(key))
    .first(
      'cursor',
      'status',
      'round_started_at',
      'rounds_since_id_sweep',
      'id_sweep_cursor',
      'id_sweep_started_at',
      'round_completed_by',
    );
  return (lock ? query.forUpdate() : query) as unknown as Promise<SyncStateRow | undefined>;
}

/** The resource's first row, with the table's defaults (no cursor, idle, zero counters). */
export async function insertSyncState(trx: Knex.Transaction, key: SyncStateKey): Promise<void> {
  await trx('sync_state').insert({
    workspace_id: key.workspaceId,
    integration_id: key.integrationId,
    resource: key.resource,
  });
}

/** Marks the start of a full listing now: rows fetched before this moment are swept when it completes. */
export async function beginFullRound(trx: Knex.Transaction, key: SyncStateKey): Promise<void> {
  await trx('sync_state').where(whereKey(key)).update({ status: SyncStatus.FullRound, round_started_at: trx.fn.now() });
}

/** When the resource's current full round started, as a subquery for the sweep that follows it. */
export function roundStartedAt(trx: Knex.Transaction, key: SyncStateKey): Knex.QueryBuilder {
  return trx('sync_state').select('round_started_at').where(whereKey(key));
}

/**
 * Stores committed pages (`pages` vendor pages in one transaction): the last one's cursor, the round
 * state, and the counters they add. Pages that complete the round also store `completedBy` (the
 * activity that committed them): a retry of that activity finds it and answers the committed round
 * instead of starting another.
 */
export async function recordSyncPages(
  trx: Knex.Transaction,
  key: SyncStateKey,
  page: {
    pages: number;
    cursor: string | null;
    status: string;
    roundComplete: boolean;
    recordsUpserted: number;
    recordsDeleted: number;
    completedBy: string | null;
  },
): Promise<void> {
  await trx('sync_state')
    .where(whereKey(key))
    .update({
      cursor: page.cursor,
      status: page.status,
      last_run_at: trx.fn.now(),
      // A completed round's page count is what one sync of the resource costs (the T12 polling floor).
      ...(page.roundComplete
        ? {
            last_success_at: trx.fn.now(),
            last_round_pages: trx.raw('round_pages + ?', [page.pages]),
            round_pages: 0,
            round_completed_by: page.completedBy,
          }
        : { round_pages: trx.raw('round_pages + ?', [page.pages]) }),
      pages: trx.raw('pages + ?', [page.pages]),
      records_upserted: trx.raw('records_upserted + ?', [page.recordsUpserted]),
      records_deleted: trx.raw('records_deleted + ?', [page.recordsDeleted]),
      updated_at: trx.fn.now(),
    });
}

export async function readSyncTotals(trx: Knex.Transaction, key: SyncStateKey): Promise<SyncTotals> {
  const row = await trx('sync_state').where(whereKey(key)).first('pages', 'records_upserted', 'records_deleted');
  return {
    pages: Number(row?.pages ?? 0),
    recordsUpserted: Number(row?.records_upserted ?? 0),
    recordsDeleted: Number(row?.records_deleted ?? 0),
  };
}

/** Forgets the cursor and starts a full round now, creating the row if the resource has none. */
export async function restartAsFullRound(trx: Knex.Transaction, key: SyncStateKey): Promise<void> {
  await trx('sync_state')
    .insert({
      workspace_id: key.workspaceId,
      integration_id: key.integrationId,
      resource: key.resource,
      cursor: null,
      status: SyncStatus.FullRound,
      round_started_at: trx.fn.now(),
    })
    .onConflict(['workspace_id', 'integration_id', 'resource'])
    .merge({ cursor: null, status: SyncStatus.FullRound, round_started_at: trx.fn.now(), updated_at: trx.fn.now() });
}

/**
 * The pages the integration's last sync cost: the sum over its resources of their last completed
 * round (a resource without one counts 0; the floor counts at least a page per resource).
 */
export async function readLastSyncPages(trx: Knex.Transaction, integrationId: string): Promise<number> {
  const row = await trx('sync_state')
    .where({ integration_id: integrationId })
    .first(trx.raw('COALESCE(SUM(last_round_pages), 0) AS pages'));
  return Number(row?.pages ?? 0);
}

/**
 * The integration's polling floor (T12) under its vendor row's budget: from what its last sync cost
 * and what the last syncs of the workspace's other connected integrations drawing on that budget
 * cost (`sharingRows`: the rows whose calls share it, the integration's own included). Under RLS
 * only this workspace's integrations are seen: for a vendor that counts per account, an account
 * another workspace also connects is shared with integrations this floor does not see (the shared
 * vendor budget still holds every call to the account's budget). `integrationId` undefined: an
 * integration not connected yet.
 */
export async function readPollFloorMs(
  trx: Knex.Transaction,
  integrationId: string | undefined,
  row: PolledRow,
  sharingRows: readonly PolledRow[],
): Promise<number> {
  const resourcesOf = new Map(sharingRows.map((sharing) => [sharing.id, sharing.syncResources.length]));
  const polledRows = sharingRows.filter((sharing) => sharing.syncResources.length > 0).map((sharing) => sharing.id);
  const others = await trx('integrations as i')
    .leftJoin('sync_state as s', 's.integration_id', 'i.integration_id')
    .whereIn('i.vendor', polledRows)
    .andWhere('i.status', 'connected')
    .modify((query) => {
      if (integrationId !== undefined) query.whereNot('i.integration_id', integrationId);
    })
    .groupBy('i.integration_id', 'i.vendor')
    .select<Array<{ vendor: string; pages: string }>>(
      'i.vendor',
      trx.raw('COALESCE(SUM(s.last_round_pages), 0) AS pages'),
    );
  const lastSyncPages = integrationId === undefined ? 0 : await readLastSyncPages(trx, integrationId);
  return rowPollFloorMs(
    row,
    lastSyncPages,
    others.map((other) => ({ resources: resourcesOf.get(other.vendor)!, lastSyncPages: Number(other.pages) })),
  );
}

/**
 * After a completed round: a full listing already reconciled deletions, so the count restarts; an
 * incremental one counts. With `sweepEvery` reached, an id sweep starts now (its own cursor empty).
 * Answers whether a sweep is under way for the resource (just started, or unfinished from before).
 */
export async function countCompletedRound(
  trx: Knex.Transaction,
  key: SyncStateKey,
  round: { full: boolean; sweepEvery?: number },
): Promise<boolean> {
  const state = await readSyncState(trx, key, true);
  if (round.full) {
    await trx('sync_state')
      .where(whereKey(key))
      .update({ rounds_since_id_sweep: 0, id_sweep_cursor: null, id_sweep_started_at: null });
    return false;
  }
  if (state?.id_sweep_started_at) return true;
  const rounds = (state?.rounds_since_id_sweep ?? 0) + 1;
  const due = round.sweepEvery !== undefined && rounds >= round.sweepEvery;
  await trx('sync_state')
    .where(whereKey(key))
    .update(
      due
        ? { rounds_since_id_sweep: 0, id_sweep_cursor: null, id_sweep_started_at: trx.fn.now() }
        : { rounds_since_id_sweep: rounds },
    );
  return due;
}

/** When the resource's id sweep started, as a subquery: cached records not seen since are gone at the vendor. */
export function idSweepStartedAt(trx: Knex.Transaction, key: SyncStateKey): Knex.QueryBuilder {
  return trx('sync_state').select('id_sweep_started_at').where(whereKey(key));
}

/** Stores a committed page of the id sweep: its next cursor (the sweep ends with none) and the deletions it made. */
export async function recordIdSweepPage(
  trx: Knex.Transaction,
  key: SyncStateKey,
  page: { cursor: string | null; recordsDeleted: number },
): Promise<void> {
  const done = page.cursor === null;
  await trx('sync_state')
    .where(whereKey(key))
    .update({
      id_sweep_cursor: page.cursor,
      ...(done ? { id_sweep_started_at: null } : {}),
      last_run_at: trx.fn.now(),
      pages: trx.raw('pages + 1'),
      records_deleted: trx.raw('records_deleted + ?', [page.recordsDeleted]),
      updated_at: trx.fn.now(),
    });
}
