/**
 * All activities of the worker, built from injected dependencies so tests pass their own.
 * Workflows import only the *type* `Activities`.
 */
import type { Knex } from 'knex';
import type { KeyProvider } from '../db/secrets';
import type { Logger } from '../lib/logger';
import { createIntegrationActivities, type IntegrationActivities, type IntegrationActivityDeps } from './integrations';
import { createKeyRotationActivities, type KeyRotationActivities } from './keyRotation';
import { createMaintenanceActivities } from './maintenance';
import { createWorkspaceActivities } from './workspaces';

export interface ActivityDeps {
  /** Runtime pool in the worker role: RLS applies. */
  db: Knex;
  logger: Logger;
  /** Secret store, audit sink, vendor registry, webhook base URL: without them the worker serves no integration activities. */
  integrations?: Omit<IntegrationActivityDeps, 'db' | 'logger'>;
  /** The secret store's key provider: without it the worker serves no KEK rotation steps. */
  keys?: KeyProvider;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createWorkspaceActivities(deps),
    ...createMaintenanceActivities(deps),
    // A worker built without integration deps does not register these (Temporal then reports them
    // as not registered); the type still lists them because workflows are typed against a full worker.
    ...((deps.integrations
      ? createIntegrationActivities({ db: deps.db, logger: deps.logger, ...deps.integrations })
      : {}) as IntegrationActivities),
    ...((deps.keys ? createKeyRotationActivities({ db: deps.db, keys: deps.keys }) : {}) as KeyRotationActivities),
  };
}

export type Activities = ReturnType<typeof createActivities>;
