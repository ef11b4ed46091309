/**
 * T19 data out through the real workflow on the dev server: `vendorActionWorkflow` performs one
 * action of the row's data-out list with the integration's stored credential, through the real
 * Octokit connector against the GitHub emulator, inside the customer controls; anything else
 * fails typed, and nothing is created twice.
 */
import crypto from 'node:crypto';
import { githubDescriptor } from '../../activities/vendors/github';
import { startGithubHarness, type GithubHarness } from '../vendors/github/harness';
import type { VendorHarness } from './support/harness';
import { refusalOf, useVendorEndToEnd, vendorAction, withDevServerWorker } from './support/vendorEndToEnd';
import { ADMIN, seedWorkspace } from './support/workflowHelpers';

describe('T19 [github]: data out through vendorActionWorkflow (dev server, GitHub emulator, real Postgres)', () => {
  let github: GithubHarness;
  let h: VendorHarness;
  useVendorEndToEnd(startGithubHarness, [githubDescriptor], (parts) => ({ vendor: github, h } = parts));

  it("T19 T18 T10: creates an issue and a status check in the admin's repo; another repo, an action outside data out and a disconnected integration are refused typed; a 429 is waited out without a duplicate", async () => {
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
    await withDevServerWorker(h, 'data-out', async ({ client, taskQueue }) => {
      const act = (action: string, input: Record<string, unknown>) =>
        vendorAction(client, taskQueue, { workspaceId, integrationId }, { vendor: 'github', action, input });
      const refusal = refusalOf;
      const issue = await act('create-issue', {
        repository: 'acme/site-a',
        title: 'RFI 12 overdue',
        body: 'See TrackProject',
      });
      expect(issue).toMatchObject({ number: expect.any(Number), url: expect.stringContaining('acme/site-a') });
      const status = await act('create-status-check', {
        repository: 'acme/site-a',
        sha: 'b'.repeat(40),
        state: 'success',
        context: 'trackproject/approval',
      });
      expect(status).toMatchObject({ externalId: expect.any(String) });

      expect(await refusal(act('create-issue', { repository: 'acme/site-b', title: 'not ours' }))).toBe(
        'OutsideCustomerControls',
      );
      expect(await refusal(act('delete-repository', { repository: 'acme/site-a' }))).toBe('ActionNotInDataOut');

      // Throttled once: the vendor refused before acting, so the workflow waits Retry-After and tries again.
      github.emulator.control.startRateLimitStorm(1, { status: 429, retryAfterSeconds: 1 });
      await act('create-issue', { repository: 'acme/site-a', title: 'after the storm' });
      expect(github.emulator.control.issues('acme/site-a').map((i) => i.title)).toEqual([
        'RFI 12 overdue',
        'after the storm',
      ]);
      expect(github.emulator.control.issues('acme/site-b')).toEqual([]);

      await h.admin('integrations').where({ integration_id: integrationId }).update({ status: 'disconnected' });
      expect(await refusal(act('create-issue', { repository: 'acme/site-a', title: 'too late' }))).toBe(
        'IntegrationNotActive',
      );
    });
    // Every performed call is on the audited path, with its scope and outcome; the content is not.
    const audit = await h
      .admin('audit_log')
      .where({ integration_id: integrationId, direction: 'outbound', action: 'create-issue' })
      .orderBy('seq')
      .select('scope', 'outcome', 'error_class');
    expect(audit.map((a) => [a.scope, a.outcome, a.error_class])).toEqual([
      ['issues:write', 'success', null],
      ['issues:write', 'failure', 'OutsideCustomerControls'],
      ['issues:write', 'failure', 'RateLimited'],
      ['issues:write', 'success', null],
    ]);
    // T10: each run started directly (no API in between) is audited with the actor its input carries,
    // the refusal before any vendor call included.
    const requests = await h
      .admin('audit_log')
      .where({ integration_id: integrationId, direction: 'internal' })
      .whereLike('action', 'integration.action.%')
      .orderBy('seq')
      .select('action', 'actor_type', 'actor_id', 'outcome', 'error_class');
    expect(requests.map((a) => [a.action, `${a.actor_type}:${a.actor_id}`, a.outcome, a.error_class])).toEqual([
      ['integration.action.create-issue', `user:${ADMIN.id}`, 'success', null],
      ['integration.action.create-status-check', `user:${ADMIN.id}`, 'success', null],
      ['integration.action.create-issue', `user:${ADMIN.id}`, 'failure', 'OutsideCustomerControls'],
      ['integration.action.delete-repository', `user:${ADMIN.id}`, 'denied', 'ActionNotInDataOut'],
      ['integration.action.create-issue', `user:${ADMIN.id}`, 'failure', 'RateLimited'],
      ['integration.action.create-issue', `user:${ADMIN.id}`, 'success', null],
      ['integration.action.create-issue', `user:${ADMIN.id}`, 'denied', 'IntegrationNotActive'],
    ]);
    expect(JSON.stringify(await h.admin('audit_log').where({ integration_id: integrationId }))).not.toContain(
      'RFI 12 overdue',
    );
  }, 60_000);
});
