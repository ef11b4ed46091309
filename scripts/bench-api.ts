/**
 * `npm run bench:api`: what the API adds to "sync now".
 *
 * Starts the service with sandbox vendors on free loopback ports (as `npm run demo` does),
 * connects GitHub in a few workspaces through the API, then measures `POST …/integrations/{id}/sync`
 * against the same Temporal call made directly with the client, on the same server, same
 * integrations, in these load models:
 *
 * - closed loop: a fixed number of callers (CONCURRENCY) each sending the next request as soon as
 *   the last one answers. This finds the throughput; its latency is mostly queueing for CPU, so
 *   the ratio says how much CPU a request costs rather than how long a caller waits.
 * - open loop, at each of OPEN_LOOP_LOADS (a share of the raw client's closed-loop throughput):
 *   requests arrive on a fixed schedule whether or not earlier ones answered; latency counts from
 *   the scheduled time, so a stall cannot hide requests that should have been sent meanwhile (no
 *   coordinated omission). Every "sync now" that does not join starts a sync, and at either rate
 *   each of the 8 integrations is asked again before its sync ends, so they sync back to back and
 *   the syncs keep the machine busy (64–72 % at a quarter of the raw throughput, in the runs of
 *   2026-12-01): latency is measured on a machine that is already working.
 *   - separate: raw phases and API phases, as in the closed loop. A phase of one mode runs on a
 *     machine loaded by that mode only, so the API's extra CPU (its process and the audit append)
 *     slows the Temporal calls of its own phases: this compares two machines' loads.
 *   - mixed: raw and API requests alternate within one schedule (a round of the integrations in
 *     one mode, the next round in the other), so both see the same machine at the same moments:
 *     the difference is what the API adds to a request.
 *
 * Every process shares every core, as on one developer machine or a small single node: Temporal,
 * the worker, Postgres, the API and this load generator on the same 2 cores (pinning the API and
 * the load generator to a core of their own was tried: the backend then needs the whole other core
 * for the syncs alone, 92 % busy at a quarter of the throughput, so it measured that core's queue).
 *
 * The baseline is `executeUpdate(requestSyncUpdate)` on the integration's lifecycle workflow and
 * not `client.workflow.start`: "sync now" does not start a workflow itself, it asks the lifecycle
 * (an Update) to start the sync run or join the one in flight, so that Update is exactly the
 * Temporal work behind the route; the difference is the API (auth, rate limits, audit entry,
 * HTTP). Real workflows, no stub: the Update answers once the sync run is started or joined, so the
 * vendor (emulator) is not on the measured path; the share of requests that joined is printed for
 * both modes, since starting a sync costs the server more than joining one. Phases alternate (raw,
 * API, raw, API…) so drift in machine load hits both. Each phase also records the CPU every process
 * group used (Linux /proc), printed per request, and each API answer's `Server-Timing` (auth,
 * Temporal call, audit append, whole time in the API), printed for the middle half and the slowest
 * 1 % of requests. Target: API p99 ≤ 1.25 × raw p99, judged on the mixed open loop: the only model
 * in which both modes meet the same machine, so the ratio is what the API adds to a request. In
 * separate phases the backend's stalls (a slow Temporal call for every request in flight, a slow
 * commit) fall in one mode's phase or the other's by chance, and the ratio of two identical runs
 * ranged from 1.07 to 6.75; those models are reported for capacity (throughput, CPU per request).
 *
 * Output: tables on stdout and `bench-results/api.json` (git-ignored).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { REPO_ROOT } from '../lib/config';
import {
  addSandboxGithubAccount,
  adminToken,
  apiClient,
  connectGithub,
  StepFailed,
  type ApiClient,
} from '../dev/sandboxDriver';
import { cpuBetween, readCpu, type CpuReading, type GroupOf } from '../dev/processCpu';
import { startThrowawayService, type RunningService, type ThrowawayService } from '../dev/serviceProcesses';
import { codecKeysFromConfig } from '../lib/temporal/codec';
import { connectClient } from '../lib/temporal/connection';
import { createDataConverter } from '@trackproject/integrations-client/dataConverter';
import { requestSync } from '@trackproject/integrations-client/client';
import { workflowIds } from '../workflows/definitions';

/** Integrations, each in its own workspace with its own admin: per-caller rate limits (60 burst) stay out of the way. */
const INTEGRATIONS = 8;
/** Requests per phase, spread round-robin over the integrations (25 each per phase). */
const REQUESTS = 200;
const CONCURRENCY = 16;
/** Each mode runs this many phases, interleaved with the other mode. */
const ROUNDS = 4;
const WARMUP_REQUESTS = 32;
/** Open-loop arrival rates, as shares of the raw client's closed-loop throughput in the same layout. */
const OPEN_LOOP_LOADS = [0.25, 0.5];
/** The API's p99 may be at most this multiple of the raw client's. */
const TARGET_P99_RATIO = 1.25;

