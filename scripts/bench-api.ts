/**
 * `npm run bench:api`: what the API adds to "sync now".
 *
 * Starts the service with sandbox vendors on free loopback ports (as `npm run demo` does),
 * connects GitHub in a few workspaces through the API, then measures `POST …/integrations/{id}/sync`
 * against the same Temporal call made directly with the client, on the same server, same
 * integrations, in two load models:
 *
 * - closed loop: a fixed number of callers (CONCURRENCY) each sending the next request as soon as
 *   the last one answers. This finds the throughput; on one 2-core machine that also runs Temporal,
 *   the worker and Postgres, its latency is mostly queueing for CPU, so the ratio says how much CPU
 *   the API costs per request rather than how long a caller waits.
 * - open loop: requests arrive on a fixed schedule (OPEN_LOOP_LOAD of the raw client's measured
 *   throughput), whether or not earlier ones answered; latency counts from the scheduled time, so a
 *   stall cannot hide requests that should have been sent meanwhile (no coordinated omission). This
 *   is the latency a caller sees on a busy but not saturated service.
 *
 * The baseline is `executeUpdate(requestSyncUpdate)` on the integration's lifecycle workflow and
 * not `client.workflow.start`: "sync now" does not start a workflow itself, it asks the lifecycle
 * (an Update) to start the sync run or join the one in flight, so that Update is exactly the
 * Temporal work behind the route; the difference is the API (auth, rate limits, audit entry,
 * HTTP). Real workflows, no stub: the Update answers once the sync run is started or joined, so the
 * vendor (emulator) is not on the measured path; the share of requests that joined is printed for
 * both modes, since starting a sync costs the server more than joining one. Phases alternate (raw,
 * API, raw, API…) so drift in machine load hits both. Target: API p99 ≤ 1.25 × raw p99.
 *
 * Output: tables on stdout and `bench-results/api.json` (git-ignored).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { REPO_ROOT } from '../lib/config';
import { adminToken, apiClient, connectGithub, type ApiClient } from '../lib/dev/sandboxDriver';
import { startThrowawayService, type ThrowawayService } from '../lib/dev/serviceProcesses';
import { codecKeysFromConfig } from '../lib/temporal/codec';
import { connectClient } from '../lib/temporal/connection';
import { createDataConverter } from '../lib/temporal/dataConverter';
import { requestSyncUpdate, workflowIds } from '../workflows/definitions';

/** Integrations, each in its own workspace with its own admin: per-caller rate limits (60 burst) stay out of the way. */
const INTEGRATIONS = 8;
/** Requests per phase, spread round-robin over the integrations (25 each per phase). */
const REQUESTS = 200;
const CONCURRENCY = 16;
/** Each mode runs this many phases, interleaved with the other mode. */
const ROUNDS = 4;
const WARMUP_REQUESTS = 32;
/** Open-loop arrival rate, as a share of the raw client's closed-loop throughput. */
const OPEN_LOOP_LOAD = 0.5;
/** The API's p99 may be at most this multiple of the raw client's. */
const TARGET_P99_RATIO = 1.25;

interface Target { workspaceId: string; integrationId: string; api: ApiClient; integrationPath: string }
/** One "sync now"; answers whether it joined the sync in flight (true) or started one. */
type Call = (target: Target) => Promise<boolean>;

const print = (line = '') => process.stdout.write(`${line}\n`);

interface Phase { latencies: number[]; wallMs: number; joined: number }

/** Closed loop: `count` calls from CONCURRENCY callers, each sending its next call when the last answered. */
async function closedLoop(call: Call, targets: Target[], count: number): Promise<Phase> {
  const latencies: number[] = [];
  let next = 0;
  let joined = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const target = targets[next++ % targets.length]!;
      const t0 = performance.now();
      if (await call(target)) joined += 1;
      latencies.push(performance.now() - t0);
    }
  }));
  return { latencies, wallMs: performance.now() - started, joined };
}

/** Open loop: call i is due at i/rate s; its latency runs from when it was due, not when it was sent. */
async function openLoop(call: Call, targets: Target[], count: number, ratePerS: number): Promise<Phase> {
  const latencies: number[] = [];
  let joined = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, async (_, index) => {
    const due = started + (index * 1000) / ratePerS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    if (await call(targets[index % targets.length]!)) joined += 1;
    latencies.push(performance.now() - due);
  }));
  return { latencies, wallMs: performance.now() - started, joined };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

function summarize(runs: Phase[]) {
  const sorted = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const wallMs = runs.reduce((sum, run) => sum + run.wallMs, 0);
  return {
    requests: sorted.length,
    p50Ms: Number(percentile(sorted, 50).toFixed(1)),
    p90Ms: Number(percentile(sorted, 90).toFixed(1)),
    p99Ms: Number(percentile(sorted, 99).toFixed(1)),
    maxMs: Number(sorted.at(-1)!.toFixed(1)),
    throughputPerS: Number(((sorted.length / wallMs) * 1000).toFixed(1)),
    // The Temporal work behind a request differs: joining is one Update, starting also runs a sync.
    joinedShare: Number((runs.reduce((sum, run) => sum + run.joined, 0) / sorted.length).toFixed(2)),
  };
}

