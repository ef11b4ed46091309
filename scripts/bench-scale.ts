/**
 * `npm run bench:scale`: what BENCH_INTEGRATIONS connected integrations (default 10,000) cost one
 * worker when nothing changes at the vendor: each has its `integrationLifecycleWorkflow`, polls at the
 * 15-minute cadence and refreshes its token hourly, both compressed in time.
 *
 * One throwaway stack (Temporal dev server + embedded Postgres on free ports). The integrations are
 * seeded in Postgres in batches (as `seedConnectedIntegration` of the workflow tests, with an expiring
 * OAuth token), over the in-memory vendor (`dev/memoryConnector`) with no records: every poll is a
 * sync of one empty page. One in-process worker runs the lifecycles, their syncs and all activities.
 *
 * Time compression: the lifecycles poll every BENCH_POLL_MS (default 60 s, the T12 floor of the
 * in-memory row: a cadence never goes below one budget window, `lib/pollFloor.ts`), which stands for
 * the 15 minutes of production, so the factor is 15 min / BENCH_POLL_MS; the vendor's tokens live
 * one hour divided by the same factor, and the lifecycle refreshes each as it comes due. The starts
 * are spread over one poll interval (integrations connect at different times). After one more poll
 * interval (every integration has made its first sync), BENCH_DURATION_S seconds are measured:
 *   - the process's CPU (`process.cpuUsage()`) per lifecycle wake-up (a poll with its sync, or a token
 *     refresh: everything the worker does for it, activities and Postgres client included);
 *   - resident memory, sampled every 5 s from before the worker starts to the end;
 *   - the workflow cache hit rate, from the worker's Prometheus metrics (sticky cache hits / misses);
 *   - history events per lifecycle per (production) day, from the histories of a sample of lifecycles
 *     (events within the window, every run of the continue-as-new chain), and the longest current run
 *     (what a cache miss replays).
 * Also the wake-ups done against those due, so a worker that falls behind shows it. Then what a cache
 * miss costs: a few lifecycles' runs grown by "sync now" to BENCH_REPLAY_LENGTHS events and replayed
 * (CPU per replay, fitted to a fixed cost plus a cost per event), to size the continue-as-new bound. Writes
 * `bench-results/scale.json`. No timed assertion: figures only.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../activities';
import { createConnectorRegistry } from '../activities/vendors/registry';
import { createAuditLog } from '../db/audit';
import { createOwnerDb, createRuntimeDb } from '../db/knex';
import { LocalKeyProvider, SecretStore } from '../db/secrets';
import { createLogger } from '../lib/logger';
import { workerTracingOptions } from '../lib/temporal/tracing';
import { rowPollFloorMs } from '../lib/pollFloor';
import { historyToJson } from '../dev/historyJson';
import { print, sampleRss, writeBenchResult, type RssSampler } from '../dev/benchFigures';
import { MEMORY_VENDOR, memoryDescriptor, MemoryConnector } from '../dev/memoryConnector';
import { freePort } from '../dev/processes';
import { startStack } from '../dev/stack';
import { metricsBetween, scrapeWorkerMetrics, type WorkerMetrics } from '../dev/workerMetrics';
import { requestSyncUpdate, workflowIds } from '../workflows/definitions';
import { TOKEN_REFRESH_MARGIN_MS, type integrationLifecycleWorkflow } from '../workflows/lifecycle';
import { bundleWorkflows, createWorker } from '../workers/createWorker';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** The production cadences the benchmark compresses. */
const PRODUCTION_POLL_MS = 15 * MINUTE_MS;
const PRODUCTION_TOKEN_LIFETIME_MS = 60 * MINUTE_MS;
/** Lifecycles whose histories are read at the end. */
const HISTORY_SAMPLE = 25;
/** Where histories that failed to replay are written. */
const RESULTS_DIR = path.join(__dirname, '..', 'bench-results');
/** Rows per INSERT of the seeding, and secrets written at once (each is its own encrypted write). */
const SEED_CHUNK = 1_000;
const SEED_SECRET_CONCURRENCY = 8;
/** Starts in flight at once, paced over one poll interval. */
const START_CONCURRENCY = 16;
const RSS_SAMPLE_MS = 5_000;
/** The worker's Postgres pool: the production worker's default (`DATABASE_POOL_MAX`, `lib/config.ts`). */
const DB_POOL_MAX = 20;

