/**
 * GitHub end to end through the real workflows on the dev server: connect (PKCE consent at the
 * GitHub emulator, callback Update) → the lifecycle's first sync → rotation → disconnect → purge,
 * with the real Octokit connector (`createGithubConnector`) and real Postgres.
 */
import { githubDescriptor } from '../../activities/vendors/github';
import { integrationStateQuery, oauthCallbackUpdate, workflowIds } from '../../workflows/definitions';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { REDIRECT_URI, startGithubHarness, type GithubHarness } from '../vendors/github/harness';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { ADMIN, pollUntil, seedWorkspace, startConnect } from './support/workflowHelpers';

describe('GitHub end to end (dev server, GitHub emulator, real Postgres)', () => {
  let github: GithubHarness;
  let h: VendorHarness;
  beforeAll(async () => {
    github = await startGithubHarness();
    h = createVendorHarness([{ descriptor: githubDescriptor, connector: github.connector }]);
  });
  afterAll(async () => {
    await h.close();
    await github.emulator.stop();
  });

  it('T1 T2 T4 T8 T11 T15 T18 [github]: connect → sync (controlled repos only) → rotate → disconnect (token revoked, app uninstalled) → purge with receipt', async () => {
    for (let i = 0; i < 30; i++) github.emulator.control.addIssue('acme/site-a', { title: `site-a issue ${i}` });
    for (let i = 0; i < 5; i++) github.emulator.control.addIssue('acme/site-b', { title: `site-b issue ${i}` });
    github.emulator.control.addRelease('acme/site-a', 'v1.0.0');
    const workspaceId = await seedWorkspace(h);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('github-e2e');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    try {
      await worker.runUntil(async () => {
        // Connect: the admin's browser follows the authorize URL; the emulator redirects back with code + state.
        const { handle, integrationId, state, authorizeUrl } = await startConnect(server.client, taskQueue, {
          workspaceId,
          vendor: 'github',
          requestedScopes: ['repo:read', 'issues:write'],
          controls: { repos: ['acme/site-a'] },
          redirectUri: REDIRECT_URI,
        });
        expect(authorizeUrl.origin).toBe(new URL(github.emulator.url).origin);
        const consent = await fetch(authorizeUrl, { redirect: 'manual' });
        const callback = new URL(consent.headers.get('location')!);
        expect(callback.searchParams.get('state')).toBe(state);
        await handle.executeUpdate(oauthCallbackUpdate, {
          args: [{ state, code: callback.searchParams.get('code')! }],
        });
        const connected = await handle.result();
        expect(connected).toMatchObject({ status: 'connected', grantedScopes: ['repo:read', 'issues:write'] });
        const ref = { workspaceId, integrationId };

        // The lifecycle's first sync: only the admin's repository (T18).
        const lifecycle = server.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed',
          30_000,
        );
        const byResource = await h
          .admin('cached_records')
          .where({ integration_id: integrationId })
          .groupBy('resource')
          .select('resource', h.admin.raw('count(*)::int as n'));
        expect(Object.fromEntries(byResource.map((r) => [r.resource, r.n]))).toEqual({
          repositories: 1,
          issues: 30,
          releases: 1,
        });
        const issues = await h
          .admin('cached_records')
          .where({ integration_id: integrationId, resource: 'issues' })
          .select('payload');
        expect(issues.every((r) => String(r.payload.title).startsWith('site-a'))).toBe(true);

        // Rotation (T8): refresh at GitHub (rotating refresh token) → test → promote → retire after the grace period.
        const refreshesBefore = github.emulator.control.requests.filter(
          (r) => r.path === '/login/oauth/access_token',
        ).length;
        const rotation = await server.client.workflow.execute('rotateSecretWorkflow', {
          taskQueue,
          workflowId: workflowIds.rotate(workspaceId, integrationId),
          args: [{ ...ref, vendor: 'github', kind: 'oauth-tokens', actor: ADMIN, gracePeriodMs: 1_000 }],
        });
        expect(rotation).toEqual({ status: 'rotated', newVersion: 2 });
        expect(github.emulator.control.requests.filter((r) => r.path === '/login/oauth/access_token').length).toBe(
          refreshesBefore + 1,
        );
        const versions = await h
          .admin('secrets')
          .where({ integration_id: integrationId, kind: 'oauth-tokens' })
          .orderBy('version')
          .pluck('state');
        expect(versions).toEqual(['retired', 'current']);

        // Disconnect (T4) with a short purge delay (T15's bound is proven on the time-skipping server).
        const disconnected = await server.client.workflow.execute('disconnectWorkflow', {
          taskQueue,
          workflowId: workflowIds.disconnect(workspaceId, integrationId),
          args: [{ ...ref, actor: ADMIN, purgeDelayMs: 1_000 }],
        });
        expect(disconnected).toMatchObject({ revokedAtVendor: true, vendorNote: githubDescriptor.revocation.note });
        const deletes = github.emulator.control.requests
          .filter((r) => r.method === 'DELETE')
          .map((r) => `${r.method} ${r.path} ${r.status}`);
        expect(deletes).toEqual([
          `DELETE /installation/token 204`,
          `DELETE /app/installations/${github.installationId} 204`,
        ]);
        const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
        expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'github' });
        expect(await lifecycle.describe().then((d) => d.status.name)).not.toBe('RUNNING');
      });
    } finally {
      await server.close();
    }
    const integrationId = (await h.admin('integrations').where({ workspace_id: workspaceId }).first()).integration_id;
    expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
    const secrets = await h.admin('secrets').where({ integration_id: integrationId });
    expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
    const audit = await h.admin('audit_log').where({ integration_id: integrationId }).pluck('action');
    expect(audit).toEqual(
      expect.arrayContaining([
        'oauth.exchange-code',
        'integration.connected',
        'issues.list',
        'oauth.refresh',
        'secret.promoted',
        'secret.retired',
        'installation.revoke-token',
        'installation.delete',
        'integration.purged',
      ]),
    );
  }, 120_000);
});
