import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createActivities } from '../../activities';
import { createLogger } from '../../lib/logger';
import { superuserDb, runtimeDb } from '../support/db';
import { devServer, testWorker, timeSkippingEnv, uniqueTaskQueue } from '../support/temporal';

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;
const logger = createLogger({ level: 'silent', name: 'test' });

describe('foundation: real Temporal and real Postgres', () => {
  let workerDb: Knex;
  let owner: Knex;

  beforeAll(() => {
    workerDb = runtimeDb('worker');
    owner = superuserDb();
  });
  afterAll(async () => {
    await workerDb.destroy();
    await owner.destroy();
  });

  it('runs a workflow on the dev server whose activity writes to Postgres under RLS', async () => {
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('foundation');
    const worker = await testWorker({
      connection: server.connection,
      taskQueue,
      activities: createActivities({ db: workerDb, logger }),
    });
    const workspaceId = crypto.randomUUID();
    try {
      const results = await worker.runUntil(async () => {
        const first = await server.client.workflow.execute('ensureWorkspaceWorkflow', {
          taskQueue,
          workflowId: `ws-${workspaceId}`,
          args: [workspaceId],
        });
        const second = await server.client.workflow.execute('ensureWorkspaceWorkflow', {
          taskQueue,
          workflowId: `ws-${workspaceId}-again`,
          args: [workspaceId],
        });
        return [first, second];
      });
      expect(results).toEqual([{ created: true }, { created: false }]);
      const rows = await owner('workspaces').where({ workspace_id: workspaceId });
      expect(rows).toHaveLength(1);
      // The worker role sees nothing without a workspace bound: RLS is on.
      expect(await workerDb('workspaces').where({ workspace_id: workspaceId })).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('sleeps 30 days on the time-skipping server in well under a second of wall time', async () => {
    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('time-skip');
    const woken: string[] = [];
    const worker = await testWorker({
      connection: env.nativeConnection,
      taskQueue,
      activities: { recordWake: async (label: string) => void woken.push(label) },
    });
    try {
      const wallStart = Date.now();
      const sleptMs = await worker.runUntil(
        env.client.workflow.execute('sleepThenWakeWorkflow', {
          taskQueue,
          workflowId: `sleep-${crypto.randomUUID()}`,
          args: ['purge', THIRTY_DAYS_MS],
        }),
      );
      const wallMs = Date.now() - wallStart;
      expect(sleptMs).toBeGreaterThanOrEqual(THIRTY_DAYS_MS);
      expect(woken).toEqual(['purge']);
      expect(wallMs).toBeLessThan(5_000); // generous: the figure itself is reported by the suite, not asserted tightly
    } finally {
      await env.teardown();
    }
  });
});