interface Settings {
  integrations: number;
  durationS: number;
  pollMs: number;
  compression: number;
  tokenLifetimeMs: number;
  /** The worker's workflow cache; undefined: the SDK's default, as the production worker runs. */
  maxCachedWorkflows?: number;
  /** Run lengths (events) grown by "sync now" after the window and replayed: the cost of a miss by length. */
  replayLengths: number[];
}

interface Ref {
  workspaceId: string;
  integrationId: string;
}

/** A whole number from the environment, at least `min`, or a clear refusal. */
function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number ≥ ${min}`);
  return value;
}

/** BENCH_REPLAY_LENGTHS: comma-separated run lengths (events) to grow and replay; "" grows none. */
function replayLengthsFromEnv(): number[] {
  const raw = process.env.BENCH_REPLAY_LENGTHS ?? '250,1000,2000,4000';
  const lengths = raw === '' ? [] : raw.split(',').map(Number);
  if (lengths.some((n) => !Number.isSafeInteger(n) || n < 20 || n > 9_000))
    throw new RangeError('BENCH_REPLAY_LENGTHS takes whole numbers from 20 to 9000, comma-separated');
  return lengths;
}

function readSettings(): Settings {
  const floorMs = rowPollFloorMs(memoryDescriptor, 0);
  const pollMs = intFromEnv('BENCH_POLL_MS', floorMs, floorMs);
  const compression = PRODUCTION_POLL_MS / pollMs;
  const cached = process.env.BENCH_CACHED_WORKFLOWS;
  return {
    integrations: intFromEnv('BENCH_INTEGRATIONS', 10_000, 1),
    durationS: intFromEnv('BENCH_DURATION_S', 600, 10),
    pollMs,
    compression,
    tokenLifetimeMs: Math.round(PRODUCTION_TOKEN_LIFETIME_MS / compression),
    maxCachedWorkflows: cached === undefined || cached === '' ? undefined : intFromEnv('BENCH_CACHED_WORKFLOWS', 0, 0),
    replayLengths: replayLengthsFromEnv(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Runs `task` over `items` with at most `concurrency` in flight. */
async function inPool<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** Workspaces and connected integrations of the in-memory row, inserted SEED_CHUNK rows per statement. */
async function seedRows(superuser: Knex, refs: readonly Ref[]): Promise<void> {
  for (let start = 0; start < refs.length; start += SEED_CHUNK) {
    const chunk = refs.slice(start, start + SEED_CHUNK);
    await superuser('workspaces').insert(chunk.map((r) => ({ workspace_id: r.workspaceId })));
    await superuser('integrations').insert(
      chunk.map((r) => ({
        integration_id: r.integrationId,
        workspace_id: r.workspaceId,
        vendor: MEMORY_VENDOR,
        status: 'connected',
        requested_scopes: ['repo:read'],
        granted_scopes: ['repo:read'],
        connected_by: 'bench',
        connected_at: new Date(),
      })),
    );
  }
}

/**
 * Each integration's OAuth tokens, through the secret store (envelope-encrypted as in production).
 * Expiries are spread over one token lifetime past the refresh margin, so refreshes come due evenly.
 */
async function seedTokens(secrets: SecretStore, refs: readonly Ref[], settings: Settings): Promise<void> {
  const now = Date.now();
  await inPool(refs, SEED_SECRET_CONCURRENCY, async (ref, index) => {
    const expiresAt = now + TOKEN_REFRESH_MARGIN_MS + Math.round((index / refs.length) * settings.tokenLifetimeMs);
    await secrets.put({
      ...ref,
      kind: 'oauth-tokens',
      state: 'current',
      plaintext: JSON.stringify({
        accessToken: 'bench',
        refreshToken: 'bench-refresh',
        grantedScopes: ['repo:read'],
        expiresAt,
      }),
      expiresAt: new Date(expiresAt),
    });
  });
}

/** One lifecycle per integration, the starts spread evenly over one poll interval. */
async function startLifecycles(client: Client, taskQueue: string, refs: readonly Ref[], settings: Settings) {
  const started = performance.now();
  await inPool(refs, START_CONCURRENCY, async (ref, index) => {
    await sleep(started + (index / refs.length) * settings.pollMs - performance.now());
    await client.workflow.start<typeof integrationLifecycleWorkflow>('integrationLifecycleWorkflow', {
      taskQueue,
      workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
      args: [{ ...ref, vendor: MEMORY_VENDOR, pollIntervalMs: settings.pollMs }],
    });
  });
  return (performance.now() - started) / 1000;
}

/** What the window's figures are computed from, read at its start and at its end. */
interface Snapshot {
  at: number;
  cpu: NodeJS.CpuUsage;
  metrics: WorkerMetrics;
  polls: number;
  refreshes: number;
}

async function snapshot(metricsAddress: string, connector: MemoryConnector): Promise<Snapshot> {
  return {
    at: Date.now(),
    cpu: process.cpuUsage(),
    metrics: await scrapeWorkerMetrics(metricsAddress),
    // No changes at the vendor: every sync reads one page of its one resource.
    polls: connector.fetchCalls,
    refreshes: connector.refreshCalls,
  };
}

/** Prints a line a minute while the window runs, so a long run shows its progress. */
async function measureWindow(
  settings: Settings,
  metricsAddress: string,
  connector: MemoryConnector,
  rss: RssSampler,
): Promise<{ before: Snapshot; after: Snapshot }> {
  const before = await snapshot(metricsAddress, connector);
  const end = before.at + settings.durationS * 1000;
  while (Date.now() < end) {
    await sleep(Math.min(MINUTE_MS, end - Date.now()));
    const now = await snapshot(metricsAddress, connector);
    print(
      `  ${Math.round((now.at - before.at) / 1000)} s: ${now.polls - before.polls} polls, ${now.refreshes - before.refreshes} refreshes, ` +
        `cache ${now.metrics.cacheSize} workflows, rss ${rss.samples.at(-1)![1]} MiB, load ${os.loadavg()[0]!.toFixed(1)}`,
    );
  }
  return { before, after: await snapshot(metricsAddress, connector) };
}

/** Every run of a lifecycle's continue-as-new chain, newest first, as its history events. */
async function lifecycleRuns(client: Client, ref: Ref): Promise<temporal.api.history.v1.IHistoryEvent[][]> {
  const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
  const runs: temporal.api.history.v1.IHistoryEvent[][] = [];
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const events: temporal.api.history.v1.IHistoryEvent[] =
      (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    runs.push(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return runs;
}

const eventTimeMs = (event: temporal.api.history.v1.IHistoryEvent) =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);

/** Over a sample of lifecycles: history events per production day in the window, and the longest current run. */
async function historyFigures(
  client: Client,
  sample: readonly Ref[],
  window: { from: number; to: number },
  settings: Settings,
) {
  const perDay: number[] = [];
  const currentRuns: temporal.api.history.v1.IHistoryEvent[][] = [];
  let longestRun = 0;
  let runs = 0;
  const productionDays = ((window.to - window.from) * settings.compression) / DAY_MS;
  for (const ref of sample) {
    const chain = await lifecycleRuns(client, ref);
    const inWindow = chain.flat().filter((e) => eventTimeMs(e) >= window.from && eventTimeMs(e) <= window.to).length;
    perDay.push(inWindow / productionDays);
    longestRun = Math.max(longestRun, chain[0]!.length);
    runs += chain.length;
    currentRuns.push(chain[0]!);
  }
  const mean = perDay.reduce((sum, n) => sum + n, 0) / perDay.length;
  return {
    currentRuns,
    sampled: sample.length,
    eventsPerLifecyclePerDay: Math.round(mean),
    eventsPerLifecyclePerDayMax: Math.round(Math.max(...perDay)),
    longestCurrentRunEvents: longestRun,
    meanRunsPerLifecycle: Number((runs / sample.length).toFixed(2)),
  };
}

/**
 * Grows one integration's lifecycle run to `events` events with "sync now" (each sync adds one poll's
 * events; a request while a sync runs is refused as joined and sent again), and returns that run.
 * The lifecycle is started again with its continue-as-new bound lifted, so the run can be longer
 * than the production bound: the cost of the bound a deployment had before is measured too.
 */
async function growRun(
  client: Client,
  taskQueue: string,
  ref: Ref,
  settings: Settings,
  events: number,
): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
  await client.workflow.getHandle(workflowId).terminate('grown for the replay figures');
  const handle = await client.workflow.start<typeof integrationLifecycleWorkflow>('integrationLifecycleWorkflow', {
    taskQueue,
    workflowId,
    args: [{ ...ref, vendor: MEMORY_VENDOR, pollIntervalMs: settings.pollMs, continueAfterEvents: 100_000 }],
  });
  while ((await handle.describe()).historyLength < events) {
    await handle.executeUpdate(requestSyncUpdate, { args: [{ reason: 'admin' }] }).catch(() => undefined);
    await sleep(100);
  }
  return (await lifecycleRuns(client, ref))[0]!;
}

/**
 * What a cache miss costs: runs replayed from their first event, as a worker does after an eviction
 * or a restart (one replay worker, the production bundle with its tracing sink). Process CPU, not
 * wall time, so other work on the machine does not count. The first replay warms the bundle and is
 * not counted. The grown runs give the cost by length (a miss replays the current run: on average
 * half of the continue-as-new bound); the sampled ones what the window's runs cost.
 */
async function replayFigures(runs: ReadonlyArray<{ label: string; events: temporal.api.history.v1.IHistoryEvent[] }>) {
  const { code } = await bundleWorkflows();
  const warmUp = runs[0]!;
  const histories = [warmUp, ...runs].map((run, index) => ({
    workflowId: `replay-${index}`,
    history: { events: run.events },
  }));
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const costs: Array<{ label: string; events: number; cpuMs: number; failed: boolean }> = [];
  let last = cpuMs();
  let index = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { code }, ...workerTracingOptions(undefined) },
    histories,
  )) {
    const now = cpuMs();
    if (index > 0) {
      const run = runs[index - 1]!;
      if (result.error) {
        // Kept for a replay test: a run that does not replay is a finding, not a figure.
        const file = path.join(RESULTS_DIR, `replay-failure-${index}.json`);
        fs.mkdirSync(RESULTS_DIR, { recursive: true });
        fs.writeFileSync(file, historyToJson({ events: run.events }));
        print(`replay of a ${run.label} run failed (${result.error.message.slice(0, 200)}): history in ${file}`);
      }
      costs.push({
        label: run.label,
        events: run.events.length,
        cpuMs: Number((now - last).toFixed(1)),
        failed: Boolean(result.error),
      });
    }
    index += 1;
    last = now;
  }
  // Least-squares line through the grown runs: a fixed cost per replay plus a cost per event.
  const grown = costs.filter((c) => c.label === 'grown');
  const n = grown.length;
  const meanX = grown.reduce((sum, c) => sum + c.events, 0) / Math.max(n, 1);
  const meanY = grown.reduce((sum, c) => sum + c.cpuMs, 0) / Math.max(n, 1);
  const sxx = grown.reduce((sum, c) => sum + (c.events - meanX) ** 2, 0);
  const perEvent =
    n >= 2 && sxx > 0 ? grown.reduce((sum, c) => sum + (c.events - meanX) * (c.cpuMs - meanY), 0) / sxx : null;
  return {
    costs,
    failures: costs.filter((c) => c.failed).length,
    cpuMsPerEvent: perEvent === null ? null : Number(perEvent.toFixed(4)),
    cpuMsFixed: perEvent === null ? null : Number((meanY - perEvent * meanX).toFixed(1)),
  };
}

/** The window's figures: CPU per wake-up, cache hit rate, wake-ups done against those due. */
function windowFigures(settings: Settings, before: Snapshot, after: Snapshot) {
  const seconds = (after.at - before.at) / 1000;
  const cpuMs = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000;
  const metrics = metricsBetween(before.metrics, after.metrics);
  const polls = after.polls - before.polls;
  const refreshes = after.refreshes - before.refreshes;
  const wakeUps = polls + refreshes;
  const due =
    settings.integrations * ((seconds * 1000) / settings.pollMs + (seconds * 1000) / settings.tokenLifetimeMs);
  const lookups = metrics.cacheHits + metrics.cacheMisses;
  return {
    seconds: Math.round(seconds),
    polls,
    refreshes,
    wakeUps,
    wakeUpsDue: Math.round(due),
    wakeUpsDoneOfDue: Number((wakeUps / due).toFixed(3)),
    cpuSeconds: Number((cpuMs / 1000).toFixed(1)),
    cpuCoresBusy: Number((cpuMs / 1000 / seconds).toFixed(3)),
    cpuMsPerWakeUp: Number((cpuMs / Math.max(wakeUps, 1)).toFixed(2)),
    workflowTasks: metrics.workflowTasks,
    cpuMsPerWorkflowTask: Number((cpuMs / Math.max(metrics.workflowTasks, 1)).toFixed(2)),
    cacheHits: metrics.cacheHits,
    cacheMisses: metrics.cacheMisses,
    cacheHitRate: lookups > 0 ? Number((metrics.cacheHits / lookups).toFixed(4)) : null,
    cacheForcedEvictions: metrics.cacheForcedEvictions,
    cachedWorkflowsAtEnd: after.metrics.cacheSize,
  };
}

/** The vendor, activities and the worker, in this process. */
async function startWorker(connection: NativeConnection, db: Knex, settings: Settings) {
  const connector = new MemoryConnector();
  connector.tokenLifetimeMs = settings.tokenLifetimeMs;
  const secrets = new SecretStore(db, new LocalKeyProvider([crypto.randomBytes(32)]));
  const activities = createActivities({
    db,
    logger: createLogger({ level: 'silent', name: 'bench' }),
    integrations: {
      secrets,
      audit: createAuditLog(db),
      vendors: createConnectorRegistry([{ descriptor: memoryDescriptor, connector }]),
      webhookBaseUrl: 'https://integrations.bench',
    },
  });
  const taskQueue = `bench-scale-${crypto.randomUUID()}`;
  const capacity =
    settings.maxCachedWorkflows === undefined ? undefined : { maxCachedWorkflows: settings.maxCachedWorkflows };
  const worker: Worker = await createWorker({ connection, namespace: 'default', taskQueue, activities, capacity });
  return { connector, secrets, taskQueue, worker, running: worker.run() };
}

function printResult(result: ReturnType<typeof buildResult>): void {
  const w = result.window;
  print();
  print(
    `${result.integrations.toLocaleString()} lifecycles, poll every ${result.pollMs / 1000} s = 15 min ÷ ${result.compression}, token refresh every ${result.tokenLifetimeMs / 1000} s = 1 h ÷ ${result.compression}: the wake-up rate of ${result.productionEquivalentIntegrations.toLocaleString()} integrations at production cadence`,
  );
  print(
    `window     ${w.seconds} s: ${w.polls} polls + ${w.refreshes} refreshes = ${w.wakeUps} wake-ups (${w.wakeUpsDue} due: ${w.wakeUpsDoneOfDue})`,
  );
  print(
    `cpu        ${w.cpuMsPerWakeUp} ms per wake-up, ${w.cpuMsPerWorkflowTask} ms per workflow task (${w.workflowTasks}), ${w.cpuCoresBusy} cores busy`,
  );
  print(
    `cache      hit rate ${w.cacheHitRate} (${w.cacheHits} hits, ${w.cacheMisses} misses, ${w.cacheForcedEvictions} forced evictions); ${w.cachedWorkflowsAtEnd} cached of max ${result.maxCachedWorkflows}`,
  );
  print(
    `memory     rss ${result.rssMiB.start} MiB before the worker → ${result.rssMiB.windowStart} at the window's start → max ${result.rssMiB.max} → ${result.rssMiB.end} at the end`,
  );
  print(
    `history    ${result.history.eventsPerLifecyclePerDay} events per lifecycle per day (max ${result.history.eventsPerLifecyclePerDayMax}, ${result.history.sampled} sampled); longest current run ${result.history.longestCurrentRunEvents} events`,
  );
  const grown = result.replay.costs.filter((c) => c.label === 'grown');
  const sampled = result.replay.costs.filter((c) => c.label === 'sampled');
  const sampledMean = sampled.reduce((sum, c) => sum + c.cpuMs, 0) / Math.max(sampled.length, 1);
  print(
    `replay     ${grown.map((c) => `${c.events} events ${c.cpuMs} ms`).join(', ')}: ${result.replay.cpuMsFixed} ms + ${result.replay.cpuMsPerEvent} ms per event (CPU); ` +
      `${sampled.length} sampled runs ${sampledMean.toFixed(1)} ms each; ${result.replay.failures} failures`,
  );
  print(`load       ${result.loadAverage.join(' ')} (${result.machine.cpus} cores)`);
}