interface Target {
  workspaceId: string;
  integrationId: string;
  api: ApiClient;
  integrationPath: string;
}
/**
 * One "sync now": whether it joined the sync in flight (or started one) and, through the API, the
 * parts of its `Server-Timing` header (auth, temporal, audit, app: the whole time in the API).
 */
type Call = (target: Target) => Promise<{ joined: boolean; serverMs?: ServerMs }>;
type ServerMs = Record<string, number>;
/** Latency counts from when the request was due; sendLag is how late the load generator sent it (its own event loop). */
interface Sample {
  latencyMs: number;
  sendLagMs: number;
  serverMs?: ServerMs;
}

const print = (line = '') => process.stdout.write(`${line}\n`);

/** `requestsInPhase` counts both modes' requests in a mixed phase: the CPU reading is the whole phase's. */
interface Phase {
  samples: Sample[];
  wallMs: number;
  joined: number;
  requestsInPhase: number;
  cpu: CpuReading;
}

/** `auth;dur=0.41, temporal;dur=12.30, app;dur=14.02` → { auth: 0.41, temporal: 12.3, app: 14.02 }. */
function parseServerTiming(header: string | string[] | undefined): ServerMs {
  const parts: ServerMs = {};
  for (const entry of String(header ?? '').split(',')) {
    const match = /^\s*([\w-]+)\s*;\s*dur=([\d.]+)/.exec(entry);
    if (match) parts[match[1]!] = Number(match[2]);
  }
  return parts;
}

/** Where CPU goes: this process (load generator, raw client, vendor emulators), the service's children, the servers. */
function processGroups(service: RunningService): GroupOf {
  return (pid, command) => {
    if (pid === process.pid) return 'load generator';
    if (pid === service.pids.api) return 'api';
    if (pid === service.pids.worker) return 'worker';
    if (command === 'temporal' || command === 'postgres') return command;
    return undefined;
  };
}
const CPU_GROUPS = ['load generator', 'api', 'worker', 'temporal', 'postgres'] as const;

type Unmeasured = Omit<Phase, 'cpu'>;

/** Runs one phase and records the CPU each process group used meanwhile. */
async function measured(groups: GroupOf, run: () => Promise<Unmeasured[]>): Promise<Phase[]> {
  const before = readCpu(groups);
  const phases = await run();
  const cpu = cpuBetween(before, readCpu(groups));
  return phases.map((phase) => ({ ...phase, cpu }));
}

/** Closed loop: `count` calls from CONCURRENCY callers, each sending its next call when the last answered. */
async function closedLoop(call: Call, targets: Target[], count: number): Promise<Unmeasured> {
  const samples: Sample[] = [];
  let next = 0;
  let joined = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const target = targets[next++ % targets.length]!;
        const t0 = performance.now();
        const result = await call(target);
        if (result.joined) joined += 1;
        samples.push({ latencyMs: performance.now() - t0, sendLagMs: 0, serverMs: result.serverMs });
      }
    }),
  );
  return { samples, wallMs: performance.now() - started, joined, requestsInPhase: count };
}

/**
 * Open loop: call i is due at i/rate s; its latency runs from when it was due, not when it was
 * sent. With several calls (mixed), each round over the targets uses the next call in turn, so every
 * integration sees every mode; one phase per call is returned.
 */
async function openLoop(calls: Call[], targets: Target[], count: number, ratePerS: number): Promise<Unmeasured[]> {
  const perCall = calls.map(() => ({ samples: [] as Sample[], joined: 0 }));
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const due = started + (index * 1000) / ratePerS;
      const which = Math.floor(index / targets.length) % calls.length;
      const mode = perCall[which]!;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const sendLagMs = performance.now() - due;
      const result = await calls[which]!(targets[index % targets.length]!);
      if (result.joined) mode.joined += 1;
      mode.samples.push({ latencyMs: performance.now() - due, sendLagMs, serverMs: result.serverMs });
    }),
  );
  const wallMs = performance.now() - started;
  return perCall.map((mode) => ({ ...mode, wallMs, requestsInPhase: count }));
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const mean = (values: number[]) =>
  values.length === 0 ? 0 : Number((values.reduce((sum, value) => sum + value, 0) / values.length).toFixed(1));

