/**
 * Slack end to end through the real workflows on the dev server: connect (OAuth v2 consent with
 * PKCE at the Slack emulator; callback Update) → the lifecycle's first "sync" (Slack has no data
 * in: nothing is read, nothing cached) → the admin's channel picker (`controlChoicesWorkflow`) →
 * re-consent with the picked channels → data out (`vendorActionWorkflow`) to selected channels only,
 * paced without a 429 → narrowing the selection → rotation (Slack token rotation: a new 12 h token
 * and refresh token) → disconnect with `auth.revoke` → purge and its receipt, with the real
 * `@slack/web-api` connector and real Postgres.
 */
import crypto from 'node:crypto';
import { SLACK_SCOPES, slackDescriptor } from '../../activities/vendors/slack';
import {
  consentChangeUpdate,
  integrationStateQuery,
  oauthCallbackUpdate,
  workflowIds,
  type ConnectInput,
} from '../../workflows/definitions';
import { REDIRECT_URI, startSlackHarness, type SlackHarness } from '../vendors/slack/harness';
import type { VendorHarness } from './support/harness';
import {
  disconnect,
  refusalOf,
  rotateTokens,
  useVendorEndToEnd,
  vendorAction,
  withDevServerWorker,
} from './support/vendorEndToEnd';
import { ADMIN, pollUntil, seedWorkspace } from './support/workflowHelpers';

