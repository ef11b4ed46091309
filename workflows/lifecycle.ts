/**
 * One long-lived run per connected integration: coalesces sync triggers (webhook signal, admin
 * update, polling at the customer's cadence, never below the floor derived from the vendor's
 * budget and what a sync costs — T12) into at most one
 * running sync plus one pending; refreshes tokens before expiry (one at a time); renews
 * subscriptions before expiry; rotates secrets on the per-kind cadence or on demand (T8, one
 * rotation at a time; where only the admin can supply the new secret, shows the renewal requested
 * until their upload is adopted); applies consent narrowing (T17); continues as new before history
 * grows. Cancelled by disconnect, which cancels the running sync with it.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
  patched,
} from '@temporalio/workflow';
import { integrationActivities as act } from './activityProxies';
import { failureType } from './failures';
import {
  consentChangeUpdate,
  integrationStateQuery,
  mergeSyncRequests,
  RECONNECTED_EVENT,
  requestSyncUpdate,
  ROTATION_CADENCE_MS,
  rotatedKinds,
  rotateNowSignal,
  setPollIntervalUpdate,
  SYNC_IN_FLIGHT_FAILURE,
  syncRequestedSignal,
  vendorLifecycleSignal,
  workflowIds,
  type IntegrationState,
  type LifecycleInput,
  type RotateResult,
  type RotationKind,
  type SyncAnswer,
  type SyncRequest,
} from './definitions';
import type { AuditActor } from '../lib/audit';
import type { VendorDescriptor } from '../activities/vendors/types';
import { rotateSecretWorkflow } from './rotate';
import { countWorkflowMetric } from './metrics';
import { syncWorkflow } from './sync';
import {
  IntegrationStatusKey,
  LastSyncCompletedAtKey,
  SyncStateKey,
  type SyncStateValue,
} from '@trackproject/integrations-client/searchAttributes';
import { childSearchAttributes, tagRun } from './tagRun';
import { runPriority, syncPriority } from '@trackproject/integrations-client/priority';

/** Refresh this long before the access token expires (Graph tokens live 60–90 min). */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** Renew this long before a subscription expires (Graph's shortest lifetime is ~3 days). */
export const SUBSCRIPTION_RENEWAL_MARGIN_MS = 60 * 60 * 1000;
/** A rotation that failed (test refused, vendor error) is retried after a day, not a whole cadence. */
const ROTATION_RETRY_AFTER_FAILURE_MS = 24 * 60 * 60 * 1000;
/** A renewal asked of the admin (T8) is asked again this often until their new secret is adopted. */
const RENEWAL_REMINDER_MS = 7 * 24 * 60 * 60 * 1000;
const ROTATION_SCHEDULE_ACTOR: AuditActor = { type: 'system', id: 'rotation-schedule' };

/**
 * Continue as new when Temporal suggests it, or past this many events at the latest. Sized by what
 * a cache miss costs: the worker replays the current run, 2.1 ms of CPU per event (`bench:scale`,
 * 2026-12-02: 213 events 0.58 s … 3,807 events 8.4 s), against 76–136 ms for the wake-up itself; and
 * a cached lifecycle costs 0.63 MiB, so a worker of 1 GiB keeps ~1,000 cached and misses are normal
 * beyond that. At 500 a miss replays ~250 events on average (~0.5 s; it was ~2,000 events, ~4 s, at
 * the old 4,000). The price: a lifecycle writes 2,100–3,300 events a day, so it continues as new
 * every 4–6 hours, and an Update that arrives while a run closes is retried on the next run, which
 * costs that caller 1.4–1.6 s (test/workflows/lifecycle-continue-as-new).
 */
const HISTORY_EVENTS_BEFORE_CONTINUE = 500;
/** The bound of runs recorded before `SHORTER_RUNS_PATCH`: they replay with it. */
const HISTORY_EVENTS_BEFORE_CONTINUE_UNPATCHED = 4_000;
/** Temporal refuses the 2,001st accepted Update of a run (FAILED_PRECONDITION): continue well before. Rejected joins count toward neither bound. */
const UPDATES_BEFORE_CONTINUE = 1_500;

/** Patch id: runs continue as new at HISTORY_EVENTS_BEFORE_CONTINUE; taken at the start of a run. */
export const SHORTER_RUNS_PATCH = 'shorter-lifecycle-runs';

/** Patch id: a vendor's "grant lost" event is written to the integration's row (kept while older runs are open). */
const PERSIST_VENDOR_REAUTHORIZATION_PATCH = 'persist-vendor-reauthorization';
/**
 * Patch id (T12): a new cadence wakes the waiting loop, and a run started without a cadence adopts
 * the one stored on the integration's row. Runs recorded before it did neither.
 */
const DERIVED_POLL_FLOOR_PATCH = 'derived-poll-floor';

/** Patch id: narrowing the controls deletes the subscriptions of values no longer selected (T18). */
export const PRUNE_SUBSCRIPTIONS_PATCH = 'narrow-controls-prunes-subscriptions';

export async function integrationLifecycleWorkflow(input: LifecycleInput): Promise<void> {
  const ref = { workspaceId: input.workspaceId, integrationId: input.integrationId };
  const index = tagRun({ ...ref, vendor: input.vendor, process: 'lifecycle' });
  const runEventsBound = patched(SHORTER_RUNS_PATCH)
    ? HISTORY_EVENTS_BEFORE_CONTINUE
    : HISTORY_EVENTS_BEFORE_CONTINUE_UNPATCHED;
  // Handlers are registered before the first await: an update or query sent right after the start
  // (the API does that) would otherwise be rejected as unhandled.
  let descriptor: VendorDescriptor | undefined;
  /** Polling runs at the customer's cadence, or at the floor while a costlier sync has raised it above. */
  const pollEvery = () => Math.max(state.pollIntervalMs!, state.pollFloorMs ?? 0);

  const state: IntegrationState = {
    ...ref,
    vendor: input.vendor,
    status: input.carried?.status ?? 'connected',
    lastSync: input.carried?.lastSync,
    pendingSync: Boolean(input.carried?.pendingSync),
    subscriptions: [],
  };
  let pending: SyncRequest | undefined = input.carried?.pendingSync;
  let running: ChildWorkflowHandle<typeof syncWorkflow> | undefined;
  let nextPollAt: number | undefined;
  /** A new cadence arrived while the loop waited: the next poll is due at another time. */
  let cadenceChanged = false;
  let scheduleDirty = true;
  let tokenExpiresAt: number | undefined;
  let subscriptions: Array<{ externalId: string; resource: string; expiresAt?: number }> = [];
  const rotationDueAt: Partial<Record<RotationKind, number>> = { ...input.carried?.rotationDueAt };
  const rotationCadence = (kind: RotationKind) => input.rotationCadenceMs?.[kind] ?? ROTATION_CADENCE_MS[kind];
  let rotating: ChildWorkflowHandle<typeof rotateSecretWorkflow> | undefined;
  /** Set once the rotation schedule is known; a renewal can only have been requested after that. */
  let renewedByAdmin: (kind: RotationKind) => void = () => undefined;
  let rotateNowBy: AuditActor | undefined;
  const syncWorkflowId = workflowIds.sync(ref.workspaceId, ref.integrationId);
  let updatesThisRun = 0;

  /**
   * A vendor event that says the grant is lost, not yet written to the integration's row (the sync and
   * refresh paths write it themselves). Before the patch the event changed only this run's state and the
   * row stayed `connected`.
   */
  let vendorReauthorizationUnrecorded = false;

  /** The grant is lost (vendor event, refresh refused, sync refused): counted once per loss, for the ops alert. */
  const requireReauthorization = (cause: 'vendor-event' | 'token-refresh' | 'sync') => {
    if (state.status === 'connected')
      countWorkflowMetric('integrations_reauthorizations_required', { vendor: input.vendor, cause });
    state.status = 'reauthorization-required';
  };
  const request = (req: SyncRequest) => {
    pending = pending ? mergeSyncRequests(pending, req) : req;
    state.pendingSync = true;
  };
  setHandler(syncRequestedSignal, request);
  const joins = (req: SyncRequest) => running !== undefined && !req.full;
  setHandler(
    requestSyncUpdate,
    (req) => {
      updatesThisRun += 1;
      // Histories recorded before the validator existed hold accepted joins: replay them as they ran.
      const joined = joins(req);
      if (!joined) request(req);
      return { syncWorkflowId, joined, vendor: input.vendor };
    },
    {
      validator: (req) => {
        if (!joins(req)) return;
        const answer: SyncAnswer = { syncWorkflowId, joined: true, vendor: input.vendor };
        throw ApplicationFailure.create({
          type: SYNC_IN_FLIGHT_FAILURE,
          message: 'joined the sync in flight',
          nonRetryable: true,
          details: [answer],
        });
      },
    },
  );
  setHandler(setPollIntervalUpdate, async ({ pollIntervalMs }) => {
    updatesThisRun += 1;
    // As before the derived floor: the activity runs once the descriptor is read, in the same order.
    await condition(() => descriptor !== undefined);
    // The activity holds the cadence to the floor as the sync state has it now (the API checked it first).
    // Histories recorded when it returned nothing replay with the requested cadence.
    const applied = (await act.setPollInterval({ ...ref, pollIntervalMs })) ?? { pollIntervalMs };
    state.pollIntervalMs = applied.pollIntervalMs;
    state.pollFloorMs = applied.pollFloorMs ?? state.pollFloorMs;
    nextPollAt = Date.now() + pollEvery();
    // The loop may be waiting for a deadline set before this cadence: it waits again for the new one.
    // Runs recorded before the patch kept waiting.
    if (patched(DERIVED_POLL_FLOOR_PATCH)) cadenceChanged = true;
    return { pollIntervalMs: applied.pollIntervalMs, pollFloorMs: state.pollFloorMs };
  });
  setHandler(consentChangeUpdate, async (change) => {
    updatesThisRun += 1;
    await act.narrowConsent({ ...ref, actor: change.actor, scopes: change.scopes, controls: change.controls });
    // Before the patch, hooks of deselected values stayed at the vendor until the disconnect.
    if (change.controls && patched(PRUNE_SUBSCRIPTIONS_PATCH)) await act.pruneSubscriptions(ref);
    request({ reason: 'resync', full: true }); // the sweep removes what is now outside the consent
    return { accepted: true as const };
  });
  setHandler(vendorLifecycleSignal, ({ event }) => {
    if (event === 'reauthorizationRequired') {
      requireReauthorization('vendor-event');
      vendorReauthorizationUnrecorded = true;
    }
    if (event === RECONNECTED_EVENT) {
      state.status = 'connected';
      request({ reason: 'connect' });
      if (state.renewalRequested) renewedByAdmin(state.renewalRequested.kind);
    }
    if (event === 'subscriptionRemoved' || event === 'missed') request({ reason: 'resync', full: event === 'missed' });
    scheduleDirty = true;
  });
  setHandler(rotateNowSignal, ({ actor }) => {
    rotateNowBy = actor;
  });
  setHandler(integrationStateQuery, () => state);

  descriptor = await act.describeVendor(input.vendor);
  // An update that arrived meanwhile already set the cadence; it wins over the input's (which the API
  // checked against the floor at connect, or a previous run applied).
  if (state.pollIntervalMs === undefined && input.pollIntervalMs !== undefined) {
    state.pollIntervalMs = input.pollIntervalMs;
    nextPollAt = Date.now() + state.pollIntervalMs;
  }
  const kinds = rotatedKinds(descriptor);
  for (const kind of kinds) rotationDueAt[kind] ??= Date.now() + rotationCadence(kind);
  const showNextRotation = () => {
    state.nextRotationAt =
      kinds.length > 0 ? new Date(Math.min(...kinds.map((k) => rotationDueAt[k]!))).toISOString() : undefined;
  };
  showNextRotation();

  /** The admin's upload was tested and adopted (a reconnect): that is the rotation, and its cadence restarts. */
  renewedByAdmin = (kind: RotationKind) => {
    state.renewalRequested = undefined;
    state.lastRotation = { kind, status: 'rotated', at: new Date().toISOString() };
    rotationDueAt[kind] = Date.now() + rotationCadence(kind);
    showNextRotation();
  };

  const startRotation = async (kind: RotationKind, actor: AuditActor) => {
    rotating = await startChild(rotateSecretWorkflow, {
      workflowId: workflowIds.rotate(ref.workspaceId, ref.integrationId),
      args: [{ ...ref, vendor: input.vendor, kind, actor }],
      priority: runPriority(ref.workspaceId, 'rotate'),
      ...childSearchAttributes({ ...ref, vendor: input.vendor, process: 'rotate' }),
    });
    const finish = (status: RotateResult['status'], failure: string | undefined, nextInMs: number) => {
      state.lastRotation = { kind, status, failure, at: new Date().toISOString() };
      rotationDueAt[kind] = Date.now() + nextInMs;
      showNextRotation();
      rotating = undefined;
      scheduleDirty = true; // a rotated credential carries a new expiry
    };
    void rotating.result().then(
      (result) => {
        if (result.status !== 'renewal-requested') return finish(result.status, undefined, rotationCadence(kind));
        // The admin was asked for the new secret: shown until their upload is adopted, and asked again weekly.
        state.renewalRequested ??= { kind, since: new Date().toISOString() };
        finish(result.status, undefined, RENEWAL_REMINDER_MS);
      },
      (error) => {
        const type = failureType(error);
        finish(type === 'RotationTestFailed' ? 'test-failed' : 'failed', type, ROTATION_RETRY_AFTER_FAILURE_MS);
      },
    );
  };

  /** The last sync, for ops' filters (`SyncState`, `LastSyncCompletedAt`); the state query has the rest. */
  const showSync = (syncState: SyncStateValue, completedAt?: string) =>
    index.upsert([
      { key: SyncStateKey, value: syncState },
      ...(completedAt ? [{ key: LastSyncCompletedAtKey, value: new Date(completedAt) }] : []),
    ]);

  const startSync = async (req: SyncRequest) => {
    running = await startChild(syncWorkflow, {
      workflowId: syncWorkflowId,
      args: [{ ...ref, vendor: input.vendor, request: req }],
      // "Sync now" and the first sync go before scheduled polls; its activities inherit it.
      priority: syncPriority(ref.workspaceId, req.reason),
      ...childSearchAttributes({ ...ref, vendor: input.vendor, process: 'sync' }),
    });
    showSync('running');
    void running.result().then(
      (progress) => {
        state.lastSync = progress;
        running = undefined;
        showSync('completed', progress.finishedAt);
      },
      async (error) => {
        running = undefined;
        showSync('failed');
        if (failureType(error) === 'ReauthorizationRequired') {
          requireReauthorization('sync');
          await act.markReauthorizationRequired(ref);
        }
      },
    );
  };

  for (;;) {
    // Every change of status wakes the loop (signals set scheduleDirty, a failed sync clears running).
    index.upsert([{ key: IntegrationStatusKey, value: state.status }]);
    if (vendorReauthorizationUnrecorded) {
      vendorReauthorizationUnrecorded = false;
      // Runs recorded before this patch never wrote the row here; they replay without the activity.
      if (patched(PERSIST_VENDOR_REAUTHORIZATION_PATCH)) await act.markReauthorizationRequired(ref);
    }
    if (scheduleDirty) {
      const schedule = await act.lifecycleSchedule(ref);
      tokenExpiresAt = schedule.tokenExpiresAt;
      subscriptions = schedule.subscriptions;
      state.pollFloorMs = schedule.pollFloorMs ?? state.pollFloorMs;
      const storedCadence = state.pollIntervalMs === undefined ? schedule.pollIntervalMs : undefined;
      if (storedCadence !== undefined && patched(DERIVED_POLL_FLOOR_PATCH)) {
        state.pollIntervalMs = storedCadence;
        nextPollAt = Date.now() + pollEvery();
      }
      state.nextTokenRefreshAt = tokenExpiresAt
        ? new Date(tokenExpiresAt - TOKEN_REFRESH_MARGIN_MS).toISOString()
        : undefined;
      state.subscriptions = subscriptions.map((s) => ({
        resource: s.resource,
        expiresAt: s.expiresAt ? new Date(s.expiresAt).toISOString() : undefined,
      }));
      scheduleDirty = false;
    }
    const now = Date.now();
    const active = state.status === 'connected';
    // No refresh while a rotation runs: it issues fresh tokens itself, and two refreshes with one
    // refresh token fail at vendors that rotate refresh tokens.
    if (active && !rotating && tokenExpiresAt !== undefined && tokenExpiresAt - TOKEN_REFRESH_MARGIN_MS <= now) {
      try {
        await act.refreshTokens(ref);
      } catch (error) {
        if (failureType(error) !== 'ReauthorizationRequired') throw error;
        requireReauthorization('token-refresh');
        await act.markReauthorizationRequired(ref);
      }
      scheduleDirty = true;
      continue;
    }
    const dueSubscription = subscriptions.find(
      (s) => s.expiresAt !== undefined && s.expiresAt - SUBSCRIPTION_RENEWAL_MARGIN_MS <= now,
    );
    if (active && dueSubscription) {
      await act.renewSubscription({
        ...ref,
        externalId: dueSubscription.externalId,
        resource: dueSubscription.resource,
      });
      scheduleDirty = true;
      continue;
    }
    const dueKind = rotateNowBy ? kinds[0] : kinds.find((k) => rotationDueAt[k]! <= now);
    if (active && !rotating && dueKind) {
      await startRotation(dueKind, rotateNowBy ?? ROTATION_SCHEDULE_ACTOR);
      rotateNowBy = undefined;
    }
    if (active && nextPollAt !== undefined && nextPollAt <= now) {
      request({ reason: 'schedule' });
      nextPollAt = now + pollEvery();
    }
    // Between two syncs, before the next one starts: under steady "sync now" traffic a sync is
    // pending whenever the last one ends, and a run that waited for a moment with nothing pending
    // would never continue. The next run starts the pending sync first thing.
    const info = workflowInfo();
    const continueDue =
      info.continueAsNewSuggested ||
      info.historyLength > (input.continueAfterEvents ?? runEventsBound) ||
      updatesThisRun > UPDATES_BEFORE_CONTINUE;
    if (continueDue && !running && !rotating) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof integrationLifecycleWorkflow>({
        ...input,
        pollIntervalMs: state.pollIntervalMs,
        carried: { pendingSync: pending, lastSync: state.lastSync, status: state.status, rotationDueAt },
      });
    }
    if (active && pending && !running) {
      const req = pending;
      pending = undefined;
      state.pendingSync = false;
      await startSync(req);
    }
    const deadlines = [
      tokenExpiresAt !== undefined ? tokenExpiresAt - TOKEN_REFRESH_MARGIN_MS : undefined,
      ...subscriptions.map((s) =>
        s.expiresAt !== undefined ? s.expiresAt - SUBSCRIPTION_RENEWAL_MARGIN_MS : undefined,
      ),
      nextPollAt,
      ...(rotating ? [] : kinds.map((k) => rotationDueAt[k])),
    ].filter((t): t is number => t !== undefined);
    const wake = deadlines.length > 0 ? Math.max(1, Math.min(...deadlines) - Date.now()) : undefined;
    const runningAtWait = running;
    const rotatingAtWait = rotating;
    cadenceChanged = false;
    const wakeUp = () =>
      scheduleDirty ||
      cadenceChanged ||
      (pending !== undefined && !running) ||
      running !== runningAtWait ||
      rotating !== rotatingAtWait ||
      (rotateNowBy !== undefined && !rotating);
    if (wake === undefined || !active) await condition(wakeUp);
    else await condition(wakeUp, wake);
  }
}
