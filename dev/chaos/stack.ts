/**
 * One fresh stack per chaos trial: a Temporal dev server on a SQLite file (so a restart finds its
 * runs), embedded Postgres on its own data folder (migrated), the GitHub emulator with a fault mode
 * and seeded repositories, a TCP proxy between the workers and the emulator, two worker processes
 * and the API, each a real child process of the service's own bootstrap (`workers/main.ts`,
 * `api/main.ts`) kept alive by the supervisor `npm start` uses. The servers can be stopped and
 * started again in place; `stop` leaves no process and no file behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, type Client } from '@temporalio/client';
import knex, { type Knex } from 'knex';
import { createRuntimeDb } from '../../db/knex';
import { codecKeysFromConfig } from '../../lib/temporal/codec';
import { createIntegrationsClient, type IntegrationsClient } from '@trackproject/integrations-client/client';
import { loadConfig, REPO_ROOT, type Config } from '../../lib/config';
import { startGithubEmulator, type GithubEmulator } from '../../emulators/github';
import { createFaultMode, type FaultMode } from '../../emulators/shared';
import { startEmbeddedPostgres } from '../embeddedPostgres';
import { freePort, waitForPort, type ManagedProcess } from '../processes';
import { startDatabase, startDevServer, type StackOptions } from '../stack';
import { supervise, type Supervised } from '../supervisor';
import { startTcpProxy, type TcpProxy } from './tcpProxy';

/** The sandbox's GitHub account: the app is installed on its two repositories. */
export const CHAOS_ACCOUNT = 'acme';
export const CHAOS_REPOSITORIES = ['acme/tower-a', 'acme/tower-b'];
const WORKERS = 2;
/** A worker connects, creates the maintenance schedules and polls; slow on a loaded machine. */
const WORKER_READY_TIMEOUT_MS = 180_000;
const API_READY_TIMEOUT_MS = 180_000;

export interface ChaosStackOptions {
  /** Issues seeded in each repository (100 a page: the sync's pages). */
  issuesPerRepository: number;
  /** Latency the emulator adds to every request, so a sync lasts long enough to be hit. */
  vendorLatencyMs: number;
  /** The error draws of the vendor fault (seeded: a trial can be replayed). */
  random: () => number;
  /** The workflows bundled once for every worker of the run (`WORKFLOW_BUNDLE`): bundling at each start costs a minute of CPU here. */
  workflowBundle: string;
  log: (line: string) => void;
}

export interface ChaosStack {
  dataDir: string;
  config: Config;
  apiUrl: string;
  /** The client package, as a backend service uses it, and its Temporal client (with the service's codec). */
  integrations: IntegrationsClient;
  temporal: Client;
  github: GithubEmulator;
  faults: FaultMode;
  proxy: TcpProxy;
  workers: Supervised[];
  /** Superuser connection (above RLS) for the verification, and the worker role's for the audit chain. */
  admin: Knex;
  workerDb: Knex;
  /** Stops the server, waits `downMs`, starts it again on the same port and data. */
  restartTemporal(downMs: number): Promise<void>;
  restartPostgres(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** The stack is thrown away: its children are killed outright. */
async function killChild(child: ChildProcess): Promise<void> {
  const gone = exited(child);
  child.kill('SIGKILL');
  await gone;
}

/** A child of the service's own bootstrap with its output in a log file of the trial. */
function superviseChild(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  log: ChaosStackOptions['log'],
) {
  return supervise({
    name,
    spawn: () => {
      const out = fs.openSync(logFile, 'a');
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], {
        env,
        stdio: ['ignore', out, out],
      });
      fs.closeSync(out);
      return child;
    },
    stopChild: killChild,
    log,
  });
}

/** Resolves once the worker's log says it polls (`workers/main.ts`: "worker polling"). */
async function waitForWorkerPolling(logFile: string, worker: Supervised): Promise<void> {
  const deadline = Date.now() + WORKER_READY_TIMEOUT_MS;
  while (!fs.existsSync(logFile) || !fs.readFileSync(logFile, 'utf8').includes('"msg":"worker polling"')) {
    if (Date.now() > deadline) throw new Error(`worker did not poll within ${WORKER_READY_TIMEOUT_MS} ms (${logFile})`);
    if (worker.restarts > 2) throw new Error(`worker keeps exiting before it polls (${logFile})`);
    await sleep(250);
  }
}

