/**
 * "Sync now" from a client (the API, scripts, tests): the lifecycle's `requestSyncUpdate`, with
 * the validator's SYNC_IN_FLIGHT_FAILURE rejection read as the answer it carries (joined).
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { requestSyncUpdate, SYNC_IN_FLIGHT_FAILURE, type SyncAnswer, type SyncRequest } from '../workflows/definitions';

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
