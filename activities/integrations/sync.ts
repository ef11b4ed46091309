/**
 * Incremental sync, one page per activity (T11, T13). `syncPage` reads the resource's cursor,
 * fetches one page from the vendor, then in ONE transaction upserts the records, applies the
 * deletions and stores the new cursor and counts. A crash before the commit changes nothing (the
 * retry fetches the same page); a crash after it lets the retry continue from the stored cursor.
 * So nothing is lost or duplicated, and only counts reach the workflow: no source data in history.
 *
 * Rounds that start without a cursor are full listings: rows not seen during the round
 * (`fetched_at < round_started_at`) are swept when it completes, which reconciles deletions after
 * an expired delta (410) as well.
 */
import type { Knex } from 'knex';
import { withWorkspace } from '../../db/workspaceScope';
import type { ConnectorContext, SourceRecord } from '../vendors/types';
import {
  asActivity,
  createIntegrationContext,
  heartbeat,
  IntegrationFailureType,
  loadIntegration,
  nonRetryable,
  type IntegrationRef,
  type ResolvedIntegration,
} from './context';
import type { IntegrationActivityDeps } from './deps';
import { ApplicationFailure } from '@temporalio/common';

export interface SyncPageInput extends IntegrationRef {
  resource: string;
}

/** The committed counters of one resource (sync_state): the truth a crash cannot skew. */
export interface SyncTotals {
  pages: number;
  recordsUpserted: number;
  recordsDeleted: number;
}

export interface SyncBatchResult extends SyncPageResult {
  pages: number;
  /** sync_state's counters after this batch's last commit. */
  totals: SyncTotals;
}

/** A batch stops taking new pages after this long: far inside the 1-minute start-to-close timeout. */
const PAGE_BATCH_BUDGET_MS = 15_000;

export interface SyncPageResult {
  recordsUpserted: number;
  recordsDeleted: number;
  roundComplete: boolean;
}

interface SyncStateRow {
  cursor: string | null;
  status: string;
  round_started_at: Date | null;
}

/** sync_state.status while a full listing is under way (its round ends with a sweep). */
const FULL_ROUND = 'full-round';
const IDLE = 'idle';

