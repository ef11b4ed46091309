/**
 * Replay: recorded histories of real runs must replay against the current workflow bundle with no
 * nondeterminism error, so a workflow change that would break running executions fails here.
 * `npm run record:histories` (RECORD_HISTORIES=1) re-records the fixtures from short real runs on
 * the time-skipping server, without the payload codec, so replay needs no key.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { workerTracingOptions } from '../../lib/temporal/tracing';
import { integrationStateQuery, workflowIds } from '../../workflows/definitions';
import { requestSync } from '../../api/syncNow';
import { historyFromJson, historyToJson } from '../support/historyJson';
import { testStack } from '../support/stackInfo';
import { installQuietRuntime, testWorker, timeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration } from './support/harness';
import { MEMORY_VENDOR, MemoryConnector } from '../../dev/memoryConnector';
import { pollUntil } from './support/workflowHelpers';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'histories');
const recording = process.env.RECORD_HISTORIES === '1';

(recording ? describe : describe.skip)('record histories (RECORD_HISTORIES=1)', () => {
  it('records short real runs of sync (rate-limit wait + 410 resync), disconnect (with purge) and the cache sweep', async () => {
    const h = createHarness(new MemoryConnector(2));
    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('record');
    const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
    const save = async (name: string, workflowId: string) => {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      fs.writeFileSync(path.join(FIXTURES, `${name}.json`), `${historyToJson(history)}\n`);
    };
    try {
      for (let i = 0; i < 3; i++) h.connector.upsert(`issue-${i}`, 't');
      const ref = await seedConnectedIntegration(h);
      await worker.runUntil(async () => {
        const syncId = `${workflowIds.sync(ref.workspaceId, ref.integrationId)}/${crypto.randomUUID()}`;
        h.connector.failures.push({ kind: 'rate-limit', retryAfterMs: 30_000 });
        await env.client.workflow.execute('syncWorkflow', {
          taskQueue,
          workflowId: syncId,
          args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } }],
        });
        h.connector.upsert('issue-9', 'new');
        h.connector.failures.push({ kind: 'cursor-expired' });
        const resyncId = `${syncId}-resync`;
        await env.client.workflow.execute('syncWorkflow', {
          taskQueue,
          workflowId: resyncId,
          args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'resync' } }],
        });
        await save('syncWorkflow', syncId);
        await save('syncWorkflow-resync', resyncId);
        const disconnectId = workflowIds.disconnect(ref.workspaceId, ref.integrationId);
        await env.client.workflow.execute('disconnectWorkflow', {
          taskQueue,
          workflowId: disconnectId,
          args: [{ ...ref, actor: { type: 'user', id: 'admin-1' }, purgeDelayMs: 60_000 }],
        });
        await save('disconnectWorkflow', disconnectId);
        const sweepId = `maintenance/${crypto.randomUUID()}`;
        await env.client.workflow.execute('cacheSweepWorkflow', { taskQueue, workflowId: sweepId });
        await save('cacheSweepWorkflow', sweepId);
      });
    } finally {
      await env.teardown();
      await h.close();
    }
  });
});

(recording ? describe : describe.skip)('record the lifecycle (RECORD_HISTORIES=1)', () => {
  it('records a lifecycle run with syncs started by Updates and joins rejected by their validator, ending in continue-as-new', async () => {
    const h = createHarness(new MemoryConnector(2));
    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('record-lifecycle');
    const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
    try {
      for (let i = 0; i < 3; i++) h.connector.upsert(`issue-${i}`, 't');
      const ref = await seedConnectedIntegration(h);
      await worker.runUntil(async () => {
        const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
        const started = await env.client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId,
          args: [{ ...ref, vendor: MEMORY_VENDOR, continueAfterEvents: 40 }],
        });
        const lifecycle = env.client.workflow.getHandle(workflowId);
        while ((await lifecycle.describe()).runId === started.firstExecutionRunId) {
          // Two at once: the second joins the sync the first started (a validator rejection, not in the history).
          await Promise.all([1, 2].map(() => requestSync(lifecycle, { reason: 'admin' })));
          await pollUntil(
            () => lifecycle.query(integrationStateQuery),
            (state) => !state.pendingSync && state.lastSync?.state === 'completed',
          );
        }
        const history = await env.client.workflow.getHandle(workflowId, started.firstExecutionRunId).fetchHistory();
        fs.writeFileSync(path.join(FIXTURES, 'integrationLifecycleWorkflow.json'), `${historyToJson(history)}\n`);
        await lifecycle.terminate('recorded');
      });
    } finally {
      await env.teardown();
      await h.close();
    }
  });
});

describe('replay of recorded histories against the current bundle', () => {
  const files = fs.existsSync(FIXTURES) ? fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')) : [];

  // integrationLifecycleWorkflow-accepted-joins.json was recorded before joins were answered by the
  // validator, when each join was an accepted Update in the history: runs started then must replay.
  // The *-before-search-attributes.json histories predate the 'upsert-search-attributes' patch and
  // the activity summaries: runs started then (a lifecycle lives for months) must replay too.
  const shapes = [
    'syncWorkflow',
    'syncWorkflow-resync',
    'disconnectWorkflow',
    'cacheSweepWorkflow',
    'integrationLifecycleWorkflow',
  ];
  it('has fixtures for sync, the 410 resync, disconnect with purge, the cache sweep, the KEK rotation and lifecycle runs that continued as new, from before and after joins moved to the validator and from before and after runs upserted their search attributes', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        ...shapes.flatMap((name) => [`${name}.json`, `${name}-before-search-attributes.json`]),
        'integrationLifecycleWorkflow-accepted-joins.json',
        // Recorded by test/workflows/kek-rotation.test.ts (moto KMS), with a worker crash mid-batch.
        'kekRotationWorkflow.json',
      ]),
    );
  });

  it('T25 traces: replays every fixture with 0 nondeterminism errors with the tracing interceptors installed as the worker installs them, exporting no span again', async () => {
    installQuietRuntime();
    // The test bundle carries the workflow tracing interceptors (as every pre-built bundle does); the
    // replayer gets the worker's activity interceptors and span sink from the same function.
    const exported = new InMemorySpanExporter();
    const bundle = testStack().workflowBundlePath;
    expect(fs.readFileSync(bundle, 'utf8')).toContain('class OpenTelemetryInboundInterceptor');
    const tracing = workerTracingOptions({
      spanProcessor: new SimpleSpanProcessor(exported),
      resource: Resource.empty(),
      shutdown: async () => undefined,
    });
    const histories = files.map((file) => ({
      workflowId: file,
      history: historyFromJson(fs.readFileSync(path.join(FIXTURES, file), 'utf8')),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: bundle }, ...tracing },
      histories,
    )) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
    // The sink is not called while replaying: spans of a run already exported are not exported twice.
    expect(exported.getFinishedSpans()).toEqual([]);
  });
});