async function bench(own: ThrowawayService, client: Client) {
  print(`Connecting GitHub in ${INTEGRATIONS} workspaces through the API…`);
  const targets = await Promise.all(Array.from({ length: INTEGRATIONS }, async (_, index): Promise<Target> => {
    const workspaceId = crypto.randomUUID();
    const api = apiClient(own.service.apiUrl, await adminToken(own.config, workspaceId, `bench-admin-${index}`));
    const connection = await connectGithub(api, workspaceId);
    return { workspaceId, integrationId: connection.integrationId, api, integrationPath: connection.integrationPath };
  }));

  const viaApi: Call = async (target) => (await target.api<{ joined: boolean }>('POST', `${target.integrationPath}/sync`, 202, {})).joined;
  const raw: Call = async (target) =>
    (await client.workflow.getHandle(workflowIds.lifecycle(target.workspaceId, target.integrationId)).executeUpdate(requestSyncUpdate, { args: [{ reason: 'admin' }] })).joined;

  print(`Warming up (${WARMUP_REQUESTS} requests each)…`);
  await closedLoop(raw, targets, WARMUP_REQUESTS);
  await closedLoop(viaApi, targets, WARMUP_REQUESTS);

  const closed = { raw: [] as Phase[], api: [] as Phase[] };
  for (let round = 1; round <= ROUNDS; round++) {
    print(`Closed loop, round ${round}/${ROUNDS}: ${REQUESTS} requests per mode at concurrency ${CONCURRENCY}…`);
    closed.raw.push(await closedLoop(raw, targets, REQUESTS));
    closed.api.push(await closedLoop(viaApi, targets, REQUESTS));
  }
  const closedResult = { raw: summarize(closed.raw), api: summarize(closed.api) };

  const ratePerS = Math.round(closedResult.raw.throughputPerS * OPEN_LOOP_LOAD);
  const open = { raw: [] as Phase[], api: [] as Phase[] };
  for (let round = 1; round <= ROUNDS; round++) {
    print(`Open loop, round ${round}/${ROUNDS}: ${REQUESTS} requests per mode arriving at ${ratePerS}/s…`);
    open.raw.push(await openLoop(raw, targets, REQUESTS, ratePerS));
    open.api.push(await openLoop(viaApi, targets, REQUESTS, ratePerS));
  }
  return { closed: closedResult, open: { ratePerS, raw: summarize(open.raw), api: summarize(open.api) } };
}

type Summary = ReturnType<typeof summarize>;

function report(title: string, result: { raw: Summary; api: Summary }): { p99Ratio: number; pass: boolean } {
  const p99Ratio = Number((result.api.p99Ms / result.raw.p99Ms).toFixed(2));
  const pass = p99Ratio <= TARGET_P99_RATIO;
  print();
  print(title);
  print('mode                                  requests   p50 ms   p90 ms   p99 ms   max ms   req/s  joined');
  for (const [label, row] of [['raw client (executeUpdate)', result.raw], ['API (POST …/sync)', result.api]] as const) {
    print(`${label.padEnd(36)} ${String(row.requests).padStart(9)} ${String(row.p50Ms).padStart(8)} ${String(row.p90Ms).padStart(8)} ${String(row.p99Ms).padStart(8)} ${String(row.maxMs).padStart(8)} ${String(row.throughputPerS).padStart(7)} ${String(row.joinedShare).padStart(7)}`);
  }
  print(`API p99 / raw p99 = ${p99Ratio} (target ≤ ${TARGET_P99_RATIO}): ${pass ? 'PASS' : 'FAIL'}`);
  return { p99Ratio, pass };
}

async function main(): Promise<number> {
  const own = await startThrowawayService({ log: (line) => print(`  ${line}`), onChildExit: (name, code) => print(`!! ${name} exited (${code}) during the benchmark`) });
  let client: Client | undefined;
  try {
    // Same data converter as the API and worker: both paths pay for payload encryption.
    client = await connectClient(own.config, createDataConverter(codecKeysFromConfig(own.config)));
    const result = await bench(own, client);
    const closed = report(`"sync now", closed loop: ${INTEGRATIONS} integrations, concurrency ${CONCURRENCY}, ${ROUNDS}×${REQUESTS} requests per mode`, result.closed);
    const open = report(`"sync now", open loop: arrivals at ${result.open.ratePerS}/s (${OPEN_LOOP_LOAD * 100}% of the raw client's throughput), ${ROUNDS}×${REQUESTS} requests per mode`, result.open);

    const outDir = path.join(REPO_ROOT, 'bench-results');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'api.json'), `${JSON.stringify({
      benchmark: 'api-sync-now',
      measuredAt: new Date().toISOString(),
      setup: { integrations: INTEGRATIONS, concurrency: CONCURRENCY, requestsPerPhase: REQUESTS, rounds: ROUNDS, warmupRequests: WARMUP_REQUESTS, openLoopLoad: OPEN_LOOP_LOAD, cpus: os.cpus().length },
      targetP99Ratio: TARGET_P99_RATIO,
      closedLoop: { ...result.closed, ...closed },
      openLoop: { ...result.open, ...open },
    }, null, 2)}\n`);
    print(`Written bench-results/api.json`);
    return closed.pass && open.pass ? 0 : 1;
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
