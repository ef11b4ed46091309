/**
 * Activity stubs shared by the integration workflows (one place for timeouts and retries).
 * Vendor failures marked non-retryable (auth, scope, cursor, rate limit) surface at once; the
 * rest retry with capped backoff.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 10,
} as const;

export const integrationActivities = proxyActivities<Activities>({
  // One vendor request plus one transaction: a minute is generous; a hung call is retried.
  startToCloseTimeout: '1 minute',
  retry: RETRY,
});

/**
 * Page batches (`syncPages`, up to 15 s of pages) heartbeat after every committed page: a worker
 * that dies mid-batch is noticed after the heartbeat timeout rather than the whole start-to-close
 * minute, and another worker resumes from the last committed cursor.
 */
export const pageBatchActivities = proxyActivities<Pick<Activities, 'syncPages'>>({
  startToCloseTimeout: '1 minute',
  // One vendor page request plus its commit stays far below this; a silent batch is a dead worker.
  heartbeatTimeout: '20 seconds',
  retry: RETRY,
});
