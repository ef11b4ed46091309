import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Knex } from 'knex';
import type { ReadinessCheck } from './routes/health';

/** A worker counts as polling if the server saw it poll within this window. */
const POLLER_FRESHNESS_MS = 2 * 60_000;

export function readinessChecks(deps: {
  db: Knex;
  client: Client;
  namespace: string;
  taskQueue: string;
}): ReadinessCheck[] {
  return [
    { name: 'postgres', check: async () => void (await deps.db.raw('select 1')) },
    { name: 'temporal', check: async () => void (await deps.client.workflowService.getSystemInfo({})) },
    {
      // Not required: webhook deliveries are persisted before they are signalled, and the catch-up
      // Schedule signals them once a worker is back, so receivers stay in service without one.
      // Workers have their own probe (`workers/health.ts`).
      name: 'worker',
      required: false,
      check: async () => {
        const response = await deps.client.workflowService.describeTaskQueue({
          namespace: deps.namespace,
          taskQueue: { name: deps.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        const now = Date.now();
        const fresh = (response.pollers ?? []).filter((poller) => {
          const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
          return now - seconds * 1000 < POLLER_FRESHNESS_MS;
        });
        if (fresh.length === 0) throw new Error(`no worker is polling task queue "${deps.taskQueue}"`);
      },
    },
  ];
}
