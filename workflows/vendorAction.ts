import { sleep } from '@temporalio/workflow';
import { proxySteps } from './activityProxies';
import { failureType, retryAfterMs } from './failures';
import type { VendorActionInput } from './definitions';
import { tagRun } from './tagRun';
import { VENDOR_ACTION_TIMEOUT_MS } from './timeouts';

/**
 * Data out is not idempotent (a retried "create issue" after a timeout may create two), so the
 * activity is attempted once. The one exception is a rate-limited attempt: the vendor refused it
 * outright (429 before acting), so it is retried after the vendor's Retry-After, a few times. The
 * other is an attempt a shutting-down worker refused before sending (`WorkerShuttingDown`): it is
 * run again at once, on another worker.
 */
const { performVendorAction } = proxySteps({
  startToCloseTimeout: VENDOR_ACTION_TIMEOUT_MS,
  retry: { maximumAttempts: 1 },
});
const RATE_LIMITED_RETRIES = 3;
/** When a 429 names no Retry-After. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/** Performs one data-out action (T19); answers the vendor's ids and URLs, or fails with its typed failure. */
export async function vendorActionWorkflow(input: VendorActionInput): Promise<Record<string, unknown>> {
  const ref = { workspaceId: input.workspaceId, integrationId: input.integrationId };
  tagRun({ ...ref, vendor: input.vendor, process: 'action' });
  for (let rateLimited = 0; ;) {
    try {
      return await performVendorAction({ ...ref, action: input.action, input: input.input, actor: input.actor });
    } catch (error) {
      const type = failureType(error);
      if (type === 'WorkerShuttingDown') continue;
      if (type !== 'RateLimited' || rateLimited++ >= RATE_LIMITED_RETRIES) throw error;
      await sleep(retryAfterMs(error, DEFAULT_RATE_LIMIT_WAIT_MS));
    }
  }
}
