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
import type { SourceRecord } from '../vendors/types';
import { asActivity, createIntegrationContext, IntegrationFailureType, loadIntegration, nonRetryable, type IntegrationRef } from './context';
import type { IntegrationActivityDeps } from './deps';
import { ApplicationFailure } from '@temporalio/common';

export interface SyncPageInput extends IntegrationRef {
  resource: string;
}

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
/** Rows per INSERT statement: keeps bind parameters (6 per row) far below Postgres' 65,535. */
const UPSERT_CHUNK = 1000;

export function createSyncActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);

  async function readState(trx: Knex.Transaction, input: SyncPageInput, lock: boolean): Promise<SyncStateRow | undefined> {
    const query = trx('sync_state').where({ integration_id: input.integrationId, resource: input.resource }).first('cursor', 'status', 'round_started_at');
    return (lock ? query.forUpdate() : query) as unknown as Promise<SyncStateRow | undefined>;
  }

  async function upsertRecords(trx: Knex.Transaction, input: SyncPageInput, records: SourceRecord[], ttlMs: number): Promise<number> {
    // The same id twice in one page would make ON CONFLICT fail: the last occurrence wins.
    const unique = [...new Map(records.map((r) => [r.externalId, r])).values()];
    const expiresAt = trx.raw(`now() + (? * interval '1 millisecond')`, [ttlMs]);
    for (let start = 0; start < unique.length; start += UPSERT_CHUNK) {
      const rows = unique.slice(start, start + UPSERT_CHUNK).map((record) => ({
        workspace_id: input.workspaceId,
        integration_id: input.integrationId,
        resource: input.resource,
        external_id: record.externalId,
        payload: JSON.stringify(record.payload),
        version: record.version ?? null,
        fetched_at: trx.fn.now(),
        expires_at: expiresAt,
      }));
      // fetched_at is refreshed even for unchanged rows: a full round's sweep keys on it.
      await trx('cached_records')
        .insert(rows)
        .onConflict(['workspace_id', 'integration_id', 'resource', 'external_id'])
        .merge(['payload', 'version', 'fetched_at', 'expires_at']);
    }
    return unique.length;
  }

  return {
    /** One page of one resource, committed atomically with its cursor. Returns counts only. */
    async syncPage(input: SyncPageInput): Promise<SyncPageResult> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        if (resolved.row.status !== 'connected') throw nonRetryable(IntegrationFailureType.IntegrationNotActive, `integration is ${resolved.row.status}`);
        const before = await withWorkspace(deps.db, input.workspaceId, (trx) => readState(trx, input, false));
        const ctx = await context.connectorContext(resolved);
        const page = await resolved.connector.fetchPage(ctx, { resource: input.resource, cursor: before?.cursor ?? null });

        return withWorkspace(deps.db, input.workspaceId, async (trx) => {
          // Disconnect flips the status under a row lock: a page either commits before it (and is
          // cleared with the cache) or sees the new status here and writes nothing.
          const row = await loadIntegration(trx, input, 'share');
          if (row.status !== 'connected') throw nonRetryable(IntegrationFailureType.IntegrationNotActive, `integration is ${row.status}`);
          const state = await readState(trx, input, true);
          if ((state?.cursor ?? null) !== (before?.cursor ?? null)) {
            // Another attempt of this activity committed meanwhile: retry from the stored cursor.
            throw ApplicationFailure.retryable('sync cursor moved during the page; retrying from the stored cursor', 'CursorMoved');
          }
          const startsFullRound = (state?.cursor ?? null) === null && state?.status !== FULL_ROUND;
          if (!state) {
            await trx('sync_state').insert({ workspace_id: input.workspaceId, integration_id: input.integrationId, resource: input.resource });
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
              .where('fetched_at', '<', trx('sync_state').select('round_started_at').where({ integration_id: input.integrationId, resource: input.resource }))
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
      });
    },

    /** Forgets the cursor: the next round is a full listing whose end sweeps what was not seen. */
    async startFullResync(input: SyncPageInput): Promise<void> {
      await withWorkspace(deps.db, input.workspaceId, async (trx) => {
        await trx('sync_state')
          .insert({ workspace_id: input.workspaceId, integration_id: input.integrationId, resource: input.resource, cursor: null, status: FULL_ROUND, round_started_at: trx.fn.now() })
          .onConflict(['workspace_id', 'integration_id', 'resource'])
          .merge({ cursor: null, status: FULL_ROUND, round_started_at: trx.fn.now(), updated_at: trx.fn.now() });
      });
    },
  };
}
