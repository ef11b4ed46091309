/**
 * Schedules the service owns, created or updated idempotently when a worker starts, so a deploy
 * needs no separate step. Ops see them under "Schedules" in the Temporal UI.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type * as workflows from '../workflows';
import { ProcessKey } from '@trackproject/integrations-client/searchAttributes';

export const CACHE_SWEEP_SCHEDULE_ID = 'maintenance/cache-sweep';
export const WEBHOOK_CATCH_UP_SCHEDULE_ID = 'maintenance/webhook-catch-up';
export const KEK_ROTATION_SCHEDULE_ID = 'maintenance/kek-rotation';

interface MaintenanceSchedule {
  scheduleId: string;
  /** A workflow the worker registers (checked by the compiler). */
  workflowType: keyof typeof workflows;
  process: string;
  every: Duration;
  purpose: string;
}

const MAINTENANCE_SCHEDULES = [
  {
    scheduleId: CACHE_SWEEP_SCHEDULE_ID,
    workflowType: 'cacheSweepWorkflow',
    process: 'maintenance.cache-sweep',
    // Expired rows are already invisible to reads; 15 minutes bounds how long they stay on disk.
    every: '15 minutes',
    purpose: 'Deletes expired cached source data (T3)',
  },
  {
    scheduleId: WEBHOOK_CATCH_UP_SCHEDULE_ID,
    workflowType: 'webhookCatchUpWorkflow',
    process: 'maintenance.webhook-catch-up',
    // A change whose webhook signal failed reaches the integration within about this long.
    every: '5 minutes',
    purpose: 'Signals lifecycles for verified webhook deliveries whose signal failed (T11)',
  },
] as const satisfies ReadonlyArray<MaintenanceSchedule>;

/** KEK rotation on the configured cadence (KEK_ROTATION_EVERY), or no schedule when it is off. */
function kekRotationSchedule(everyMs: number): MaintenanceSchedule {
  return {
    scheduleId: KEK_ROTATION_SCHEDULE_ID,
    workflowType: 'kekRotationWorkflow',
    process: 'maintenance.kek-rotation',
    every: everyMs,
    purpose: 'Makes a new key-encryption key current and re-wraps every data key under it (T6, T8)',
  };
}

export async function ensureMaintenanceSchedules(
  client: Client,
  taskQueue: string,
  options: { kekRotationEveryMs?: number } = {},
): Promise<void> {
  const schedules: MaintenanceSchedule[] = [...MAINTENANCE_SCHEDULES];
  if (options.kekRotationEveryMs !== undefined) schedules.push(kekRotationSchedule(options.kekRotationEveryMs));
  else await deleteSchedule(client, KEK_ROTATION_SCHEDULE_ID);
  for (const schedule of schedules) {
    const action = {
      type: 'startWorkflow' as const,
      workflowType: schedule.workflowType,
      taskQueue,
      workflowId: `${schedule.scheduleId}/run`,
      typedSearchAttributes: [{ key: ProcessKey, value: schedule.process }],
    };
    const spec = { intervals: [{ every: schedule.every }] };
    try {
      await client.schedule.create({
        scheduleId: schedule.scheduleId,
        spec,
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
        memo: { purpose: schedule.purpose },
      });
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      // Keep an existing schedule in line with this code (task queue, interval).
      await client.schedule.getHandle(schedule.scheduleId).update((previous) => ({ ...previous, spec, action }));
    }
  }
}

/** Turning a cadence off (KEK_ROTATION_EVERY=off) removes its schedule; a run in flight completes. */
async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}
