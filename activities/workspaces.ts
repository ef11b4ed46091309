import type { Knex } from 'knex';
import { withWorkspace } from '../db/workspaceScope';

export function createWorkspaceActivities(deps: { db: Knex }) {
  return {
    /** Registers the workspace on first use; idempotent. */
    async ensureWorkspace(workspaceId: string): Promise<{ created: boolean }> {
      return withWorkspace(deps.db, workspaceId, async (trx) => {
        const inserted = await trx('workspaces')
          .insert({ workspace_id: workspaceId })
          .onConflict('workspace_id')
          .ignore()
          .returning('workspace_id');
        return { created: inserted.length === 1 };
      });
    },
  };
}
