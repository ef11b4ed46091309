/**
 * Builds the integrations worker. Tests call this with their own connection, task queue and
 * activities; `workers/main.ts` calls it with the real ones.
 */
import {
  Worker,
  bundleWorkflowCode,
  type CompiledWorkerOptions,
  type NativeConnection,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import type { Activities } from '../activities';
import { FAILURE_CONVERTER_PATH } from '@trackproject/integrations-client/dataConverter';
import { WORKFLOW_TRACING_INTERCEPTORS, workerTracingOptions } from '../lib/temporal/tracing';
import type { Tracing } from '../lib/tracing';
import { shutdownTimes } from './shutdown';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** File name of the bundle `npm run build` writes beside the compiled folders (`dist/`). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/**
 * The workflow bundle built at build time, for the compiled worker (`dist/workers/` → `dist/workflow-bundle.js`):
 * bundling at every start costs seconds of CPU and needs webpack's toolchain. Run from the sources (`npm start`,
 * tests) there is none and the worker bundles `workflows/` itself; in production a missing bundle is an error.
 */
export function prebuiltWorkflowBundle(
  nodeEnv: string,
  file: string = path.resolve(__dirname, '..', WORKFLOW_BUNDLE_FILE),
): WorkflowBundleOption | undefined {
  if (fs.existsSync(file)) return { codePath: file };
  if (nodeEnv === 'production') {
    throw new Error(
      `the workflow bundle ${file} is missing: run the compiled worker from a complete \`npm run build\``,
    );
  }
  return undefined;
}

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
  /** After `shutdown()`: how long in-flight activities may finish before they are cancelled (`workers/shutdown.ts`). */
  shutdownGraceMs?: number;
  /** Slots and workflow cache (the benchmarks size them); absent: the SDK's defaults. */
  capacity?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxCachedWorkflows'>;
}

/** The SDK honours `isolateExecutionTimeout` but leaves it out of the public `WorkerOptions` type. */
type WorkerOptionsWithIsolateTimeout = WorkerOptions & Pick<CompiledWorkerOptions, 'isolateExecutionTimeout'>;

export async function createWorker(parts: WorkerParts): Promise<Worker> {
  const tracing = workerTracingOptions(parts.tracing);
  // Every bundle carries the workflow tracing interceptors, tracing on or off (off: their sink drops
  // the spans): they wrap Update handlers in an await, which moves an Update's completion among the
  // activation's commands, so a history written by a bundle without them does not replay on one
  // with them (test/workflows/lifecycle-replay-updates.test.ts). A pre-built bundle has them already.
  const workflowModules = parts.workflowBundle ? [] : [WORKFLOW_TRACING_INTERCEPTORS];
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
    ...(parts.shutdownGraceMs !== undefined ? shutdownTimes(parts.shutdownGraceMs) : {}),
    ...parts.capacity,
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