/**
 * Where a set of requests spent their time, in mean ms: late sending (the load generator's event
 * loop), the API's named parts, the rest of the API (`app` minus the parts: Fastify, validation,
 * serialisation, waiting for the event loop) and outside the API (the HTTP connection and both
 * processes' queues).
 */
function breakdown(samples: Sample[]) {
  const inApi = samples.filter((sample) => sample.serverMs?.app !== undefined);
  const part = (name: string) => mean(inApi.map((sample) => sample.serverMs![name] ?? 0));
  const rest = mean(
    inApi.map(
      (sample) =>
        sample.serverMs!.app! -
        (sample.serverMs!.auth ?? 0) -
        (sample.serverMs!.temporal ?? 0) -
        (sample.serverMs!.audit ?? 0),
    ),
  );
  return {
    requests: samples.length,
    latencyMs: mean(samples.map((sample) => sample.latencyMs)),
    sendLagMs: mean(samples.map((sample) => sample.sendLagMs)),
    ...(inApi.length > 0
      ? {
          authMs: part('auth'),
          temporalMs: part('temporal'),
          auditMs: part('audit'),
          restOfApiMs: rest,
          outsideApiMs: mean(inApi.map((sample) => sample.latencyMs - sample.sendLagMs - sample.serverMs!.app!)),
        }
      : {}),
  };
}

function summarize(runs: Phase[]) {
  const samples = runs.flatMap((run) => run.samples).sort((a, b) => a.latencyMs - b.latencyMs);
  const sorted = samples.map((sample) => sample.latencyMs);
  const p99 = percentile(sorted, 99);
  const wallMs = runs.reduce((sum, run) => sum + run.wallMs, 0);
  const requestsInPhases = runs.reduce((sum, run) => sum + run.requestsInPhase, 0);
  return {
    requests: sorted.length,
    p50Ms: Number(percentile(sorted, 50).toFixed(1)),
    p90Ms: Number(percentile(sorted, 90).toFixed(1)),
    p99Ms: Number(percentile(sorted, 99).toFixed(1)),
    maxMs: Number(sorted.at(-1)!.toFixed(1)),
    /**
     * Requests over a second: an Update that crosses a lifecycle's continue-as-new is aborted by
     * Temporal and retried on the next run (1.4–1.6 s in test/workflows/lifecycle-continue-as-new),
     * which happens to a few requests per 700 on one lifecycle, in either mode; where they fall
     * decides a p99 of 800 samples at the low arrival rates.
     */
    overOneSecond: sorted.filter((ms) => ms > 1000).length,
    throughputPerS: Number(((sorted.length / wallMs) * 1000).toFixed(1)),
    // The Temporal work behind a request differs: joining is one Update, starting also runs a sync.
    joinedShare: Number((runs.reduce((sum, run) => sum + run.joined, 0) / sorted.length).toFixed(2)),
    cpuMsPerRequest: Object.fromEntries(
      CPU_GROUPS.map((group) => [
        group,
        Number((runs.reduce((sum, run) => sum + (run.cpu.get(group) ?? 0), 0) / requestsInPhases).toFixed(2)),
      ]),
    ),
    /** Share of the machine's CPU time these processes used during the phases: how close to saturation the load was. */
    machineBusyShare: Number(
      (
        runs.reduce((sum, run) => sum + [...run.cpu.values()].reduce((a, b) => a + b, 0), 0) /
        (wallMs * os.cpus().length)
      ).toFixed(2),
    ),
    /** The median requests against the tail (the slowest 1 %, at or over p99): which part grows. */
    timeSpent: {
      middle: breakdown(samples.slice(Math.floor(samples.length * 0.25), Math.ceil(samples.length * 0.75))),
      tail: breakdown(samples.filter((sample) => sample.latencyMs >= p99)),
    },
  };
}

interface Workload {
  targets: Target[];
  raw: Call;
  viaApi: Call;
  groups: GroupOf;
}

