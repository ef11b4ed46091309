/**
 * The only way service code reaches customer tables: a transaction in which the RLS setting is
 * bound to one workspace (`set_config(…, true)` is transaction-local, so it cannot leak to the
 * next user of a pooled connection).
 */
import type { Knex } from 'knex';
import { WORKSPACE_SETTING } from './roles';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class InvalidWorkspaceIdError extends Error {
  constructor() {
    super('workspace id must be a UUID');
    this.name = 'InvalidWorkspaceIdError';
  }
}

export function assertWorkspaceId(workspaceId: string): void {
  if (!UUID.test(workspaceId)) throw new InvalidWorkspaceIdError();
}

export async function withWorkspace<T>(
  db: Knex,
  workspaceId: string,
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  assertWorkspaceId(workspaceId);
  return db.transaction(async (trx) => {
    await trx.raw('select set_config(?, ?, true)', [WORKSPACE_SETTING, workspaceId]);
    return work(trx);
  });
}
