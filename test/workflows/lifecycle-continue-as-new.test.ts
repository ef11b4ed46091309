/**
 * The lifecycle continues as new once its history is long (dev server: real Update admission and
 * abort-on-close, which the time-skipping server does not model), carrying its state, and no
 * "sync now" sent meanwhile is lost or failed: one that arrives while the run closes is retried on
 * the next run.
 */
import { integrationStateQuery, requestSyncUpdate, workflowIds, type LifecycleInput } from '../../workflows/definitions';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { MEMORY_VENDOR } from './support/memoryConnector';
import { pollUntil } from './support/workflowHelpers';

/** A sync cycle (Update, child start, child close, workflow tasks) writes about a dozen events. */
const CONTINUE_AFTER_EVENTS = 30;
const CALLERS = 4;

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
        const started = await server.client.workflow.start('integrationLifecycleWorkflow', { taskQueue, workflowId, args: [input] });
        const firstRunId = started.firstExecutionRunId;
        const lifecycle = server.client.workflow.getHandle(workflowId);
        const runId = async () => (await lifecycle.describe()).runId;

        // Callers send "sync now" back to back until the run has changed twice, so some of them
        // race a close; every one must answer for this integration's sync (joined or started).
        const answers: Array<{ syncWorkflowId: string; vendor: string }> = [];
        const runIds = new Set([firstRunId]);
        const deadline = Date.now() + 60_000;
        await Promise.all(Array.from({ length: CALLERS }, async () => {
          while (runIds.size < 3 && Date.now() < deadline) {
            answers.push(await lifecycle.executeUpdate(requestSyncUpdate, { args: [{ reason: 'admin' }] }));
            runIds.add(await runId());
          }
        }));
        expect(runIds.size).toBeGreaterThanOrEqual(3);
        expect(answers.length).toBeGreaterThan(CALLERS);
        for (const answer of answers) expect(answer).toEqual({ syncWorkflowId: workflowIds.sync(ref.workspaceId, ref.integrationId), joined: expect.any(Boolean), vendor: MEMORY_VENDOR });

        // The first run ended by continuing as new, not by failing, and handed over its state.
        const firstHistory = await server.client.workflow.getHandle(workflowId, firstRunId).fetchHistory();
        expect(firstHistory.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
        const state = await pollUntil(() => lifecycle.query(integrationStateQuery), (s) => s.lastSync?.state === 'completed' && !s.pendingSync);
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
});
