/**
 * The lifecycle continues as new once its history is long (dev server: real Update admission and
 * abort-on-close, which the time-skipping server does not model), carrying its state, and no
 * "sync now" sent meanwhile is lost or failed: one that arrives while the run closes is retried on
 * the next run. A "sync now" that joins the sync in flight is answered by the Update's validator and
 * writes nothing, so a long sync can be joined past Temporal's per-run Update limit.
 */
import {
  integrationStateQuery,
  syncProgressQuery,
  workflowIds,
  type LifecycleInput,
} from '../../workflows/definitions';
import { requestSync } from '@trackproject/integrations-client/client';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import { pollUntil } from './support/workflowHelpers';

/** A sync cycle (Update, child start, child close, workflow tasks) writes about a dozen events. */
const CONTINUE_AFTER_EVENTS = 30;
const CALLERS = 4;
/** Past Temporal's limit of 2,000 Updates per run, which accepted joins used to count toward. */
const JOINS = 2_100;
const JOINERS = 7;

describe('lifecycle continue-as-new (dev server, memory connector, real Postgres)', () => {
  let h: Harness;
  beforeAll(() => {
    h = createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('continues as new past its event budget with its state, and every "sync now" sent across the boundary is answered', async () => {
    for (let i = 0; i < 5; i++) h.connector.upsert(`can-${i}`, 't');
    const ref = await seedConnectedIntegration(h);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('lifecycle-can');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
    const input: LifecycleInput = { ...ref, vendor: MEMORY_VENDOR, continueAfterEvents: CONTINUE_AFTER_EVENTS };
    try {
      await worker.runUntil(async () => {
        const started = await server.client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId,
          args: [input],
        });
        const firstRunId = started.firstExecutionRunId;
        const lifecycle = server.client.workflow.getHandle(workflowId);
        const runId = async () => (await lifecycle.describe()).runId;

        // Callers send "sync now" back to back until the run has changed twice, so some of them
        // race a close; every one must answer for this integration's sync (joined or started).
        const answers: Array<{ syncWorkflowId: string; vendor: string }> = [];
        const runIds = new Set([firstRunId]);
        const deadline = Date.now() + 60_000;
        await Promise.all(
          Array.from({ length: CALLERS }, async () => {
            while (runIds.size < 3 && Date.now() < deadline) {
              answers.push(await requestSync(lifecycle, { reason: 'admin' }));
              runIds.add(await runId());
            }
          }),
        );
        expect(runIds.size).toBeGreaterThanOrEqual(3);
        expect(answers.length).toBeGreaterThan(CALLERS);
        for (const answer of answers)
          expect(answer).toEqual({
            syncWorkflowId: workflowIds.sync(ref.workspaceId, ref.integrationId),
            joined: expect.any(Boolean),
            vendor: MEMORY_VENDOR,
          });

        // The first run ended by continuing as new, not by failing, and handed over its state.
        const firstHistory = await server.client.workflow.getHandle(workflowId, firstRunId).fetchHistory();
        expect(firstHistory.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
        const state = await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed' && !s.pendingSync,
        );
        expect(state).toMatchObject({ status: 'connected', lastSync: { state: 'completed' } });
        const continued = await lifecycle.describe();
        expect(continued.runId).not.toBe(firstRunId);
        expect(continued.status.name).toBe('RUNNING');
        await lifecycle.terminate('test over');
      });
    } finally {
      await server.close();
    }
  });

  it('a run started without a bound continues as new past 500 events (the shorter-lifecycle-runs patch): what a cache miss replays', async () => {
    h.connector.upsert('bound-1', 't');
    const ref = await seedConnectedIntegration(h);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('lifecycle-bound');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
    try {
      await worker.runUntil(async () => {
        const started = await server.client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId,
          args: [{ ...ref, vendor: MEMORY_VENDOR }],
        });
        const lifecycle = server.client.workflow.getHandle(workflowId);
        const deadline = Date.now() + 120_000;
        while ((await lifecycle.describe()).runId === started.firstExecutionRunId && Date.now() < deadline)
          await requestSync(lifecycle, { reason: 'admin' });
        const first = await server.client.workflow.getHandle(workflowId, started.firstExecutionRunId).fetchHistory();
        expect(first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
        // Past the bound, the run ends at the first moment with no sync running: within one sync cycle.
        expect(first.events!.length).toBeGreaterThan(500);
        expect(first.events!.length).toBeLessThan(560);
        await lifecycle.terminate('test over');
      });
    } finally {
      await server.close();
    }
  });

  it("joins of a sync in flight write no history: more than Temporal's 2,000 Updates per run are answered while one sync runs", async () => {
    h.connector.upsert('held-1', 't');
    // The sync waits out a one-hour Retry-After: it runs for the whole test, so the lifecycle cannot continue as new.
    h.connector.failures.push({ kind: 'rate-limit', retryAfterMs: 3_600_000 });
    const ref = await seedConnectedIntegration(h);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('lifecycle-joins');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
    try {
      await worker.runUntil(async () => {
        const lifecycle = await server.client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId,
          args: [{ ...ref, vendor: MEMORY_VENDOR }],
        });
        expect(await requestSync(lifecycle, { reason: 'admin' })).toMatchObject({ joined: false });
        await pollUntil(
          () =>
            server.client.workflow
              .getHandle(workflowIds.sync(ref.workspaceId, ref.integrationId))
              .query(syncProgressQuery)
              .catch(() => undefined),
          (p) => p?.state === 'waiting-rate-limit',
        );

        let joined = 0;
        await Promise.all(
          Array.from({ length: JOINERS }, async () => {
            for (let i = 0; i < JOINS / JOINERS; i++) {
              if ((await requestSync(lifecycle, { reason: 'admin' })).joined) joined += 1;
            }
          }),
        );
        expect(joined).toBe(JOINS);
        const history = await lifecycle.fetchHistory();
        expect(history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length).toBe(1);
        expect((await lifecycle.describe()).runId).toBe(lifecycle.firstExecutionRunId);
        await lifecycle.terminate('test over');
      });
    } finally {
      await server.close();
    }
  });
});
