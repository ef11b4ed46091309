/**
 * One long-lived run per connected integration: coalesces sync triggers (webhook signal, admin
 * update, polling at the customer's cadence clamped to the vendor's floor — T12) into at most one
 * running sync plus one pending; refreshes tokens before expiry (one at a time); renews
 * subscriptions before expiry; applies consent narrowing (T17); continues as new before history
 * grows. Cancelled by disconnect, which cancels the running sync with it.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { integrationActivities as act, failureType } from './activityProxies';
import {
  consentChangeUpdate,
  integrationStateQuery,
  requestSyncUpdate,
  setPollIntervalUpdate,
  syncRequestedSignal,
  vendorLifecycleSignal,
  workflowIds,
  type IntegrationState,
  type LifecycleInput,
  type SyncRequest,
} from './definitions';
import { syncWorkflow } from './sync';
import { childSearchAttributes, tagRun } from './tagRun';

/** Refresh this long before the access token expires (Graph tokens live 60–90 min). */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** Renew this long before a subscription expires (Graph's shortest lifetime is ~3 days). */
export const SUBSCRIPTION_RENEWAL_MARGIN_MS = 60 * 60 * 1000;
/** Continue as new past this many events: far below the 10,240-event warning. */
const HISTORY_EVENTS_BEFORE_CONTINUE = 2_000;

function mergeRequests(a: SyncRequest | undefined, b: SyncRequest): SyncRequest {
  if (!a) return b;
  // Two requests for different resources (or any for all) collapse into one for every resource.
  const resource = a.resource === b.resource ? a.resource : undefined;
  return { reason: a.reason, resource, full: Boolean(a.full || b.full) };
}

export async function integrationLifecycleWorkflow(input: LifecycleInput): Promise<void> {
  const ref = { workspaceId: input.workspaceId, integrationId: input.integrationId };
  tagRun({ ...ref, vendor: input.vendor, process: 'lifecycle' });
  const descriptor = await act.describeVendor(input.vendor);
  const clampPoll = (ms: number | undefined) => (ms === undefined ? undefined : Math.max(ms, descriptor.rateLimit.minPollIntervalMs));

  const state: IntegrationState = {
    ...ref,
    vendor: input.vendor,
    status: input.carried?.status ?? 'connected',
    pollIntervalMs: clampPoll(input.pollIntervalMs),
    lastSync: input.carried?.lastSync,
    pendingSync: Boolean(input.carried?.pendingSync),
    subscriptions: [],
  };
  let pending: SyncRequest | undefined = input.carried?.pendingSync;
  let running: ChildWorkflowHandle<typeof syncWorkflow> | undefined;
  let nextPollAt = state.pollIntervalMs ? Date.now() + state.pollIntervalMs : undefined;
  let scheduleDirty = true;
  let tokenExpiresAt: number | undefined;
  let subscriptions: Array<{ externalId: string; resource: string; expiresAt?: number }> = [];
  const syncWorkflowId = workflowIds.sync(ref.workspaceId, ref.integrationId);

  const request = (req: SyncRequest) => {
    pending = mergeRequests(pending, req);
    state.pendingSync = true;
  };
  setHandler(syncRequestedSignal, request);
  setHandler(requestSyncUpdate, (req) => {
    const joined = running !== undefined && !req.full;
    if (!joined) request(req);
    return { syncWorkflowId, joined };
  });
  setHandler(setPollIntervalUpdate, async ({ pollIntervalMs }) => {
    const clamped = clampPoll(pollIntervalMs)!;
    await act.setPollInterval({ ...ref, pollIntervalMs: clamped });
    state.pollIntervalMs = clamped;
    nextPollAt = Date.now() + clamped;
    return { pollIntervalMs: clamped };
  });
  setHandler(consentChangeUpdate, async (change) => {
    await act.narrowConsent({ ...ref, actor: change.actor, scopes: change.scopes, controls: change.controls });
    request({ reason: 'resync', full: true }); // the sweep removes what is now outside the consent
    return { accepted: true as const };
  });
  setHandler(vendorLifecycleSignal, ({ event }) => {
    if (event === 'reauthorizationRequired') state.status = 'reauthorization-required';
    if (event === 'subscriptionRemoved' || event === 'missed') request({ reason: 'resync', full: event === 'missed' });
    scheduleDirty = true;
  });
  setHandler(integrationStateQuery, () => state);

  const startSync = async (req: SyncRequest) => {
    running = await startChild(syncWorkflow, { workflowId: syncWorkflowId, args: [{ ...ref, vendor: input.vendor, request: req }], ...childSearchAttributes({ ...ref, vendor: input.vendor, process: 'sync' }) });
    void running.result().then(
      (progress) => {
        state.lastSync = progress;
        running = undefined;
      },
      async (error) => {
        running = undefined;
        if (failureType(error) === 'ReauthorizationRequired') {
          state.status = 'reauthorization-required';
          await act.markReauthorizationRequired(ref);
        }
      },
    );
  };

  for (;;) {
    if (scheduleDirty) {
      const schedule = await act.lifecycleSchedule(ref);
      tokenExpiresAt = schedule.tokenExpiresAt;
      subscriptions = schedule.subscriptions;
      state.nextTokenRefreshAt = tokenExpiresAt ? new Date(tokenExpiresAt - TOKEN_REFRESH_MARGIN_MS).toISOString() : undefined;
      state.subscriptions = subscriptions.map((s) => ({ resource: s.resource, expiresAt: s.expiresAt ? new Date(s.expiresAt).toISOString() : undefined }));
      scheduleDirty = false;
    }
    const now = Date.now();
    const active = state.status === 'connected';
    if (active && tokenExpiresAt !== undefined && tokenExpiresAt - TOKEN_REFRESH_MARGIN_MS <= now) {
      try {
        await act.refreshTokens(ref);
      } catch (error) {
        if (failureType(error) !== 'ReauthorizationRequired') throw error;
        state.status = 'reauthorization-required';
        await act.markReauthorizationRequired(ref);
      }
      scheduleDirty = true;
      continue;
    }
    const dueSubscription = subscriptions.find((s) => s.expiresAt !== undefined && s.expiresAt - SUBSCRIPTION_RENEWAL_MARGIN_MS <= now);
    if (active && dueSubscription) {
      await act.renewSubscription({ ...ref, externalId: dueSubscription.externalId, resource: dueSubscription.resource });
      scheduleDirty = true;
      continue;
    }
    if (active && nextPollAt !== undefined && nextPollAt <= now) {
      request({ reason: 'schedule' });
      nextPollAt = now + state.pollIntervalMs!;
    }
    if (active && pending && !running) {
      const req = pending;
      pending = undefined;
      state.pendingSync = false;
      await startSync(req);
    }
    if (!running && workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUE) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof integrationLifecycleWorkflow>({
        ...input,
        pollIntervalMs: state.pollIntervalMs,
        carried: { pendingSync: pending, lastSync: state.lastSync, status: state.status },
      });
    }
    const deadlines = [
      tokenExpiresAt !== undefined ? tokenExpiresAt - TOKEN_REFRESH_MARGIN_MS : undefined,
      ...subscriptions.map((s) => (s.expiresAt !== undefined ? s.expiresAt - SUBSCRIPTION_RENEWAL_MARGIN_MS : undefined)),
      nextPollAt,
    ].filter((t): t is number => t !== undefined);
    const wake = deadlines.length > 0 ? Math.max(1, Math.min(...deadlines) - Date.now()) : undefined;
    const runningAtWait = running;
    const wakeUp = () => scheduleDirty || (pending !== undefined && !running) || running !== runningAtWait;
    if (wake === undefined || !active) await condition(wakeUp);
    else await condition(wakeUp, wake);
  }
}
