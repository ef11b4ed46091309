import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { clientTracingInterceptors } from '../../lib/temporal/tracing';
import { spawnTestServer } from '../../dev/testServer';
import { createWorker, type WorkerParts } from '../../workers/createWorker';
import { testStack } from './stackInfo';

let runtimeInstalled = false;
/** Keep the Rust core quiet in test output unless something is wrong. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by an earlier test file in this process.
  }
}

export const uniqueTaskQueue = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;

/** Dev-server client + native connection (schedules, visibility queries, search attributes). */
export async function devServer(): Promise<{ client: Client; connection: NativeConnection; close(): Promise<void> }> {
  installQuietRuntime();
  const { temporalAddress } = testStack();
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const clientConnection = await Connection.connect({ address: temporalAddress });
  // As production's clients: a test that traces sees the client spans and their propagation.
  const client = new Client({
    connection: clientConnection,
    namespace: 'default',
    interceptors: clientTracingInterceptors(),
  });
  return {
    client,
    connection,
    async close() {
      await clientConnection.close();
      await connection.close();
    },
  };
}

/**
 * Environment on the shared time-skipping test server started by the global setup. Its teardown
 * first checks that the file left the server's clock free (`assertClockSkips`): the server does not
 * skip while a workflow or activity task is outstanding, and a run terminated while its activity ran
 * keeps that activity outstanding for ever, so one careless file would time out every later one.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const env = await attachTimeSkipping(testStack().testServerAddress);
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    try {
      await assertClockSkips(env);
    } finally {
      await teardown();
    }
  };
  return env;
}

/**
 * A time-skipping server of the caller's own (the executable the global setup uses, with the
 * service's search attributes): for tests that leave runs behind. Its teardown stops the server.
 */
export async function ownTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const server = await spawnTestServer(testStack().testServerExecutable, (line) => {
    if (!/SLF4J/.test(line)) process.stderr.write(`${line}\n`);
  });
  let env: TestWorkflowEnvironment;
  try {
    env = await attachTimeSkipping(server.address);
  } catch (error) {
    await server.process.stop();
    throw error;
  }
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    try {
      await teardown();
    } finally {
      await server.process.stop();
    }
  };
  return env;
}

/**
 * An environment on a running time-skipping server. `createTimeSkipping` would spawn a server per
 * call; the SDK's private `create` attaches to one, with the test service (time skipping) enabled.
 */
function attachTimeSkipping(address: string): Promise<TestWorkflowEnvironment> {
  const create = (
    TestWorkflowEnvironment as unknown as { create(opts: object): Promise<TestWorkflowEnvironment> }
  ).create.bind(TestWorkflowEnvironment);
  return create({ server: { type: 'existing' }, address, namespace: 'default', supportsTimeSkipping: true });
}

/** Workflow-clock time the probe skips, and the real time it may take: a free clock skips it at once. */
export const CLOCK_PROBE = { skipMs: 60_000, withinMs: 10_000 } as const;

/**
 * Fails when the server's clock no longer skips: a sleep of `CLOCK_PROBE.skipMs` on the workflow
 * clock must end within `CLOCK_PROBE.withinMs` of real time.
 */
export async function assertClockSkips(env: TestWorkflowEnvironment): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const held = new Promise<'held'>((resolve) => {
    timer = setTimeout(() => resolve('held'), CLOCK_PROBE.withinMs);
  });
  const skipped = env.sleep(CLOCK_PROBE.skipMs).then(() => 'skipped' as const);
  const outcome = await Promise.race([skipped, held]);
  clearTimeout(timer);
  if (outcome === 'held') {
    skipped.catch(() => undefined); // still waiting on the server: it ends with the connection
    throw new Error(
      `the time-skipping server's clock is held: it did not skip ${CLOCK_PROBE.skipMs} ms within ` +
        `${CLOCK_PROBE.withinMs} ms. This file (or an earlier one) left a workflow or activity task outstanding, ` +
        'e.g. a run terminated while its activity (or its child run) was in flight. Stop runs once idle, or use ownTimeSkippingEnv().',
    );
  }
}

/** A worker on the pre-built test bundle. */
export async function testWorker(
  parts: Omit<WorkerParts, 'workflowBundle' | 'namespace'> & { namespace?: string },
): Promise<Worker> {
  return createWorker({ namespace: 'default', ...parts, workflowBundle: { codePath: testStack().workflowBundlePath } });
}
