/**
 * Incremental sync, one page per activity (T11, T13). `syncPage` reads the resource's cursor,
 * fetches one page from the vendor, then in ONE transaction upserts the records, applies the
 * deletions and stores the new cursor and counts. A crash before the commit changes nothing (the
 * retry fetches the same page); a crash after it lets the retry continue from the stored cursor.
 * `syncPages` commits several fetched pages that way at once (SYNC_COMMIT_GROUP): one transaction,
 * the last page's cursor.
 * A round's last page also stores the activity that committed it: a retry of that activity answers
 * the completed round instead of starting another (`roundCompletedByThisActivity`). So nothing is
 * lost or duplicated, and only counts reach the workflow: no source data in history.
 *
 * Rounds that start without a cursor are full listings: rows not seen during the round
 * (`fetched_at < round_started_at`) are swept when it completes, which reconciles deletions after
 * an expired delta (410) as well. Vendors that keep no tombstones list their ids (`listSourceIds`):
 * every `idSweepEvery` completed incremental rounds an id sweep of the resource marks the cached
 * records the vendor still lists and deletes the rest (`sweepSourceIds`), page by page with its cursor.
 */
import type { Knex } from 'knex';
import {
  beginFullRound,
  countCompletedRound,
  idSweepStartedAt,
  insertSyncState,
  readSyncState,
  readSyncTotals,
  recordIdSweepPage,
  recordSyncPages,
  restartAsFullRound,
  roundStartedAt,
  SyncStatus,
  type SyncTotals,
} from '../../db/syncState';
import { withWorkspace } from '../../db/workspaceScope';
import { countActivityMetric, logActivity } from '../telemetry';
import type { ConnectorContext, SourceRecord, SyncPage } from '../vendors/types';
import {
  asActivity,
  createIntegrationContext,
  currentActivityKey,
  heartbeat,
  IntegrationFailureType,
  loadIntegration,
  nonRetryable,
  workflowActor,
  type IntegrationRef,
  type ResolvedIntegration,
} from './context';
import type { IntegrationActivityDeps } from './deps';
import { ApplicationFailure } from '@temporalio/common';

export interface SyncPageInput extends IntegrationRef {
  resource: string;
}

export interface SyncBatchInput extends SyncPageInput {
  maxPages: number;
  /**
   * Completed incremental rounds between two id sweeps of the resource (the sync workflow's
   * ID_SWEEP_EVERY); only for connectors that list source ids. Absent: no sweep starts.
   */
  idSweepEvery?: number;
}

export type { SyncTotals };

export interface SyncBatchResult extends SyncPageResult {
  pages: number;
  /** sync_state's counters after this batch's last commit. */
  totals: SyncTotals;
}

/** A batch stops taking new pages after this long: far inside the 1-minute start-to-close timeout. */
const PAGE_BATCH_BUDGET_MS = 15_000;

/**
 * When `syncPages` commits the pages it has fetched: at this many records (or deletions), or this
 * long after the group's first page arrived, whichever comes first (and at the batch's end).
 * Measured (`npm run bench:sync`, docs/benchmarks.md, 2026-12-02 14:45–15:03, load ~20): a
 * commit's fixed cost (BEGIN/COMMIT, two row locks, cursor write, workspace scope) was 53–54 ms per
 * page committed alone, the upsert 0.09 (in-memory) to 0.31 (Jira) ms per record, so 5,000 records
 * keep the fixed cost near a tenth of the group's upsert at worst: the 1,000-record in-memory pages
 * commit 5 at a time (loop 0.67 → 0.77 of bulk), Jira's 100-record pages a whole batch of 20 (~0.9 s
 * of fetches; fixed cost 54 → 7 ms per page). A crash refetches at most one group: the 1 s bound keeps
 * that to about a second of vendor calls, far inside the 20 s heartbeat timeout.
 */
export const SYNC_COMMIT_GROUP = { records: 5_000, ms: 1_000 };

export interface SyncPageResult {
  recordsUpserted: number;
  recordsDeleted: number;
  roundComplete: boolean;
  /** The round completed and an id sweep of the resource is under way: `sweepSourceIds` walks it. */
  idSweepPending?: boolean;
}

