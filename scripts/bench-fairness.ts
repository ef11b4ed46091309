/**
 * `npm run bench:fairness`: how much one workspace's large sync delays another workspace's small one,
 * with task-queue fairness off (the server's default: first in, first out) and on (per-workspace
 * fairness keys, `packages/client/src/priority.ts`, and the server settings of `dev/stack.ts`).
 *
 * One Postgres and two throwaway Temporal dev servers (fairness off, then on), each served by one
 * in-process worker with BENCH_ACTIVITY_SLOTS activity slots, over the in-memory vendor
 * (`dev/memoryConnector`, whose budget does not throttle: this measures queueing, not the vendor).
 * On each server:
 *   1. baseline: BENCH_SMALL_SAMPLES small syncs (BENCH_SMALL_RECORDS records) of workspace B, one after another;
 *   2. load: workspace A syncs BENCH_LARGE_RECORDS records spread over BENCH_LARGE_INTEGRATIONS integrations
 *      at once (one sync runs one activity at a time, so it takes many of them to queue work for a
 *      worker), and workspace B runs the same small syncs one after another until A is done.
 * Both workspaces' syncs carry the same priority class (a first sync at connect), so only the
 * fairness key tells them apart. Both servers run task queues of one partition (`dev/stack.ts`).
 * Prints the small sync's latency (mean, median, p90, max) and the time its tasks waited in the
 * queue (Scheduled → Started in its history), alone and under load, the ratio of the means (the
 * latency factor) per server, and the large syncs' records/s; writes `bench-results/fairness.json`.
 * No timed assertion: figures only.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createConnectorRegistry } from '../activities/vendors/registry';
import { createAuditLog } from '../db/audit';
import type { Knex } from 'knex';
import { createOwnerDb, createRuntimeDb } from '../db/knex';
import { LocalKeyProvider, SecretStore } from '../db/secrets';
import { REPO_ROOT } from '../lib/config';
import { createLogger } from '../lib/logger';
import { freePort } from '../dev/processes';
import { startStack, type RunningStack } from '../dev/stack';
import { MEMORY_VENDOR, memoryDescriptor, MemoryConnector } from '../dev/memoryConnector';
import { syncPriority } from '@trackproject/integrations-client/priority';
import { workflowIds, type SyncReason } from '../workflows/definitions';
import type { syncWorkflow } from '../workflows/sync';
import { bundleWorkflows, createWorker } from '../workers/createWorker';

const LARGE_RECORDS = Number(process.env.BENCH_LARGE_RECORDS ?? 1_000_000);
const LARGE_INTEGRATIONS = Number(process.env.BENCH_LARGE_INTEGRATIONS ?? 20);
const SMALL_RECORDS = Number(process.env.BENCH_SMALL_RECORDS ?? 1_000);
const SMALL_SAMPLES = Number(process.env.BENCH_SMALL_SAMPLES ?? 10);
/** Fewer slots than large syncs: the worker has a backlog, which is where the dispatch order matters. */
const ACTIVITY_SLOTS = Number(process.env.BENCH_ACTIVITY_SLOTS ?? 4);
const PAGE_SIZE = 1_000;
/** Both workspaces' syncs are first syncs at connect (interactive): same class, only fairness differs. */
const REASON: SyncReason = 'connect';

const print = (line = '') => process.stdout.write(`${line}\n`);

interface Ref {
  workspaceId: string;
  integrationId: string;
}

interface Sample {
  latencyS: number;
  /** Time its workflow and activity tasks spent scheduled but not started: what dispatch order decides. */
  queueWaitS: number;
  /** The task that waited longest, and how long. */
  longestWait: string;
}

interface LatencyFigures {
  samples: number;
  meanS: number;
  medianS: number;
  p90S: number;
  maxS: number;
  queueWaitMedianS: number;
  queueWaitP90S: number;
  queueWaitMaxS: number;
  latenciesS: number[];
  /** Per sample, the task that waited longest in the queue. */
  longestWaits: string[];
}

