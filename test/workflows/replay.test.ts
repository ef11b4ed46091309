/**
 * Replay: recorded histories of real runs must replay against the current workflow bundle with no
 * nondeterminism error, so a workflow change that would break running executions fails here. The
 * fixtures are kept forever (`test/fixtures/histories/manifest.json` holds each one's hash) and
 * recorded by `test/workflows/record-histories.test.ts` (`npm run record:histories`) or, from a
 * running deployment, `npm run record-history` (docs/workflow-versioning.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { workerTracingOptions } from '../../lib/temporal/tracing';
import { historyFromJson } from '../../dev/historyJson';
import { FIXTURES_DIR, fixtureFiles, fixtureManifestProblems, replayedFixtures } from '../../dev/historyFixtures';
import { testStack } from '../support/stackInfo';
import { installQuietRuntime } from '../support/temporal';

describe('replay of recorded histories against the current bundle', () => {
  const files = fixtureFiles();

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
  // Every other workflow a run can be in flight of, recorded after those changes.
  const recordedOnce = ['connectWorkflow', 'rotateSecretWorkflow', 'vendorActionWorkflow', 'deleteWorkspaceWorkflow'];
  it('has fixtures for sync, the 410 resync, disconnect with purge, the cache sweep and lifecycle runs that continued as new, from before and after joins moved to the validator and from before and after runs upserted their search attributes; for connect, rotate, vendor action and workspace deletion; for webhook catch-up from before and after it signalled in parallel; for disconnect, and for a compensating connect, from before and after they unsubscribed ahead of the revocation; for a lifecycle polling at a cadence set by Update; and for the KEK rotation', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        ...shapes.flatMap((name) => [`${name}.json`, `${name}-before-search-attributes.json`]),
        'integrationLifecycleWorkflow-accepted-joins.json',
        ...recordedOnce.map((name) => `${name}.json`),
        'webhookCatchUpWorkflow.json',
        'webhookCatchUpWorkflow-before-parallel-signals.json',
        // disconnectWorkflow.json is from before subscriptions were deleted ahead of the revocation.
        'disconnectWorkflow-unsubscribe-before-revoke.json',
        // A connect that failed after registering webhooks, compensating before and after the
        // 'connect-compensation-unsubscribe-before-revoke' patch.
        'connectWorkflow-compensated-revoke-before-unsubscribe.json',
        'connectWorkflow-compensated-unsubscribe-before-revoke.json',
        // Recorded by test/workflows/kek-rotation.test.ts (moto KMS), with a worker crash mid-batch.
        'kekRotationWorkflow.json',
        // A lifecycle adopting its stored cadence and polling at one set by Update (derived-poll-floor patch).
        'integrationLifecycleWorkflow-derived-poll-floor.json',
      ]),
    );
  });

  it('keeps every recorded fixture forever: none deleted, renamed or re-recorded in place, each listed with its hash', () => {
    expect(fixtureManifestProblems()).toEqual([]);
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
    const replayed = replayedFixtures();
    const histories = replayed.map((file) => ({
      workflowId: file,
      history: historyFromJson(fs.readFileSync(path.join(FIXTURES_DIR, file), 'utf8')),
    }));
    const failures: string[] = [];
    let count = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: bundle }, ...tracing },
      histories,
    )) {
      count += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(count).toBe(replayed.length);
    // The sink is not called while replaying: spans of a run already exported are not exported twice.
    expect(exported.getFinishedSpans()).toEqual([]);
  });
});
