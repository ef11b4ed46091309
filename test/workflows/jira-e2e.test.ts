/**
 * Jira end to end through the real workflows on the dev server: connect (3LO consent at the Jira
 * emulator, state + exact redirect, no PKCE; callback Update) → the lifecycle's first sync inside
 * the project allow-list → an incremental "sync now" → rotation (Atlassian's rotating refresh
 * token) → disconnect (no revocation endpoint: webhooks deleted, tokens destroyed) → purge, with the
 * real jira.js connector and real Postgres.
 */
import { jiraDescriptor } from '../../activities/vendors/jira';
import { REDIRECT_URI, startJiraHarness, type JiraHarness } from '../vendors/jira/harness';
import type { VendorHarness } from './support/harness';
import {
  afterFirstSync,
  cachedPayloads,
  consentInBrowser,
  disconnect,
  expectPurged,
  grantTypesSince,
  onlyIntegrationOf,
  rotateTokens,
  tokenStates,
  useVendorEndToEnd,
  withDevServerWorker,
} from './support/vendorEndToEnd';
import { seedWorkspace, startConnect, syncNowAndWait } from './support/workflowHelpers';

describe('Jira end to end (dev server, Jira emulator, real Postgres)', () => {
  let jira: JiraHarness;
  let h: VendorHarness;
  useVendorEndToEnd(startJiraHarness, [jiraDescriptor], (parts) => ({ vendor: jira, h } = parts));

  it('T1 T2 T4 T8 T11 T15 T18 [jira]: connect → sync (allow-listed project only) → incremental sync → rotate → disconnect (webhooks deleted, nothing revocable) → purge', async () => {
    const { control } = jira.emulator;
    for (let i = 0; i < 12; i++) control.addIssue('SITE', `site issue ${i}`);
    for (let i = 0; i < 4; i++) control.addIssue('OPS', `ops issue ${i}`);
    control.addIssue('HR', 'hr issue');
    const tokenCalls = () => control.requests.filter((r) => r.path === '/oauth/token');
    const workspaceId = await seedWorkspace(h);
    await withDevServerWorker(h, 'jira-e2e', async ({ client, taskQueue }) => {
      // Connect: the admin's browser follows the authorize URL; Atlassian redirects back with code + state.
      const connect = await startConnect(client, taskQueue, {
        workspaceId,
        vendor: 'jira',
        requestedScopes: [...jiraDescriptor.scopes.required],
        controls: { projects: ['SITE'] },
        redirectUri: REDIRECT_URI,
      });
      // 3LO has no PKCE: the state and the exact redirect URI are the binding.
      expect(connect.authorizeUrl.searchParams.has('code_challenge')).toBe(false);
      await consentInBrowser(connect, jira.emulator.url);
      const { handle, integrationId } = connect;
      // Granted with offline_access, recorded as the matrix's data scopes (T1).
      expect(await handle.result()).toMatchObject({
        status: 'connected',
        grantedScopes: [...jiraDescriptor.scopes.required],
      });
      const ref = { workspaceId, integrationId };
      const cachedSummaries = async () =>
        (await cachedPayloads(h, integrationId, 'issues')).map((r) =>
          String((r.fields as { summary: string }).summary),
        );

      // The lifecycle's first sync: only the allow-listed project (T18).
      const lifecycle = await afterFirstSync(client, { workspaceId, integrationId });
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
      await syncNowAndWait(lifecycle);
      const second = await cachedSummaries();
      expect(second).toHaveLength(12);
      expect(second).toContain('site issue edited');
      expect(second.some((summary) => summary.startsWith('ops'))).toBe(false);

      // Rotation (T8): Atlassian rotates the refresh token on every refresh → test → promote → retire.
      const refreshesBefore = tokenCalls().length;
      const rotation = await rotateTokens(client, taskQueue, ref, 'jira');
      expect(rotation).toEqual({ status: 'rotated', newVersion: 2 });
      expect(grantTypesSince(tokenCalls(), refreshesBefore)).toEqual(['refresh_token 200']);
      expect(await tokenStates(h, integrationId)).toEqual(['retired', 'current']);

      // Disconnect (T4): Jira has no revocation endpoint; our dynamic webhooks are deleted.
      const liveWebhooks = control.webhooks().map((w) => w.id);
      expect(liveWebhooks.length).toBeGreaterThan(0);
      const disconnected = await disconnect(client, taskQueue, ref);
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
    await expectPurged(h, await onlyIntegrationOf(h, workspaceId), [
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
    ]);
  }, 120_000);
});
