/**
 * Jira end to end through the real workflows on the dev server: connect (3LO consent at the Jira
 * emulator, state + exact redirect, no PKCE; callback Update) → the lifecycle's first sync inside
 * the project allow-list → an incremental "sync now" → rotation (Atlassian's rotating refresh
 * token) → disconnect (no revocation endpoint: webhooks deleted, tokens destroyed) → purge, with the
 * real jira.js connector and real Postgres.
 */
import { jiraDescriptor } from '../../activities/vendors/jira';
import { integrationStateQuery, oauthCallbackUpdate, workflowIds } from '../../workflows/definitions';
import { requestSync } from '@trackproject/integrations-client/client';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { REDIRECT_URI, startJiraHarness, type JiraHarness } from '../vendors/jira/harness';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { ADMIN, pollUntil, seedWorkspace, startConnect } from './support/workflowHelpers';

describe('Jira end to end (dev server, Jira emulator, real Postgres)', () => {
  let jira: JiraHarness;
  let h: VendorHarness;
  beforeAll(async () => {
    jira = await startJiraHarness();
    h = createVendorHarness([{ descriptor: jiraDescriptor, connector: jira.connector }]);
  });
  afterAll(async () => {
    await h.close();
    await jira.emulator.stop();
  });

  it('T1 T2 T4 T8 T11 T15 T18 [jira]: connect → sync (allow-listed project only) → incremental sync → rotate → disconnect (webhooks deleted, nothing revocable) → purge', async () => {
    const { control } = jira.emulator;
    for (let i = 0; i < 12; i++) control.addIssue('SITE', `site issue ${i}`);
    for (let i = 0; i < 4; i++) control.addIssue('OPS', `ops issue ${i}`);
    control.addIssue('HR', 'hr issue');
    const tokenCalls = () => control.requests.filter((r) => r.path === '/oauth/token');
    const workspaceId = await seedWorkspace(h);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('jira-e2e');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    try {
      await worker.runUntil(async () => {
        // Connect: the admin's browser follows the authorize URL; Atlassian redirects back with code + state.
        const { handle, integrationId, state, authorizeUrl } = await startConnect(server.client, taskQueue, {
          workspaceId,
          vendor: 'jira',
          requestedScopes: [...jiraDescriptor.scopes.required],
          controls: { projects: ['SITE'] },
          redirectUri: REDIRECT_URI,
        });
        expect(authorizeUrl.origin).toBe(new URL(jira.emulator.url).origin);
        // 3LO has no PKCE: the state and the exact redirect URI are the binding.
        expect(authorizeUrl.searchParams.has('code_challenge')).toBe(false);
        const consent = await fetch(authorizeUrl, { redirect: 'manual' });
        const callback = new URL(consent.headers.get('location')!);
        expect(callback.searchParams.get('state')).toBe(state);
        await handle.executeUpdate(oauthCallbackUpdate, {
          args: [{ state, code: callback.searchParams.get('code')! }],
        });
        // Granted with offline_access, recorded as the matrix's data scopes (T1).
        expect(await handle.result()).toMatchObject({
          status: 'connected',
          grantedScopes: [...jiraDescriptor.scopes.required],
        });
        const ref = { workspaceId, integrationId };
        const cachedSummaries = async () =>
          (
            await h
              .admin('cached_records')
              .where({ integration_id: integrationId, resource: 'issues' })
              .select('payload')
          ).map((r) => String(r.payload.fields.summary));

        // The lifecycle's first sync: only the allow-listed project (T18).
        const lifecycle = server.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed',
          30_000,
        );
        const first = await cachedSummaries();
        expect(first).toHaveLength(12);
        expect(first.every((summary) => summary.startsWith('site issue'))).toBe(true);
        // Every search the connector sent was bounded to the allow-list.
        const searches = control.requests.filter((r) => r.path.includes('/search'));
        expect(searches.length).toBeGreaterThan(0);
        expect(searches.every((r) => (r.body as { jql: string }).jql.startsWith('project in ("SITE")'))).toBe(true);

        // Incremental "sync now": an edit in SITE arrives, a new OPS issue does not.
        control.clock.advance(60_000);
        control.updateIssue('SITE-1', 'site issue edited');
        control.addIssue('OPS', 'ops issue late');
        const lastSyncBefore = (await lifecycle.query(integrationStateQuery)).lastSync?.finishedAt;
        await requestSync(lifecycle, { reason: 'admin' });
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed' && s.lastSync.finishedAt !== lastSyncBefore,
          30_000,
        );
        const second = await cachedSummaries();
        expect(second).toHaveLength(12);
        expect(second).toContain('site issue edited');
        expect(second.some((summary) => summary.startsWith('ops'))).toBe(false);

        // Rotation (T8): Atlassian rotates the refresh token on every refresh → test → promote → retire.
        const refreshesBefore = tokenCalls().length;
        const rotation = await server.client.workflow.execute('rotateSecretWorkflow', {
          taskQueue,
          workflowId: workflowIds.rotate(workspaceId, integrationId),
          args: [{ ...ref, vendor: 'jira', kind: 'oauth-tokens', actor: ADMIN, gracePeriodMs: 1_000 }],
        });
        expect(rotation).toEqual({ status: 'rotated', newVersion: 2 });
        expect(
          tokenCalls()
            .slice(refreshesBefore)
            .map((r) => (r.body as { grant_type?: string }).grant_type),
        ).toEqual(['refresh_token']);
        const versions = await h
          .admin('secrets')
          .where({ integration_id: integrationId, kind: 'oauth-tokens' })
          .orderBy('version')
          .pluck('state');
        expect(versions).toEqual(['retired', 'current']);

        // Disconnect (T4): Jira has no revocation endpoint; our dynamic webhooks are deleted.
        const liveWebhooks = control.webhooks().map((w) => w.id);
        expect(liveWebhooks.length).toBeGreaterThan(0);
        const disconnected = await server.client.workflow.execute('disconnectWorkflow', {
          taskQueue,
          workflowId: workflowIds.disconnect(workspaceId, integrationId),
          args: [{ ...ref, actor: ADMIN, purgeDelayMs: 1_000 }],
        });
        expect(disconnected).toMatchObject({ revokedAtVendor: false, vendorNote: jiraDescriptor.revocation.note });
        const deletes = control.requests.filter((r) => r.method === 'DELETE').map((r) => `${r.path} ${r.status}`);
        expect(deletes).toEqual(
          liveWebhooks.map(() => expect.stringMatching(/^\/ex\/jira\/[^/]+\/rest\/api\/3\/webhook 20\d$/)),
        );
        expect(control.webhooks()).toEqual([]);
        const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
        expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'jira' });
        expect(await lifecycle.describe().then((d) => d.status.name)).not.toBe('RUNNING');
      });
    } finally {
      await server.close();
    }
    const integrationId = (await h.admin('integrations').where({ workspace_id: workspaceId }).first()).integration_id;
    expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
    const secrets = await h.admin('secrets').where({ integration_id: integrationId });
    expect(secrets.length).toBeGreaterThan(0);
    expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
    const audit = await h.admin('audit_log').where({ integration_id: integrationId }).pluck('action');
    expect(audit).toEqual(
      expect.arrayContaining([
        'oauth.exchange-code',
        'oauth.accessible-resources',
        'integration.connected',
        'webhooks.register',
        'issues.search',
        'oauth.refresh',
        'secret.promoted',
        'secret.retired',
        'webhooks.delete',
        'integration.purged',
      ]),
    );
  }, 120_000);
});
