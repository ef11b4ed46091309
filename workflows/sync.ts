/**
 * One sync of one integration: for each resource, page until the round completes. Pages are
 * fetched and committed by the `syncPage` activity; only counts enter history. Rate limits are
 * waited out on durable timers; an expired cursor (410) turns into a full resync that reconciles
 * deletions; the run continues as new long before history nears its limits.
 */
import { continueAsNew, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { integrationActivities as act, failureType, retryAfterMs } from './activityProxies';
import { syncProgressQuery, type SyncInput, type SyncProgress } from './definitions';
import { tagRun } from './tagRun';

/**
 * Pages per run before continuing as new: ~6 events per page keeps a run near 3,000 events, far
 * below the 10,240-event / 10 MB warnings, and replays of a run stay short.
 */
export const PAGES_PER_RUN = 500;
/** Fallback wait when a RateLimited failure carries no Retry-After (GitHub documents "at least 1 min"). */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
const MINUTE_MS = 60_000;

export async function syncWorkflow(input: SyncInput): Promise<SyncProgress> {
  const { workspaceId, integrationId, vendor } = input;
  tagRun({ workspaceId, integrationId, vendor, process: 'sync' });
  const descriptor = await act.describeVendor(vendor);
  const resources = input.resources ?? (input.request.resource ? [input.request.resource] : [...descriptor.syncResources]);
  const progress: SyncProgress = input.progress ?? {
    state: 'running',
    pages: 0,
    recordsUpserted: 0,
    recordsDeleted: 0,
    rateLimitWaits: 0,
    startedAt: new Date().toISOString(),
  };
  setHandler(syncProgressQuery, () => progress);
  // Our per-integration budget (requests per minute), fleet-wide because it lives in the workflow.
  let recentPageStarts = input.recentPageStarts ?? [];
  let pagesThisRun = 0;
  const fullResyncPending = new Set(input.request.full && !input.progress ? resources : []);

  for (let index = 0; index < resources.length; index++) {
    const resource = resources[index]!;
    progress.resource = resource;
    if (fullResyncPending.has(resource)) await act.startFullResync({ workspaceId, integrationId, resource });
    for (;;) {
      const now = Date.now();
      recentPageStarts = recentPageStarts.filter((t) => t > now - MINUTE_MS);
      if (recentPageStarts.length >= descriptor.rateLimit.requestsPerMinute) {
        progress.state = 'waiting-rate-limit';
        await sleep(recentPageStarts[0]! + MINUTE_MS - now);
        continue;
      }
      recentPageStarts.push(now);
      progress.state = 'running';
      let page;
      try {
        page = await act.syncPage({ workspaceId, integrationId, resource });
      } catch (error) {
        const type = failureType(error);
        if (type === 'RateLimited') {
          progress.state = 'waiting-rate-limit';
          progress.rateLimitWaits += 1;
          await sleep(retryAfterMs(error, DEFAULT_RATE_LIMIT_WAIT_MS));
          continue;
        }
        if (type === 'CursorExpired') {
          await act.startFullResync({ workspaceId, integrationId, resource });
          continue;
        }
        progress.state = 'failed';
        progress.finishedAt = new Date().toISOString();
        throw error;
      }
      progress.pages += 1;
      progress.recordsUpserted += page.recordsUpserted;
      progress.recordsDeleted += page.recordsDeleted;
      pagesThisRun += 1;
      if (page.roundComplete) break;
      if (pagesThisRun >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof syncWorkflow>({ ...input, resources: resources.slice(index), progress, recentPageStarts });
      }
    }
  }
  progress.state = 'completed';
  progress.resource = undefined;
  progress.finishedAt = new Date().toISOString();
  return progress;
}
