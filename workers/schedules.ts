/**
 * Schedules the service owns, created or updated idempotently when a worker starts, so a deploy
 * needs no separate step. Ops see them under "Schedules" in the Temporal UI.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ProcessKey } from '../workflows/searchAttributes';

export const CACHE_SWEEP_SCHEDULE_ID = 'maintenance/cache-sweep';
/** Expired rows are already invisible to reads; 15 minutes bounds how long they stay on disk. */
export const CACHE_SWEEP_INTERVAL = '15 minutes';

export async function ensureMaintenanceSchedules(client: Client, taskQueue: string): Promise<void> {
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'cacheSweepWorkflow',
    taskQueue,
    workflowId: 'maintenance/cache-sweep/run',
    typedSearchAttributes: [{ key: ProcessKey, value: 'maintenance.cache-sweep' }],
  };
  try {
    await client.schedule.create({
      scheduleId: CACHE_SWEEP_SCHEDULE_ID,
      spec: { intervals: [{ every: CACHE_SWEEP_INTERVAL }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      memo: { purpose: 'Deletes expired cached source data (T3)' },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    // Keep an existing schedule in line with this code (task queue, interval).
    await client.schedule.getHandle(CACHE_SWEEP_SCHEDULE_ID).update((previous) => ({
      ...previous,
      spec: { intervals: [{ every: CACHE_SWEEP_INTERVAL }] },
      action,
    }));
  }
}
