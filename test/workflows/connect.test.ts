/**
 * Connect workflow on the time-skipping server with the memory connector and real Postgres:
 * consent through the OAuth callback Update (T2), state checks, broader grants refused and
 * revoked (T1), and the consent timeout compensating without orphans.
 */
import crypto from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { integrationStateQuery, oauthCallbackUpdate, workflowIds } from '../../workflows/definitions';
import { CONSENT_TIMEOUT_MS } from '../../workflows/connect';
import { cachedIds, type Harness } from './support/harness';
import {
  ADMIN,
  pollUntil,
  seedWorkspace,
  settleAndStopLifecycle,
  startConnect,
  useTimeSkippingWorkers,
} from './support/workflowHelpers';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';

describe('connect workflow (time-skipping server, real Postgres)', () => {
  let h: Harness;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let taskQueue: string;
  useTimeSkippingWorkers('connect', (parts) => ({ h, env, worker, taskQueue } = parts));

  const noOrphans = async (integrationId: string) => {
    const secrets = await h.admin('secrets').where({ integration_id: integrationId });
    expect(secrets.filter((s) => s.state !== 'destroyed' || s.ciphertext !== null)).toEqual([]);
    expect(await h.admin('oauth_states').where({ integration_id: integrationId })).toEqual([]);
    expect(await h.admin('vendor_subscriptions').where({ integration_id: integrationId })).toEqual([]);
  };

  it('T2 T5: the authorize URL carries state + S256 challenge; the right callback connects, records consent with the actor and starts the lifecycle', async () => {
    for (let i = 0; i < 30; i++) h.connector.upsert(`connect-${i}`, 't');
    const workspaceId = await seedWorkspace(h);
    await worker.runUntil(async () => {
      const { handle, integrationId, state, authorizeUrl } = await startConnect(env.client, taskQueue, { workspaceId });
      expect(authorizeUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'auth-code' }] })).toEqual({
        accepted: true,
      });
      const result = await handle.result();
      expect(result).toEqual({
        status: 'connected',
        lifecycleWorkflowId: workflowIds.lifecycle(workspaceId, integrationId),
        grantedScopes: ['repo:read'],
      });

      const integration = await h.admin('integrations').where({ integration_id: integrationId }).first();
      expect(integration).toMatchObject({ status: 'connected', granted_scopes: ['repo:read'], connected_by: ADMIN.id });
      const consent = await h.admin('consent_events').where({ integration_id: integrationId });
      expect(consent).toEqual([
        expect.objectContaining({ action: 'granted', actor_type: 'user', actor_id: ADMIN.id, scopes: ['repo:read'] }),
      ]);
      const tokens = await h
        .admin('secrets')
        .where({ integration_id: integrationId, kind: 'oauth-tokens', state: 'current' });
      expect(tokens).toHaveLength(1);
      // The verifier was single-use: retired after the exchange.
      expect(
        await h.admin('secrets').where({ integration_id: integrationId, kind: 'pkce-verifier', state: 'current' }),
      ).toEqual([]);

      // The lifecycle's first sync (reason 'connect') fills the cache.
      await settleAndStopLifecycle(env.client, workspaceId, integrationId);
      expect((await cachedIds(h, integrationId)).filter((id) => id.startsWith('connect-'))).toHaveLength(30);
    });
  });

  it('T12: a cadence chosen at connect is stored on the integration and the lifecycle starts polling at it', async () => {
    const workspaceId = await seedWorkspace(h);
    const cadence = 5 * 60_000;
    await worker.runUntil(async () => {
      const { handle, integrationId, state } = await startConnect(env.client, taskQueue, {
        workspaceId,
        pollIntervalMs: cadence,
      });
      await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'auth-code' }] });
      expect(await handle.result()).toMatchObject({ status: 'connected' });
      const lifecycle = env.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
      try {
        const integration = await h.admin('integrations').where({ integration_id: integrationId }).first();
        expect(integration.poll_interval_ms).toBe(cadence);
        // The lifecycle takes its input's cadence once it has read its vendor row.
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.pollIntervalMs === cadence,
        );
        await settleAndStopLifecycle(env.client, workspaceId, integrationId);
      } finally {
        // Never left running: a lifecycle would hold the time-skipping clock for the tests after it.
        await lifecycle.terminate('test over').catch(() => undefined);
      }
    });
  });

  it('T2: the state is stored bound to the initiator, and the ledger records who completed the consent as the API verified it', async () => {
    const workspaceId = await seedWorkspace(h);
    const consenter = { type: 'user' as const, id: 'admin-who-consented' };
    await worker.runUntil(async () => {
      const { handle, integrationId, state } = await startConnect(env.client, taskQueue, { workspaceId });
      const stored = await h.admin('oauth_states').where({ integration_id: integrationId });
      expect(stored.map((row) => [row.initiator_type, row.initiator_id])).toEqual([[ADMIN.type, ADMIN.id]]);
      await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'auth-code', consentedBy: consenter }] });
      expect(await handle.result()).toMatchObject({ status: 'connected' });
      const consent = await h.admin('consent_events').where({ integration_id: integrationId });
      expect(consent.map((row) => [row.action, row.actor_type, row.actor_id])).toEqual([
        ['granted', consenter.type, consenter.id],
      ]);
      expect(await h.admin('integrations').where({ integration_id: integrationId }).first()).toMatchObject({
        connected_by: consenter.id,
      });
      await settleAndStopLifecycle(env.client, workspaceId, integrationId);
    });
  });

  it('T1: a wrong or foreign state is rejected by the callback Update; a used state cannot be replayed', async () => {
    const workspaceId = await seedWorkspace(h);
    await worker.runUntil(async () => {
      const { handle, integrationId, state } = await startConnect(env.client, taskQueue, { workspaceId });
      const other = await startConnect(env.client, taskQueue, { workspaceId });

      await expect(
        handle.executeUpdate(oauthCallbackUpdate, { args: [{ state: 'forged', code: 'x' }] }),
      ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      // A genuine state of ANOTHER integration is bound to that one: refused here, still usable there.
      await expect(
        handle.executeUpdate(oauthCallbackUpdate, { args: [{ state: other.state, code: 'x' }] }),
      ).rejects.toThrow(WorkflowUpdateFailedError);
      expect(await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'good' }] })).toEqual({
        accepted: true,
      });
      expect((await handle.result()).status).toBe('connected');
      // Consumed: even this integration's own state cannot be replayed (the run has moved on, and the row is used).
      const used = await h.admin('oauth_states').where({ integration_id: integrationId }).first();
      expect(used.consumed_at).toBeInstanceOf(Date);
      expect(await h.activities.consumeOAuthState({ workspaceId, integrationId, state })).toEqual({ valid: false });

      expect(
        await other.handle.executeUpdate(oauthCallbackUpdate, { args: [{ state: other.state, code: 'x' }] }),
      ).toEqual({ accepted: true });
      expect((await other.handle.result()).status).toBe('connected');
      for (const id of [integrationId, other.integrationId]) await settleAndStopLifecycle(env.client, workspaceId, id);
    });
  });

  it('T1: a grant broader than requested is refused, revoked at the vendor and compensated without orphans', async () => {
    const workspaceId = await seedWorkspace(h);
    const broaderAccess = `broad-${crypto.randomUUID()}`;
    h.connector.nextTokens = {
      accessToken: broaderAccess,
      refreshToken: 'r',
      grantedScopes: ['repo:read', 'issues:write'],
    };
    try {
      await worker.runUntil(async () => {
        const { handle, integrationId, state } = await startConnect(env.client, taskQueue, { workspaceId });
        await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'c' }] });
        expect(await handle.result()).toEqual({ status: 'failed', failure: 'GrantBroaderThanRequested' });
        expect(h.connector.revokedTokens).toContain(broaderAccess);
        const integration = await h.admin('integrations').where({ integration_id: integrationId }).first();
        expect(integration.status).toBe('failed');
        expect(await h.admin('consent_events').where({ integration_id: integrationId })).toEqual([]);
        await noOrphans(integrationId);
        const audit = await h
          .admin('audit_log')
          .where({ integration_id: integrationId, action: 'integration.connect' })
          .first();
        expect(audit).toMatchObject({ outcome: 'failure', error_class: 'GrantBroaderThanRequested' });
      });
    } finally {
      h.connector.nextTokens = {
        accessToken: 'memory-access',
        refreshToken: 'memory-refresh',
        grantedScopes: ['repo:read'],
      };
    }
  });

  it('T1: scopes outside the vendor matrix fail before anything is stored', async () => {
    const workspaceId = await seedWorkspace(h);
    await worker.runUntil(async () => {
      const integrationId = crypto.randomUUID();
      const result = await env.client.workflow.execute('connectWorkflow', {
        taskQueue,
        workflowId: workflowIds.connect(workspaceId, integrationId),
        args: [
          {
            workspaceId,
            integrationId,
            vendor: 'github',
            requestedScopes: ['repo:read', 'admin:org'],
            controls: {},
            redirectUri: 'https://app.test/cb',
            actor: ADMIN,
          },
        ],
      });
      expect(result).toMatchObject({ status: 'failed', failure: expect.stringContaining('admin:org') });
      expect(await h.admin('integrations').where({ integration_id: integrationId })).toEqual([]);
    });
  });

  it('no orphans: an unanswered consent expires after the real 15-minute timeout and compensation leaves no secret, state or subscription', async () => {
    const workspaceId = await seedWorkspace(h);
    await worker.runUntil(async () => {
      const { handle, integrationId } = await startConnect(env.client, taskQueue, { workspaceId });
      expect(await h.admin('secrets').where({ integration_id: integrationId, kind: 'pkce-verifier' })).toHaveLength(1);
      expect(await h.admin('oauth_states').where({ integration_id: integrationId })).toHaveLength(1);
      expect(await handle.result()).toEqual({ status: 'expired' });
      const history = await handle.fetchHistory();
      const timer = history.events!.find((e) => e.timerStartedEventAttributes)!;
      expect(Number(timer.timerStartedEventAttributes!.startToFireTimeout!.seconds) * 1000).toBe(CONSENT_TIMEOUT_MS);
      expect((await h.admin('integrations').where({ integration_id: integrationId }).first()).status).toBe('failed');
      await noOrphans(integrationId);
      await expect(
        handle.executeUpdate(oauthCallbackUpdate, { args: [{ state: 'late', code: 'c' }] }),
      ).rejects.toThrow();
    });
  });

  it('T17: a reconnect re-consents a live integration without tearing it down; a reconnect that fails or expires changes nothing', async () => {
    const workspaceId = await seedWorkspace(h);
    await worker.runUntil(async () => {
      const first = await startConnect(env.client, taskQueue, { workspaceId });
      await first.handle.executeUpdate(oauthCallbackUpdate, { args: [{ state: first.state, code: 'first' }] });
      expect((await first.handle.result()).status).toBe('connected');
      const { integrationId } = first;
      const lifecycle = env.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
      const lifecycleRunId = (await lifecycle.describe()).runId;
      const firstSync = await pollUntil(
        () => lifecycle.query(integrationStateQuery),
        (st) => st.lastSync?.state === 'completed',
      );
      const currentTokens = () =>
        h.admin('secrets').where({ integration_id: integrationId, kind: 'oauth-tokens', state: 'current' });
      const [before] = await currentTokens();

      // Re-consent while the lifecycle runs: new tokens become current, the old ones previous, and
      // the running lifecycle (same run) is told instead of a second one being started.
      h.connector.nextTokens = {
        accessToken: 'reconnected-access',
        refreshToken: 'reconnected-refresh',
        grantedScopes: ['repo:read'],
      };
      const again = await startConnect(env.client, taskQueue, { workspaceId, integrationId, reconnect: true });
      await again.handle.executeUpdate(oauthCallbackUpdate, { args: [{ state: again.state, code: 'second' }] });
      expect(await again.handle.result()).toMatchObject({
        status: 'connected',
        lifecycleWorkflowId: lifecycle.workflowId,
      });
      const [after] = await currentTokens();
      expect(after.secret_id).not.toBe(before.secret_id);
      expect((await h.secrets.read(workspaceId, after.secret_id)).toString()).toContain('reconnected-access');
      expect((await h.admin('secrets').where({ secret_id: before.secret_id }).first()).state).toBe('previous');
      expect(
        (await h.admin('consent_events').where({ integration_id: integrationId }).orderBy('id')).map((e) => e.action),
      ).toEqual(['granted', 'reauthorized']);
      expect((await lifecycle.describe()).runId).toBe(lifecycleRunId);
      const signals = (await lifecycle.fetchHistory()).events!.flatMap((e) =>
        e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.signalName] : [],
      );
      expect(signals).toEqual(['vendorLifecycle']);
      // The lifecycle resumes: it runs the sync the reconnect asked for. Stopped only once idle (an
      // activity cut off by a terminate would hold the time-skipping server's clock).
      await pollUntil(
        () => lifecycle.query(integrationStateQuery),
        (st) =>
          st.status === 'connected' && !st.pendingSync && st.lastSync?.finishedAt !== firstSync.lastSync?.finishedAt,
      );
      await lifecycle.terminate('test over');

      // A reconnect nobody completes expires after the real 15 minutes and leaves the integration as it was.
      const expired = await startConnect(env.client, taskQueue, { workspaceId, integrationId, reconnect: true });
      expect(await expired.handle.result()).toEqual({ status: 'expired' });
      const [still] = await currentTokens();
      expect(still.secret_id).toBe(after.secret_id);
      expect((await h.admin('integrations').where({ integration_id: integrationId }).first()).status).toBe('connected');
      expect(await h.admin('secrets').where({ integration_id: integrationId, state: 'destroyed' })).toEqual([]);
      expect(await h.admin('oauth_states').where({ integration_id: integrationId }).whereNull('consumed_at')).toEqual(
        [],
      );
    });
  });
});
