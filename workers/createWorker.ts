/**
 * Builds the integrations worker. Tests call this with their own connection, task queue and
 * activities; `workers/main.ts` calls it with the real ones.
 */
import { Worker, bundleWorkflowCode, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { Activities } from '../activities';
import { FAILURE_CONVERTER_PATH } from '../lib/temporal/dataConverter';

export const WORKFLOWS_PATH = require.resolve('../workflows');

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
}

export async function createWorker(parts: WorkerParts): Promise<Worker> {
  return Worker.create({
    connection: parts.connection,
    namespace: parts.namespace,
    taskQueue: parts.taskQueue,
    activities: parts.activities,
    ...(parts.workflowBundle ? { workflowBundle: parts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...(parts.dataConverter ? { dataConverter: parts.dataConverter } : {}),
    ...(parts.identity ? { identity: parts.identity } : {}),
  });
}

export async function bundleWorkflows(workflowsPath: string = WORKFLOWS_PATH): Promise<{ code: string }> {
  // The failure converter runs inside the sandbox too: a pre-built bundle must carry it.
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
  });
}
