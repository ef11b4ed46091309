/**
 * A Slack admin's journey through the real API, the real workflows and activities on the dev
 * server, the real `@slack/web-api` connector against the Slack emulator, and real Postgres (no
 * contract doubles): connect → consent at Slack in the admin's browser session → the channel
 * picker → re-consent with the picked channels → a backend service posts a notification to a
 * selected channel, and one to another channel is refused → a signed `tokens_revoked` on the
 * app-level Events URL → disconnect with `auth.revoke` → the purge receipt.
 */
import { slackDescriptor } from '../../activities/vendors/slack';
import { startSlackEmulator, type SlackEmulator } from '../../emulators/slack';
import { createSlackConnector } from '../../activities/vendors/slack/connector';
import { SLACK_SCOPES } from '../../activities/vendors/slack';
import { integrationStateQuery, workflowIds } from '../../workflows/definitions';
import { devServer, testWorker } from '../support/temporal';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { bearer, createHarness, PUBLIC_URL, SLACK_APP, type Harness } from './support/harness';
import crypto from 'node:crypto';

describe('Slack through the real API (real workflows, Slack emulator, real Postgres)', () => {
  let h: Harness;
  let slack: SlackEmulator;
  let vendor: VendorHarness;
  const ws = crypto.randomUUID();
  let admin: Record<string, string>;
  let service: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    // The purge follows the disconnect within the test, not a week later.
    h.services.purgeDelayMs = 1_000;
    admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
    service = bearer(await h.token({ workspaceId: ws, role: 'service', sub: 'svc-notify' }));
    slack = await startSlackEmulator({
      ...SLACK_APP,
      redirectUris: [`${PUBLIC_URL}/v1/oauth/callback/slack`],
      appScopes: [...SLACK_SCOPES],
    });
    const connector = createSlackConnector({
      apiUrl: slack.apiUrl,
      webUrl: slack.url,
      clientId: SLACK_APP.clientId,
      clientSecret: SLACK_APP.clientSecret,
    });
    vendor = createVendorHarness([{ descriptor: slackDescriptor, connector }]);
  });
  afterAll(async () => {
    await vendor.close();
    await slack.stop();
    await h.close();
  });

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers = admin, payload?: object) =>
    h.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  const base = `/v1/workspaces/${ws}/integrations`;

  /** The admin's browser: the authorize hand-off (consent cookie) → Slack's consent → our callback. */
  async function consentInBrowser(integrationId: string) {
    const authorizeLink = await pollUntil(
      async () => (await api('GET', `${base}/${integrationId}`)).json() as { connect?: { authorizeUrl?: string } },
      (row) => row.connect?.authorizeUrl !== undefined,
      30_000,
    );
    const handed = await api('GET', new URL(authorizeLink.connect!.authorizeUrl!).pathname);
    expect(handed.statusCode).toBe(200);
    const cookie = String(handed.headers['set-cookie']).split(';')[0]!;
    const slackAuthorize = new URL(handed.json().authorizeUrl as string);
    expect(slackAuthorize.origin).toBe(slack.url);
    expect(slackAuthorize.searchParams.get('code_challenge_method')).toBe('S256');
    const callback = new URL((await fetch(slackAuthorize, { redirect: 'manual' })).headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(`${PUBLIC_URL}/v1/oauth/callback/slack`);
    const answered = await api('GET', `${callback.pathname}${callback.search}`, { cookie });
    expect(answered.statusCode).toBe(200);
    // A reconnect leaves the integration connected throughout: its connect run says when it is done.
    const run = await h.services.temporal.client.workflow.getHandle(workflowIds.connect(ws, integrationId)).result();
    expect(run).toMatchObject({ status: 'connected' });
    return (await api('GET', `${base}/${integrationId}`)).json() as { status: string; controls: unknown };
  }

  it('T1 T2 T4 T5 T17 T18 T19 T21 [slack]: connect, pick channels, re-consent, post to a selected channel only, grant loss by a signed event, disconnect with auth.revoke, purge receipt', async () => {
    const site = slack.control.addChannel('journey-site');
    const lobby = slack.control.addChannel('journey-lobby');
    const server = await devServer();
    const worker = await testWorker({
      connection: server.connection,
      taskQueue: h.taskQueue,
      activities: vendor.activities,
    });
    try {
      await worker.runUntil(async () => {
        // T1: a scope beyond the row is refused before any workflow starts.
        const broad = await api('POST', base, admin, { vendor: 'slack', scopes: ['chat:write', 'channels:history'] });
        expect(broad.statusCode).toBe(422);

        const connect = await api('POST', base, admin, { vendor: 'slack', controls: { channels: [] } });
        expect(connect.statusCode).toBe(202);
        const { integrationId } = connect.json() as { integrationId: string };
        expect(await consentInBrowser(integrationId)).toMatchObject({ status: 'connected' });

        // The picker: admins only, through the worker (the API loads no Slack SDK).
        const member = bearer(await h.token({ workspaceId: ws, role: 'member', sub: 'member-1' }));
        expect((await api('GET', `${base}/${integrationId}/controls/choices`, member)).statusCode).toBe(403);
        const picker = await api('GET', `${base}/${integrationId}/controls/choices`);
        expect(picker.statusCode).toBe(200);
        expect(picker.json()).toMatchObject({ control: 'channels', selected: [], nextCursor: null });
        expect((picker.json().choices as Array<{ id: string }>).map((c) => c.id)).toEqual(
          expect.arrayContaining([site.id, lobby.id]),
        );
        const badCursor = await api(
          'GET',
          `${base}/${integrationId}/controls/choices?cursor=${encodeURIComponent('<x>')}`,
        );
        expect(badCursor.statusCode).toBe(400);

        // Widening the selection is a re-consent (T17); another kind of control is refused (T18).
        const foreign = await api('POST', `${base}/${integrationId}/reconnect`, admin, {
          controls: { repos: ['a/b'] },
        });
        expect(foreign.statusCode).toBe(422);
        const reconnect = await api('POST', `${base}/${integrationId}/reconnect`, admin, {
          controls: { channels: [site.id] },
        });
        expect(reconnect.statusCode).toBe(202);
        expect(await consentInBrowser(integrationId)).toMatchObject({ controls: { channels: [site.id] } });
        const ledger = (await api('GET', `${base}/${integrationId}/consents`)).json() as {
          consents: Array<{ action: string; actor: { id: string }; controls: unknown }>;
        };
        expect(ledger.consents.map((e) => [e.action, e.actor.id, e.controls])).toEqual(
          expect.arrayContaining([
            ['granted', 'admin-1', { channels: [] }],
            ['reauthorized', 'admin-1', { channels: [site.id] }],
          ]),
        );

        // Data out by a backend service (T19), to the selected channel; another channel is refused (T18).
        const outcome = async (payload: object) => {
          const started = await api('POST', `${base}/${integrationId}/actions`, service, payload);
          expect(started.statusCode).toBe(202);
          const link = started.json().links.status as string;
          return pollUntil(
            async () => (await api('GET', link, service)).json() as { status: string },
            (s) => s.status !== 'running',
            30_000,
          );
        };
        expect(
          await outcome({ action: 'workflow-notification', input: { channelId: site.id, text: 'Slab poured' } }),
        ).toMatchObject({ status: 'completed', result: { channelId: site.id } });
        expect(
          await outcome({ action: 'workflow-notification', input: { channelId: lobby.id, text: 'Slab poured' } }),
        ).toMatchObject({ status: 'failed', failure: 'OutsideCustomerControls' });
        expect(slack.control.messages().map((m) => [m.channel, m.text])).toEqual([[site.id, 'Slab poured']]);
        const notInRow = await api('POST', `${base}/${integrationId}/actions`, service, {
          action: 'upload-export',
          input: {},
        });
        expect(notInRow.statusCode).toBe(422);

        // The admin revokes our bot in Slack: Slack's signed event on our one Events URL marks the grant lost.
        const delivered = await slack.control.sendEvent(
          `${await h.app.listen({ port: 0, host: '127.0.0.1' })}/v1/webhooks/slack`,
          {
            event: { type: 'tokens_revoked', tokens: { bot: ['U0BOT'] } },
          },
        );
        expect(delivered).toBe(202);
        const lifecycle = h.services.temporal.client.workflow.getHandle(workflowIds.lifecycle(ws, integrationId));
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.status === 'reauthorization-required',
          30_000,
        );

        // Disconnect (T4): auth.revoke at Slack (the token is still valid there: only our bot event was simulated).
        const disconnect = await api('DELETE', `${base}/${integrationId}`);
        expect(disconnect.statusCode).toBe(202);
        const disconnected = await h.services.temporal.client.workflow
          .getHandle(workflowIds.disconnect(ws, integrationId))
          .result();
        expect(disconnected).toMatchObject({ revokedAtVendor: true });
        expect(slack.control.requests.filter((r) => r.path === '/api/auth.revoke').map((r) => r.status)).toEqual([200]);
        const receipts = (
          await api('GET', `/v1/workspaces/${ws}/purge-receipts?integrationId=${integrationId}`)
        ).json() as {
          receipts: Array<{ receiptId: string; vendor: string }>;
        };
        expect(receipts.receipts).toEqual([
          expect.objectContaining({ receiptId: disconnected.receiptId, vendor: 'slack' }),
        ]);
      });
    } finally {
      await server.close();
    }
    expect(slack.control.requests.filter((r) => r.status === 429)).toEqual([]);
  }, 180_000);
});
