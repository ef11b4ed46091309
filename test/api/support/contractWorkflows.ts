/**
 * Contract doubles of the production workflows for the API tests: same workflow types, ids,
 * signals, updates and queries as `workflows/definitions.ts`, no vendor activities. They run on the
 * real Temporal dev server in their own bundle (so their names never clash with the production
 * ones) and record what the API delivered, so tests assert on what actually reached a workflow.
 */
import {
  ApplicationFailure,
  condition,
  defineQuery,
  setHandler,
  sleep,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import {
  connectStateQuery,
  consentChangeUpdate,
  disconnectStateQuery,
  integrationStateQuery,
  oauthCallbackUpdate,
  requestSyncUpdate,
  SYNC_IN_FLIGHT_FAILURE,
  rotateNowSignal,
  syncProgressQuery,
  syncRequestedSignal,
  vendorLifecycleSignal,
  workflowIds,
  type ConnectInput,
  type ConnectState,
  type DeleteWorkspaceInput,
  type DisconnectInput,
  type DisconnectState,
  type IntegrationState,
  type LifecycleInput,
  type SyncInput,
  type SyncProgress,
  type VendorActionInput,
} from '../../../workflows/definitions';

/** Everything the API delivered to a run, in order (signal/update name + argument). */
export const receivedQuery = defineQuery<Array<{ name: string; arg: unknown }>>('received');

/**
 * The state the double's authorize URL carries (the real workflow's activity draws a random one);
 * a test seeds its `oauth_states` row. Deterministic, as workflow code must be.
 */
export const contractState = (workspaceId: string, integrationId: string) =>
  `${workspaceId}.${integrationId}.${'s'.repeat(43)}`;

/** A grant code the double refuses, standing in for the real workflow's T1 refusal. */
export const REFUSED_CODE = 'broader-grant';

export async function connectWorkflow(input: ConnectInput): Promise<{ status: string }> {
  const received: Array<{ name: string; arg: unknown }> = [{ name: 'start', arg: input }];
  let state: ConnectState = input.credentialSecretId
    ? { status: 'validating' }
    : {
        status: 'awaiting-consent',
        authorizeUrl: `https://vendor.invalid/authorize?redirect_uri=${encodeURIComponent(input.redirectUri)}&state=${contractState(input.workspaceId, input.integrationId)}`,
      };
  let done = false;
  setHandler(connectStateQuery, () => state);
  setHandler(receivedQuery, () => received);
  setHandler(
    oauthCallbackUpdate,
    (callback) => {
      received.push({ name: 'oauthCallback', arg: callback });
      state = { status: callback.error ? 'failed' : 'exchanging' };
      done = true;
      return { accepted: true as const };
    },
    {
      validator: (callback) => {
        if (callback.code === REFUSED_CODE)
          throw ApplicationFailure.nonRetryable('The grant is broader than requested', 'ScopeBroaderThanRequested');
      },
    },
  );
  if (input.credentialSecretId) {
    await sleep(200); // long enough for the API's first poll to see `validating`
    state = { status: 'connected' };
  } else {
    await condition(() => done, '5 minutes');
  }
  // Stay queryable for the test's reads.
  await sleep('1 minute');
  return { status: state.status };
}

export async function syncWorkflow(input: SyncInput): Promise<SyncProgress> {
  const progress: SyncProgress = {
    state: 'running',
    resource: input.request.resource,
    pages: 0,
    recordsUpserted: 0,
    recordsDeleted: 0,
    rateLimitWaits: 0,
  };
  setHandler(syncProgressQuery, () => progress);
  // Long enough that a second "sync now" finds it in flight.
  await sleep('20 seconds');
  progress.state = 'completed';
  return progress;
}

export async function integrationLifecycleWorkflow(input: LifecycleInput): Promise<void> {
  const received: Array<{ name: string; arg: unknown }> = [];
  let sync: ChildWorkflowHandle<typeof syncWorkflow> | undefined;
  let syncRunning = false;
  const state: IntegrationState = {
    workspaceId: input.workspaceId,
    integrationId: input.integrationId,
    vendor: input.vendor,
    status: 'connected',
    pendingSync: false,
    subscriptions: [],
  };
  setHandler(receivedQuery, () => received);
  setHandler(integrationStateQuery, () => state);
  setHandler(syncRequestedSignal, (request) => void received.push({ name: 'syncRequested', arg: request }));
  setHandler(vendorLifecycleSignal, (event) => void received.push({ name: 'vendorLifecycle', arg: event }));
  setHandler(rotateNowSignal, (request) => void received.push({ name: 'rotateNow', arg: request }));
  setHandler(consentChangeUpdate, (change) => {
    received.push({ name: 'changeConsent', arg: change });
    return { accepted: true as const };
  });
  const syncWorkflowId = workflowIds.sync(input.workspaceId, input.integrationId);
  setHandler(
    requestSyncUpdate,
    async (request) => {
      received.push({ name: 'requestSync', arg: request });
      sync = await startChild(syncWorkflow, {
        workflowId: syncWorkflowId,
        args: [{ workspaceId: input.workspaceId, integrationId: input.integrationId, vendor: input.vendor, request }],
      });
      syncRunning = true;
      void sync.result().then(() => void (syncRunning = false));
      return { syncWorkflowId, joined: false, vendor: input.vendor };
    },
    {
      // As the lifecycle: a join is the validator's rejection, carrying the answer.
      validator: (request) => {
        if (!sync || !syncRunning || request.full) return;
        throw ApplicationFailure.create({
          type: SYNC_IN_FLIGHT_FAILURE,
          nonRetryable: true,
          details: [{ syncWorkflowId, joined: true, vendor: input.vendor }],
        });
      },
    },
  );
  await condition(() => false, '10 minutes');
}

export async function disconnectWorkflow(input: DisconnectInput): Promise<void> {
  const state: DisconnectState = {
    status: 'waiting-purge',
    purgeDeadline: new Date(Date.now() + input.purgeDelayMs).toISOString(),
  };
  setHandler(disconnectStateQuery, () => state);
  setHandler(receivedQuery, () => [{ name: 'start', arg: input }]);
  await sleep('1 minute');
}

export async function deleteWorkspaceWorkflow(input: DeleteWorkspaceInput): Promise<void> {
  setHandler(receivedQuery, () => [{ name: 'start', arg: input }]);
  await sleep('1 minute');
}

/** Data out: answers ids for the action (refusals are tested on the real workflow). */
export async function vendorActionWorkflow(input: VendorActionInput): Promise<Record<string, unknown>> {
  setHandler(receivedQuery, () => [{ name: 'start', arg: input }]);
  if (input.input.hold === true) await sleep('1 minute');
  return { externalId: 'ext-1', url: `https://vendor.test/${input.action}` };
}
