/**
 * Fairness between workspaces (issue #17, item 2): every integration run carries its workspace as
 * the task-queue fairness key, and "sync now" runs before scheduled polling (priority keys). The
 * lifecycle sets both on the syncs it starts, whatever its own start carried (a backend service may
 * start it with none). Dev server (priority and fairness enabled by `dev/stack.ts`), memory connector,
 * real Postgres. What the ordering buys under load is measured by `npm run bench:fairness`.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { decodePriority, type Priority } from '@temporalio/common';
import { integrationStateQuery, syncRequestedSignal, workflowIds } from '../../workflows/definitions';
import { PRIORITY_KEYS, runPriority, syncPriority } from '@trackproject/integrations-client/priority';
import { requestSync } from '@trackproject/integrations-client/client';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import { pollUntil } from './support/workflowHelpers';

type Server = Awaited<ReturnType<typeof devServer>>;

const priorityOf = async (handle: WorkflowHandle): Promise<Priority> =>
  decodePriority((await handle.describe()).raw.workflowExecutionInfo?.priority);

describe('task-queue priority and fairness keys (dev server, memory connector, real Postgres)', () => {
  let h: Harness;
  let server: Server;
  beforeAll(async () => {
    h = createHarness();
    server = await devServer();
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it('interactive work goes before scheduled polling; the fairness key is the workspace, lower case', () => {
    const workspaceId = '7D0C0AD4-1F5B-4C3E-9A55-2F8F3C1E9A10';
    const key = workspaceId.toLowerCase();
    expect(PRIORITY_KEYS.interactive).toBeLessThan(PRIORITY_KEYS.event);
    expect(PRIORITY_KEYS.event).toBeLessThan(PRIORITY_KEYS.scheduled);
    for (const process of ['connect', 'disconnect', 'action', 'choices'] as const)
      expect(runPriority(workspaceId, process)).toEqual({ priorityKey: PRIORITY_KEYS.interactive, fairnessKey: key });
    expect(runPriority(workspaceId, 'lifecycle').priorityKey).toBe(PRIORITY_KEYS.event);
    expect(syncPriority(workspaceId, 'admin').priorityKey).toBe(PRIORITY_KEYS.interactive);
    expect(syncPriority(workspaceId, 'connect').priorityKey).toBe(PRIORITY_KEYS.interactive);
    expect(syncPriority(workspaceId, 'webhook').priorityKey).toBe(PRIORITY_KEYS.event);
    expect(syncPriority(workspaceId, 'schedule')).toEqual({ priorityKey: PRIORITY_KEYS.scheduled, fairnessKey: key });
    // The server refuses fairness keys over 64 bytes.
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(64);
  });

  it('a lifecycle started with no priority starts "sync now" as interactive and a scheduled poll as scheduled, both keyed by the workspace', async () => {
    h.connector.upsert('priority-1', 't');
    const ref = await seedConnectedIntegration(h);
    const taskQueue = uniqueTaskQueue('priority-lifecycle');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    await worker.runUntil(async () => {
      const lifecycle = await server.client.workflow.start('integrationLifecycleWorkflow', {
        taskQueue,
        workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR }],
      });
      const sync = server.client.workflow.getHandle(workflowIds.sync(ref.workspaceId, ref.integrationId));
      /** The sync run started after `previousRunId`, once completed. */
      const completedSync = (previousRunId?: string) =>
        pollUntil(
          () => sync.describe().catch(() => undefined),
          (run) => run !== undefined && run.runId !== previousRunId && run.status.name === 'COMPLETED',
        );
      try {
        expect((await priorityOf(lifecycle)).fairnessKey || '').toBe('');

        await requestSync(lifecycle, { reason: 'admin' });
        const syncNow = (await completedSync())!;
        expect(decodePriority(syncNow.raw.workflowExecutionInfo?.priority)).toMatchObject({
          priorityKey: PRIORITY_KEYS.interactive,
          fairnessKey: ref.workspaceId,
        });
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (state) => state.lastSync?.state === 'completed',
        );

        // What the poll timer requests: a scheduled sync.
        await lifecycle.signal(syncRequestedSignal, { reason: 'schedule' });
        const scheduled = (await completedSync(syncNow.runId))!;
        expect(decodePriority(scheduled.raw.workflowExecutionInfo?.priority)).toMatchObject({
          priorityKey: PRIORITY_KEYS.scheduled,
          fairnessKey: ref.workspaceId,
        });
      } finally {
        await lifecycle.terminate('test over');
      }
    });
  });
});
