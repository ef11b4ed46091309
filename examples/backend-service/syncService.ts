/**
 * An example backend service that drives integrations through Temporal directly, with nothing but
 * `@trackproject/integrations-client`: typed starts and queries, and the service's payload
 * encryption (it holds the same codec keys as the integrations worker, so it reads what runs return).
 */
import type { ConnectionLike } from '@temporalio/client';
import {
  createIntegrationsClient,
  syncProgressQuery,
  workflowIds,
  type IntegrationsClientOptions,
  type SyncProgress,
  type VendorId,
} from '@trackproject/integrations-client';

export interface IntegrationRef {
  workspaceId: string;
  integrationId: string;
  vendor: VendorId;
}

export function createSyncService(
  connection: ConnectionLike,
  codecKeys: readonly Uint8Array[],
  options?: IntegrationsClientOptions,
) {
  const integrations = createIntegrationsClient(connection, codecKeys, options);
  return {
    /**
     * Syncs every resource of the integration now and answers what the sync did. The integration's
     * sync id is shared with its lifecycle: a sync already in flight is joined, not duplicated.
     */
    async syncNow(ref: IntegrationRef): Promise<{ workflowId: string; progress: SyncProgress }> {
      const handle = await integrations.start(
        'syncWorkflow',
        { ...ref, request: { reason: 'admin' } },
        { workflowId: workflowIds.sync(ref.workspaceId, ref.integrationId), workflowIdConflictPolicy: 'USE_EXISTING' },
      );
      return { workflowId: handle.workflowId, progress: await handle.result() };
    },

    /** What a sync run reports while it runs (or last reported). */
    progress(workflowId: string): Promise<SyncProgress> {
      return integrations.handle('syncWorkflow', workflowId).query(syncProgressQuery);
    },
  };
}
