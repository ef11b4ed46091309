import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { proxySteps } from './activityProxies';
import { syncRequestedSignal, workflowIds } from './definitions';

const { unsignalledWebhookIntegrations, markWebhooksSignalled } = proxySteps({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5 },
});

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
  for (const target of pending) {
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
  }
  return { integrations: pending.length, signalled, notRunning: pending.length - signalled };
}
