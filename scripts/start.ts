/**
 * `npm start`: the whole service on one machine.
 *
 * Without TEMPORAL_ADDRESS it runs the Temporal dev server (SQLite file in the data folder, gRPC
 * 7233, UI 8233, search attributes registered); without DATABASE_URL it runs embedded Postgres
 * (data folder) and applies the migrations. Then it starts the worker and the API as child
 * processes with the resolved addresses. Ctrl-C (or SIGTERM) stops the children first, then the
 * servers, and leaves no process behind. A second start finds the data of the first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfigOrExit, REPO_ROOT } from '../lib/config';
import { startStack, type RunningStack } from '../lib/dev/stack';
import { ToolMissingError } from '../lib/dev/tools';
import { startSandbox, type Sandbox } from '../emulators/sandbox';

const log = (line: string) => process.stdout.write(`${line}\n`);

function startChild(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping everything`);
      void shutdown(1);
    }
  });
  return child;
}

let stopping = false;
let stack: RunningStack | undefined;
let sandbox: Sandbox | undefined;
const children: ChildProcess[] = [];

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('Stopping…');
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => (clearTimeout(timer), resolve()));
          child.kill('SIGTERM');
        }),
    ),
  );
  await sandbox?.stop();
  await stack?.stop();
  log('Stopped.');
  process.exit(exitCode);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  const embeddedTemporal = !config.temporal.address;
  const embeddedPostgres = !config.database.url;
  if (embeddedTemporal || embeddedPostgres) {
    log(`Starting ${[embeddedTemporal && 'Temporal dev server', embeddedPostgres && 'embedded Postgres'].filter(Boolean).join(' and ')}…`);
  }
  stack = await startStack({
    dataDir: config.dataDir,
    persistent: true,
    temporal: embeddedTemporal
      ? { port: config.temporal.devServer.port, uiPort: config.temporal.devServer.uiPort, namespace: config.temporal.namespace }
      : undefined,
    postgres: embeddedPostgres ? { port: config.database.embeddedPort } : undefined,
    log,
  });
  if (stopping) return;

  const env: NodeJS.ProcessEnv = { ...process.env };
  if (stack.temporalAddress) env.TEMPORAL_ADDRESS = stack.temporalAddress;
  if (stack.database) {
    env.DATABASE_URL = stack.database.ownerUrl;
    env.DATABASE_APP_URL = stack.database.appUrl;
  }
  if (config.sandboxVendors) {
    sandbox = await startSandbox({ apiPublicUrl: config.api.publicUrl });
    Object.assign(env, sandbox.env);
  }
  children.push(startChild('worker', 'workers/main.ts', env), startChild('api', 'api/main.ts', env));

  log('');
  log(`  API          http://localhost:${config.api.port}  (health: /readyz, reference: /docs)`);
  log(`  Temporal UI  ${config.temporal.uiUrl}`);
  log(`  Temporal     ${stack.temporalAddress ?? config.temporal.address}`);
  log(`  Postgres     ${stack.database ? `embedded, 127.0.0.1:${config.database.embeddedPort}` : 'DATABASE_URL'}`);
  log(`  Data         ${config.dataDir}`);
  if (sandbox) log(`  Sandbox      ${Object.entries(sandbox.urls).map(([vendor, url]) => `${vendor} ${url}`).join(', ')}`);
  log('  Ctrl-C stops everything.');
  log('');
}

main().catch(async (error) => {
  if (error instanceof ToolMissingError) log(error.message);
  else log(`start failed: ${error instanceof Error ? error.message : String(error)}`);
  stopping = false;
  await shutdown(1);
});
