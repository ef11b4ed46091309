/**
 * `npm run bench:api`: what the API adds to "sync now".
 *
 * Starts the service with sandbox vendors on free loopback ports (as `npm run demo` does),
 * connects GitHub in a few workspaces through the API, then measures latency (p50, p99) and
 * throughput of `POST …/integrations/{id}/sync` at a fixed concurrency, against the same Temporal
 * call made directly with the client, on the same server, same integrations, same concurrency.
 *
 * The baseline is `executeUpdate(requestSyncUpdate)` on the integration's lifecycle workflow and
 * not `client.workflow.start`: "sync now" does not start a workflow itself, it asks the lifecycle
 * (an Update) to start the sync run or join the one in flight, so that Update is exactly the
 * Temporal work behind the route; the difference is the API (auth, rate limits, RLS lookup,
 * audit entry, HTTP). Real workflows, no stub: the Update answers once the sync run is started or
 * joined, so the vendor (emulator) is not on the measured path. Phases alternate (raw, API, raw,
 * API) so drift in machine load hits both. Target: API p99 ≤ 1.25 × raw p99.
 *
 * Output: a table on stdout and `bench-results/api.json` (git-ignored).
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
/** The API's p99 may be at most this multiple of the raw client's. */
const TARGET_P99_RATIO = 1.25;

interface Target { workspaceId: string; integrationId: string; api: ApiClient; integrationPath: string }
/** One "sync now"; answers whether it joined the sync in flight (true) or started one. */
type Call = (target: Target) => Promise<boolean>;

const print = (line = '') => process.stdout.write(`${line}\n`);

/** Runs `count` calls, at most `concurrency` in flight; answers each latency (ms) and the wall time. */
async function phase(call: Call, targets: Target[], count: number): Promise<{ latencies: number[]; wallMs: number; joined: number }> {
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

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

function summarize(runs: Array<{ latencies: number[]; wallMs: number; joined: number }>) {
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
  await phase(raw, targets, WARMUP_REQUESTS);
  await phase(viaApi, targets, WARMUP_REQUESTS);

  const runs = { raw: [] as Array<Awaited<ReturnType<typeof phase>>>, api: [] as Array<Awaited<ReturnType<typeof phase>>> };
  for (let round = 1; round <= ROUNDS; round++) {
    print(`Round ${round}/${ROUNDS}: ${REQUESTS} requests per mode at concurrency ${CONCURRENCY}…`);
    runs.raw.push(await phase(raw, targets, REQUESTS));
    runs.api.push(await phase(viaApi, targets, REQUESTS));
  }
  return { raw: summarize(runs.raw), api: summarize(runs.api) };
}

async function main(): Promise<number> {
  const own = await startThrowawayService({ log: (line) => print(`  ${line}`), onChildExit: (name, code) => print(`!! ${name} exited (${code}) during the benchmark`) });
  let client: Client | undefined;
  try {
    // Same data converter as the API and worker: both paths pay for payload encryption.
    client = await connectClient(own.config, createDataConverter(codecKeysFromConfig(own.config)));
    const result = await bench(own, client);
    const ratio = Number((result.api.p99Ms / result.raw.p99Ms).toFixed(2));
    const pass = ratio <= TARGET_P99_RATIO;

    print();
    print(`"sync now", ${INTEGRATIONS} integrations, concurrency ${CONCURRENCY}, ${ROUNDS}×${REQUESTS} requests per mode`);
    print('mode                                  requests   p50 ms   p90 ms   p99 ms   max ms   req/s  joined');
    for (const [label, row] of [['raw client (executeUpdate)', result.raw], ['API (POST …/sync)', result.api]] as const) {
      print(`${label.padEnd(36)} ${String(row.requests).padStart(9)} ${String(row.p50Ms).padStart(8)} ${String(row.p90Ms).padStart(8)} ${String(row.p99Ms).padStart(8)} ${String(row.maxMs).padStart(8)} ${String(row.throughputPerS).padStart(7)} ${String(row.joinedShare).padStart(7)}`);
    }
    print(`API p99 / raw p99 = ${ratio} (target ≤ ${TARGET_P99_RATIO}): ${pass ? 'PASS' : 'FAIL'}`);

    const outDir = path.join(REPO_ROOT, 'bench-results');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'api.json'), `${JSON.stringify({
      benchmark: 'api-sync-now',
      measuredAt: new Date().toISOString(),
      setup: { integrations: INTEGRATIONS, concurrency: CONCURRENCY, requestsPerPhase: REQUESTS, rounds: ROUNDS, warmupRequests: WARMUP_REQUESTS, cpus: os.cpus().length },
      raw: result.raw,
      api: result.api,
      p99Ratio: ratio,
      targetP99Ratio: TARGET_P99_RATIO,
      pass,
    }, null, 2)}\n`);
    print(`Written bench-results/api.json`);
    return pass ? 0 : 1;
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
