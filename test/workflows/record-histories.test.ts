/**
 * Records the replay fixtures from short real runs (real Postgres, real activities; the time-skipping
 * server where the run waits on timers, the dev server otherwise), without the payload codec so
 * replay needs no key. Skipped unless asked for:
 *
 *   RECORD_HISTORIES=connect,rotate [RECORD_HISTORIES_LABEL=<what changed>] npm run record:histories
 *
 * (`all` records every scenario). A fixture is never overwritten (`dev/historyFixtures.ts`): after a
 * workflow change, record its new shape with a label; the old fixture stays and keeps replaying.
 */
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { githubDescriptor } from '../../activities/vendors/github';
import {
  MEMORY_VENDOR,
  MemoryConnector,
  memoryDescriptor,
  memorySubscribingDescriptor,
} from '../../dev/memoryConnector';
import { historyToJson } from '../../dev/historyJson';
import { labelled, saveFixture } from '../../dev/historyFixtures';
import { requestSync } from '@trackproject/integrations-client/client';
import { rowPollFloorMs } from '../../lib/pollFloor';
import {
  integrationStateQuery,
  oauthCallbackUpdate,
  setPollIntervalUpdate,
  workflowIds,
} from '../../workflows/definitions';
import { devServer, ownTimeSkippingEnv, testWorker, uniqueTaskQueue } from '../support/temporal';
import { startGithubHarness } from '../vendors/github/harness';
import { createHarness, createVendorHarness, seedConnectedIntegration, type VendorHarness } from './support/harness';
import { ADMIN, pollUntil, seedWorkspace, settleAndStopLifecycle, startConnect } from './support/workflowHelpers';

const wanted = new Set((process.env.RECORD_HISTORIES ?? '').split(',').filter(Boolean));
const recordIt = (scenario: string, title: string, body: () => Promise<void>) =>
  (wanted.has('all') || wanted.has(scenario) ? it : it.skip)(`${scenario}: ${title}`, body, 180_000);

async function save(client: Client, name: string, workflowId: string, runId?: string): Promise<void> {
  saveFixture(labelled(name), historyToJson(await client.workflow.getHandle(workflowId, runId).fetchHistory()));
}

/**
 * A worker of the memory vendor on a time-skipping server of its own, for runs that wait on durable
 * timers: recorded runs are terminated mid-life, which must not hold the shared server's clock.
 */
async function onTimeSkipping(
  prefix: string,
  body: (parts: {
    h: ReturnType<typeof createHarness>;
    env: TestWorkflowEnvironment;
    client: Client;
    taskQueue: string;
    worker: Worker;
  }) => Promise<void>,
) {
  const h = createHarness(new MemoryConnector(2));
  const env = await ownTimeSkippingEnv();
  const taskQueue = uniqueTaskQueue(prefix);
  const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
  try {
    await worker.runUntil(() => body({ h, env, client: env.client, taskQueue, worker }));
  } finally {
    await env.teardown();
    await h.close();
  }
}

/** A worker of the given harness on the dev server (real time), for runs with no long timer. */
async function onDevServer(
  h: VendorHarness,
  prefix: string,
  body: (client: Client, taskQueue: string) => Promise<void>,
) {
  const server = await devServer();
  const taskQueue = uniqueTaskQueue(prefix);
  const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
  try {
    await worker.runUntil(() => body(server.client, taskQueue));
  } finally {
    await server.close();
  }
}

/** A disconnect with its purge (a one-minute delay, skipped by the time-skipping server). */
async function recordDisconnect(
  client: Client,
  taskQueue: string,
  ref: { workspaceId: string; integrationId: string },
) {
  const disconnectId = workflowIds.disconnect(ref.workspaceId, ref.integrationId);
  await client.workflow.execute('disconnectWorkflow', {
    taskQueue,
    workflowId: disconnectId,
    args: [{ ...ref, actor: { type: 'user', id: 'admin-1' }, purgeDelayMs: 60_000 }],
  });
  await save(client, 'disconnectWorkflow', disconnectId);
}

