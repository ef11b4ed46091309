import { proxySteps } from './activityProxies';

const { sweepExpiredCache } = proxySteps({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * Run by the `maintenance/cache-sweep` Schedule: removes expired cache rows (T3). Reads already
 * never return expired rows; the sweep makes sure they are also gone from storage.
 */
export async function cacheSweepWorkflow(): Promise<{ cachedRecords: number; webhookDeliveries: number }> {
  return sweepExpiredCache();
}