async function startGithub(options: ChaosStackOptions, apiPublicUrl: string) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = {
    appId: String(100_000 + crypto.randomInt(900_000)),
    clientId: `Iv1.${crypto.randomBytes(8).toString('hex')}`,
    clientSecret: crypto.randomBytes(20).toString('hex'),
    webhookSecret: crypto.randomBytes(20).toString('hex'),
    appSlug: 'trackproject-chaos',
  };
  const faults = createFaultMode(options.random);
  const github = await startGithubEmulator({
    ...app,
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    redirectUris: [`${apiPublicUrl}/v1/oauth/callback/github`],
    setupUrl: `${apiPublicUrl}/v1/oauth/setup/github`,
    faults,
  });
  for (const repository of CHAOS_REPOSITORIES) {
    github.control.addRepository(repository);
    for (let n = 1; n <= options.issuesPerRepository; n++)
      github.control.addIssue(repository, { title: `Punch list item ${n}`, body: 'Chaos trial data' });
  }
  github.control.install({
    account: CHAOS_ACCOUNT,
    repositories: CHAOS_REPOSITORIES,
    permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write' },
    users: ['octocat'],
    owners: ['octocat'],
  });
  const proxy = await startTcpProxy(github.url);
  const env = {
    // The workers reach the API through the proxy (the network fault); the browser reaches the web pages directly.
    GITHUB_API_URL: proxy.url,
    GITHUB_WEB_URL: github.url,
    GITHUB_APP_ID: app.appId,
    GITHUB_APP_SLUG: app.appSlug,
    GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    GITHUB_CLIENT_ID: app.clientId,
    GITHUB_CLIENT_SECRET: app.clientSecret,
    GITHUB_WEBHOOK_SECRET: app.webhookSecret,
  };
  return { github, faults, proxy, env };
}

/** The superuser (above RLS) in the service's database, not the maintenance one. */
function serviceDatabaseAsSuperuser(urls: { superuserUrl: string; ownerUrl: string }): string {
  const url = new URL(urls.superuserUrl);
  url.pathname = new URL(urls.ownerUrl).pathname;
  return url.toString();
}

/** Stacks started and not stopped yet, also those still starting: an interrupted run stops them all. */
const liveStacks = new Set<() => Promise<void>>();

/** Stops every stack still up (Ctrl-C during a run): no server or worker outlives the harness. */
export async function stopLiveStacks(): Promise<void> {
  await Promise.all([...liveStacks].map((stop) => stop()));
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-chaos-'));
  const stoppers: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    liveStacks.delete(stop);
    for (const stopOne of stoppers.splice(0).reverse())
      await stopOne().catch((e) => options.log(`stop failed: ${String(e)}`));
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  liveStacks.add(stop);
  try {
    const [temporalPort, postgresPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const stackOptions: StackOptions = { dataDir, persistent: true, log: options.log };
    const temporalOptions = { port: temporalPort, namespace: 'default' };
    let temporal: ManagedProcess = (await startDevServer(stackOptions, temporalOptions)).process;
    stoppers.push(() => temporal.stop());
    const database = await startDatabase(stackOptions, postgresPort);
    let stopPostgres = database.stop;
    stoppers.push(() => stopPostgres());

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const vendor = await startGithub(options, apiUrl);
    stoppers.push(
      () => vendor.github.stop(),
      () => vendor.proxy.stop(),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      SANDBOX_VENDORS: 'false',
      DATA_DIR: dataDir,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      API_PUBLIC_URL: apiUrl,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_NAMESPACE: 'default',
      DATABASE_URL: database.urls.ownerUrl,
      DATABASE_APP_URL: database.urls.appUrl,
      WORKER_HEALTH_PORT: '0',
      VENDOR_BUDGET_WORKERS: String(WORKERS),
      WORKFLOW_BUNDLE: options.workflowBundle,
      // Given, not generated: the processes start together and must share them.
      JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      TEMPORAL_CODEC_KEY: crypto.randomBytes(32).toString('base64'),
      SECRETS_KEK: crypto.randomBytes(32).toString('base64'),
      ...vendor.env,
    };
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      superviseChild(`worker-${i + 1}`, 'workers/main.ts', env, path.join(dataDir, `worker-${i + 1}.log`), options.log),
    );
    const api = superviseChild('api', 'api/main.ts', env, path.join(dataDir, 'api.log'), options.log);
    stoppers.push(...workers.map((worker) => () => worker.stop()), () => api.stop());
    await Promise.all([
      ...workers.map((worker, i) => waitForWorkerPolling(path.join(dataDir, `worker-${i + 1}.log`), worker)),
      waitForPort(apiPort, API_READY_TIMEOUT_MS),
    ]);

    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    stoppers.push(() => connection.close());
    const admin = knex({
      client: 'pg',
      connection: serviceDatabaseAsSuperuser(database.urls),
      pool: { min: 0, max: 2 },
    });
    const workerDb = createRuntimeDb(database.urls.appUrl, 'worker', 2);
    stoppers.push(
      () => admin.destroy(),
      () => workerDb.destroy(),
    );
    const config = loadConfig(env);
    const integrations = createIntegrationsClient(connection, codecKeysFromConfig(config));
    return {
      dataDir,
      config,
      apiUrl,
      integrations,
      temporal: integrations.temporal,
      github: vendor.github,
      faults: vendor.faults,
      proxy: vendor.proxy,
      workers,
      admin,
      workerDb,
      async restartTemporal(downMs) {
        await temporal.stop();
        await sleep(downMs);
        temporal = (await startDevServer(stackOptions, temporalOptions)).process;
      },
      async restartPostgres(downMs) {
        await stopPostgres();
        await sleep(downMs);
        const postgres = await startEmbeddedPostgres({
          dir: path.join(dataDir, 'postgres'),
          port: postgresPort,
          log: options.log,
        });
        stopPostgres = postgres.stop;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