describe('Slack end to end (dev server, Slack emulator, real Postgres)', () => {
  let slack: SlackHarness;
  let h: VendorHarness;
  useVendorEndToEnd(startSlackHarness, [slackDescriptor], (parts) => ({ vendor: slack, h } = parts));

  it('T1 T2 T4 T5 T8 T15 T17 T18 T19 [slack]: connect with PKCE → nothing synced → channel picker → re-consent with the picked channels → messages to selected channels only, paced → narrowed → rotate → disconnect with auth.revoke → purge receipt', async () => {
    const { control } = slack.emulator;
    const site = control.addChannel('e2e-site-updates');
    const safety = control.addChannel('e2e-safety');
    control.addChannel('e2e-archived', { archived: true });
    const calls = (method: string) => control.requests.filter((r) => r.path === `/api/${method}`);
    const workspaceId = await seedWorkspace(h);
    const integrationId = crypto.randomUUID();
    const ref = { workspaceId, integrationId };
    await withDevServerWorker(h, 'slack-e2e', async ({ client, taskQueue }) => {
      /** One consent at Slack: the admin's browser follows the authorize URL; Slack redirects back with code + state. */
      const consent = async (input: Partial<ConnectInput>) => {
        const args: ConnectInput = {
          ...ref,
          vendor: 'slack',
          requestedScopes: [...SLACK_SCOPES],
          controls: { channels: [] },
          redirectUri: REDIRECT_URI,
          actor: ADMIN,
          ...input,
        };
        const handle = await client.workflow.start('connectWorkflow', {
          taskQueue,
          workflowId: workflowIds.connect(workspaceId, integrationId),
          args: [args],
        });
        const authorizeUrl = new URL(
          await pollUntil(
            async () => (await handle.query('connectState')) as { authorizeUrl?: string },
            (s) => s.authorizeUrl !== undefined,
          ).then((s) => s.authorizeUrl!),
        );
        // T5: a PKCE app, S256 challenge on every consent.
        expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
        expect(authorizeUrl.searchParams.get('scope')).toBe('chat:write,channels:read');
        const redirect = new URL((await fetch(authorizeUrl, { redirect: 'manual' })).headers.get('location')!);
        await handle.executeUpdate(oauthCallbackUpdate, {
          args: [{ state: redirect.searchParams.get('state')!, code: redirect.searchParams.get('code')! }],
        });
        return handle.result();
      };
      const act = (action: string, input: Record<string, unknown>) =>
        vendorAction(client, taskQueue, ref, { vendor: 'slack', action, input });
      const refusal = refusalOf;

      expect(await consent({})).toMatchObject({
        status: 'connected',
        grantedScopes: ['chat:write', 'channels:read'],
      });
      const exchange = calls('oauth.v2.access')[0]!.body as Record<string, string>;
      expect(exchange.code_verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);

      // The lifecycle's first sync: Slack's data in is none, so it completes having read nothing.
      const lifecycle = client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
      const firstSync = await pollUntil(
        () => lifecycle.query(integrationStateQuery),
        (s) => s.lastSync?.state === 'completed',
        30_000,
      );
      expect(firstSync.lastSync).toMatchObject({ recordsUpserted: 0, recordsDeleted: 0 });
      expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
      expect(control.requests.map((r) => r.path)).toEqual(['/oauth/v2/authorize', '/api/oauth.v2.access']);

      // The admin's picker: public, unarchived channels, read for the admin only.
      const choices = await client.workflow.execute('controlChoicesWorkflow', {
        taskQueue,
        workflowId: workflowIds.choices(workspaceId, integrationId, crypto.randomUUID()),
        args: [{ ...ref, vendor: 'slack', cursor: null }],
      });
      expect(choices.choices.map((c: { name: string }) => c.name)).toEqual(['e2e-site-updates', 'e2e-safety']);
      expect(choices.nextCursor).toBeNull();
      expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);

      // Nothing selected yet: nothing can be posted anywhere (T18), and no request is made.
      expect(await refusal(act('workflow-notification', { channelId: site.id, text: 'Pour at 7' }))).toBe(
        'OutsideCustomerControls',
      );
      expect(calls('chat.postMessage')).toEqual([]);

      // Widening the selection is a new consent (T17), recorded with the channels it covers (T2).
      expect(await consent({ reconnect: true, controls: { channels: [site.id, safety.id] } })).toMatchObject({
        status: 'connected',
      });
      const ledger = await h
        .admin('consent_events')
        .where({ integration_id: integrationId })
        .orderBy('id')
        .select('action', 'actor_id', 'controls');
      expect(ledger.map((e) => [e.action, e.actor_id, e.controls])).toEqual([
        ['granted', ADMIN.id, { channels: [] }],
        ['reauthorized', ADMIN.id, { channels: [site.id, safety.id] }],
      ]);

      // Data out (T19) to selected channels; a burst to one channel waits on Slack's pace, never a 429.
      const burst = await Promise.all(
        [1, 2, 3].map((n) => act('workflow-notification', { channelId: site.id, text: `Pour update ${n}` })),
      );
      expect(burst.map((r) => r.channelId)).toEqual([site.id, site.id, site.id]);
      expect(await act('ai-summary', { channelId: safety.id, text: 'No incidents this week.' })).toMatchObject({
        channelId: safety.id,
      });
      expect(calls('chat.postMessage').every((r) => r.status === 200)).toBe(true);
      expect(
        control
          .messages()
          .map((m) => [m.channel, m.text])
          .sort(),
      ).toEqual(
        [
          [site.id, 'Pour update 1'],
          [site.id, 'Pour update 2'],
          [site.id, 'Pour update 3'],
          [safety.id, 'No incidents this week.'],
        ].sort(),
      );
      expect(await refusal(act('upload-export', { channelId: site.id, text: 'x' }))).toBe('ActionNotInDataOut');

      // Narrowing the selection needs no vendor round trip: the safety channel is refused from now on.
      await lifecycle.executeUpdate(consentChangeUpdate, {
        args: [{ actor: ADMIN, controls: { channels: [site.id] } }],
      });
      const posted = calls('chat.postMessage').length;
      expect(await refusal(act('workflow-notification', { channelId: safety.id, text: 'late' }))).toBe(
        'OutsideCustomerControls',
      );
      expect(calls('chat.postMessage')).toHaveLength(posted);

      // Rotation (T8): Slack's token rotation → a new token and refresh token, tested, promoted.
      const rotation = await rotateTokens(client, taskQueue, ref, 'slack');
      expect(rotation).toMatchObject({ status: 'rotated' });
      expect(calls('oauth.v2.access').map((r) => (r.body as { grant_type?: string }).grant_type)).toEqual([
        undefined,
        undefined,
        'refresh_token',
      ]);
      const current = await h.secrets.current(workspaceId, integrationId, 'oauth-tokens');
      const token = JSON.parse((await h.secrets.read(workspaceId, current!.secretId)).toString('utf8')) as {
        accessToken: string;
      };

      // Disconnect (T4): auth.revoke at Slack, our tokens destroyed, then the purge with its receipt.
      const disconnected = await disconnect(client, taskQueue, ref);
      expect(disconnected).toMatchObject({ revokedAtVendor: true, vendorNote: slackDescriptor.revocation.note });
      expect(calls('auth.revoke').map((r) => [r.status, r.headers.authorization])).toEqual([
        [200, `Bearer ${token.accessToken}`],
      ]);
      const after = await fetch(`${slack.emulator.apiUrl}auth.test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.accessToken}` },
      });
      expect(await after.json()).toEqual({ ok: false, error: 'token_revoked' });
      const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
      expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'slack' });
      expect(await lifecycle.describe().then((d) => d.status.name)).not.toBe('RUNNING');
    });
    // No 429 anywhere in the happy path.
    expect(control.requests.filter((r) => r.status === 429)).toEqual([]);
    const secrets = await h.admin('secrets').where({ integration_id: integrationId });
    expect(secrets.length).toBeGreaterThan(0);
    expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
    const audit = await h.admin('audit_log').where({ integration_id: integrationId }).pluck('action');
    expect(audit).toEqual(
      expect.arrayContaining([
        'oauth.v2.access',
        'integration.connected',
        'integration.reconnected',
        'conversations.list',
        'chat.postMessage.workflow-notification',
        'chat.postMessage.ai-summary',
        'auth.test',
        'secret.promoted',
        'auth.revoke',
        'integration.purged',
      ]),
    );
  }, 180_000);
});