async function prepare(own: ThrowawayService, client: Client): Promise<Workload> {
  print(`Connecting GitHub in ${INTEGRATIONS} workspaces through the API…`);
  const controlUrl = own.service.sandbox?.urls.control;
  if (!controlUrl) throw new StepFailed('the sandbox has no control endpoint');
  const targets = await Promise.all(
    Array.from({ length: INTEGRATIONS }, async (_, index): Promise<Target> => {
      const workspaceId = crypto.randomUUID();
      const api = apiClient(own.service.apiUrl, await adminToken(own.config, workspaceId, `bench-admin-${index}`));
      // One installation binds one workspace: each workspace connects its own GitHub account.
      const connection = await connectGithub(api, workspaceId, await addSandboxGithubAccount(controlUrl));
      return { workspaceId, integrationId: connection.integrationId, api, integrationPath: connection.integrationPath };
    }),
  );

  const viaApi: Call = async (target) => {
    let serverMs: ServerMs | undefined;
    const { joined } = await target.api<{ joined: boolean }>(
      'POST',
      `${target.integrationPath}/sync`,
      202,
      {},
      (headers) => {
        serverMs = parseServerTiming(headers['server-timing']);
      },
    );
    return { joined, serverMs };
  };
  const raw: Call = async (target) => ({
    joined: (
      await requestSync(client.workflow.getHandle(workflowIds.lifecycle(target.workspaceId, target.integrationId)), {
        reason: 'admin',
      })
    ).joined,
  });

  print(`Warming up (${WARMUP_REQUESTS} requests each)…`);
  await closedLoop(raw, targets, WARMUP_REQUESTS);
  await closedLoop(viaApi, targets, WARMUP_REQUESTS);
  return { targets, raw, viaApi, groups: processGroups(own.service) };
}

type Summary = ReturnType<typeof summarize>;
/** `judged`: the target is checked on this model (see the header); the others report capacity. */
interface ModelResult {
  model: string;
  judged: boolean;
  raw: Summary;
  api: Summary;
}

/** Every load model; separate phases alternate raw and API. */
async function measureModels({ targets, raw, viaApi, groups }: Workload): Promise<ModelResult[]> {
  const rounds = async (
    label: string,
    judged: boolean,
    run: () => Promise<{ raw: Phase[]; api: Phase[] }>,
  ): Promise<ModelResult> => {
    const both = { raw: [] as Phase[], api: [] as Phase[] };
    for (let round = 1; round <= ROUNDS; round++) {
      print(`${label}, round ${round}/${ROUNDS}…`);
      const phases = await run();
      both.raw.push(...phases.raw);
      both.api.push(...phases.api);
    }
    return { model: label, judged, raw: summarize(both.raw), api: summarize(both.api) };
  };
  const separate = (run: (call: Call) => Promise<Unmeasured[]>) => async () => ({
    raw: await measured(groups, () => run(raw)),
    api: await measured(groups, () => run(viaApi)),
  });
  const closed = await rounds(
    `closed loop, ${CONCURRENCY} callers`,
    false,
    separate(async (call) => [await closedLoop(call, targets, REQUESTS)]),
  );
  const results = [closed];
  for (const load of OPEN_LOOP_LOADS) {
    const ratePerS = Math.round(closed.raw.throughputPerS * load);
    const rate = `${ratePerS}/s (${load * 100}% of raw throughput)`;
    results.push(
      await rounds(
        `open loop, ${rate}, separate phases`,
        false,
        separate((call) => openLoop([call], targets, REQUESTS, ratePerS)),
      ),
    );
    results.push(
      await rounds(`open loop, ${rate}, mixed`, true, async () => {
        const [rawPhase, apiPhase] = await measured(groups, () =>
          openLoop([raw, viaApi], targets, 2 * REQUESTS, ratePerS),
        );
        return { raw: [rawPhase!], api: [apiPhase!] };
      }),
    );
  }
  return results;
}

const verdict = (judged: boolean, pass: boolean) =>
  judged ? (pass ? 'PASS' : 'FAIL') : `${pass ? 'within' : 'over'} (capacity, not judged)`;

