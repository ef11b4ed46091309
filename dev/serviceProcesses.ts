/**
 * The whole service on one machine, as `npm start` and `npm run demo` run it: the local stack
 * (Temporal dev server, embedded Postgres) where the config names no external one, the vendor
 * emulators when SANDBOX_VENDORS is on, then the worker and the API as child processes with the
 * resolved addresses. A child that exits unexpectedly is restarted with backoff (`./supervisor`), so
 * a crashed worker does not take the API down. `stop` stops the children first, then the emulators
 * and the servers, and leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOOPBACK_HOSTS, loadConfig, REPO_ROOT, type Config } from '../lib/config';
import { startSandbox, type Sandbox } from '../emulators/sandbox';
import { startStack, type RunningStack } from './stack';
import { freePort, waitForPort } from './processes';
import { TERMINATION_MARGIN_MS } from '../workers/shutdown';
import { supervise, type BackoffPolicy, type Supervised } from './supervisor';

/** The API is killed if it has not exited this long after SIGTERM. */
const API_STOP_GRACE_MS = 15_000;
/** The API opens its port after connecting to Temporal and Postgres; tsx compiles on the fly first. */
const API_READY_TIMEOUT_MS = 120_000;

export interface ServiceOptions {
  config: Config;
  /** Environment the config was read from; the children get it plus the resolved addresses. */
  env: NodeJS.ProcessEnv;
  /** Keep Temporal state in dataDir across restarts (npm start) or in memory (demo). */
  persistent: boolean;
  log: (line: string) => void;
  /** Children's output: straight to this terminal, or dropped (the demo prints its own story). */
  childOutput: 'inherit' | 'ignore';
  /** A child exited while the service was not stopping; it is restarted unless the caller stops the service. */
  onChildExit?(name: string, code: number | string | null): void;
  /** Restart backoff of the children (tests shorten it). */
  restartBackoff?: Partial<BackoffPolicy>;
}

export interface RunningService {
  apiUrl: string;
  temporalUiUrl: string;
  temporalAddress: string;
  sandbox?: Sandbox;
  stack: RunningStack;
  /** Process ids of the children's first runs (bench:api accounts CPU per process). */
  pids: { worker?: number; api?: number };
  stop(): Promise<void>;
}

/** SIGTERM, then SIGKILL after `graceMs`. */
function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { config, log } = options;
  let stopping = false;
  const children: Supervised[] = [];
  let sandbox: Sandbox | undefined;
  let stack: RunningStack | undefined;
  const stop = async () => {
    stopping = true;
    await Promise.all(children.map((child) => child.stop()));
    await sandbox?.stop();
    await stack?.stop();
  };

  try {
    const embeddedTemporal = !config.temporal.address;
    const embeddedPostgres = !config.database.url;
    if (embeddedTemporal || embeddedPostgres) {
      log(
        `Starting ${[embeddedTemporal && 'Temporal dev server', embeddedPostgres && 'embedded Postgres'].filter(Boolean).join(' and ')}…`,
      );
    }
    // The local UI decodes through the API with no extra step: the development-only rule of
    // `api/codecAuth.ts`, which config allows only outside production and on a loopback API_HOST.
    const localCodec = config.env !== 'production' && LOOPBACK_HOSTS.includes(config.api.host);
    stack = await startStack({
      dataDir: config.dataDir,
      persistent: options.persistent,
      temporal: embeddedTemporal
        ? {
            port: config.temporal.devServer.port,
            uiPort: config.temporal.devServer.uiPort,
            namespace: config.temporal.namespace,
            codecEndpoint: localCodec ? `http://127.0.0.1:${config.api.port}/codec` : undefined,
          }
        : undefined,
      postgres: embeddedPostgres ? { port: config.database.embeddedPort } : undefined,
      log,
    });

    const env: NodeJS.ProcessEnv = { ...options.env };
    if (localCodec && embeddedTemporal) env.TEMPORAL_CODEC_LOCAL_DEV ??= 'true';
    if (stack.temporalAddress) env.TEMPORAL_ADDRESS = stack.temporalAddress;
    if (stack.database) {
      env.DATABASE_URL = stack.database.ownerUrl;
      env.DATABASE_APP_URL = stack.database.appUrl;
    }
    if (config.sandboxVendors) {
      sandbox = await startSandbox({ apiPublicUrl: config.api.publicUrl });
      Object.assign(env, sandbox.env);
    }
    // The worker drains for up to its shutdown grace (an action in flight reaches its outcome), as on Kubernetes.
    const workerStopGraceMs = config.workerShutdownGraceMs + TERMINATION_MARGIN_MS;
    for (const [name, entry, stopGraceMs] of [
      ['worker', 'workers/main.ts', workerStopGraceMs],
      ['api', 'api/main.ts', API_STOP_GRACE_MS],
    ] as const) {
      children.push(
        supervise({
          name,
          spawn: () =>
            spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], {
              env,
              stdio: ['ignore', options.childOutput, options.childOutput],
            }),
          stopChild: (child) => stopChild(child, stopGraceMs),
          log,
          onExit: (code) => {
            if (!stopping) options.onChildExit?.(name, code);
          },
          backoff: options.restartBackoff,
        }),
      );
    }
    await waitForPort(config.api.port, API_READY_TIMEOUT_MS, children[1].child);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    apiUrl: `http://127.0.0.1:${config.api.port}`,
    temporalUiUrl: config.temporal.uiUrl,
    temporalAddress: stack.temporalAddress ?? config.temporal.address!,
    sandbox,
    stack,
    pids: { worker: children[0]?.child?.pid, api: children[1]?.child?.pid },
    stop,
  };
}

export interface ThrowawayService {
  config: Config;
  service: RunningService;
  /** Stops the service and removes its data folder. */
  dispose(): Promise<void>;
}

/**
 * The service with sandbox vendors on free ports and a temporary data folder (demo, benchmarks):
 * it never collides with a running `npm start` and leaves nothing behind once disposed.
 */
export async function startThrowawayService(options: {
  log: (line: string) => void;
  onChildExit: ServiceOptions['onChildExit'];
}): Promise<ThrowawayService> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-service-'));
  const [apiPort, temporalPort, uiPort, postgresPort, workerHealthPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SANDBOX_VENDORS: 'true',
    DATA_DIR: dataDir,
    API_PORT: String(apiPort),
    API_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    TEMPORAL_DEV_SERVER_PORT: String(temporalPort),
    TEMPORAL_DEV_SERVER_UI_PORT: String(uiPort),
    TEMPORAL_UI_URL: `http://localhost:${uiPort}`,
    EMBEDDED_POSTGRES_PORT: String(postgresPort),
    WORKER_HEALTH_PORT: String(workerHealthPort),
    // The caller tells the story; the service's own logs would drown it.
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const config = loadConfig(env);
  options.log(`Starting the service (sandbox vendors, data in ${dataDir})…`);
  try {
    const service = await startService({
      config,
      env,
      persistent: false,
      log: options.log,
      childOutput: 'ignore',
      onChildExit: options.onChildExit,
    });
    return {
      config: { ...config, temporal: { ...config.temporal, address: service.temporalAddress } },
      service,
      async dispose() {
        await service.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
