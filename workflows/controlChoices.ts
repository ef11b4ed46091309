import { proxySteps } from './activityProxies';
import type { ControlChoicesInput } from './definitions';
import { tagRun } from './tagRun';

/**
 * One read for an admin waiting on a page: a few quick attempts, no durable waits. A rate-limited
 * read fails at once with its Retry-After (the API answers 429 with it) rather than holding the admin.
 */
const { listControlChoices } = proxySteps({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** One page of the admin's picker for the integration's customer control (Slack: its public channels). */
export async function controlChoicesWorkflow(input: ControlChoicesInput) {
  const ref = { workspaceId: input.workspaceId, integrationId: input.integrationId };
  tagRun({ ...ref, vendor: input.vendor, process: 'choices' });
  return listControlChoices({ ...ref, cursor: input.cursor });
}
