/**
 * T16: deleting a workspace disconnects every integration (child disconnect workflows, purges after
 * the real 30-day maximum on durable timers), then removes the integration metadata and the
 * workspace row; the audit trail survives.
 */
import crypto from 'node:crypto';
import { deleteWorkspaceStateQuery, workflowIds } from '../../workflows/definitions';
import { MAX_PURGE_DELAY_MS } from '../../workflows/disconnect';
import { testWorker, timeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { MEMORY_VENDOR } from './support/memoryConnector';
import { ADMIN } from './support/workflowHelpers';

describe('T16: workspace deletion workflow (time-skipping server, real Postgres)', () => {
  let h: Harness;
  beforeAll(() => {
    h = createHarness();
  });
  afterAll(() => h.close());

  it('T16: disconnects and purges every integration, then removes all integration metadata; the audit trail survives', async () => {
    for (let i = 0; i < 120; i++) h.connector.upsert(`ws-${i}`, 't');
    const first = await seedConnectedIntegration(h);
    const workspaceId = first.workspaceId;
    // A second integration in the same workspace, and an unrelated workspace that must stay intact.
    const second = { workspaceId, integrationId: crypto.randomUUID() };
    await h.admin('integrations').insert({
      integration_id: second.integrationId,
      workspace_id: workspaceId,
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
    const bystander = await seedConnectedIntegration(h);

    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('workspace');
    const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
    try {
      await worker.runUntil(async () => {
        for (const ref of [first, second, bystander]) {
          await env.client.workflow.execute('syncWorkflow', {
            taskQueue,
            workflowId: `${workflowIds.sync(ref.workspaceId, ref.integrationId)}/${crypto.randomUUID()}`,
            args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } }],
          });
        }
        expect(await h.admin('cached_records').where({ workspace_id: workspaceId }).count().first()).toEqual({
          count: '240',
        });

        const handle = await env.client.workflow.start('deleteWorkspaceWorkflow', {
          taskQueue,
          workflowId: workflowIds.workspaceDelete(workspaceId),
          args: [{ workspaceId, actor: ADMIN, purgeDelayMs: Number.MAX_SAFE_INTEGER }],
        });
        const result = await handle.result();
        expect(result.integrationsRemoved).toBe(2);
        expect(result.purgeReceiptIds).toHaveLength(2);
        expect(await handle.query(deleteWorkspaceStateQuery)).toEqual({
          status: 'deleted',
          integrations: 2,
          purged: 2,
        });

        // Each integration went through its own disconnect, which waited the clamped 30 days.
        for (const ref of [first, second]) {
          const disconnect = env.client.workflow.getHandle(workflowIds.disconnect(workspaceId, ref.integrationId));
          const history = await disconnect.fetchHistory();
          const timer = history.events!.find((e) => e.timerStartedEventAttributes)!;
          expect(Number(timer.timerStartedEventAttributes!.startToFireTimeout!.seconds) * 1000).toBe(
            MAX_PURGE_DELAY_MS,
          );
        }
      });
    } finally {
      await env.teardown();
    }
    expect(h.connector.revokedTokens).toEqual(expect.arrayContaining(['seed-access', 'second-access']));
    for (const table of [
      'integrations',
      'secrets',
      'cached_records',
      'sync_state',
      'consent_events',
      'oauth_states',
      'vendor_subscriptions',
      'webhook_endpoints',
      'webhook_deliveries',
      'purge_receipts',
      'workspaces',
    ]) {
      expect({ table, rows: await h.admin(table).where({ workspace_id: workspaceId }).count().first() }).toEqual({
        table,
        rows: { count: '0' },
      });
    }
    const audit = await h.admin('audit_log').where({ workspace_id: workspaceId }).pluck('action');
    expect(audit).toEqual(
      expect.arrayContaining([
        'oauth.revoke',
        'integration.disconnected.revoked',
        'integration.purged',
        'workspace.deleted',
      ]),
    );
    expect(audit.filter((a) => a === 'integration.purged')).toHaveLength(2);
    // The other workspace is untouched.
    expect(await h.admin('cached_records').where({ integration_id: bystander.integrationId }).count().first()).toEqual({
      count: '120',
    });
    expect((await h.admin('integrations').where({ integration_id: bystander.integrationId }).first()).status).toBe(
      'connected',
    );
  });
});
