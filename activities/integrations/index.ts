/** The generic integration activities (every vendor), built from injected dependencies. */
import { createActionActivities } from './actions';
import { createChoiceActivities } from './choices';
import { createConnectActivities } from './connect';
import type { IntegrationActivityDeps } from './deps';
import { createLifecycleActivities } from './lifecycle';
import { createRotationActivities } from './rotate';
import { createSyncActivities } from './sync';
import { createTeardownActivities } from './teardown';

export function createIntegrationActivities(deps: IntegrationActivityDeps) {
  return {
    ...createLifecycleActivities(deps),
    ...createConnectActivities(deps),
    ...createSyncActivities(deps),
    ...createTeardownActivities(deps),
    ...createRotationActivities(deps),
    ...createActionActivities(deps),
    ...createChoiceActivities(deps),
  };
}

export type IntegrationActivities = ReturnType<typeof createIntegrationActivities>;
export type { IntegrationActivityDeps, IntegrationSecretStore } from './deps';
