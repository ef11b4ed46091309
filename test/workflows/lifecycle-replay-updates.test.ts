/**
 * A lifecycle that takes "sync now" Updates while its syncs start, run by a worker that bundles its
 * workflows at start with tracing off, replays from its first event on the pre-built bundle (as a
 * worker does after an eviction, a restart or a deploy that turns tracing on). The case that broke
 * it: an Update accepted in the same workflow task as the resolution of a child sync's start. The
 * tracing interceptors wrap Update handlers in an await, so a bundle without them completed the
 * Update before the next sync's start and one with them after: a nondeterminism error, and a run that
 * could not leave the worker's cache. Now every bundle carries them (`workers/createWorker.ts`).
 */
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { requestSync } from '@trackproject/integrations-client/client';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import { workerTracingOptions } from '../../lib/temporal/tracing';
import { workflowIds } from '../../workflows/definitions';
import { testStack } from '../support/stackInfo';
import { createWorker } from '../../workers/createWorker';
import { devServer, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const { EventType } = temporal.api.enums.v1;

/** Callers sending "sync now" back to back: enough that some Update meets a child's start. */
const CALLERS = 3;
const DEADLINE_MS = 90_000;

/**
 * Whether some workflow task both resolved a child sync's start and accepted an Update: the start is
 * among the events since the previous task completed (the task's input), the acceptance among those
 * written right after it completed (its output).
 */
function updateBesideChildStart(events: HistoryEvent[]): boolean {
  let childStartedSinceLastTask = false;
  let taskResolvedChildStart = false;
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
        childStartedSinceLastTask = true;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        taskResolvedChildStart = childStartedSinceLastTask;
        childStartedSinceLastTask = false;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        taskResolvedChildStart = false;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        if (taskResolvedChildStart) return true;
        break;
    }
  }
  return false;
}

describe('lifecycle replay with "sync now" Updates (dev server, memory connector, real Postgres)', () => {
  let h: Harness;
  beforeAll(() => {
    h = createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('replays a run whose Updates arrived beside child sync starts with no nondeterminism error', async () => {
    h.connector.upsert('replay-1', 't');
    const ref = await seedConnectedIntegration(h);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('lifecycle-replay-updates');
    // As a worker with tracing off runs: bundled at start. The replay below uses the pre-built bundle
    // (a worker started from `npm run build`'s, or with tracing on): a deploy may switch between them.
    const worker = await createWorker({
      connection: server.connection,
      namespace: 'default',
      taskQueue,
      activities: h.activities,
    });
    const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
    const lifecycle = server.client.workflow.getHandle(workflowId);
    let events: HistoryEvent[] = [];
    await worker.runUntil(async () => {
      await server.client.workflow.start('integrationLifecycleWorkflow', {
        taskQueue,
        workflowId,
        // One run for the whole test: the case must be in the history that is replayed.
        args: [{ ...ref, vendor: MEMORY_VENDOR, continueAfterEvents: 100_000 }],
      });
      const deadline = Date.now() + DEADLINE_MS;
      const found = async () => {
        events = (await lifecycle.fetchHistory()).events ?? [];
        return updateBesideChildStart(events);
      };
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          while (Date.now() < deadline && !(await found())) await requestSync(lifecycle, { reason: 'admin' });
        }),
      );
      await lifecycle.terminate('replayed');
    });
    expect(updateBesideChildStart(events)).toBe(true);

    const replayed: Array<string | undefined> = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: testStack().workflowBundlePath }, ...workerTracingOptions(undefined) },
      [{ workflowId, history: { events } }],
    ))
      replayed.push(result.error?.message);
    expect(replayed).toEqual([undefined]);
  });
});
