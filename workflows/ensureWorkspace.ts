import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ProcessKey, WorkspaceIdKey } from './searchAttributes';

const { ensureWorkspace } = proxyActivities<Activities>({
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
