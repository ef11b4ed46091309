/**
 * GitHub end to end through the real workflows on the dev server: connect (PKCE consent at the
 * GitHub emulator, callback Update) → the lifecycle's first sync → rotation → disconnect → purge,
 * with the real Octokit connector (`createGithubConnector`) and real Postgres.
 */
import { githubDescriptor } from '../../activities/vendors/github';
import type { WorkflowHandle } from '@temporalio/client';
import { installationSetupUpdate, oauthCallbackUpdate } from '../../workflows/definitions';
import { REDIRECT_URI, SETUP_URL, startGithubHarness, type GithubHarness } from '../vendors/github/harness';
import type { VendorHarness } from './support/harness';
import {
  afterFirstSync,
  disconnect,
  expectPurged,
  onlyIntegrationOf,
  rotateTokens,
  useVendorEndToEnd,
  withDevServerWorker,
} from './support/vendorEndToEnd';
import { seedWorkspace, startConnect } from './support/workflowHelpers';

/**
 * The admin's browser: the app's installation page redirects to our Setup URL (delivered to the run
 * as the API does, an Update), which answers the user authorization; GitHub redirects back with the code.
 */
async function consentAtGithub(github: GithubHarness, handle: WorkflowHandle, installUrl: URL): Promise<void> {
  expect(`${installUrl.origin}${installUrl.pathname}`).toBe(
    `${github.emulator.url}/apps/trackproject-test/installations/new`,
  );
  const page = await fetch(installUrl, { redirect: 'manual' });
  const setup = new URL(page.headers.get('location')!);
  expect(`${setup.origin}${setup.pathname}`).toBe(SETUP_URL);
  expect(setup.searchParams.get('state')).toBe(installUrl.searchParams.get('state'));
  const { authorizeUrl } = await handle.executeUpdate(installationSetupUpdate, {
    args: [{ state: setup.searchParams.get('state')!, installationId: setup.searchParams.get('installation_id')! }],
  });
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const callback = new URL(consent.headers.get('location')!);
  await handle.executeUpdate(oauthCallbackUpdate, {
    args: [{ state: callback.searchParams.get('state')!, code: callback.searchParams.get('code')! }],
  });
}

describe('GitHub end to end (dev server, GitHub emulator, real Postgres)', () => {
  let github: GithubHarness;
  let h: VendorHarness;
  useVendorEndToEnd(startGithubHarness, [githubDescriptor], (parts) => ({ vendor: github, h } = parts));

  it('T1 T2 T4 T8 T11 T15 T18 T20 [github]: connect (installation bound; a second workspace refused) → sync (controlled repos only) → rotate → disconnect (token revoked, app uninstalled) → purge with receipt', async () => {
    for (let i = 0; i < 30; i++) github.emulator.control.addIssue('acme/site-a', { title: `site-a issue ${i}` });
    for (let i = 0; i < 5; i++) github.emulator.control.addIssue('acme/site-b', { title: `site-b issue ${i}` });
    github.emulator.control.addRelease('acme/site-a', 'v1.0.0');
    const workspaceId = await seedWorkspace(h);
    await withDevServerWorker(h, 'github-e2e', async ({ client, taskQueue }) => {
      // Connect: the admin's browser installs (configures) the app, then authorizes; GitHub redirects back.
      const connectInput = {
        vendor: 'github' as const,
        requestedScopes: ['repo:read', 'issues:write'],
        controls: { repos: ['acme/site-a'] },
        redirectUri: REDIRECT_URI,
      };
      const { handle, integrationId, authorizeUrl } = await startConnect(client, taskQueue, {
        workspaceId,
        ...connectInput,
      });
      // The OAuth consent is not taken before the installation is chosen.
      await expect(handle.executeUpdate(oauthCallbackUpdate, { args: [{ state: 'x', code: 'y' }] })).rejects.toThrow();
      await consentAtGithub(github, handle, authorizeUrl);
      const connected = await handle.result();
      expect(connected).toMatchObject({ status: 'connected', grantedScopes: ['repo:read', 'issues:write'] });
      const ref = { workspaceId, integrationId };
      expect(await h.admin('app_installation_bindings').where({ integration_id: integrationId })).toEqual([
        expect.objectContaining({
          vendor: 'github',
          installation_id: String(github.installationId),
          workspace_id: workspaceId,
        }),
      ]);

      // T20 [github]: a second workspace cannot bind the bound installation; refusing it uninstalls nothing.
      const otherWorkspace = await seedWorkspace(h);
      const second = await startConnect(client, taskQueue, { workspaceId: otherWorkspace, ...connectInput });
      await consentAtGithub(github, second.handle, second.authorizeUrl);
      expect(await second.handle.result()).toEqual({ status: 'failed', failure: 'InstallationRefused' });
      expect(github.emulator.control.installation(github.installationId)).toMatchObject({ deleted: false });
      expect(
        await h
          .admin('app_installation_bindings')
          .where({ installation_id: String(github.installationId) })
          .pluck('workspace_id'),
      ).toEqual([workspaceId]);
      const deletesBeforeDisconnect = github.emulator.control.requests.length;

      // The lifecycle's first sync: only the admin's repository (T18).
      const lifecycle = await afterFirstSync(client, { workspaceId, integrationId });
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
      const rotation = await rotateTokens(client, taskQueue, ref, 'github');
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
      const disconnected = await disconnect(client, taskQueue, ref);
      expect(disconnected).toMatchObject({ revokedAtVendor: true, vendorNote: githubDescriptor.revocation.note });
      const deletes = github.emulator.control.requests
        .slice(deletesBeforeDisconnect)
        .filter((r) => r.method === 'DELETE')
        .map((r) => `${r.method} ${r.path} ${r.status}`);
      expect(deletes).toEqual([
        `DELETE /installation/token 204`,
        `DELETE /app/installations/${github.installationId} 204`,
      ]);
      // Neither this integration nor another holds the installation any more (other tests' bindings aside).
      expect(
        await h.admin('app_installation_bindings').where({ installation_id: String(github.installationId) }),
      ).toEqual([]);
      const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
      expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'github' });
      expect(await lifecycle.describe().then((d) => d.status.name)).not.toBe('RUNNING');
    });
    await expectPurged(h, await onlyIntegrationOf(h, workspaceId), [
      'oauth.exchange-code',
      'integration.connected',
      'issues.list',
      'oauth.refresh',
      'secret.promoted',
      'secret.retired',
      'installation.revoke-token',
      'installation.delete',
      'integration.purged',
    ]);
  }, 120_000);
});
