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
import { Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { CLI_TYPE_NAMES, SEARCH_ATTRIBUTE_KEYS } from '@trackproject/integrations-client/searchAttributes';
import { startEmbeddedPostgres } from './embeddedPostgres';
import { freePort, startProcess, waitForPort } from './processes';
import { ensureTemporalCli, ensureTestServer } from './tools';

export interface StackOptions {
  dataDir: string;
  /** Persist Temporal state to SQLite in dataDir (npm start) or keep it in memory (tests). */
  persistent: boolean;
  /** `codecEndpoint`: the UI's remote codec (the API's `/codec`), so the UI shows decoded payloads. */
  temporal?: { port: number; uiPort?: number; namespace: string; codecEndpoint?: string };
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
  const port = await freePort();
  // No `--enable-time-skipping`: like the SDK, start with skipping locked; clients unlock it while
  // they await a result, and the server re-locks during workflow and activity tasks. With the flag
  // the lock count starts one short and the server skips past tasks still being processed.
  const child = startProcess('test-server', executable, [String(port)], { log: options.log });
  await waitForPort(port, 60_000, child.child);
  const address = `127.0.0.1:${port}`;
  try {
    await registerSearchAttributes(address);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { process: child, address, executable };
}

/** The test server validates upserts against registered attributes, like a cluster; it has no start flag for them. */
async function registerSearchAttributes(address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTE_KEYS.map((key) => [
          key.name,
          proto.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`],
        ]),
      ),
    });
  } finally {
    await connection.close();
  }
}