interface ServerFigures {
  fairness: boolean;
  alone: LatencyFigures;
  underLoad: LatencyFigures;
  /** Mean latency under load / mean alone (the median hides the syncs that queued). */
  latencyFactor: number;
  maxFactor: number;
  large: { records: number; seconds: number; recordsPerS: number };
  loadAverage: number[];
}

async function main(): Promise<void> {
  if (LARGE_RECORDS % LARGE_INTEGRATIONS !== 0)
    throw new Error('BENCH_LARGE_RECORDS must divide by BENCH_LARGE_INTEGRATIONS');
  const perLarge = LARGE_RECORDS / LARGE_INTEGRATIONS;
  if (SMALL_RECORDS > perLarge) throw new Error('BENCH_SMALL_RECORDS must not exceed one large integration');
  print('Starting Postgres and two Temporal dev servers (fairness off / on)…');
  const dataDirs: string[] = [];
  const stacks: RunningStack[] = [];
  const startServer = async (fairness: boolean, withPostgres: boolean) => {
    // A folder of its own each: embedded Postgres makes only its own folder and the parent reachable.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-fairness-'));
    dataDirs.push(dataDir);
    const stack = await startStack({
      dataDir,
      persistent: false,
      temporal: { port: await freePort(), namespace: 'default', fairness },
      ...(withPostgres ? { postgres: { port: await freePort() } } : {}),
      log: () => undefined,
    });
    stacks.push(stack);
    return stack;
  };
  try {
    // One after the other: a failed start must leave no stack unstopped.
    const fifo = await startServer(false, true);
    const fair = await startServer(true, false);
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const database = fifo.database!;
    const db = createRuntimeDb(database.appUrl, 'worker', 10);
    const superuser = createOwnerDb(
      Object.assign(new URL(database.superuserUrl), { pathname: '/integrations' }).toString(),
    );
    try {
      // One source for every integration: each large one reads the whole log of perLarge changes,
      // the small one starts its cursor SMALL_RECORDS changes before the end.
      const source = new MemoryConnector(PAGE_SIZE);
      for (let i = 0; i < perLarge; i++) source.upsert(`rec-${String(i).padStart(7, '0')}`, `title ${i}`);
      const secrets = new SecretStore(db, new LocalKeyProvider([crypto.randomBytes(32)]));
      const activities = createActivities({
        db,
        logger: createLogger({ level: 'silent', name: 'bench' }),
        integrations: {
          secrets,
          audit: createAuditLog(db),
          vendors: createConnectorRegistry([{ descriptor: memoryDescriptor, connector: source }]),
          webhookBaseUrl: 'https://integrations.bench',
        },
      });
      print('Bundling workflows…');
      const workflowBundle = await bundleWorkflows();
      const seeder = { superuser, secrets };
      const results: ServerFigures[] = [];
      for (const [fairness, stack] of [
        [false, fifo],
        [true, fair],
      ] as const) {
        print();
        print(`Server with fairness ${fairness ? 'ON' : 'OFF'}: ${ACTIVITY_SLOTS} activity slots`);
        const connection = await NativeConnection.connect({ address: stack.temporalAddress! });
        const clientConnection = await Connection.connect({ address: stack.temporalAddress! });
        const client = new Client({ connection: clientConnection, namespace: 'default' });
        const taskQueue = `bench-fairness-${crypto.randomUUID()}`;
        const worker = await createWorker({
          connection,
          namespace: 'default',
          taskQueue,
          activities,
          workflowBundle,
          capacity: { maxConcurrentActivityTaskExecutions: ACTIVITY_SLOTS },
        });
        const workerRun = worker.run();
        try {
          const sync = async (ref: Ref, records: number) => {
            const started = performance.now();
            const progress = await client.workflow.execute<typeof syncWorkflow>('syncWorkflow', {
              taskQueue,
              workflowId: workflowIds.sync(ref.workspaceId, ref.integrationId),
              args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: REASON, resource: 'issues' } }],
              priority: syncPriority(ref.workspaceId, REASON),
            });
            if (progress.recordsUpserted !== records)
              throw new Error(`a sync upserted ${progress.recordsUpserted} of ${records}`);
            return (performance.now() - started) / 1000;
          };
          const smallWorkspace = crypto.randomUUID();
          let recordedPriority: temporal.api.common.v1.IPriority | null | undefined;
          /** A small sync of workspace B: its latency, and how long its tasks waited in the task queues. */
          const smallSync = async (): Promise<Sample> => {
            const ref = await seedIntegration(seeder, smallWorkspace, `delta:${perLarge - SMALL_RECORDS}`);
            const latencyS = await sync(ref, SMALL_RECORDS);
            recordedPriority ??= (
              await client.workflow.getHandle(workflowIds.sync(ref.workspaceId, ref.integrationId)).describe()
            ).raw.workflowExecutionInfo?.priority;
            const history = await client.workflow
              .getHandle(workflowIds.sync(ref.workspaceId, ref.integrationId))
              .fetchHistory();
            const wait = queueWait(history.events ?? []);
            return { latencyS, queueWaitS: wait.seconds, longestWait: wait.longest };
          };
          await smallSync(); // warm-up: the worker's first workflow tasks, pools, JIT
          print(`  priority the server recorded for a small sync: ${JSON.stringify(recordedPriority)}`);
          const alone: Sample[] = [];
          for (let i = 0; i < SMALL_SAMPLES; i++) alone.push(await smallSync());
          print(`  small sync alone:      ${describe(latencies(alone))}`);

          const largeWorkspace = crypto.randomUUID();
          const largeRefs: Ref[] = [];
          for (let i = 0; i < LARGE_INTEGRATIONS; i++)
            largeRefs.push(await seedIntegration(seeder, largeWorkspace, 'delta:0'));
          const loadStarted = performance.now();
          let largeDone = false;
          const large = Promise.all(largeRefs.map((ref) => sync(ref, perLarge))).finally(() => {
            largeDone = true;
          });
          // Small syncs one after another for as long as A's run (the last may end after them).
          const underLoad: Sample[] = [];
          while (!largeDone) underLoad.push(await smallSync());
          await large;
          const largeSeconds = (performance.now() - loadStarted) / 1000;
          print(`  small sync under load: ${describe(latencies(underLoad))}`);
          print(`    longest queue wait per sync: ${underLoad.map((x) => x.longestWait).join('; ')}`);
          print(
            `  large: ${LARGE_RECORDS.toLocaleString()} records in ${LARGE_INTEGRATIONS} syncs, ${largeSeconds.toFixed(1)} s`,
          );
          const aloneFigures = latencies(alone);
          const loadFigures = latencies(underLoad);
          results.push({
            fairness,
            alone: aloneFigures,
            underLoad: loadFigures,
            latencyFactor: round(loadFigures.meanS / aloneFigures.meanS, 2),
            maxFactor: round(loadFigures.maxS / aloneFigures.maxS, 2),
            large: {
              records: LARGE_RECORDS,
              seconds: round(largeSeconds, 1),
              recordsPerS: Math.round(LARGE_RECORDS / largeSeconds),
            },
            loadAverage: os.loadavg().map((l) => round(l, 2)),
          });
        } finally {
          await Promise.resolve(worker.shutdown());
          await workerRun;
          await clientConnection.close();
          await connection.close();
        }
      }
      print();
      for (const r of results)
        print(
          `fairness ${r.fairness ? 'on ' : 'off'}  small sync mean ${r.alone.meanS} s alone → ${r.underLoad.meanS} s under load: ×${r.latencyFactor} (max ×${r.maxFactor}, longest queue wait ${r.underLoad.queueWaitMaxS} s, ${r.underLoad.samples} small syncs during the load); large ${r.large.recordsPerS} records/s; load ${r.loadAverage.join(' ')}`,
        );
      const result = {
        measuredAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, node: process.version },
        source: 'in-memory connector (dev/memoryConnector.ts), delta upserts',
        largeRecords: LARGE_RECORDS,
        largeIntegrations: LARGE_INTEGRATIONS,
        smallRecords: SMALL_RECORDS,
        activitySlots: ACTIVITY_SLOTS,
        reason: REASON,
        servers: results,
      };
      const outDir = path.join(REPO_ROOT, 'bench-results');
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(path.join(outDir, 'fairness.json'), `${JSON.stringify(result, null, 2)}\n`);
      print(`wrote ${path.join(outDir, 'fairness.json')}`);
    } finally {
      await db.destroy();
      await superuser.destroy();
    }
  } finally {
    for (const stack of stacks) await stack.stop();
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A connected integration of `workspaceId` (created if new) whose cursor is `cursor`. */
async function seedIntegration(
  { superuser, secrets }: { superuser: Knex; secrets: SecretStore },
  workspaceId: string,
  cursor: string,
): Promise<Ref> {
  const ref = { workspaceId, integrationId: crypto.randomUUID() };
  await superuser('workspaces').insert({ workspace_id: workspaceId }).onConflict('workspace_id').ignore();
  await superuser('integrations').insert({
    integration_id: ref.integrationId,
    workspace_id: workspaceId,
    vendor: MEMORY_VENDOR,
    status: 'connected',
    requested_scopes: ['repo:read'],
    granted_scopes: ['repo:read'],
  });
  await secrets.put({
    ...ref,
    kind: 'oauth-tokens',
    state: 'current',
    plaintext: JSON.stringify({ accessToken: 'bench', grantedScopes: ['repo:read'] }),
  });
  await superuser('sync_state').insert({ ...toRow(ref), resource: 'issues', cursor, status: 'idle' });
  return ref;
}

const toRow = (ref: Ref) => ({ workspace_id: ref.workspaceId, integration_id: ref.integrationId });

function latencies(samples: Sample[]): LatencyFigures {
  const latency = quantiles(samples.map((x) => x.latencyS));
  const wait = quantiles(samples.map((x) => x.queueWaitS));
  return {
    samples: samples.length,
    meanS: round(samples.reduce((sum, x) => sum + x.latencyS, 0) / samples.length, 3),
    medianS: latency.median,
    p90S: latency.p90,
    maxS: latency.max,
    queueWaitMedianS: wait.median,
    queueWaitP90S: wait.p90,
    queueWaitMaxS: wait.max,
    latenciesS: samples.map((x) => round(x.latencyS, 2)),
    longestWaits: samples.map((x) => x.longestWait),
  };
}

function quantiles(values: number[]): { median: number; p90: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!, 3);
  return { median: at(0.5), p90: at(0.9), max: at(1) };
}