function report(result: ModelResult): { p99Ratio: number; pass: boolean } {
  const p99Ratio = Number((result.api.p99Ms / result.raw.p99Ms).toFixed(2));
  const pass = p99Ratio <= TARGET_P99_RATIO;
  print();
  print(`"sync now", ${result.model}: ${INTEGRATIONS} integrations, ${ROUNDS}×${REQUESTS} requests per mode`);
  print('mode                                  requests   p50 ms   p90 ms   p99 ms   max ms   req/s  joined   >1 s');
  for (const [label, row] of [
    ['raw client (executeUpdate)', result.raw],
    ['API (POST …/sync)', result.api],
  ] as const) {
    print(
      `${label.padEnd(36)} ${String(row.requests).padStart(9)} ${String(row.p50Ms).padStart(8)} ${String(row.p90Ms).padStart(8)} ${String(row.p99Ms).padStart(8)} ${String(row.maxMs).padStart(8)} ${String(row.throughputPerS).padStart(7)} ${String(row.joinedShare).padStart(7)} ${String(row.overOneSecond).padStart(6)}`,
    );
  }
  print(`API p99 / raw p99 = ${p99Ratio} (target ≤ ${TARGET_P99_RATIO}): ${verdict(result.judged, pass)}`);
  const cpuTotal = (row: Summary) => Object.values(row.cpuMsPerRequest).reduce((sum, ms) => sum + ms, 0);
  if (cpuTotal(result.raw) > 0) {
    print(
      `CPU ms per request       ${CPU_GROUPS.map((group) => group.padStart(15)).join('')}          total   machine busy`,
    );
    for (const [label, row] of [
      ['raw client', result.raw],
      ['API', result.api],
    ] as const) {
      print(
        `${label.padEnd(24)} ${CPU_GROUPS.map((group) => String(row.cpuMsPerRequest[group]).padStart(15)).join('')} ${cpuTotal(row).toFixed(2).padStart(14)} ${`${Math.round(row.machineBusyShare * 100)}%`.padStart(14)}`,
      );
    }
  }
  print(
    'time spent, mean ms         requests  latency  send lag     auth  temporal    audit  rest of API  outside API',
  );
  for (const [label, row] of [
    ['raw, middle 50 %', result.raw.timeSpent.middle],
    ['raw, slowest 1 %', result.raw.timeSpent.tail],
    ['API, middle 50 %', result.api.timeSpent.middle],
    ['API, slowest 1 %', result.api.timeSpent.tail],
  ] as const) {
    const cells = [
      row.requests,
      row.latencyMs,
      row.sendLagMs,
      row.authMs ?? '',
      row.temporalMs ?? '',
      row.auditMs ?? '',
      row.restOfApiMs ?? '',
      row.outsideApiMs ?? '',
    ];
    print(`${label.padEnd(26)} ${cells.map((cell, index) => String(cell).padStart(index >= 6 ? 12 : 9)).join('')}`);
  }
  return { p99Ratio, pass };
}

async function main(): Promise<number> {
  const own = await startThrowawayService({
    log: (line) => print(`  ${line}`),
    onChildExit: (name, code) => print(`!! ${name} exited (${code}) during the benchmark`),
  });
  let client: Client | undefined;
  try {
    // Same data converter as the API and worker: both paths pay for payload encryption.
    client = await connectClient(own.config, createDataConverter(codecKeysFromConfig(own.config)));
    const workload = await prepare(own, client);
    const models = (await measureModels(workload)).map((result) => ({ ...result, ...report(result) }));

    print();
    print(`API p99 / raw p99 (target ≤ ${TARGET_P99_RATIO}):`);
    for (const model of models)
      print(`  ${model.model.padEnd(60)} ${String(model.p99Ratio).padStart(5)}  ${verdict(model.judged, model.pass)}`);
    const outDir = path.join(REPO_ROOT, 'bench-results');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(
      path.join(outDir, 'api.json'),
      `${JSON.stringify(
        {
          benchmark: 'api-sync-now',
          measuredAt: new Date().toISOString(),
          setup: {
            integrations: INTEGRATIONS,
            concurrency: CONCURRENCY,
            requestsPerPhase: REQUESTS,
            rounds: ROUNDS,
            warmupRequests: WARMUP_REQUESTS,
            openLoopLoads: OPEN_LOOP_LOADS,
            cpus: os.cpus().length,
          },
          targetP99Ratio: TARGET_P99_RATIO,
          models,
        },
        null,
        2,
      )}\n`,
    );
    print(`Written bench-results/api.json`);
    return models.every((model) => !model.judged || model.pass) ? 0 : 1;
  } finally {
    await client?.connection.close();
    print('Stopping the service…');
    await own.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:api failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
