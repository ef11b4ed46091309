/**
 * A Temporal client for backend services: the service's payload encryption, typed starts of the
 * integration workflows (indexed by workspace from their first event, as the API starts them) and
 * "sync now" on a lifecycle.
 */
import {
  Client,
  WorkflowUpdateFailedError,
  type ClientInterceptors,
  type ConnectionLike,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createDataConverter } from './dataConverter';
import {
  requestSyncUpdate,
  SYNC_IN_FLIGHT_FAILURE,
  workflowIds,
  type SyncAnswer,
  type SyncRequest,
} from './definitions';
import { integrationSearchAttributes } from './searchAttributes';
import { runPriority } from './priority';
import {
  DEFAULT_TASK_QUEUE,
  WORKFLOW_PROCESSES,
  type IntegrationWorkflows,
  type IntegrationWorkflowType,
} from './workflows';

/**
 * "Sync now" on a lifecycle: its `requestSyncUpdate`, with the validator's SYNC_IN_FLIGHT_FAILURE
 * rejection (the request joined the sync in flight) read as the answer it carries.
 */
export async function requestSync(lifecycle: WorkflowHandle, request: SyncRequest): Promise<SyncAnswer> {
  try {
    return await lifecycle.executeUpdate(requestSyncUpdate, { args: [request] });
  } catch (error) {
    const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === SYNC_IN_FLIGHT_FAILURE)
      return cause.details![0] as SyncAnswer;
    throw error;
  }
}

export interface IntegrationsClientOptions {
  namespace?: string;
  /** The worker's task queue (`TEMPORAL_TASK_QUEUE`); default `integrations`. */
  taskQueue?: string;
  interceptors?: ClientInterceptors;
}

type Input<T extends IntegrationWorkflowType> = Parameters<IntegrationWorkflows[T]>[0];

export interface IntegrationsClient {
  /** The underlying client, with the service's data converter: anything else the SDK offers. */
  readonly temporal: Client;
  readonly taskQueue: string;
  /** Starts a workflow of an integration (or workspace) with its typed input, indexed by its search attributes. */
  start<T extends IntegrationWorkflowType>(
    workflowType: T,
    input: Input<T>,
    options: { workflowId: string } & Partial<Omit<WorkflowStartOptions<IntegrationWorkflows[T]>, 'args'>>,
  ): Promise<WorkflowHandleWithFirstExecutionRunId<IntegrationWorkflows[T]>>;
  /** A typed handle of a run (queries, signals, updates, result). */
  handle<T extends IntegrationWorkflowType>(
    workflowType: T,
    workflowId: string,
    runId?: string,
  ): WorkflowHandle<IntegrationWorkflows[T]>;
  /** "Sync now" on the integration's lifecycle: starts a sync, queues one, or joins the one in flight. */
  requestSync(ref: { workspaceId: string; integrationId: string }, request: SyncRequest): Promise<SyncAnswer>;
}

/**
 * `keys`: the service's payload codec keys, current first (base64-decoded `TEMPORAL_CODEC_KEY` or the
 * lines of `TEMPORAL_CODEC_KEY_FILE`). Without the same keys a caller can start runs but not read them.
 */
export function createIntegrationsClient(
  connection: ConnectionLike,
  keys: readonly Uint8Array[],
  options: IntegrationsClientOptions = {},
): IntegrationsClient {
  const temporal = new Client({
    connection,
    namespace: options.namespace ?? 'default',
    dataConverter: createDataConverter(keys),
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
  });
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  return {
    temporal,
    taskQueue,
    start(workflowType, input, { workflowId, ...rest }) {
      const { workspaceId, integrationId, vendor } = input as {
        workspaceId: string;
        integrationId?: string;
        vendor?: string;
      };
      const startOptions = {
        taskQueue,
        // Interactive before scheduled work, the workspace as fairness key (./priority); a caller's own wins.
        priority: runPriority(workspaceId, WORKFLOW_PROCESSES[workflowType]),
        ...rest,
        workflowId,
        args: [input],
        typedSearchAttributes: integrationSearchAttributes({
          workspaceId,
          integrationId,
          vendor,
          process: WORKFLOW_PROCESSES[workflowType],
        }),
        // The SDK's conditional `args` type cannot resolve for a generic workflow type; Input<T> has checked it.
      } as unknown as WorkflowStartOptions<IntegrationWorkflows[typeof workflowType]>;
      return temporal.workflow.start<IntegrationWorkflows[typeof workflowType]>(workflowType, startOptions);
    },
    handle(_workflowType, workflowId, runId) {
      return temporal.workflow.getHandle(workflowId, runId);
    },
    requestSync(ref, request) {
      return requestSync(
        temporal.workflow.getHandle(workflowIds.lifecycle(ref.workspaceId, ref.integrationId)),
        request,
      );
    },
  };
}
