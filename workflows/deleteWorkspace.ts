/**
 * Workspace deletion (T16): every integration of the workspace is disconnected through its own
 * `disconnectWorkflow` (revoke, destroy secrets, clear cache, purge after ≤ 30 days, receipt);
 * once every purge has run, the integration metadata and the workspace row are removed. The audit
 * trail stays: it is the record that all this happened.
 */
import { executeChild, setHandler } from '@temporalio/workflow';
import { integrationActivities as act } from './activityProxies';
import {
  deleteWorkspaceStateQuery,
  workflowIds,
  type DeleteWorkspaceInput,
  type DeleteWorkspaceResult,
  type DeleteWorkspaceState,
} from './definitions';
import { disconnectWorkflow } from './disconnect';
import { childSearchAttributes, tagRun } from './tagRun';

export async function deleteWorkspaceWorkflow(input: DeleteWorkspaceInput): Promise<DeleteWorkspaceResult> {
  tagRun({ workspaceId: input.workspaceId, process: 'workspace-delete' });
  const state: DeleteWorkspaceState = { status: 'disconnecting', integrations: 0, purged: 0 };
  setHandler(deleteWorkspaceStateQuery, () => state);

  const integrations = await act.listWorkspaceIntegrations({ workspaceId: input.workspaceId });
  state.integrations = integrations.length;
  const purgeReceiptIds = await Promise.all(
    integrations.map(async ({ integrationId, vendor }) => {
      const ref = { workspaceId: input.workspaceId, integrationId };
      const result = await executeChild(disconnectWorkflow, {
        workflowId: workflowIds.disconnect(input.workspaceId, integrationId),
        args: [{ ...ref, actor: input.actor, purgeDelayMs: input.purgeDelayMs }],
        ...childSearchAttributes({ ...ref, vendor, process: 'disconnect' }),
      });
      state.purged += 1;
      return result.receiptId;
    }),
  );

  state.status = 'removing-metadata';
  const { integrationsRemoved } = await act.deleteWorkspaceMetadata({
    workspaceId: input.workspaceId,
    actor: input.actor,
  });
  state.status = 'deleted';
  return { integrationsRemoved, purgeReceiptIds };
}