function buildResult(
  settings: Settings,
  maxCachedWorkflows: number,
  startSeconds: number,
  window: ReturnType<typeof windowFigures>,
  history: Omit<Awaited<ReturnType<typeof historyFigures>>, 'currentRuns'>,
  replay: Awaited<ReturnType<typeof replayFigures>>,
  rss: { start: number; windowStart: number; max: number; end: number; samples: Array<[number, number]> },
) {
  return {
    measuredAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    source: 'in-memory connector (dev/memoryConnector.ts), no records and no changes',
    integrations: settings.integrations,
    pollMs: settings.pollMs,
    tokenLifetimeMs: settings.tokenLifetimeMs,
    compression: settings.compression,
    /** Compression multiplies the wake-up rate: N compressed lifecycles wake as often as N × compression real ones. */
    productionEquivalentIntegrations: settings.integrations * settings.compression,
    maxCachedWorkflows,
    startSeconds: Number(startSeconds.toFixed(1)),
    window,
    history,
    replay,
    rssMiB: rss,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

async function main(): Promise<void> {
  const settings = readSettings();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  print(`Starting Temporal dev server + Postgres in ${dataDir}…`);
  const stack = await startStack({
    dataDir,
    persistent: false,
    temporal: { port: await freePort(), namespace: 'default' },
    postgres: { port: await freePort() },
    log: () => undefined,
  });
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } },
  });
  const db = createRuntimeDb(stack.database!.appUrl, 'worker', DB_POOL_MAX);
  const superuser = createOwnerDb(
    Object.assign(new URL(stack.database!.superuserUrl), { pathname: '/integrations' }).toString(),
  );
  const connection = await NativeConnection.connect({ address: stack.temporalAddress! });
  const clientConnection = await Connection.connect({ address: stack.temporalAddress! });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  const rss = sampleRss(RSS_SAMPLE_MS);
  try {
    const refs: Ref[] = Array.from({ length: settings.integrations }, () => ({
      workspaceId: crypto.randomUUID(),
      integrationId: crypto.randomUUID(),
    }));
    print('Bundling workflows and starting the worker…');
    const parts = await startWorker(connection, db, settings);
    print(`Seeding ${settings.integrations.toLocaleString()} connected integrations…`);
    await seedRows(superuser, refs);
    await seedTokens(parts.secrets, refs, settings);
    print(`Starting their lifecycles over ${settings.pollMs / 1000} s…`);
    const startSeconds = await startLifecycles(client, parts.taskQueue, refs, settings);
    print(`Started in ${startSeconds.toFixed(1)} s; one more poll interval before measuring…`);
    await sleep(settings.pollMs);
    const windowStartRss = rss.samples.at(-1)![1];
    print(`Measuring ${settings.durationS} s…`);
    const { before, after } = await measureWindow(settings, metricsAddress, parts.connector, rss);
    const window = windowFigures(settings, before, after);
    const sample = refs
      .filter((_, i) => i % Math.max(1, Math.floor(refs.length / HISTORY_SAMPLE)) === 0)
      .slice(0, HISTORY_SAMPLE);
    const { currentRuns, ...history } = await historyFigures(
      client,
      sample,
      { from: before.at, to: after.at },
      settings,
    );
    const memory = rss.stop();
    // Lifecycles outside the sample, so the history figures above are of untouched ones.
    const grownRefs = refs.filter((ref) => !sample.includes(ref)).slice(-settings.replayLengths.length);
    print(
      `Growing ${grownRefs.length} lifecycles' runs to ${settings.replayLengths.join(', ')} events, then replaying…`,
    );
    const grown = await Promise.all(
      grownRefs.map((ref, i) => growRun(client, parts.taskQueue, ref, settings, settings.replayLengths[i]!)),
    );
    const replay = await replayFigures([
      ...grown.map((events) => ({ label: 'grown', events })),
      ...currentRuns.map((events) => ({ label: 'sampled', events })),
    ]);
    const result = buildResult(
      settings,
      parts.worker.options.maxCachedWorkflows,
      startSeconds,
      window,
      history,
      replay,
      {
        ...memory,
        windowStart: windowStartRss,
        samples: rss.samples,
      },
    );
    printResult(result);
    writeBenchResult('scale', result);
    parts.worker.shutdown();
    await parts.running;
  } finally {
    rss.stop();
    await clientConnection.close();
    await connection.close();
    await db.destroy();
    await superuser.destroy();
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
