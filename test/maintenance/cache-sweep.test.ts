/**
 * T3 on the dev server: the cache-sweep Schedule exists (created idempotently by the worker
 * bootstrap), and a run of it deletes expired cached records and deliveries in every workspace
 * while leaving live ones.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createActivities } from '../../activities';
import { createLogger } from '../../lib/logger';
import {
  CACHE_SWEEP_SCHEDULE_ID,
  WEBHOOK_CATCH_UP_SCHEDULE_ID,
  ensureMaintenanceSchedules,
} from '../../workers/schedules';
import { runtimeDb, superuserDb } from '../support/db';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';

async function seedCache(superuser: Knex, expired: number, live: number) {
  const workspaceId = crypto.randomUUID();
  const integrationId = crypto.randomUUID();
  const owned = { workspace_id: workspaceId, integration_id: integrationId };
  await superuser('workspaces').insert({ workspace_id: workspaceId });
  await superuser('integrations').insert({
    ...owned,
    vendor: 'github',
    status: 'connected',
    requested_scopes: ['repo:read'],
  });
  const rows = (count: number, expiresAt: Date, prefix: string) =>
    Array.from({ length: count }, (_, i) => ({
      ...owned,
      resource: 'issues',
      external_id: `${prefix}-${i}`,
      payload: '{}',
      expires_at: expiresAt,
    }));
  await superuser('cached_records').insert([
    ...rows(expired, new Date(Date.now() - 60_000), 'old'),
    ...rows(live, new Date(Date.now() + 3_600_000), 'new'),
  ]);
  return workspaceId;
}

describe('T3: scheduled cache sweep', () => {
  it('the schedule is created idempotently and its run deletes only expired rows, across workspaces', async () => {
    const server = await devServer();
    const superuser = superuserDb();
    const db = runtimeDb('worker');
    const taskQueue = uniqueTaskQueue('maintenance');
    try {
      await ensureMaintenanceSchedules(server.client, taskQueue);
      await ensureMaintenanceSchedules(server.client, taskQueue); // second start of a worker: no error, no duplicate
      const description = await server.client.schedule.getHandle(CACHE_SWEEP_SCHEDULE_ID).describe();
      expect(description.action).toMatchObject({ workflowType: 'cacheSweepWorkflow', taskQueue });
      expect(description.spec.intervals?.[0]?.every).toBe(15 * 60 * 1000);

      const workspaces = [await seedCache(superuser, 30, 5), await seedCache(superuser, 7, 2)];
      const worker = await testWorker({
        connection: server.connection,
        taskQueue,
        activities: createActivities({ db, logger: createLogger({ level: 'silent', name: 'test' }) }),
      });
      const result = await worker.runUntil(async () => {
        await server.client.schedule.getHandle(CACHE_SWEEP_SCHEDULE_ID).trigger();
        for (let i = 0; i < 100; i++) {
          const runs = (await server.client.schedule.getHandle(CACHE_SWEEP_SCHEDULE_ID).describe()).info.recentActions;
          const run = runs.at(-1)?.action;
          if (run)
            return server.client.workflow.getHandle(run.workflow.workflowId, run.workflow.firstExecutionRunId).result();
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('the schedule never started a run');
      });
      expect(result.cachedRecords).toBeGreaterThanOrEqual(37);
      for (const [workspaceId, live] of [
        [workspaces[0], 5],
        [workspaces[1], 2],
      ] as const) {
        const left = await superuser('cached_records').where({ workspace_id: workspaceId }).select('external_id');
        expect(left.map((r) => r.external_id).every((id: string) => id.startsWith('new-'))).toBe(true);
        expect(left).toHaveLength(live);
      }
    } finally {
      for (const id of [CACHE_SWEEP_SCHEDULE_ID, WEBHOOK_CATCH_UP_SCHEDULE_ID])
        await server.client.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
      await Promise.all([db.destroy(), superuser.destroy(), server.close()]);
    }
  });
});
