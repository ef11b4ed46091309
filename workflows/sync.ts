/**
 * One sync of one integration: for each resource, page until the round completes. Pages are
 * fetched and committed by the `syncPage` activity; only counts enter history. Rate limits are
 * waited out on durable timers; an expired cursor (410) turns into a full resync that reconciles
 * deletions; the run continues as new long before history nears its limits.
 */
import { continueAsNew, log, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { integrationActivities as act, pageBatchActivities } from './activityProxies';
import { failureType, retryAfterMs } from './failures';
import { syncProgressQuery, type SyncInput, type SyncProgress } from './definitions';
import { countWorkflowMetric } from './metrics';
import {
  LastSyncCompletedAtKey,
  SyncStateKey,
  type SyncStateValue,
} from '@trackproject/integrations-client/searchAttributes';
import { tagRun } from './tagRun';

/**
 * Page activities per run before continuing as new: ~6 events per activity keeps a run near
 * 3,000 events, far below the 10,240-event / 10 MB warnings, and replays of a run stay short.
 */
export const ACTIVITIES_PER_RUN = 500;
/** Fallback wait when a RateLimited failure carries no Retry-After (GitHub documents "at least 1 min"). */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
/**
 * Pages per `syncPages` activity. Each page still commits with its cursor on its own; batching
 * amortises the Temporal round trip (~6 history events and two task dispatches per activity) over
 * up to 20 pages — on the 100k-record benchmark that lifts workflow throughput from ~0.56× to
 * ~0.9× of a plain loop (`npm run bench:sync`). The activity also stops after 15 s of pages.
 */
export const PAGES_PER_ACTIVITY = 20;
/**
 * Completed incremental rounds of a resource between two id sweeps, for connectors that list source
 * ids (vendors that keep no tombstones, such as SAP): a sweep lists every id, so it costs a full
 * listing of keys (about one request per thousand records), while deletions without a flag are rare
 * (archived or deleted documents). At the 15-minute polling floor that is about every 6 hours.
 */
export const ID_SWEEP_EVERY = 24;
const MINUTE_MS = 60_000;

export async function syncWorkflow(input: SyncInput): Promise<SyncProgress> {
  const { workspaceId, integrationId, vendor } = input;
  const subject = { workspaceId, integrationId, vendor };
  const index = tagRun({ ...subject, process: 'sync' });
  // Ops filter on the sync's state; the progress query has the counts.
  const enter = (state: SyncStateValue) => {
    progress.state = state;
    index.upsert([{ key: SyncStateKey, value: state }]);
  };
  const progress: SyncProgress = input.progress ?? {
    state: 'running',
    pages: 0,
    recordsUpserted: 0,
    recordsDeleted: 0,
    rateLimitWaits: 0,
    startedAt: new Date().toISOString(),
  };
  // Registered before the first await: a query right after the start must not find it missing.
  setHandler(syncProgressQuery, () => progress);
  enter('running');
  const descriptor = await act.describeVendor(vendor);
  const resources =
    input.resources ?? (input.request.resource ? [input.request.resource] : [...descriptor.syncResources]);
  // Our per-integration budget (requests per minute), fleet-wide because it lives in the workflow.
  let recentPageStarts = input.recentPageStarts ?? [];
  let activitiesThisRun = 0;
  const fullResyncPending = new Set(input.request.full && !input.progress ? resources : []);

  for (let index = 0; index < resources.length; index++) {
    const resource = resources[index]!;
    progress.resource = resource;
    if (fullResyncPending.has(resource)) await act.startFullResync({ workspaceId, integrationId, resource });
    // Progress reports committed counters (totals - baseline): exact even when a worker crash
    // loses the reply of a batch whose pages were committed.
    let resourceStart = index === 0 ? input.resourceStart : undefined;
    if (!resourceStart) {
      resourceStart = {
        baseline: await act.syncTotals({ workspaceId, integrationId, resource }),
        progressBefore: {
          pages: progress.pages,
          recordsUpserted: progress.recordsUpserted,
          recordsDeleted: progress.recordsDeleted,
        },
      };
    }
    // An id sweep of the resource follows its round when the round's commit says one is under way.
    let sweeping = false;
    for (;;) {
      const now = Date.now();
      recentPageStarts = recentPageStarts.filter((t) => t > now - MINUTE_MS);
      if (recentPageStarts.length >= descriptor.rateLimit.requestsPerMinute) {
        enter('waiting-rate-limit');
        await sleep(recentPageStarts[0]! + MINUTE_MS - now);
        continue;
      }
      enter('running');
      const maxPages = Math.min(PAGES_PER_ACTIVITY, descriptor.rateLimit.requestsPerMinute - recentPageStarts.length);
      let page;
      try {
        const batch = { workspaceId, integrationId, resource, maxPages };
        page = sweeping
          ? await pageBatchActivities.sweepSourceIds(batch)
          : await pageBatchActivities.syncPages({ ...batch, idSweepEvery: ID_SWEEP_EVERY });
      } catch (error) {
        const type = failureType(error);
        if (type === 'RateLimited') {
          enter('waiting-rate-limit');
          progress.rateLimitWaits += 1;
          const waitMs = retryAfterMs(error, DEFAULT_RATE_LIMIT_WAIT_MS);
          // The SDK emits workflow metrics and logs only when not replaying: counted once per wait.
          countWorkflowMetric('integrations_rate_limit_waits', { vendor });
          log.info('vendor rate limit: waiting', { ...subject, resource, waitMs });
          await sleep(waitMs);
          continue;
        }
        if (type === 'CursorExpired') {
          await act.startFullResync({ workspaceId, integrationId, resource });
          continue;
        }
        enter('failed');
        progress.finishedAt = new Date().toISOString();
        log.warn('sync failed', { ...subject, resource, failureType: type });
        countWorkflowMetric('integrations_syncs', { vendor, outcome: 'failed', failure_type: type ?? 'unknown' });
        throw error;
      }
      // The budget counts vendor requests: one per page, stamped at the batch's start.
      for (let i = 0; i < page.pages; i++) recentPageStarts.push(now);
      const { baseline, progressBefore } = resourceStart;
      progress.pages = progressBefore.pages + page.totals.pages - baseline.pages;
      progress.recordsUpserted =
        progressBefore.recordsUpserted + page.totals.recordsUpserted - baseline.recordsUpserted;
      progress.recordsDeleted = progressBefore.recordsDeleted + page.totals.recordsDeleted - baseline.recordsDeleted;
      activitiesThisRun += 1;
      // No patch: only connectors that list source ids (new with this code, none ran on older
      // code) answer `idSweepPending`, so no recorded history reaches this branch. A run continued
      // as new mid-sweep resumes it after the resource's next round (the sweep's cursor is stored).
      if (page.roundComplete && !sweeping && page.idSweepPending) {
        sweeping = true;
        continue;
      }
      if (page.roundComplete) break;
      if (activitiesThisRun >= ACTIVITIES_PER_RUN || workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof syncWorkflow>({
          ...input,
          resources: resources.slice(index),
          progress,
          recentPageStarts,
          resourceStart,
        });
      }
    }
  }
  enter('completed');
  progress.resource = undefined;
  const finishedAt = new Date();
  progress.finishedAt = finishedAt.toISOString();
  index.upsert([{ key: LastSyncCompletedAtKey, value: finishedAt }]);
  countWorkflowMetric('integrations_syncs', { vendor, outcome: 'completed', failure_type: 'none' });
  log.info('sync completed', {
    ...subject,
    recordsUpserted: progress.recordsUpserted,
    recordsDeleted: progress.recordsDeleted,
  });
  return progress;
}
