/**
 * T11 on the dev server: a verified webhook delivery whose lifecycle signal failed in the receiver
 * (left with processed_at unset) is signalled by the catch-up workflow, once per integration, and
 * marked; an integration whose lifecycle is gone is marked without a signal; a delivery younger
 * than the catch-up delay is left for the receiver; other workspaces' rows are seen only as ids.
 */
import crypto from 'node:crypto';
import { workflowIds } from '../../workflows/definitions';
import { PARALLEL_CATCH_UP_PATCH } from '../../workflows/webhookCatchUp';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from '../workflows/support/harness';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import {
  CACHE_SWEEP_SCHEDULE_ID,
  WEBHOOK_CATCH_UP_SCHEDULE_ID,
  ensureMaintenanceSchedules,
} from '../../workers/schedules';

describe('T11: webhook catch-up', () => {
  let h: Harness;
  beforeAll(() => {
    h = createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  /** A delivery as the receiver records it, received `ageMs` ago and never marked signalled. */
  async function seedDelivery(ref: { workspaceId: string; integrationId: string }, ageMs: number) {
    const endpointId = crypto.randomUUID();
    await h.admin('webhook_endpoints').insert({
      endpoint_id: endpointId,
      workspace_id: ref.workspaceId,
      integration_id: ref.integrationId,
      vendor: MEMORY_VENDOR,
    });
    const deliveryId = crypto.randomUUID();
    await h.admin('webhook_deliveries').insert({
      workspace_id: ref.workspaceId,
      endpoint_id: endpointId,
      delivery_id: deliveryId,
      integration_id: ref.integrationId,
      vendor: MEMORY_VENDOR,
      event_type: 'issues.opened',
      received_at: new Date(Date.now() - ageMs),
      expires_at: new Date(Date.now() + 86_400_000),
    });
    return deliveryId;
  }
  const processedAt = async (deliveryId: string) =>
    (await h.admin('webhook_deliveries').where({ delivery_id: deliveryId }).first()).processed_at;

  it('signals each running lifecycle once for its missed deliveries, marks them, and marks a stopped one without a signal', async () => {
    const live = await seedConnectedIntegration(h);
    const gone = await seedConnectedIntegration(h);
    const missed = [await seedDelivery(live, 10 * 60_000), await seedDelivery(live, 5 * 60_000)];
    const fresh = await seedDelivery(live, 0);
    const moot = await seedDelivery(gone, 10 * 60_000);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('webhook-catch-up');
    try {
      await ensureMaintenanceSchedules(server.client, taskQueue);
      const schedule = await server.client.schedule.getHandle(WEBHOOK_CATCH_UP_SCHEDULE_ID).describe();
      expect(schedule.action).toMatchObject({ workflowType: 'webhookCatchUpWorkflow', taskQueue });
      expect(schedule.spec.intervals?.[0]?.every).toBe(5 * 60 * 1000);

      const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
      await worker.runUntil(async () => {
        const lifecycle = await server.client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId: workflowIds.lifecycle(live.workspaceId, live.integrationId),
          args: [{ ...live, vendor: MEMORY_VENDOR }],
        });
        try {
          const result = await server.client.workflow.execute('webhookCatchUpWorkflow', {
            taskQueue,
            workflowId: `webhook-catch-up-${crypto.randomUUID()}`,
          });
          // Other tests' leftovers may be caught up too; ours are exactly one signalled and one stopped.
          expect(result.signalled).toBeGreaterThanOrEqual(1);
          expect(result.notRunning).toBeGreaterThanOrEqual(1);
          const history = await lifecycle.fetchHistory();
          const signals = (history.events ?? []).filter(
            (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'syncRequested',
          );
          expect(signals).toHaveLength(1);
        } finally {
          await lifecycle.terminate('test over');
        }
      });
      for (const id of [...missed, moot]) expect(await processedAt(id)).toBeInstanceOf(Date);
      expect(await processedAt(fresh)).toBeNull();
    } finally {
      for (const id of [CACHE_SWEEP_SCHEDULE_ID, WEBHOOK_CATCH_UP_SCHEDULE_ID])
        await server.client.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
      await server.close();
    }
  }, 60_000);

  it(`T11: a run started now takes the '${PARALLEL_CATCH_UP_PATCH}' path: every lifecycle is signalled in one workflow task, before any delivery is marked`, async () => {
    const refs = [
      await seedConnectedIntegration(h),
      await seedConnectedIntegration(h),
      await seedConnectedIntegration(h),
    ];
    for (const ref of refs) await seedDelivery(ref, 10 * 60_000);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('webhook-catch-up-parallel');
    try {
      const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
      await worker.runUntil(async () => {
        const lifecycles = await Promise.all(
          refs.map((ref) =>
            server.client.workflow.start('integrationLifecycleWorkflow', {
              taskQueue,
              workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
              args: [{ ...ref, vendor: MEMORY_VENDOR }],
            }),
          ),
        );
        try {
          const run = await server.client.workflow.start('webhookCatchUpWorkflow', {
            taskQueue,
            workflowId: `webhook-catch-up-${crypto.randomUUID()}`,
          });
          expect((await run.result()).signalled).toBeGreaterThanOrEqual(3);
          const events = (await run.fetchHistory()).events ?? [];
          const index = (pick: (e: (typeof events)[number]) => unknown) =>
            events.flatMap((e, i) => (pick(e) ? [i] : []));
          const marker = index((e) => e.markerRecordedEventAttributes);
          const signals = index((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes);
          const marks = index(
            (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'markWebhooksSignalled',
          );
          const taskCompletions = index((e) => e.workflowTaskCompletedEventAttributes);
          expect(marker).toHaveLength(1);
          expect(signals.length).toBeGreaterThanOrEqual(3);
          // One workflow task issued the marker and every signal; marks come only after.
          const taskOf = (i: number) => taskCompletions.filter((c) => c < i).length;
          expect(new Set([...marker, ...signals].map(taskOf)).size).toBe(1);
          expect(Math.min(...marks)).toBeGreaterThan(Math.max(...signals));
          for (const lifecycle of lifecycles) {
            const received = ((await lifecycle.fetchHistory()).events ?? []).filter(
              (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'syncRequested',
            );
            expect(received).toHaveLength(1);
          }
        } finally {
          for (const lifecycle of lifecycles) await lifecycle.terminate('test over');
        }
      });
    } finally {
      await server.close();
    }
  }, 60_000);
});
