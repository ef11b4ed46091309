/**
 * All activities of the worker, built from injected dependencies so tests pass their own.
 * Workflows import only the *type* `Activities`.
 */
import type { Knex } from 'knex';
import type { Logger } from '../lib/logger';
import { createWorkspaceActivities } from './workspaces';

export interface ActivityDeps {
  /** Runtime pool in the worker role: RLS applies. */
  db: Knex;
  logger: Logger;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createWorkspaceActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