/** Seconds between each task's Scheduled event and its Started event, summed over workflow and activity tasks. */
function queueWait(events: temporal.api.history.v1.IHistoryEvent[]): { seconds: number; longest: string } {
  const at = (event: temporal.api.history.v1.IHistoryEvent) =>
    Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
  const byId = new Map(events.map((event) => [Number(event.eventId), event]));
  let waitMs = 0;
  let longest = { ms: 0, task: '' };
  for (const event of events) {
    const scheduledId =
      event.activityTaskStartedEventAttributes?.scheduledEventId ??
      event.workflowTaskStartedEventAttributes?.scheduledEventId;
    const scheduled = scheduledId === undefined || scheduledId === null ? undefined : byId.get(Number(scheduledId));
    if (!scheduled) continue;
    const ms = at(event) - at(scheduled);
    waitMs += ms;
    const task = scheduled.activityTaskScheduledEventAttributes?.activityType?.name ?? 'workflow task';
    if (ms > longest.ms) longest = { ms, task: `${task} ${(ms / 1000).toFixed(2)} s` };
  }
  return { seconds: waitMs / 1000, longest: longest.task };
}

const describe = (f: LatencyFigures) =>
  `mean ${f.meanS} s, median ${f.medianS} s, p90 ${f.p90S} s, max ${f.maxS} s; queue wait median ${f.queueWaitMedianS} s, p90 ${f.queueWaitP90S} s, max ${f.queueWaitMaxS} s (${f.samples} syncs)`;
const round = (value: number, digits: number) => Number(value.toFixed(digits));

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
