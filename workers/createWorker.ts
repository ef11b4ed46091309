/**
 * Builds the integrations worker. Tests call this with their own connection, task queue and
 * activities; `workers/main.ts` calls it with the real ones.
 */
import path from 'node:path';
import {
  Worker,
  bundleWorkflowCode,
  type CompiledWorkerOptions,
  type NativeConnection,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { Activities } from '../activities';
import { FAILURE_CONVERTER_PATH } from '@trackproject/integrations-client/dataConverter';
import { WORKFLOW_TRACING_INTERCEPTORS, workerTracingOptions } from '../lib/temporal/tracing';
import type { Tracing } from '../lib/tracing';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * The workflows import the client package's definitions; in the repository it resolves to its
 * sources (tsconfig `paths`, Jest's moduleNameMapper), and the workflow bundler needs the same alias.
 */
const CLIENT_PACKAGE_ALIAS = { '@trackproject/integrations-client': path.resolve(__dirname, '../packages/client/src') };
type WebpackConfigHook = NonNullable<NonNullable<WorkerOptions['bundlerOptions']>['webpackConfigHook']>;
const webpackConfigHook: WebpackConfigHook = (config) => ({
  ...config,
  resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as object), ...CLIENT_PACKAGE_ALIAS } },
});

/**
 * How long one workflow activation may run before the SDK's deadlock detector terminates it
 * (SDK default 5 s). The detector measures wall-clock time, so on a busy host a burst of
 * activations (hundreds of connects whose consent expires together) can be descheduled past 5 s.
 * Node (20.x included) does not unwind its async-hook stack when a `vm` timeout terminates
 * microtasks while AsyncLocalStorage is active, which the workflow runtime always is: the next
 * message into that workflow thread aborts the process with "async hook stack has become
 * corrupted" (nodejs/node#43135, temporalio/sdk-typescript#939). A real deadlock is still caught,
 * later; the workflow task timeout (10 s) already reschedules a merely slow activation elsewhere.
 */
export const ISOLATE_EXECUTION_TIMEOUT = '60s';

export interface WorkerParts {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities | Record<string, (...args: never[]) => Promise<unknown>>;
  /** Pre-built bundle (tests bundle once per run); default: bundle `workflows/` now. */
  workflowBundle?: WorkflowBundleOption;
  dataConverter?: DataConverter;
  /** Worker identity shown in the Temporal UI. */
  identity?: string;
  /** Where workflow and activity spans go; absent: tracing is off. */
  tracing?: Tracing;
}

/** The SDK honours `isolateExecutionTimeout` but leaves it out of the public `WorkerOptions` type. */
type WorkerOptionsWithIsolateTimeout = WorkerOptions & Pick<CompiledWorkerOptions, 'isolateExecutionTimeout'>;

export async function createWorker(parts: WorkerParts): Promise<Worker> {
  const tracing = workerTracingOptions(parts.tracing);
  // A pre-built bundle carries the workflow interceptors already; one bundled now only when tracing is on.
  const workflowModules = !parts.workflowBundle && parts.tracing ? [WORKFLOW_TRACING_INTERCEPTORS] : [];
  const options: WorkerOptionsWithIsolateTimeout = {
    connection: parts.connection,
    namespace: parts.namespace,
    taskQueue: parts.taskQueue,
    activities: parts.activities,
    isolateExecutionTimeout: ISOLATE_EXECUTION_TIMEOUT,
    interceptors: { ...tracing.interceptors, workflowModules },
    sinks: tracing.sinks,
    ...(parts.workflowBundle
      ? { workflowBundle: parts.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { webpackConfigHook } }),
    ...(parts.dataConverter ? { dataConverter: parts.dataConverter } : {}),
    ...(parts.identity ? { identity: parts.identity } : {}),
  };
  return Worker.create(options);
}

export async function bundleWorkflows(workflowsPath: string = WORKFLOWS_PATH): Promise<{ code: string }> {
  // The failure converter and the tracing interceptors run inside the sandbox too: a pre-built bundle must carry them.
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    workflowInterceptorModules: [WORKFLOW_TRACING_INTERCEPTORS],
    webpackConfigHook,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
  });
}