export function createSyncActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);

  /** Upserts `records` in one statement; the same id twice (within a page or across pages) keeps the last. */
  async function upsertRecords(
    trx: Knex.Transaction,
    input: SyncPageInput,
    records: SourceRecord[],
    ttlMs: number,
  ): Promise<void> {
    // ON CONFLICT fails on an id twice in one statement: the last occurrence wins, as it would in order.
    const unique = [...new Map(records.map((r) => [r.externalId, r])).values()];
    if (unique.length === 0) return;
    // The records travel as ONE jsonb parameter expanded by jsonb_to_recordset: no bind-parameter
    // limit to chunk around, and ~2× faster than a multi-row VALUES list built by the query builder.
    const rows = JSON.stringify(
      unique.map((r) => ({ external_id: r.externalId, payload: r.payload, version: r.version ?? null })),
    );
    // fetched_at is refreshed even for unchanged rows: a full round's sweep keys on it.
    await trx.raw(
      `INSERT INTO cached_records (workspace_id, integration_id, resource, external_id, payload, version, fetched_at, expires_at)
       SELECT ?, ?, ?, r.external_id, r.payload, r.version, now(), now() + (? * interval '1 millisecond')
       FROM jsonb_to_recordset(?::jsonb) AS r(external_id text, payload jsonb, version text)
       ON CONFLICT (workspace_id, integration_id, resource, external_id)
       DO UPDATE SET payload = EXCLUDED.payload, version = EXCLUDED.version, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`,
      [input.workspaceId, input.integrationId, input.resource, ttlMs, rows],
    );
  }

  /**
   * The records and deletions of consecutive pages, applied as if page by page: each run of pages
   * without deletions is one upsert statement, and a page's deletions follow its records (a record
   * upserted on one page and deleted on a later one ends deleted, and the reverse ends present).
   * Counts are per page, as page-by-page commits counted them.
   */
  async function applyPages(
    trx: Knex.Transaction,
    input: SyncPageInput,
    pages: readonly SyncPage[],
    ttlMs: number,
  ): Promise<{ recordsUpserted: number; recordsDeleted: number }> {
    let recordsUpserted = 0;
    let recordsDeleted = 0;
    let unwritten: SourceRecord[] = [];
    for (const page of pages) {
      recordsUpserted += new Set(page.records.map((r) => r.externalId)).size;
      unwritten.push(...page.records);
      if (page.deletedExternalIds.length === 0) continue;
      await upsertRecords(trx, input, unwritten, ttlMs);
      unwritten = [];
      recordsDeleted += await trx('cached_records')
        .where({ integration_id: input.integrationId, resource: input.resource })
        .whereIn('external_id', page.deletedExternalIds)
        .delete();
    }
    await upsertRecords(trx, input, unwritten, ttlMs);
    return { recordsUpserted, recordsDeleted };
  }

  /**
   * Fetches the page after the stored cursor and commits it with its cursor in ONE transaction.
   * `resolved`/`ctx` are per activity: the status is re-checked under the row lock at commit.
   */
  async function syncOnePage(
    input: SyncPageInput & { idSweepEvery?: number },
    resolved: ResolvedIntegration,
    ctx: ConnectorContext,
  ): Promise<SyncPageResult> {
    const cursor = await readCursor(input);
    const page = await resolved.connector.fetchPage(ctx, { resource: input.resource, cursor });
    return commitAndCount(input, resolved, ctx, [page], cursor);
  }

  async function readCursor(input: SyncPageInput): Promise<string | null> {
    return (await withWorkspace(deps.db, input.workspaceId, (trx) => readSyncState(trx, input, false)))?.cursor ?? null;
  }

  async function commitAndCount(
    input: SyncPageInput & { idSweepEvery?: number },
    resolved: ResolvedIntegration,
    ctx: ConnectorContext,
    pages: readonly SyncPage[],
    cursorBefore: string | null,
  ): Promise<SyncPageResult> {
    const committed = await commitPages(input, resolved, pages, cursorBefore);
    // Counted after the commit only: rolled-back pages synced nothing.
    const vendor = resolved.row.vendor;
    countActivityMetric('records_synced', committed.recordsUpserted, { vendor, change: 'upserted' });
    countActivityMetric('records_synced', committed.recordsDeleted, { vendor, change: 'deleted' });
    logActivity('info', 'sync page committed', ctx, { resource: input.resource, pages: pages.length, ...committed });
    return committed;
  }

  /**
   * One transaction: the records and deletions of consecutive pages (the first fetched from
   * `cursorBefore`, each from the previous one's cursor) and the last page's cursor, or nothing.
   * Only the last page may complete the round.
   */
  function commitPages(
    input: SyncPageInput & { idSweepEvery?: number },
    resolved: ResolvedIntegration,
    pages: readonly SyncPage[],
    cursorBefore: string | null,
  ): Promise<SyncPageResult> {
    const last = pages.at(-1)!;
    return withWorkspace(deps.db, input.workspaceId, async (trx) => {
      // Disconnect flips the status under a row lock: pages either commit before it (and are
      // cleared with the cache) or see the new status here and write nothing.
      const row = await loadIntegration(trx, input, 'share');
      if (row.status !== 'connected')
        throw nonRetryable(IntegrationFailureType.IntegrationNotActive, `integration is ${row.status}`);
      const state = await readSyncState(trx, input, true);
      if ((state?.cursor ?? null) !== cursorBefore) {
        // Another attempt of this activity committed meanwhile: retry from the stored cursor.
        throw ApplicationFailure.retryable(
          'sync cursor moved during the page; retrying from the stored cursor',
          'CursorMoved',
        );
      }
      const startsFullRound = (state?.cursor ?? null) === null && state?.status !== SyncStatus.FullRound;
      if (!state) await insertSyncState(trx, input);
      if (startsFullRound) await beginFullRound(trx, input);

      const applied = await applyPages(trx, input, pages, resolved.descriptor.cacheTtlMs);
      const recordsUpserted = applied.recordsUpserted;
      let recordsDeleted = applied.recordsDeleted;
      const inFullRound = startsFullRound || state?.status === SyncStatus.FullRound;
      if (last.roundComplete && inFullRound) {
        // Mark-and-sweep: whatever this full listing did not touch no longer exists at the vendor.
        recordsDeleted += await trx('cached_records')
          .where({ integration_id: input.integrationId, resource: input.resource })
          .where('fetched_at', '<', roundStartedAt(trx, input))
          .delete();
      }
      const idSweepPending =
        last.roundComplete &&
        (await countCompletedRound(trx, input, {
          full: inFullRound,
          sweepEvery: resolved.connector.listSourceIds ? input.idSweepEvery : undefined,
        }));
      await recordSyncPages(trx, input, {
        pages: pages.length,
        cursor: last.nextCursor,
        status: last.roundComplete ? SyncStatus.Idle : inFullRound ? SyncStatus.FullRound : SyncStatus.Running,
        roundComplete: last.roundComplete,
        recordsUpserted,
        recordsDeleted,
        completedBy: currentActivityKey() ?? null,
      });
      return {
        recordsUpserted,
        recordsDeleted,
        roundComplete: last.roundComplete,
        ...(idSweepPending ? { idSweepPending } : {}),
      };
    });
  }

  /**
   * One page of the resource's id sweep, committed with the sweep's cursor in ONE transaction: the
   * cached records whose ids the vendor listed are marked seen (`fetched_at`); after the last page,
   * those not seen since the sweep started no longer exist at the vendor and are deleted.
   */
  async function sweepOnePage(
    input: SyncPageInput,
    resolved: ResolvedIntegration,
    ctx: ConnectorContext,
  ): Promise<SyncPageResult> {
    const listSourceIds = resolved.connector.listSourceIds?.bind(resolved.connector);
    const before = await withWorkspace(deps.db, input.workspaceId, (trx) => readSyncState(trx, input, false));
    if (!listSourceIds || !before?.id_sweep_started_at)
      return { recordsUpserted: 0, recordsDeleted: 0, roundComplete: true };
    const cursorBefore = before.id_sweep_cursor;
    const page = await listSourceIds(ctx, { resource: input.resource, cursor: cursorBefore });
    const committed = await withWorkspace(deps.db, input.workspaceId, async (trx) => {
      const row = await loadIntegration(trx, input, 'share');
      if (row.status !== 'connected')
        throw nonRetryable(IntegrationFailureType.IntegrationNotActive, `integration is ${row.status}`);
      const state = await readSyncState(trx, input, true);
      if (!state?.id_sweep_started_at || state.id_sweep_cursor !== cursorBefore)
        throw ApplicationFailure.retryable('id sweep cursor moved during the page; retrying', 'CursorMoved');
      const records = trx('cached_records').where({ integration_id: input.integrationId, resource: input.resource });
      if (page.ids.length > 0)
        await records.clone().whereIn('external_id', page.ids).update({ fetched_at: trx.fn.now() });
      const recordsDeleted =
        page.nextCursor === null
          ? await records.clone().where('fetched_at', '<', idSweepStartedAt(trx, input)).delete()
          : 0;
      await recordIdSweepPage(trx, input, { cursor: page.nextCursor, recordsDeleted });
      return { recordsUpserted: 0, recordsDeleted, roundComplete: page.nextCursor === null };
    });
    const vendor = resolved.row.vendor;
    countActivityMetric('records_synced', committed.recordsDeleted, { vendor, change: 'deleted' });
    if (committed.roundComplete)
      await deps.audit.record({
        workspaceId: input.workspaceId,
        integrationId: input.integrationId,
        actor: workflowActor(),
        direction: 'internal',
        vendor,
        action: `sync.id-sweep.${input.resource}`,
        outcome: 'success',
        workflowId: workflowActor().id,
      });
    logActivity('info', 'id sweep page committed', ctx, { resource: input.resource, ...committed });
    return committed;
  }

  /**
   * A retry of an activity whose earlier attempt committed the round's last page (its worker killed
   * right after the commit) answers that round as complete instead of starting the next one from
   * its cursor (from the start when the listing left none), which would fetch and count pages a
   * second time. Undefined when no attempt of this activity completed the round, and outside an activity.
   */
  async function roundCompletedByThisActivity(input: SyncPageInput): Promise<SyncPageResult | undefined> {
    const activity = currentActivityKey();
    if (activity === undefined) return undefined;
    const state = await withWorkspace(deps.db, input.workspaceId, (trx) => readSyncState(trx, input, false));
    if (state?.round_completed_by !== activity) return undefined;
    // The commit that completed the round started (or kept) the resource's id sweep: answered again.
    const idSweepPending = state.id_sweep_started_at !== null;
    return {
      recordsUpserted: 0,
      recordsDeleted: 0,
      roundComplete: true,
      ...(idSweepPending ? { idSweepPending } : {}),
    };
  }

  const readTotals = (input: SyncPageInput): Promise<SyncTotals> =>
    withWorkspace(deps.db, input.workspaceId, (trx) => readSyncTotals(trx, input));

  return {
    /** One page of one resource, committed atomically with its cursor. Returns counts only. */
    async syncPage(input: SyncPageInput): Promise<SyncPageResult> {
      return asActivity(async () => {
        const completed = await roundCompletedByThisActivity(input);
        if (completed) return completed;
        const { resolved, ctx } = await context.resolveConnected(input);
        return syncOnePage(input, resolved, ctx);
      });
    },

    /** Up to `maxPages` pages of the resource's round, committed in groups, each with its last page's cursor. */
    async syncPages(input: SyncBatchInput): Promise<SyncBatchResult> {
      return syncBatch(input);
    },

    /**
     * Up to `maxPages` pages of the resource's id sweep, batched like `syncPages`; `roundComplete`
     * when the sweep has ended (at once when none is under way).
     */
    async sweepSourceIds(input: SyncPageInput & { maxPages: number }): Promise<SyncBatchResult> {
      return pageBatch(input, sweepOnePage);
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
      await withWorkspace(deps.db, input.workspaceId, (trx) => restartAsFullRound(trx, input));
    },
  };

  /**
   * Up to `maxPages` pages in one activity, each committed with its cursor in its own transaction
   * (so a crash between pages loses nothing): amortises the Temporal round trip over many pages on
   * large syncs. Stops at the end of the round, after PAGE_BATCH_BUDGET_MS, or at a failure once a
   * page is committed — the next call meets that failure on its first page and reports it then, so
   * committed counts are never dropped.
   */
  async function pageBatch<I extends SyncPageInput & { maxPages: number }>(
    input: I,
    onePage: (input: I, resolved: ResolvedIntegration, ctx: ConnectorContext) => Promise<SyncPageResult>,
  ): Promise<SyncBatchResult> {
    return asActivity(async () => {
      const { resolved, ctx } = await context.resolveConnected(input);
      const batch = newBatch(input);
      while (batch.takesAnother()) {
        let page: SyncPageResult;
        try {
          page = await onePage(input, resolved, ctx);
        } catch (error) {
          if (batch.pages === 0) throw error;
          break;
        }
        batch.add(page);
      }
      return { ...batch.result(), totals: await readTotals(input) };
    });
  }

  /**
   * `syncPages`: the batch of `pageBatch`, with its pages committed in groups (SYNC_COMMIT_GROUP):
   * the fetched pages are buffered and committed together, records in one statement per run of
   * pages without deletions and the last page's cursor once, in ONE transaction. So the cursor is
   * never ahead of the records it covers, and a crash before a group's commit loses only fetches:
   * the retry refetches those pages from the stored cursor (upserts make a re-applied page
   * harmless). Fetching runs ahead while a group commits (the next page's cursor is in this page's
   * answer; vendor call and commit were each about half of a page's time, `npm run bench:sync`),
   * and at most one group commits at a time, in cursor order, each checked under the row lock. A
   * failed commit drops what was fetched after it (awaited, so no vendor call outlives the
   * activity). The cursor is read once per batch; afterwards it is the one each group started from.
   */
  async function syncBatch(input: SyncBatchInput): Promise<SyncBatchResult> {
    return asActivity(async () => {
      const completed = await roundCompletedByThisActivity(input);
      if (completed) return { ...completed, pages: 0, totals: await readTotals(input) };
      const { resolved, ctx } = await context.resolveConnected(input);
      const fetchPage = (cursor: string | null) =>
        settled(resolved.connector.fetchPage(ctx, { resource: input.resource, cursor }));
      const batch = newBatch(input);
      const groupLimits = deps.syncCommitGroup ?? SYNC_COMMIT_GROUP;
      let group = newCommitGroup(await readCursor(input), groupLimits);
      let fetched = 0;
      let fetching: Settled<SyncPage> | undefined = fetchPage(group.cursorBefore);
      let committing: Settled<void> | undefined;
      let failure: { error: unknown } | undefined;
      // Set as soon as a group's commit fails: nothing more is fetched for pages that cannot commit.
      let commitFailed = false;
      while (fetching) {
        const answer = await fetching;
        fetching = undefined;
        if (!answer.ok) {
          // The pages fetched before the failure still commit below; the failure is reported
          // only when nothing committed (the next batch meets it again on its first page).
          failure = { error: answer.error };
        } else {
          const page = answer.value;
          fetched += 1;
          group.add(page);
          if (!page.roundComplete && !commitFailed && batch.takesAnother(fetched - batch.pages))
            fetching = fetchPage(page.nextCursor);
          if (fetching && !group.full()) continue;
        }
        if (group.pages.length === 0) break;
        // Groups commit one after the other: each checks the cursor the previous one wrote.
        const previous = await committing;
        if (previous && !previous.ok) {
          failure = { error: previous.error };
          break;
        }
        const { pages, cursorBefore } = group;
        committing = settled(
          commitAndCount(input, resolved, ctx, pages, cursorBefore).then(
            (committed) => batch.add(committed, pages.length),
            (error: unknown) => {
              commitFailed = true;
              throw error;
            },
          ),
        );
        group = newCommitGroup(pages.at(-1)!.nextCursor, groupLimits);
      }
      const lastCommit = await committing;
      if (lastCommit && !lastCommit.ok) failure ??= { error: lastCommit.error };
      // Pages fetched ahead of a failed commit are not used: settled so no vendor call outlives the activity.
      await fetching;
      if (failure && batch.pages === 0) throw failure.error;
      return { ...batch.result(), totals: await readTotals(input) };
    });
  }

  /**
   * A batch's counts and when it stops: at `maxPages`, at the end of the round, after
   * PAGE_BATCH_BUDGET_MS, or when the worker shuts down (the committed pages are reported now;
   * another worker resumes from their cursor).
   */
  function newBatch(input: { maxPages: number }) {
    const started = Date.now();
    const counts: SyncPageResult & { pages: number } = {
      pages: 0,
      recordsUpserted: 0,
      recordsDeleted: 0,
      roundComplete: false,
    };
    return {
      get pages() {
        return counts.pages;
      },
      /** Whether a page (`ahead` pages after the next one) is still to be taken. */
      takesAnother(ahead = 0): boolean {
        return (
          counts.pages + ahead < input.maxPages &&
          !counts.roundComplete &&
          Date.now() - started < PAGE_BATCH_BUDGET_MS &&
          !deps.workerShutdown?.aborted
        );
      },
      /** Counts a commit of `pages` pages and heartbeats: a retry resumes from the cursor it stored. */
      add(page: SyncPageResult, pages = 1): void {
        counts.pages += pages;
        counts.recordsUpserted += page.recordsUpserted;
        counts.recordsDeleted += page.recordsDeleted;
        counts.roundComplete = page.roundComplete;
        if (page.idSweepPending) counts.idSweepPending = true;
        heartbeat(counts.pages);
      },
      result: () => ({ ...counts }),
    };
  }
}

/**
 * The pages fetched since the last commit, from `cursorBefore` on: full (to be committed) at
 * `limits.records` records or `limits.ms` after its first page arrived, whichever comes first.
 */
function newCommitGroup(cursorBefore: string | null, limits: { records: number; ms: number }) {
  const pages: SyncPage[] = [];
  let records = 0;
  let firstAt = 0;
  return {
    cursorBefore,
    pages,
    add(page: SyncPage): void {
      if (pages.length === 0) firstAt = Date.now();
      pages.push(page);
      records += page.records.length + page.deletedExternalIds.length;
    },
    full: () => records >= limits.records || Date.now() - firstAt >= limits.ms,
  };
}

type Settled<T> = Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;

/** A promise that never rejects: a page fetched ahead may fail while nobody awaits it yet. */
function settled<T>(promise: Promise<T>): Settled<T> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
