import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { clientTracingInterceptors } from '../../lib/temporal/tracing';
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

/** Environment on the shared time-skipping test server started by the global setup. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  // `createTimeSkipping` would spawn a server per call; the SDK's private `create` attaches to the
  // one the global setup started, with the test service (time skipping) enabled.
  const create = (
    TestWorkflowEnvironment as unknown as { create(opts: object): Promise<TestWorkflowEnvironment> }
  ).create.bind(TestWorkflowEnvironment);
  return create({
    server: { type: 'existing' },
    address: testStack().testServerAddress,
    namespace: 'default',
    supportsTimeSkipping: true,
  });
}

/** A worker on the pre-built test bundle. */
export async function testWorker(
  parts: Omit<WorkerParts, 'workflowBundle' | 'namespace'> & { namespace?: string },
): Promise<Worker> {
  return createWorker({ namespace: 'default', ...parts, workflowBundle: { codePath: testStack().workflowBundlePath } });
}
