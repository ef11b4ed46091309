/**
 * Integration lifecycle on the time-skipping server with the memory connector and real Postgres:
 * sync coalescing, polling held to the derived floor (T12), token refresh and subscription
 * renewal before expiry at the real default margins, consent narrowing (T17).
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  consentChangeUpdate,
  integrationStateQuery,
  setPollIntervalUpdate,
  syncProgressQuery,
  workflowIds,
  type LifecycleInput,
} from '../../workflows/definitions';
import { requestSync } from '@trackproject/integrations-client/client';
import { SUBSCRIPTION_RENEWAL_MARGIN_MS, TOKEN_REFRESH_MARGIN_MS } from '../../workflows/lifecycle';
import { seedConnectedIntegration, type Harness } from './support/harness';
import { memoryDescriptor, MEMORY_VENDOR } from '../../dev/memoryConnector';
import { rowPollFloorMs } from '../../lib/pollFloor';
import { ADMIN, activityScheduleTimes, pollUntil, useTimeSkippingWorkers } from './support/workflowHelpers';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('integration lifecycle workflow (time-skipping server, real Postgres)', () => {
  let h: Harness;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let taskQueue: string;
  useTimeSkippingWorkers('lifecycle', (parts) => ({ h, env, worker, taskQueue } = parts));

  /** Runs `body` against a lifecycle of `ref`, terminating it afterwards (nothing may outlive the worker). */
  async function withLifecycle(
    ref: { workspaceId: string; integrationId: string },
    extra: Partial<LifecycleInput>,
    body: (handle: WorkflowHandle) => Promise<void>,
  ) {
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('integrationLifecycleWorkflow', {
        taskQueue,
        workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR, ...extra }],
      });
      try {
        await body(handle);
      } finally {
        await handle.terminate('test over');
      }
    });
  }

  it('coalesces: a second requestSync while a sync runs joins it (same sync workflow id, joined: true)', async () => {
    for (let i = 0; i < 20; i++) h.connector.upsert(`join-${i}`, 't');
    const ref = await seedConnectedIntegration(h);
    // The sync waits on a one-hour Retry-After: it stays running until the test skips time.
    h.connector.failures.push({ kind: 'rate-limit', retryAfterMs: HOUR });
    await withLifecycle(ref, {}, async (handle) => {
      const first = await requestSync(handle, { reason: 'admin' });
      expect(first).toEqual({
        syncWorkflowId: workflowIds.sync(ref.workspaceId, ref.integrationId),
        joined: false,
        vendor: MEMORY_VENDOR,
      });
      const sync = env.client.workflow.getHandle(first.syncWorkflowId);
      await pollUntil(
        () => sync.query(syncProgressQuery).catch(() => undefined),
        (p) => p?.state === 'waiting-rate-limit',
      );
      const runId = (await sync.describe()).runId;

      const second = await requestSync(handle, { reason: 'webhook' });
      expect(second).toEqual({ syncWorkflowId: first.syncWorkflowId, joined: true, vendor: MEMORY_VENDOR });
      expect((await handle.query(integrationStateQuery)).pendingSync).toBe(false);

      await env.sleep(HOUR + MINUTE);
      const state = await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.lastSync?.state === 'completed',
      );
      expect(state).toMatchObject({ pendingSync: false, lastSync: { rateLimitWaits: 1, recordsUpserted: 20 } });
      // Still the one run: the joined request started nothing.
      expect((await sync.describe()).runId).toBe(runId);
    });
  });

  it('T12: a cadence below the derived floor that reaches the lifecycle is raised to it, and scheduled syncs are never closer than the floor', async () => {
    h.connector.upsert('poll-1', 't');
    const ref = await seedConnectedIntegration(h);
    // Before any sync: one page per resource under the row's budget (here a one-minute window).
    const floor = rowPollFloorMs(memoryDescriptor, 0);
    await withLifecycle(ref, {}, async (handle) => {
      expect(
        await handle.executeUpdate(setPollIntervalUpdate, { args: [{ pollIntervalMs: 5_000, actor: ADMIN }] }),
      ).toEqual({ pollIntervalMs: floor, pollFloorMs: floor });
      expect(await handle.query(integrationStateQuery)).toMatchObject({ pollIntervalMs: floor, pollFloorMs: floor });
      expect(
        (await h.admin('integrations').where({ integration_id: ref.integrationId }).first()).poll_interval_ms,
      ).toBe(floor);

      await env.sleep(3 * floor + floor / 2);
      await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.lastSync?.state === 'completed' && !s.pendingSync,
      );
      const history = await handle.fetchHistory();
      const syncStarts = history
        .events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
        .map((e) => Number(e.eventTime!.seconds) * 1000);
      expect(syncStarts.length).toBe(3);
      for (let i = 1; i < syncStarts.length; i++)
        expect(syncStarts[i]! - syncStarts[i - 1]!).toBeGreaterThanOrEqual(floor - 1_000);
    });
  });

  it('refreshes the access token before it expires (real 5-minute margin), one refresh per token lifetime', async () => {
    const t0 = await env.currentTimeMs();
    const ref = await seedConnectedIntegration(h, {
      accessToken: 'expiring',
      refreshToken: 'r',
      grantedScopes: ['repo:read'],
      expiresAt: t0 + HOUR,
    });
    const refreshesBefore = h.connector.refreshCalls;
    await withLifecycle(ref, {}, async (handle) => {
      await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.nextTokenRefreshAt !== undefined,
      );
      expect(Date.parse((await handle.query(integrationStateQuery)).nextTokenRefreshAt!)).toBe(
        t0 + HOUR - TOKEN_REFRESH_MARGIN_MS,
      );
      await env.sleep(2 * HOUR + 30 * MINUTE);
      const state = await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => Date.parse(s.nextTokenRefreshAt!) === t0 + 3 * HOUR - TOKEN_REFRESH_MARGIN_MS,
      );
      expect(state.status).toBe('connected');
      const refreshedAt = activityScheduleTimes(await handle.fetchHistory(), 'refreshTokens');
      expect(refreshedAt).toHaveLength(2);
      expect(h.connector.refreshCalls - refreshesBefore).toBe(2);
      refreshedAt.forEach((at, i) => {
        const expiry = t0 + (i + 1) * HOUR;
        expect(at).toBeGreaterThanOrEqual(expiry - TOKEN_REFRESH_MARGIN_MS);
        expect(at).toBeLessThan(expiry);
      });
    });
    const tokens = await h
      .admin('secrets')
      .where({ integration_id: ref.integrationId, kind: 'oauth-tokens' })
      .orderBy('version');
    expect(tokens.map((t) => t.state)).toEqual(['retired', 'retired', 'current']);
  });

  it('renews vendor subscriptions before they expire (Graph ~29 days, Jira 30 days) at the real 1-hour margin', async () => {
    const t0 = await env.currentTimeMs();
    const ref = await seedConnectedIntegration(h);
    const lifetimes = { 'graph-sub': 29 * DAY, 'jira-sub': 30 * DAY };
    for (const [externalId, lifetimeMs] of Object.entries(lifetimes)) {
      h.connector.subscriptions.set(externalId, { expiresAt: t0 + lifetimeMs, lifetimeMs, renewals: 0 });
      await h.admin('vendor_subscriptions').insert({
        ...{ workspace_id: ref.workspaceId, integration_id: ref.integrationId },
        external_id: externalId,
        resource: 'issues',
        expires_at: new Date(t0 + lifetimeMs),
      });
    }
    await withLifecycle(ref, {}, async (handle) => {
      await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.subscriptions.length === 2,
      );
      await env.sleep(31 * DAY);
      await pollUntil(
        async () => h.connector.subscriptions.get('jira-sub')!.renewals,
        (n) => n === 1,
      );
      const renewedAt = activityScheduleTimes(await handle.fetchHistory(), 'renewSubscription');
      expect(renewedAt).toHaveLength(2);
      const expiries = Object.values(lifetimes).map((l) => t0 + l);
      renewedAt.forEach((at, i) => {
        expect(at).toBeGreaterThanOrEqual(expiries[i]! - SUBSCRIPTION_RENEWAL_MARGIN_MS);
        expect(at).toBeLessThan(expiries[i]!);
      });
    });
    const rows = await h
      .admin('vendor_subscriptions')
      .where({ integration_id: ref.integrationId })
      .orderBy('external_id');
    expect(rows.map((r) => new Date(r.expires_at).getTime())).toEqual([
      t0 + 2 * lifetimes['graph-sub'],
      t0 + 2 * lifetimes['jira-sub'],
    ]);
    expect(rows.every((r) => r.renewed_at instanceof Date)).toBe(true);
  });

  it('T17: narrowing consent records "narrowed", drops cached data outside it and resyncs; widening is refused', async () => {
    const ref = await seedConnectedIntegration(h);
    await h
      .admin('integrations')
      .where({ integration_id: ref.integrationId })
      .update({ controls: JSON.stringify({ repos: ['org/a', 'org/b'] }) });
    const cached = (resource: string, id: string) => ({
      ...{ workspace_id: ref.workspaceId, integration_id: ref.integrationId },
      resource,
      external_id: id,
      payload: {},
      expires_at: new Date(Date.now() + DAY),
    });
    await h
      .admin('cached_records')
      .insert([cached('repo:org/a', 'a-1'), cached('repo:org/b', 'b-1'), cached('repo:org/b', 'b-2')]);
    await withLifecycle(ref, {}, async (handle) => {
      expect(
        await handle.executeUpdate(consentChangeUpdate, {
          args: [{ actor: ADMIN, scopes: ['repo:read'], controls: { repos: ['org/a'] } }],
        }),
      ).toEqual({ accepted: true });
      await expect(
        handle.executeUpdate(consentChangeUpdate, {
          args: [{ actor: ADMIN, controls: { repos: ['org/a', 'org/c'] } }],
        }),
      ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(
        handle.executeUpdate(consentChangeUpdate, { args: [{ actor: ADMIN, scopes: ['repo:read', 'issues:write'] }] }),
      ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await pollUntil(
        () => handle.query(integrationStateQuery),
        (s) => s.lastSync?.state === 'completed',
      );
    });
    const events = await h.admin('consent_events').where({ integration_id: ref.integrationId });
    expect(events).toEqual([
      expect.objectContaining({
        action: 'narrowed',
        actor_id: ADMIN.id,
        scopes: ['repo:read'],
        controls: { repos: ['org/a'] },
      }),
    ]);
    const left = await h
      .admin('cached_records')
      .where({ integration_id: ref.integrationId })
      .whereLike('resource', 'repo:%')
      .pluck('external_id');
    expect(left).toEqual(['a-1']);
    const integration = await h.admin('integrations').where({ integration_id: ref.integrationId }).first();
    expect(integration.controls).toEqual({ repos: ['org/a'] });
  });
});
