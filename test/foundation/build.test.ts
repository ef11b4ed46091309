/**
 * What the image runs, run here without Docker: `npm run build` compiles dist/ and bundles the
 * workflows, then the compiled API and worker start in production mode against the test stack.
 * The worker must load the prebuilt bundle (production refuses to bundle at start) and run a workflow
 * from it; the API must serve and see that worker polling; the image's health checks must pass.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { mintToken } from '../../api/auth';
import { freePort } from '../../dev/processes';
import { createDataConverter } from '@trackproject/integrations-client/dataConverter';
import { prebuiltWorkflowBundle, WORKFLOW_BUNDLE_FILE } from '../../workers/createWorker';
import { testStack } from '../support/stackInfo';
import { uniqueTaskQueue } from '../support/temporal';

const ROOT = path.resolve(__dirname, '../..');
const DIST = path.join(ROOT, 'dist');
const BUILD_TIMEOUT_MS = 600_000;

const codecKey = crypto.randomBytes(32).toString('base64');
const jwtSecret = crypto.randomBytes(32).toString('hex');

interface Started {
  child: ChildProcess;
  /** Its stdout and stderr so far (JSON log lines), for assertions and failure messages. */
  output(): string;
}

/** A compiled entry point, with only the environment given (never the test's NODE_ENV=test). */
function startCompiled(entry: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, [path.join(DIST, entry)], { cwd: ROOT, env, stdio: 'pipe' });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** SIGTERM, as the orchestrator stops a container; SIGKILL after its grace period, as it would. */
async function stop(started: Started | undefined, graceMs = 20_000): Promise<void> {
  if (!started || started.child.exitCode !== null || started.child.signalCode !== null) return;
  const exited = new Promise((resolve) => started.child.once('exit', resolve));
  started.child.kill('SIGTERM');
  const kill = setTimeout(() => started.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(kill);
}

/** Polls `probe` until it holds, failing with the process output when it never does. */
async function eventually(what: string, started: Started[], probe: () => Promise<boolean>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const { child, output } of started) {
      if (child.exitCode !== null) throw new Error(`${what}: a process exited (${child.exitCode}):\n${output()}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms:\n${started.map(({ output }) => output()).join('\n')}`);
}

describe('which workflows the worker runs', () => {
  it('the prebuilt bundle when there is one; without it, bundling at start from the sources, never in production', () => {
    const missing = path.join(ROOT, 'no-such-dir', WORKFLOW_BUNDLE_FILE);
    expect(prebuiltWorkflowBundle('development', missing)).toBeUndefined();
    expect(prebuiltWorkflowBundle('test', missing)).toBeUndefined();
    expect(() => prebuiltWorkflowBundle('production', missing)).toThrow(/workflow bundle .* is missing.*npm run build/);
    const present = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tp-bundle-')), WORKFLOW_BUNDLE_FILE);
    fs.writeFileSync(present, '');
    expect(prebuiltWorkflowBundle('production', present)).toEqual({ codePath: present });
    fs.rmSync(path.dirname(present), { recursive: true });
  });
});

describe('compiled build (npm run build, then what the image runs)', () => {
  beforeAll(() => {
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  }, BUILD_TIMEOUT_MS);

  it('emits the entry points the image runs and the workflow bundle, and nothing of dev/, emulators/ or test/', () => {
    for (const entry of [
      'api/main.js',
      'workers/main.js',
      'scripts/db-migrate.js',
      'scripts/db-bootstrap.js',
      'scripts/healthcheck.js',
      WORKFLOW_BUNDLE_FILE,
    ]) {
      expect([entry, fs.existsSync(path.join(DIST, entry))]).toEqual([entry, true]);
    }
    expect(fs.readdirSync(DIST).sort()).toEqual(
      ['activities', 'api', 'db', 'lib', 'scripts', 'workers', 'workflows', WORKFLOW_BUNDLE_FILE].sort(),
    );
    expect(
      fs
        .readdirSync(path.join(DIST, 'scripts'))
        .filter((file) => file.endsWith('.js'))
        .sort(),
    ).toEqual(['db-bootstrap.js', 'db-migrate.js', 'healthcheck.js']);
  });

  it('the compiled worker runs a workflow from the prebuilt bundle; the compiled API serves and sees it polling', async () => {
    const stack = testStack();
    const taskQueue = uniqueTaskQueue('compiled');
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    // A home of its own: no Temporal profile of the developer's (~/.config/temporalio) applies.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-compiled-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CONFIG_HOME: home,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATABASE_URL: stack.database.ownerUrl,
      DATABASE_APP_URL: stack.database.appUrl,
      SECRETS_KEK: crypto.randomBytes(32).toString('base64'),
      TEMPORAL_CODEC_KEY: codecKey,
      JWT_SECRET: jwtSecret,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      WORKER_HEALTH_PORT: String(workerPort),
    };
    let worker: Started | undefined;
    let api: Started | undefined;
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({
      connection,
      namespace: 'default',
      dataConverter: createDataConverter([Buffer.from(codecKey, 'base64')]),
    });
    try {
      worker = startCompiled('workers/main.js', env);
      api = startCompiled('api/main.js', env);
      const healthcheck = (role: string) =>
        spawnSync(process.execPath, [path.join(DIST, 'scripts/healthcheck.js'), role], { env, encoding: 'utf8' });

      await eventually('the worker probe reports ready', [worker, api], async () => healthcheck('worker').status === 0);
      const polling = () =>
        worker!
          .output()
          .split('\n')
          .filter((line) => line.includes('"worker polling"'))
          .map((line) => JSON.parse(line) as { workflows: string; taskQueue: string });
      // Its log line may still be in the pipe when the probe answers.
      await eventually('the worker logs that it polls', [worker, api], async () => polling().length > 0);
      expect(polling()).toEqual([expect.objectContaining({ workflows: 'prebuilt bundle', taskQueue })]);

      // The API's readiness lists a missing worker as degraded: none listed means it sees the compiled one polling.
      const readyz = async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).json() as Promise<object>;
      await eventually('the API is ready with its worker', [worker, api], async () => {
        const body = (await readyz()) as { status?: string; degraded?: string[] };
        return body.status === 'ready' && !body.degraded?.length;
      });
      expect(healthcheck('api')).toMatchObject({ status: 0, stderr: '' });

      const token = await mintToken({
        secret: new TextEncoder().encode(jwtSecret),
        issuer: 'trackproject',
        audience: 'trackproject-integrations',
        sub: 'build-test',
        workspaceId: crypto.randomUUID(),
        role: 'member',
      });
      const vendors = await fetch(`http://127.0.0.1:${apiPort}/v1/vendors`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(vendors.status).toBe(200);
      expect(((await vendors.json()) as { vendors: unknown[] }).vendors.length).toBeGreaterThanOrEqual(18);

      // A workflow of the bundle, with its activities on the worker's database pool, through the payload codec.
      const swept = await client.workflow.execute('cacheSweepWorkflow', {
        taskQueue,
        workflowId: `build-test/${crypto.randomUUID()}`,
        args: [],
        workflowExecutionTimeout: '60s',
      });
      expect(swept).toEqual({ cachedRecords: expect.any(Number), webhookDeliveries: expect.any(Number) });
    } finally {
      await Promise.all([stop(api), stop(worker)]);
      // The compiled worker wrote the shared server's maintenance schedules through its own codec key:
      // removed, so later tests (whose clients lack that key) can create and update theirs.
      for await (const schedule of client.schedule.list()) {
        if (schedule.scheduleId.startsWith('maintenance/'))
          await client.schedule.getHandle(schedule.scheduleId).delete();
      }
      await connection.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
    // Both shut down cleanly on SIGTERM.
    expect([api.child.exitCode, worker.child.exitCode]).toEqual([0, 0]);
  }, 180_000);
});