describe('record replay fixtures (RECORD_HISTORIES=<scenario,…|all>)', () => {
  recordIt('sync', 'sync (rate-limit wait + 410 resync), disconnect (with purge) and the cache sweep', () =>
    onTimeSkipping('record-sync', async ({ h, client, taskQueue }) => {
      for (let i = 0; i < 3; i++) h.connector.upsert(`issue-${i}`, 't');
      const ref = await seedConnectedIntegration(h);
      const syncId = `${workflowIds.sync(ref.workspaceId, ref.integrationId)}/${crypto.randomUUID()}`;
      h.connector.failures.push({ kind: 'rate-limit', retryAfterMs: 30_000 });
      await client.workflow.execute('syncWorkflow', {
        taskQueue,
        workflowId: syncId,
        args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } }],
      });
      h.connector.upsert('issue-9', 'new');
      h.connector.failures.push({ kind: 'cursor-expired' });
      const resyncId = `${syncId}-resync`;
      await client.workflow.execute('syncWorkflow', {
        taskQueue,
        workflowId: resyncId,
        args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'resync' } }],
      });
      await save(client, 'syncWorkflow', syncId);
      await save(client, 'syncWorkflow-resync', resyncId);
      await recordDisconnect(client, taskQueue, ref);
      const sweepId = `maintenance/${crypto.randomUUID()}`;
      await client.workflow.execute('cacheSweepWorkflow', { taskQueue, workflowId: sweepId });
      await save(client, 'cacheSweepWorkflow', sweepId);
    }),
  );

  recordIt('disconnect', 'disconnect (with purge) alone', () =>
    onTimeSkipping('record-disconnect', async ({ h, client, taskQueue }) => {
      await recordDisconnect(client, taskQueue, await seedConnectedIntegration(h));
    }),
  );

  recordIt(
    'lifecycle',
    'a lifecycle run with syncs started by Updates and joins rejected by their validator, ending in continue-as-new',
    () =>
      onTimeSkipping('record-lifecycle', async ({ h, client, taskQueue }) => {
        for (let i = 0; i < 3; i++) h.connector.upsert(`issue-${i}`, 't');
        const ref = await seedConnectedIntegration(h);
        const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
        const started = await client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId,
          args: [{ ...ref, vendor: MEMORY_VENDOR, continueAfterEvents: 40 }],
        });
        const lifecycle = client.workflow.getHandle(workflowId);
        while ((await lifecycle.describe()).runId === started.firstExecutionRunId) {
          // Two at once: the second joins the sync the first started (a validator rejection, not in the history).
          await Promise.all([1, 2].map(() => requestSync(lifecycle, { reason: 'admin' })));
          await pollUntil(
            () => lifecycle.query(integrationStateQuery),
            (state) => !state.pendingSync && state.lastSync?.state === 'completed',
          );
        }
        await save(client, 'integrationLifecycleWorkflow', workflowId, started.firstExecutionRunId);
        await lifecycle.terminate('recorded');
      }),
  );

  recordIt(
    'schedule',
    'a lifecycle run that adopts the stored cadence, then polls at the one an Update sets (derived-poll-floor patch)',
    () =>
      onTimeSkipping('record-schedule', async ({ h, env, client, taskQueue }) => {
        h.connector.upsert('issue-1', 't');
        const ref = await seedConnectedIntegration(h);
        const cadence = rowPollFloorMs(memoryDescriptor, 0);
        await h
          .admin('integrations')
          .where({ integration_id: ref.integrationId })
          .update({ poll_interval_ms: 3 * cadence });
        const workflowId = workflowIds.lifecycle(ref.workspaceId, ref.integrationId);
        const lifecycle = await client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId,
          args: [{ ...ref, vendor: MEMORY_VENDOR }],
        });
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (state) => state.pollIntervalMs === 3 * cadence,
        );
        await lifecycle.executeUpdate(setPollIntervalUpdate, { args: [{ pollIntervalMs: cadence, actor: ADMIN }] });
        await env.sleep(2 * cadence + cadence / 2);
        const state = await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => !s.pendingSync && s.lastSync?.state === 'completed',
        );
        if (state.pollIntervalMs !== cadence) throw new Error(`cadence not applied: ${JSON.stringify(state)}`);
        await save(client, 'integrationLifecycleWorkflow', workflowId);
        await lifecycle.terminate('recorded');
      }),
  );

  recordIt('connect', 'a connect run: consent through the callback Update, exchange, webhooks, lifecycle started', () =>
    onTimeSkipping('record-connect', async ({ h, client, taskQueue }) => {
      h.connector.upsert('issue-1', 't');
      const workspaceId = await seedWorkspace(h);
      const { handle, integrationId, state } = await startConnect(client, taskQueue, { workspaceId });
      await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'auth-code', consentedBy: ADMIN }] });
      expect(await handle.result()).toMatchObject({ status: 'connected' });
      await settleAndStopLifecycle(client, workspaceId, integrationId);
      await save(client, 'connectWorkflow', handle.workflowId);
    }),
  );

  recordIt(
    'connect-compensated',
    'a connect that fails after registering a webhook subscription (its lifecycle id is taken) and compensates',
    async () => {
      const connector = new MemoryConnector();
      connector.subscriptionsOnRegister = [{ externalId: 'channel-1', resource: 'issues' }];
      const h = createVendorHarness([{ descriptor: memorySubscribingDescriptor, connector }]);
      try {
        const workspaceId = await seedWorkspace(h);
        const integrationId = crypto.randomUUID();
        await onDevServer(h, 'record-connect-compensated', async (client, taskQueue) => {
          const occupant = await client.workflow.start('sleepThenWakeWorkflow', {
            taskQueue,
            workflowId: workflowIds.lifecycle(workspaceId, integrationId),
            args: ['lifecycle id taken', 60 * 60_000],
          });
          try {
            const { handle, state } = await startConnect(client, taskQueue, { workspaceId, integrationId });
            await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'c', consentedBy: ADMIN }] });
            expect(await handle.result()).toMatchObject({ status: 'failed' });
            await save(client, 'connectWorkflow-compensated', handle.workflowId);
          } finally {
            await occupant.terminate('recorded');
          }
        });
      } finally {
        await h.close();
      }
    },
  );

  recordIt(
    'rotate',
    'an OAuth token rotation: prepared, tested, promoted, previous retired after the grace period',
    () =>
      onTimeSkipping('record-rotate', async ({ h, client, taskQueue }) => {
        const ref = await seedConnectedIntegration(h);
        const workflowId = workflowIds.rotate(ref.workspaceId, ref.integrationId);
        expect(
          await client.workflow.execute('rotateSecretWorkflow', {
            taskQueue,
            workflowId,
            args: [{ ...ref, vendor: MEMORY_VENDOR, kind: 'oauth-tokens', actor: ADMIN }],
          }),
        ).toMatchObject({ status: 'rotated' });
        await save(client, 'rotateSecretWorkflow', workflowId);
      }),
  );

  recordIt(
    'rotate-renewal',
    'a service-account rotation: the vendor has no key API, so the admin is asked for the new credential',
    () =>
      onTimeSkipping('record-rotate-renewal', async ({ h, client, taskQueue }) => {
        const ref = await seedConnectedIntegration(h);
        await h.secrets.put({ ...ref, kind: 'service-account', state: 'current', plaintext: 'sa-key' });
        const workflowId = workflowIds.rotate(ref.workspaceId, ref.integrationId);
        expect(
          await client.workflow.execute('rotateSecretWorkflow', {
            taskQueue,
            workflowId,
            args: [{ ...ref, vendor: MEMORY_VENDOR, kind: 'service-account', actor: ADMIN }],
          }),
        ).toEqual({ status: 'renewal-requested' });
        await save(client, 'rotateSecretWorkflow-renewal-requested', workflowId);
      }),
  );

  recordIt('workspace-delete', 'a workspace deletion: two integrations disconnected and purged, metadata removed', () =>
    onTimeSkipping('record-workspace', async ({ h, client, taskQueue }) => {
      const first = await seedConnectedIntegration(h);
      const second = { workspaceId: first.workspaceId, integrationId: crypto.randomUUID() };
      await h.admin('integrations').insert({
        ...ids(second),
        vendor: MEMORY_VENDOR,
        status: 'connected',
        requested_scopes: ['repo:read'],
        granted_scopes: ['repo:read'],
      });
      await h.secrets.put({
        ...second,
        kind: 'oauth-tokens',
        state: 'current',
        plaintext: JSON.stringify({ accessToken: 'second-access', grantedScopes: ['repo:read'] }),
      });
      const workflowId = workflowIds.workspaceDelete(first.workspaceId);
      const result = await client.workflow.execute('deleteWorkspaceWorkflow', {
        taskQueue,
        workflowId,
        args: [{ workspaceId: first.workspaceId, actor: ADMIN, purgeDelayMs: 60_000 }],
      });
      expect(result.integrationsRemoved).toBe(2);
      await save(client, 'deleteWorkspaceWorkflow', workflowId);
    }),
  );

  recordIt(
    'vendor-action',
    'a data-out action refused once by a 429, waited out and performed (GitHub emulator)',
    async () => {
      const github = await startGithubHarness();
      const h = createVendorHarness([{ descriptor: githubDescriptor, connector: github.connector }]);
      try {
        const workspaceId = await seedWorkspace(h);
        const integrationId = crypto.randomUUID();
        await h.admin('integrations').insert({
          integration_id: integrationId,
          workspace_id: workspaceId,
          vendor: 'github',
          status: 'connected',
          requested_scopes: [...githubDescriptor.scopes.required],
          granted_scopes: [...githubDescriptor.scopes.required],
          controls: JSON.stringify({ repos: ['acme/site-a'] }),
          connected_by: ADMIN.id,
          connected_at: new Date(),
        });
        await h.secrets.put({
          workspaceId,
          integrationId,
          kind: 'oauth-tokens',
          state: 'current',
          plaintext: JSON.stringify(await github.connect()),
        });
        await onDevServer(h, 'record-action', async (client, taskQueue) => {
          github.emulator.control.startRateLimitStorm(1, { status: 429, retryAfterSeconds: 1 });
          const workflowId = workflowIds.action(workspaceId, integrationId, crypto.randomUUID());
          await client.workflow.execute('vendorActionWorkflow', {
            taskQueue,
            workflowId,
            args: [
              {
                workspaceId,
                integrationId,
                vendor: 'github',
                action: 'create-issue',
                input: { repository: 'acme/site-a', title: 'recorded issue' },
                actor: ADMIN,
              },
            ],
          });
          await save(client, 'vendorActionWorkflow', workflowId);
        });
      } finally {
        await h.close();
        await github.emulator.stop();
      }
    },
  );

  recordIt(
    'webhook-catch-up',
    'a catch-up run: two running lifecycles signalled, one stopped integration marked',
    async () => {
      const h = createHarness(new MemoryConnector(2));
      try {
        const refs = [
          await seedConnectedIntegration(h),
          await seedConnectedIntegration(h),
          await seedConnectedIntegration(h),
        ];
        for (const ref of refs) {
          const endpointId = crypto.randomUUID();
          await h.admin('webhook_endpoints').insert({ endpoint_id: endpointId, ...ids(ref), vendor: MEMORY_VENDOR });
          await h.admin('webhook_deliveries').insert({
            ...ids(ref),
            endpoint_id: endpointId,
            delivery_id: crypto.randomUUID(),
            vendor: MEMORY_VENDOR,
            event_type: 'issues.opened',
            received_at: new Date(Date.now() - 10 * 60_000),
            expires_at: new Date(Date.now() + 86_400_000),
          });
        }
        await onDevServer(h, 'record-catch-up', async (client, taskQueue) => {
          const lifecycles = await Promise.all(
            refs.slice(0, 2).map((ref) =>
              client.workflow.start('integrationLifecycleWorkflow', {
                taskQueue,
                workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
                args: [{ ...ref, vendor: MEMORY_VENDOR }],
              }),
            ),
          );
          try {
            const workflowId = `webhook-catch-up-${crypto.randomUUID()}`;
            expect(await client.workflow.execute('webhookCatchUpWorkflow', { taskQueue, workflowId })).toEqual({
              integrations: 3,
              signalled: 2,
              notRunning: 1,
            });
            await save(client, 'webhookCatchUpWorkflow', workflowId);
          } finally {
            for (const lifecycle of lifecycles) await lifecycle.terminate('recorded');
          }
        });
      } finally {
        await h.close();
      }
    },
  );
});

const ids = (ref: { workspaceId: string; integrationId: string }) => ({
  workspace_id: ref.workspaceId,
  integration_id: ref.integrationId,
});