export function createSyncActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);

  async function readState(
    trx: Knex.Transaction,
    input: SyncPageInput,
    lock: boolean,
  ): Promise<SyncStateRow | undefined> {
    const query = trx('sync_state')
      .where({ integration_id: input.integrationId, resource: input.resource })
      .first('cursor', 'status', 'round_started_at');
    return (lock ? query.forUpdate() : query) as unknown as Promise<SyncStateRow | undefined>;
  }

  async function upsertRecords(
    trx: Knex.Transaction,
    input: SyncPageInput,
    records: SourceRecord[],
    ttlMs: number,
  ): Promise<number> {
    // The same id twice in one page would make ON CONFLICT fail: the last occurrence wins.
    const unique = [...new Map(records.map((r) => [r.externalId, r])).values()];
    if (unique.length === 0) return 0;
    // The whole page travels as ONE jsonb parameter expanded by jsonb_to_recordset: no bind-parameter
    // limit to chunk around, and ~2× faster than a multi-row VALUES list built by the query builder.
    const page = JSON.stringify(
      unique.map((r) => ({ external_id: r.externalId, payload: r.payload, version: r.version ?? null })),
    );
    // fetched_at is refreshed even for unchanged rows: a full round's sweep keys on it.
    await trx.raw(
      `INSERT INTO cached_records (workspace_id, integration_id, resource, external_id, payload, version, fetched_at, expires_at)
       SELECT ?, ?, ?, r.external_id, r.payload, r.version, now(), now() + (? * interval '1 millisecond')
       FROM jsonb_to_recordset(?::jsonb) AS r(external_id text, payload jsonb, version text)
       ON CONFLICT (workspace_id, integration_id, resource, external_id)
       DO UPDATE SET payload = EXCLUDED.payload, version = EXCLUDED.version, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`,
      [input.workspaceId, input.integrationId, input.resource, ttlMs, page],
    );
    return unique.length;
  }

  /**
   * Fetches the page after the stored cursor and commits it with its cursor in ONE transaction.
   * `resolved`/`ctx` are per activity: the status is re-checked under the row lock at commit.
   */
  async function syncOnePage(
    input: SyncPageInput,
    resolved: ResolvedIntegration,
    ctx: ConnectorContext,
  ): Promise<SyncPageResult> {
    const before = await withWorkspace(deps.db, input.workspaceId, (trx) => readState(trx, input, false));
    const page = await resolved.connector.fetchPage(ctx, { resource: input.resource, cursor: before?.cursor ?? null });

    return withWorkspace(deps.db, input.workspaceId, async (trx) => {
      // Disconnect flips the status under a row lock: a page either commits before it (and is
      // cleared with the cache) or sees the new status here and writes nothing.
      const row = await loadIntegration(trx, input, 'share');
      if (row.status !== 'connected')
        throw nonRetryable(IntegrationFailureType.IntegrationNotActive, `integration is ${row.status}`);
      const state = await readState(trx, input, true);
      if ((state?.cursor ?? null) !== (before?.cursor ?? null)) {
        // Another attempt of this activity committed meanwhile: retry from the stored cursor.
        throw ApplicationFailure.retryable(
          'sync cursor moved during the page; retrying from the stored cursor',
          'CursorMoved',
        );
      }
      const startsFullRound = (state?.cursor ?? null) === null && state?.status !== FULL_ROUND;
      if (!state) {
        await trx('sync_state').insert({
          workspace_id: input.workspaceId,
          integration_id: input.integrationId,
          resource: input.resource,
        });
      }
      if (startsFullRound) {
        await trx('sync_state')
          .where({ integration_id: input.integrationId, resource: input.resource })
          .update({ status: FULL_ROUND, round_started_at: trx.fn.now() });
      }

      const recordsUpserted = await upsertRecords(trx, input, page.records, resolved.descriptor.cacheTtlMs);
      let recordsDeleted = 0;
      if (page.deletedExternalIds.length > 0) {
        recordsDeleted += await trx('cached_records')
          .where({ integration_id: input.integrationId, resource: input.resource })
          .whereIn('external_id', page.deletedExternalIds)
          .delete();
      }
      const inFullRound = startsFullRound || state?.status === FULL_ROUND;
      if (page.roundComplete && inFullRound) {
        // Mark-and-sweep: whatever this full listing did not touch no longer exists at the vendor.
        recordsDeleted += await trx('cached_records')
          .where({ integration_id: input.integrationId, resource: input.resource })
          .where(
            'fetched_at',
            '<',
            trx('sync_state')
              .select('round_started_at')
              .where({ integration_id: input.integrationId, resource: input.resource }),
          )
          .delete();
      }
      await trx('sync_state')
        .where({ integration_id: input.integrationId, resource: input.resource })
        .update({
          cursor: page.nextCursor,
          status: page.roundComplete ? IDLE : inFullRound ? FULL_ROUND : 'running',
          last_run_at: trx.fn.now(),
          ...(page.roundComplete ? { last_success_at: trx.fn.now() } : {}),
          pages: trx.raw('pages + 1'),
          records_upserted: trx.raw('records_upserted + ?', [recordsUpserted]),
          records_deleted: trx.raw('records_deleted + ?', [recordsDeleted]),
          updated_at: trx.fn.now(),
        });
      return { recordsUpserted, recordsDeleted, roundComplete: page.roundComplete };
    });
  }

  async function readTotals(input: SyncPageInput): Promise<SyncTotals> {
    const row = await withWorkspace(deps.db, input.workspaceId, (trx) =>
      trx('sync_state')
        .where({ integration_id: input.integrationId, resource: input.resource })
        .first('pages', 'records_upserted', 'records_deleted'),
    );
    return {
      pages: Number(row?.pages ?? 0),
      recordsUpserted: Number(row?.records_upserted ?? 0),
      recordsDeleted: Number(row?.records_deleted ?? 0),
    };
  }

  return {
    /** One page of one resource, committed atomically with its cursor. Returns counts only. */
    async syncPage(input: SyncPageInput): Promise<SyncPageResult> {
      return asActivity(async () => {
        const { resolved, ctx } = await context.resolveConnected(input);
        return syncOnePage(input, resolved, ctx);
      });
    },

    /**
     * Up to `maxPages` pages in one activity, each committed with its cursor in its own
     * transaction exactly as `syncPage` does (so a crash between pages loses nothing): amortises
     * the Temporal round trip over many pages on large syncs. Stops at the end of the round, after
     * PAGE_BATCH_BUDGET_MS, or at a failure once a page is committed — the next call meets that
     * failure on its first page and reports it then, so committed counts are never dropped.
     */
    async syncPages(input: SyncPageInput & { maxPages: number }): Promise<SyncBatchResult> {
      return asActivity(async () => {
        const { resolved, ctx } = await context.resolveConnected(input);
        const started = Date.now();
        const batch = { pages: 0, recordsUpserted: 0, recordsDeleted: 0, roundComplete: false };
        while (batch.pages < input.maxPages && !batch.roundComplete && Date.now() - started < PAGE_BATCH_BUDGET_MS) {
          let page: SyncPageResult;
          try {
            page = await syncOnePage(input, resolved, ctx);
          } catch (error) {
            if (batch.pages === 0) throw error;
            break;
          }
          batch.pages += 1;
          batch.recordsUpserted += page.recordsUpserted;
          batch.recordsDeleted += page.recordsDeleted;
          batch.roundComplete = page.roundComplete;
          heartbeat(batch.pages);
        }
        return { ...batch, totals: await readTotals(input) };
      });
    },

    /**
     * The committed counters of a resource before a sync walks it: the workflow reports
     * `totals - baseline`, which stays exact when a crash loses a batch's reply.
     */
    async syncTotals(input: SyncPageInput): Promise<SyncTotals> {
      return readTotals(input);
    },

    /** Forgets the cursor: the next round is a full listing whose end sweeps what was not seen. */
    async startFullResync(input: SyncPageInput): Promise<void> {
      await withWorkspace(deps.db, input.workspaceId, async (trx) => {
        await trx('sync_state')
          .insert({
            workspace_id: input.workspaceId,
            integration_id: input.integrationId,
            resource: input.resource,
            cursor: null,
            status: FULL_ROUND,
            round_started_at: trx.fn.now(),
          })
          .onConflict(['workspace_id', 'integration_id', 'resource'])
          .merge({ cursor: null, status: FULL_ROUND, round_started_at: trx.fn.now(), updated_at: trx.fn.now() });
      });
    },
  };
}
