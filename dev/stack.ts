/**
 * The local stack the service needs when no external Temporal or Postgres is configured: the
 * Temporal dev server (with its UI), embedded Postgres with migrations applied and, for tests, the
 * time-skipping test server. `npm start` runs it persistently on fixed ports; the test suite runs
 * a throw-away one on free ports.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bootstrapDatabase } from '../db/bootstrap';
import { migrateLatest } from '../db/migrate';
import { CLI_TYPE_NAMES, SEARCH_ATTRIBUTE_KEYS } from '@trackproject/integrations-client/searchAttributes';
import { startEmbeddedPostgres } from './embeddedPostgres';
import { startProcess, waitForPort } from './processes';
import { spawnTestServer } from './testServer';
import { ensureTemporalCli, ensureTestServer } from './tools';

export interface StackOptions {
  dataDir: string;
  /** Persist Temporal state to SQLite in dataDir (npm start) or keep it in memory (tests). */
  persistent: boolean;
  /** `codecEndpoint`: the UI's remote codec (the API's `/codec`), so the UI shows decoded payloads. */
  /** `fairness: false` leaves task-queue fairness off (the server's default), for `npm run bench:fairness`. */
  temporal?: { port: number; uiPort?: number; namespace: string; codecEndpoint?: string; fairness?: boolean };
  postgres?: { port: number };
  /** Also start the time-skipping test server. */
  testServer?: boolean;
  log: (line: string) => void;
}

export interface RunningStack {
  temporalAddress?: string;
  temporalUiUrl?: string;
  testServerAddress?: string;
  testServerExecutable?: string;
  database?: { superuserUrl: string; ownerUrl: string; appUrl: string };
  stop(): Promise<void>;
}

const dataPath = (dataDir: string, name: string) => {
  fs.mkdirSync(dataDir, { recursive: true });
  return path.join(dataDir, name);
};

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const stoppers: Array<() => Promise<void>> = [];
  const stack: RunningStack = {
    async stop() {
      // Reverse order of start; every stopper runs even if an earlier one fails.
      for (const stop of stoppers.reverse()) await stop().catch((e) => options.log(`stop failed: ${String(e)}`));
    },
  };
  try {
    const started = await Promise.all([
      options.temporal ? startDevServer(options, options.temporal) : undefined,
      options.postgres ? startDatabase(options, options.postgres.port) : undefined,
      options.testServer ? startTestServer(options) : undefined,
    ]);
    const [devServer, database, testServer] = started;
    if (devServer) {
      stoppers.push(devServer.process.stop);
      stack.temporalAddress = devServer.address;
      stack.temporalUiUrl = devServer.uiUrl;
    }
    if (database) {
      stoppers.push(database.stop);
      stack.database = database.urls;
    }
    if (testServer) {
      stoppers.push(testServer.process.stop);
      stack.testServerAddress = testServer.address;
      stack.testServerExecutable = testServer.executable;
    }
    return stack;
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/**
 * Server settings that turn on task-queue priority and per-workspace fairness (Temporal server 1.29,
 * off by default): without them the server ignores the runs' `priority` (packages/client/src/priority.ts)
 * and dispatches first in, first out. The same keys go into a cluster's dynamic config (docs/benchmarks.md).
 */
export const TASK_QUEUE_FAIRNESS_CONFIG = { 'matching.useNewMatcher': true, 'matching.enableFairness': true } as const;

/**
 * One partition per task queue (the server's default is 4). Priority and fairness order tasks within a
 * partition, and a worker's poll lands on a random one: with 4, another workspace's task alone on its
 * partition still waited 4–9 s behind a backlog on the others (`npm run bench:fairness`). One partition
 * dispatches far more tasks per second than one worker's slots take.
 */
export const TASK_QUEUE_PARTITION_CONFIG = {
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
} as const;

/** The Temporal dev server alone (the chaos harness stops and restarts it on its SQLite file). */
export async function startDevServer(options: StackOptions, temporal: NonNullable<StackOptions['temporal']>) {
  const cli = await ensureTemporalCli(options.log);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(temporal.port), '--log-level', 'error'];
  args.push('--namespace', temporal.namespace);
  if (options.persistent) args.push('--db-filename', dataPath(options.dataDir, 'temporal.sqlite'));
  if (temporal.uiPort) args.push('--ui-port', String(temporal.uiPort));
  else args.push('--headless');
  if (temporal.uiPort && temporal.codecEndpoint) args.push('--ui-codec-endpoint', temporal.codecEndpoint);
  for (const key of SEARCH_ATTRIBUTE_KEYS) args.push('--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`);
  const dispatch = {
    ...TASK_QUEUE_PARTITION_CONFIG,
    ...(temporal.fairness === false ? {} : TASK_QUEUE_FAIRNESS_CONFIG),
  };
  for (const [key, value] of Object.entries(dispatch)) args.push('--dynamic-config-value', `${key}=${value}`);
  const child = startProcess('temporal', cli, args, {
    log: options.log,
    quiet: /^\s*(CLI|Server|UI|Metrics|Temporal)\b.*:|^\s*$/,
  });
  await waitForPort(temporal.port, 60_000, child.child);
  if (temporal.uiPort) await waitForPort(temporal.uiPort, 60_000, child.child);
  return {
    process: child,
    address: `127.0.0.1:${temporal.port}`,
    uiUrl: temporal.uiPort ? `http://localhost:${temporal.uiPort}` : undefined,
  };
}

/** Embedded Postgres, bootstrapped and migrated (the chaos harness restarts it on its data folder). */
export async function startDatabase(options: StackOptions, port: number) {
  const postgres = await startEmbeddedPostgres({ dir: dataPath(options.dataDir, 'postgres'), port, log: options.log });
  try {
    const urls = await bootstrapDatabase(postgres.superuserUrl, {
      owner: postgres.credentials.ownerPassword,
      app: postgres.credentials.appPassword,
    });
    await migrateLatest(urls.ownerUrl, urls.appUrl);
    return { urls: { superuserUrl: postgres.superuserUrl, ...urls }, stop: postgres.stop };
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}

async function startTestServer(options: StackOptions) {
  const executable = await ensureTestServer(options.log);
  return { ...(await spawnTestServer(executable, options.log)), executable };
}
