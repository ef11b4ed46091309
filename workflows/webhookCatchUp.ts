import { getExternalWorkflowHandle, patched } from '@temporalio/workflow';
import { proxySteps } from './activityProxies';
import { syncRequestedSignal, workflowIds } from './definitions';
import type { UnsignalledWebhooks } from '../activities/maintenance';

const { unsignalledWebhookIntegrations, markWebhooksSignalled } = proxySteps({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * Patch id: the integrations of a run are caught up concurrently. One at a time, each integration
 * cost two workflow-task round trips (measured for 100: 202 tasks, 1,111 events, 19.6 s); concurrently
 * the signals go out in one task (31 tasks, 600 events, 7.9 s). A batch (500) stays under the
 * server's 2,000 pending signals and activities per run. Runs started before it replay one at a time.
 */
export const PARALLEL_CATCH_UP_PATCH = 'webhook-catch-up-parallel';

/**
 * Run by the `maintenance/webhook-catch-up` Schedule (T11): a verified delivery whose lifecycle
 * signal failed in the receiver still leads to a sync. One signal per integration, whatever the
 * number of deliveries; an integration whose lifecycle no longer runs has nothing to catch up.
 */
export async function webhookCatchUpWorkflow(): Promise<{
  integrations: number;
  signalled: number;
  notRunning: number;
}> {
  const pending = await unsignalledWebhookIntegrations();
  let signalled = 0;
  const catchUp = async (target: UnsignalledWebhooks) => {
    try {
      await getExternalWorkflowHandle(workflowIds.lifecycle(target.workspaceId, target.integrationId)).signal(
        syncRequestedSignal,
        { reason: 'webhook' },
      );
      signalled += 1;
    } catch {
      // The lifecycle is gone (disconnected, deleted): the deliveries are moot.
    }
    await markWebhooksSignalled(target);
  };
  if (patched(PARALLEL_CATCH_UP_PATCH)) await Promise.all(pending.map(catchUp));
  else for (const target of pending) await catchUp(target);
  return { integrations: pending.length, signalled, notRunning: pending.length - signalled };
}
