import { upsertSearchAttributes } from '@temporalio/workflow';
import { proxySteps } from './activityProxies';
import { ProcessKey, WorkspaceIdKey } from '@trackproject/integrations-client/searchAttributes';

const { ensureWorkspace } = proxySteps({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

/** Registers a workspace with the integration tier (idempotent). */
export async function ensureWorkspaceWorkflow(workspaceId: string): Promise<{ created: boolean }> {
  upsertSearchAttributes([
    { key: WorkspaceIdKey, value: workspaceId },
    { key: ProcessKey, value: 'workspace.ensure' },
  ]);
  return ensureWorkspace(workspaceId);
}
