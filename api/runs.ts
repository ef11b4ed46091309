/**
 * The API's one way into Temporal: start runs (with search attributes so ops find them by
 * workspace), link to them in the Temporal UI, and translate Temporal's errors into problems.
 * Inputs carry ids and references only, never secrets (workflow histories are not secret stores).
 */
import {
  isGrpcDeadlineError,
  QueryNotRegisteredError,
  QueryRejectedError,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ProcessName } from '../workflows/definitions';
import type * as workflows from '../workflows';
import { integrationSearchAttributes } from '@trackproject/integrations-client/searchAttributes';
import { runPriority } from '@trackproject/integrations-client/priority';
import { HttpProblem } from './problem';
import type { TemporalAccess } from './services';

/** The workflows the worker registers (`workflows/index.ts`), by type name: types only, the API runs none of them. */
type Workflows = typeof workflows;
export type WorkflowName = keyof Workflows;

export function temporalUiLink(temporal: TemporalAccess, workflowId: string): string {
  return `${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function runLinks(temporal: TemporalAccess, workflowId: string): { temporalUi: string } {
  return { temporalUi: temporalUiLink(temporal, workflowId) };
}

/** A run to start: the type name picks the registered workflow, whose parameters the arguments must match. */
export interface StartRun<N extends WorkflowName> {
  workflowType: N;
  workflowId: string;
  args: Parameters<Workflows[N]>;
  process: ProcessName;
  workspaceId: string;
  integrationId?: string;
  vendor?: string;
  /** A run already in flight under this id: join it (idempotent retries) or refuse (409). */
  ifRunning: 'join' | 'conflict';
  /** A closed run under this id: start anew (default) or refuse (409), so a replay never runs twice. */
  ifClosed?: 'start' | 'conflict';
  /** Non-secret facts about the request, readable with `describe()` (the payload codec encrypts it). */
  memo?: Record<string, string>;
}

export async function startRun<N extends WorkflowName>(
  temporal: TemporalAccess,
  run: StartRun<N>,
): Promise<WorkflowHandle<Workflows[N]>> {
  // Indexed from the first event; the run upserts the same identity itself (runs started elsewhere too).
  const typedSearchAttributes = integrationSearchAttributes(run);
  try {
    // StartRun<N> has checked the arguments; the SDK's conditional `args` type cannot resolve for a generic N.
    const options = {
      taskQueue: temporal.taskQueue,
      workflowId: run.workflowId,
      args: run.args,
      workflowIdConflictPolicy: run.ifRunning === 'join' ? 'USE_EXISTING' : 'FAIL',
      ...(run.ifClosed === 'conflict' ? { workflowIdReusePolicy: 'REJECT_DUPLICATE' as const } : {}),
      ...(run.memo ? { memo: run.memo } : {}),
      typedSearchAttributes,
      // Interactive runs go before scheduled work; the workspace is the fairness key (packages/client/src/priority.ts).
      priority: runPriority(run.workspaceId, run.process),
    } as WorkflowStartOptions<Workflows[N]>;
    return await temporal.client.workflow.start<Workflows[N]>(run.workflowType, options);
  } catch (error) {
    throw toProblem(error);
  }
}

/** Temporal failures as problems: a missing run is a 404/409, a workflow's refusal a 422. */
export function toProblem(error: unknown): unknown {
  if (error instanceof HttpProblem) return error;
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return new HttpProblem(409, 'This process is already running for the integration', {
      errorClass: 'AlreadyRunning',
    });
  }
  if (error instanceof WorkflowNotFoundError) {
    return new HttpProblem(409, 'The integration has no running process that can take this request', {
      errorClass: 'NotRunning',
    });
  }
  if (error instanceof QueryNotRegisteredError) {
    return new HttpProblem(409, 'The integration is not in a state that answers this request', {
      errorClass: 'NotRunning',
    });
  }
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    // The workflow validated the request and refused it; its failure type is a stable code.
    return new HttpProblem(422, error.cause.message, {
      errorClass: error.cause.type ?? 'Rejected',
      code: error.cause.type ?? undefined,
    });
  }
  return error;
}

/**
 * Bounds on how long a request waits for a workflow. Updates and signals are answered by a worker;
 * when none is polling, the caller gets a 503 to retry instead of a hanging connection.
 */
const CALL_DEADLINE_MS = 10_000;
/** Reads degrade instead: a status page without live state beats no status page. */
const QUERY_DEADLINE_MS = 1_500;

/** Runs a Temporal call (update, signal) within a deadline, translating its failures. */
export async function temporalCall<T>(temporal: TemporalAccess, call: () => Promise<T>): Promise<T> {
  try {
    return await temporal.client.withDeadline(Date.now() + CALL_DEADLINE_MS, call);
  } catch (error) {
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(error)) {
      throw new HttpProblem(503, "The integration's workflow did not answer in time; retry shortly", {
        headers: { 'retry-after': '5' },
        errorClass: 'WorkflowTimeout',
      });
    }
    const problem = toProblem(error);
    if (!(problem instanceof HttpProblem) && error instanceof ServiceError) {
      // Temporal could not take the call (overloaded, a per-run limit such as 2,000 Updates): a
      // condition of the server, not of the request, so the caller is told to retry, not given a 500.
      throw new HttpProblem(503, 'Temporal could not take this request right now; retry shortly', {
        headers: { 'retry-after': '5' },
        errorClass: 'TemporalUnavailable',
      });
    }
    throw problem;
  }
}

/**
 * Query that answers `undefined` when the run is gone, does not handle the query, does not answer
 * in time, or Temporal cannot take the query right now (a service error): live state is an extra
 * on the answers that use it, never a reason to fail them.
 */
export async function queryIfRunning<T>(temporal: TemporalAccess, query: () => Promise<T>): Promise<T | undefined> {
  try {
    return await temporal.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, query);
  } catch (error) {
    if (
      error instanceof WorkflowNotFoundError ||
      error instanceof QueryNotRegisteredError ||
      error instanceof QueryRejectedError
    )
      return undefined;
    if (error instanceof ServiceError || isGrpcDeadlineError(error)) return undefined;
    throw error;
  }
}
